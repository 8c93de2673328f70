/**
 * `code run` as a library function: verify a candidates file against a problems file and append
 * verdicts `{id, task_id, status, detail, wall_ms}` to an output JSONL, in candidate order. A stage
 * (src/core/stage.ts): candidates whose id is already in the output are skipped, a torn last
 * line is dropped, and resuming with other inputs or limits is refused. A candidate whose task_id
 * the problems file lacks is an error naming both files before anything runs. The summary counts
 * statuses of this run and of the whole output, with this run's candidates per second.
 */
import {basename} from "node:path";
import {StepwiseError} from "../../util/errors.ts";
import {openStage} from "../../core/stage.ts";
import {CodeVerdictSchema} from "../../core/schemas.ts";
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
    /** The verdicts file (`out`). */
    out: string;
    /** Verdicts written by this run. */
    written: number;
    /** Candidates skipped because the output already had them. */
    skipped: number;
    /** Verdicts per status written by this run. */
    run_counts: Record<CodeStatus, number>;
    /** Verdicts per status in the whole output file (earlier runs included). */
    counts: Record<CodeStatus, number>;
    /** counts.pass over all verdicts in the output (NaN when there are none). */
    pass_rate: number;
    /** Wall-clock seconds this run spent verifying. */
    seconds: number;
    /** Candidates verified per second in this run (NaN when none ran). */
    per_second: number;
}

function countStatuses(verdicts: readonly CodeVerdict[]): Record<CodeStatus, number> {
    const counts = Object.fromEntries(CODE_STATUSES.map((s) => [s, 0])) as Record<CodeStatus, number>;
    for (const v of verdicts) counts[v.status]++;
    return counts;
}

/** "pass 3, fail 1, timeout 0, memory 0, error 2": every status, in CODE_STATUSES order. */
export function formatStatusCounts(counts: Record<CodeStatus, number>): string {
    return CODE_STATUSES.map((s) => `${s} ${counts[s]}`).join(", ");
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
    const stage = openStage({
        schema: CodeVerdictSchema,
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
        // A task_id the problems file lacks is bad input, not a failing program: refuse before running anything.
        const orphans = todo.filter((c) => !problems.has(c.task_id));
        if (orphans.length)
            throw new StepwiseError(
                `${o.candidates}: candidate ${JSON.stringify(orphans[0].id)} has task_id ${JSON.stringify(orphans[0].task_id)}, which ${o.problems} does not have${orphans.length > 1 ? ` (${orphans.length} candidates have unknown task_ids)` : ""}`,
            );
        const skipped = candidates.length - todo.length;
        const t0 = performance.now();
        const fresh: CodeVerdict[] = [];
        const r = await stage.runOrdered(
            todo,
            async (c): Promise<CodeVerdict> => ({id: c.id, task_id: c.task_id, ...(await verifyProgram(problems.get(c.task_id)!, c.completion, {...o, limits}))}),
            {concurrency: o.concurrency ?? defaultConcurrency(), where: (c) => `candidate ${JSON.stringify(c.id)}`, onProgress: (d) => o.onProgress?.(skipped + d, candidates.length), onWritten: (v) => fresh.push(v as CodeVerdict)},
        );
        const seconds = (performance.now() - t0) / 1000;
        const all = [...stage.existing, ...fresh];
        const counts = countStatuses(all);
        return {
            out: o.out,
            written: r.written,
            skipped,
            run_counts: countStatuses(fresh),
            counts,
            pass_rate: all.length ? counts.pass / all.length : NaN,
            seconds,
            per_second: r.written > 0 && seconds > 0 ? r.written / seconds : NaN,
        };
    } finally {
        stage.close();
    }
}
