/**
 * `code run` as a library function: verify a candidates file against a problems file and append
 * verdicts `{id, task_id, status, detail, wall_ms}` to an output JSONL. Resumable: candidates whose
 * id is already in the output are skipped (a torn last line left by a killed run is dropped).
 */
import {JsonlWriter, readJsonlTolerant} from "../io/jsonl.ts";
import {StepwiseError} from "../engines/types.ts";
import {readCodeCandidates, readCodeProblems} from "./problems.ts";
import {CODE_STATUSES, verifyCandidates, type CodeCandidate, type CodeStatus, type CodeVerdict, type VerifyOptions} from "./verifier.ts";

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
    const problems = readCodeProblems(o.problems);
    let candidates = o.candidates ? readCodeCandidates(o.candidates) : referenceCandidates(problems);
    if (o.limit !== undefined) candidates = candidates.slice(0, o.limit);
    const done = readJsonlTolerant<CodeVerdict>(o.out).records;
    const doneIds = new Set(done.map((v) => v.id));
    const todo = candidates.filter((c) => !doneIds.has(c.id));
    const writer = new JsonlWriter(o.out);
    const verdicts = [...done];
    const t0 = performance.now();
    let n = 0;
    o.onProgress?.(candidates.length - todo.length, candidates.length);
    try {
        await verifyCandidates(problems, todo, {
            ...o,
            onVerdict: (v) => {
                writer.write(v);
                verdicts.push(v);
                o.onProgress?.(candidates.length - todo.length + ++n, candidates.length);
            },
        });
    } finally {
        writer.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    const counts = Object.fromEntries(CODE_STATUSES.map((s) => [s, 0])) as Record<CodeStatus, number>;
    for (const v of verdicts) counts[v.status]++;
    return {written: n, skipped: candidates.length - todo.length, counts, pass_rate: verdicts.length ? counts.pass / verdicts.length : NaN, per_second: seconds > 0 ? n / seconds : NaN};
}
