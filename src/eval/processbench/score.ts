/**
 * Scoring ProcessBench-shaped splits with a PRM: every sample's steps through a StepScorer, with
 * an optional cache file (`{id, split, step_scores}` JSONL) that makes the run resumable and lets
 * the scores be reused with other thresholds.
 */
import pLimit from "p-limit";
import {JsonlWriter, readJsonlTolerant} from "../../io/jsonl.ts";
import type {StepScorer} from "../../prm/scorer.ts";
import type {Located, SampleInputs} from "./evaluate.ts";
import type {ProcessSplit} from "./load.ts";

export interface ScoreSplitsOptions {
    /** JSONL cache of scores; appended to and resumed from. */
    cacheFile?: string;
    concurrency?: number;
    onProgress?: (done: number, total: number) => void;
}

/** Step scores for every sample, keyed as `evaluateProcessBench` expects (split-qualified ids). */
export async function scoreProcessSplits(splits: readonly ProcessSplit[], scorer: StepScorer, o: ScoreSplitsOptions = {}): Promise<SampleInputs<number[]>> {
    const out: SampleInputs<number[]> = new Map();
    const key = (split: string, id: string) => `${split}\u0000${id}`;
    if (o.cacheFile) {
        const {records} = readJsonlTolerant<{id: string; split: string; step_scores: number[]}>(o.cacheFile);
        records.forEach((r, i) => out.set(key(r.split, String(r.id)), {value: r.step_scores, where: `${o.cacheFile}:${i + 1}`}));
    }
    const todo = splits.flatMap((split) => split.samples.filter((s) => !out.has(key(split.name, s.id))).map((s) => ({split: split.name, s})));
    const total = splits.reduce((a, s) => a + s.samples.length, 0);
    const writer = o.cacheFile ? new JsonlWriter(o.cacheFile) : undefined;
    const limit = pLimit(o.concurrency ?? 4);
    let done = total - todo.length;
    o.onProgress?.(done, total);
    try {
        await Promise.all(
            todo.map(({split, s}) =>
                limit(async () => {
                    const scores = await scorer.scoreSteps(s.problem, s.steps);
                    const located: Located<number[]> = {value: scores, where: `${s.where} (scored)`};
                    out.set(key(split, s.id), located);
                    writer?.write({id: s.id, split, step_scores: scores});
                    o.onProgress?.(++done, total);
                }),
            ),
        );
    } finally {
        writer?.close();
    }
    return out;
}
