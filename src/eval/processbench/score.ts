/**
 * Scoring ProcessBench-shaped splits with a PRM: every sample's steps through a StepScorer, with
 * an optional cache file (`{id, split, step_scores, prm}` JSONL) that makes the run resumable and
 * lets the scores be reused with other thresholds. The cache goes through the stage helper
 * (pipeline/stage.ts): output checks, lock, settings fingerprint (the PRM), ordered writes.
 */
import {basename} from "node:path";
import type {StepScorer} from "../../prm/scorer.ts";
import {prmSettings} from "../../pipeline/score.ts";
import type {z} from "zod";
import {openStage, resolveLazy, runOrdered, type Lazy} from "../../core/stage.ts";
import {ScoreCacheRecordSchema} from "../../core/schemas.ts";
import type {Located, SampleInputs} from "./evaluate.ts";
import type {ProcessSplit} from "./load.ts";

export interface ScoreSplitsOptions {
    /** JSONL cache of scores; appended to and resumed from. */
    cacheFile?: string;
    /** PRM spec, for the cache's settings fingerprint and records. */
    prmSpec?: string;
    concurrency?: number;
    /** Skip (and count) samples longer than the PRM's context instead of stopping (they get no scores). */
    skipTooLong?: boolean;
    onProgress?: (done: number, total: number) => void;
}

type CacheRecord = z.output<typeof ScoreCacheRecordSchema>;

const key = (split: string, id: string) => `${split}\u0000${id}`;

/**
 * Step scores for every sample, keyed as `evaluateProcessBench` expects (split-qualified ids).
 * `scorer` may be a function that loads the PRM: it is called after the cache checks.
 * Samples skipped as too long are listed in `tooLong` and have no entry.
 */
export async function scoreProcessSplits(
    splits: readonly ProcessSplit[],
    scorer: Lazy<StepScorer>,
    o: ScoreSplitsOptions = {},
): Promise<SampleInputs<number[]> & {tooLong?: Array<{where: string; message: string}>}> {
    const out: SampleInputs<number[]> & {tooLong?: Array<{where: string; message: string}>} = new Map();
    const prm = o.prmSpec ?? "unknown";
    const stage = o.cacheFile
        ? openStage({
              schema: ScoreCacheRecordSchema,
              name: "processbench-score",
              out: o.cacheFile,
              outFlag: "--scores-out",
              inputs: splits.map((s) => s.file),
              idOf: (r) => key(r.split, String(r.id)),
              settings: {prm: o.prmSpec ? prmSettings(o.prmSpec) : prm, splits: splits.map((s) => basename(s.file))},
              checkExisting: (r) => (r.prm !== undefined && r.prm !== prm ? `PRM ${r.prm}, now ${prm}` : undefined),
          })
        : undefined;
    let created = false;
    let sc: StepScorer | undefined;
    try {
        stage?.existing.forEach((r, i) => out.set(key(r.split, String(r.id)), {value: r.step_scores, where: `${o.cacheFile}:${i + 1}`}));
        const todo = splits.flatMap((split) => split.samples.filter((s) => !out.has(key(split.name, s.id))).map((s) => ({split: split.name, s})));
        const total = splits.reduce((a, s) => a + s.samples.length, 0);
        const before = total - todo.length;
        ({value: sc, created} = await resolveLazy(scorer));
        const prmScorer = sc;
        const score = async ({split, s}: (typeof todo)[number]): Promise<CacheRecord> => {
            const scores = await prmScorer.scoreSteps(s.problem, s.steps);
            const located: Located<number[]> = {value: scores, where: `${s.where} (scored)`};
            out.set(key(split, s.id), located);
            return {id: s.id, split, step_scores: scores, prm};
        };
        const run = await runOrdered(todo, score, (r) => stage?.write(r), {
            concurrency: o.concurrency ?? 4,
            where: ({s}) => `${s.where} id ${JSON.stringify(s.id)}`,
            skipTooLong: o.skipTooLong,
            onProgress: (d) => o.onProgress?.(before + d, total),
        });
        if (run.tooLong.length) out.tooLong = run.tooLong;
    } finally {
        stage?.close();
        if (created) await sc?.close();
    }
    return out;
}
