/**
 * `code run` as a library function: verify a candidates file against a problems file and append
 * verdicts `{id, task_id, status, detail, wall_ms}` to an output JSONL, in candidate order. A stage
 * (src/pipeline/stage.ts): candidates whose id is already in the output are skipped, a torn last
 * line is dropped, and resuming with other inputs or limits is refused.
 */
import {basename} from "node:path";
import {StepwiseError} from "../engines/types.ts";
import {openStage} from "../pipeline/stage.ts";
import {readCodeCandidates, readCodeProblems} from "./problems.ts";
import {defaultConcurrency} from "./verifier.ts";
import {CODE_STATUSES, verifyProgram, type CodeCandidate, type CodeStatus, type CodeVerdict, type VerifyOptions} from "./verifier.ts";
import {DEFAULT_LIMITS} from "./sandbox.ts";

export interface CodeRunOptions extends VerifyOptions {
    problems: string;
    /** Candidates JSONL; without it, each problem's reference `completion` is the candidate (id = task_id). */
    candidates?: string;
    out: string;
    concurrency?: number;
    limit?: number;
    onProgress?: (done: number, total: number) => void;
}

export interface CodeRunSummary {
    /** Verdicts written by this run. */
    written: number;
    /** Candidates skipped because the output already had them. */
    skipped: number;
    /** Counts over the whole output file (earlier runs included). */
    counts: Record<CodeStatus, number>;
    pass_rate: number;
    /** Candidates verified per second in this run. */
    per_second: number;
}

/** Candidates made of the problems' reference solutions (id = task_id). */
export function referenceCandidates(problems: ReadonlyMap<string, {task_id: string; completion?: string}>): CodeCandidate[] {
    const out: CodeCandidate[] = [];
    for (const p of problems.values()) {
        if (typeof p.completion !== "string") throw new StepwiseError(`problem "${p.task_id}" has no reference \`completion\``);
        out.push({id: p.task_id, task_id: p.task_id, completion: p.completion});
    }
    return out;
}

export async function runCodeFile(o: CodeRunOptions): Promise<CodeRunSummary> {
    const limits = {...DEFAULT_LIMITS, ...o.limits};
    const stage = openStage<CodeVerdict>({
        name: "code-run",
        out: o.out,
        inputs: [o.problems, o.candidates],
        settings: {problems: basename(o.problems), candidates: o.candidates ? basename(o.candidates) : "references", limits: JSON.stringify(limits), unsafe: !!o.unsafe},
    });
    try {
        const problems = readCodeProblems(o.problems);
        let candidates = o.candidates ? readCodeCandidates(o.candidates) : referenceCandidates(problems);
        if (o.limit !== undefined) candidates = candidates.slice(0, o.limit);
        const todo = candidates.filter((c) => !stage.done.has(c.id));
        const skipped = candidates.length - todo.length;
        const t0 = performance.now();
        const verdicts = [...stage.existing];
        const r = await stage.runOrdered(
            todo,
            async (c): Promise<CodeVerdict> => {
                const problem = problems.get(c.task_id);
                if (!problem) return {id: c.id, task_id: c.task_id, status: "error", detail: `unknown task_id "${c.task_id}"`, wall_ms: 0};
                return {id: c.id, task_id: c.task_id, ...(await verifyProgram(problem, c.completion, {...o, limits}))};
            },
            {concurrency: o.concurrency ?? defaultConcurrency(), where: (c) => `candidate ${JSON.stringify(c.id)}`, onProgress: (d) => o.onProgress?.(skipped + d, candidates.length), onWritten: (v) => verdicts.push(v as CodeVerdict)},
        );
        const seconds = (performance.now() - t0) / 1000;
        const counts = Object.fromEntries(CODE_STATUSES.map((s) => [s, 0])) as Record<CodeStatus, number>;
        for (const v of verdicts) counts[v.status]++;
        return {written: r.written, skipped, counts, pass_rate: verdicts.length ? counts.pass / verdicts.length : NaN, per_second: seconds > 0 ? r.written / seconds : NaN};
    } finally {
        stage.close();
    }
}
