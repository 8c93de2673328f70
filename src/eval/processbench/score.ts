/**
 * Scoring ProcessBench-shaped splits with a PRM: every sample's steps through a StepScorer, with
 * an optional cache file (`{id, split, step_scores, prm}` JSONL) that makes the run resumable and
 * lets the scores be reused with other thresholds. The cache goes through the stage helper
 * (pipeline/stage.ts): output checks, lock, settings fingerprint (the PRM), ordered writes.
 */
import {basename, join} from "node:path";
import type {StepScorer} from "../../prm/scorer.ts";
import {prmSettings} from "../../pipeline/score.ts";
import type {z} from "zod";
import {openStage, resolveLazy, runOrdered, type Lazy} from "../../core/stage.ts";
import {ScoreCacheRecordSchema} from "../../core/schemas.ts";
import {StepwiseError} from "../../util/errors.ts";
import {lookup, type Located, type SampleInputs} from "./evaluate.ts";
import type {ProcessSplit} from "./load.ts";

export interface ScoreSplitsOptions {
    /** JSONL cache of scores; appended to and resumed from. */
    cacheFile?: string;
    /** The flag that named `cacheFile`, for messages. Default "--scores-out" ("--out" when it is the report folder's default cache). */
    cacheFlag?: string;
    /** PRM spec, for the cache's settings fingerprint and records. */
    prmSpec?: string;
    concurrency?: number;
    /** Skip (and count) samples longer than the PRM's context instead of stopping (they get no scores). */
    skipTooLong?: boolean;
    onProgress?: (done: number, total: number) => void;
}

type CacheRecord = z.output<typeof ScoreCacheRecordSchema>;

/**
 * The cache a report run keeps its scores or verdicts in as they come: the file given with its
 * flag (`--scores-out`, `--verdicts-out`), else `<out>/<name>` named by `--out`, else none.
 */
export function reportCache(given: string | undefined, givenFlag: string, out: string | undefined, name: string): {file?: string; flag: string} {
    if (given !== undefined) return {file: given, flag: givenFlag};
    return {file: out !== undefined ? join(out, name) : undefined, flag: "--out"};
}

const key = (split: string, id: string) => `${split}\u0000${id}`;

/**
 * Step scores for every sample, keyed as `evaluateProcessBench` expects (split-qualified ids).
 * `scorer` may be a function that loads the PRM: it is called after the cache checks.
 * Samples skipped as too long are listed in `tooLong` and have no entry; `resumed` counts the
 * samples whose scores were read from `cacheFile`.
 */
export async function scoreProcessSplits(
    splits: readonly ProcessSplit[],
    scorer: Lazy<StepScorer>,
    o: ScoreSplitsOptions = {},
): Promise<SampleInputs<number[]> & {tooLong?: Array<{where: string; message: string}>; resumed?: number}> {
    const out: SampleInputs<number[]> & {tooLong?: Array<{where: string; message: string}>; resumed?: number} = new Map();
    const prm = o.prmSpec ?? "unknown";
    const stage = o.cacheFile
        ? openStage({
              schema: ScoreCacheRecordSchema,
              name: "processbench-score",
              out: o.cacheFile,
              outFlag: o.cacheFlag ?? "--scores-out",
              inputs: splits.map((s) => s.file),
              idOf: (r) => key(r.split, String(r.id)),
              settings: {prm: o.prmSpec ? prmSettings(o.prmSpec, {stepsOnly: true}) : prm, splits: splits.map((s) => basename(s.file))},
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
        if (before > 0) out.resumed = before;
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

export interface CompleteScoresOptions extends ScoreSplitsOptions {
    /** Scores read from `--scores` (may lack samples: a `--skip-too-long` run's file, an interrupted one, another subset). */
    scores?: SampleInputs<number[]>;
    /** `--scores`' path, for messages. */
    scoresFile?: string;
    /** A PRM that scores what `scores` lacks (all samples without `scores`); its new scores go to `cacheFile` when given. */
    prm?: Lazy<StepScorer>;
}

export interface CompletedScores {
    scores: SampleInputs<number[]>;
    /** The splits with only the samples that have scores (each split kept, possibly empty). */
    splits: ProcessSplit[];
    /** Samples that had no scores in `scores` and now have the PRM's (scored now, or found in `cacheFile`). */
    scored: number;
    /** With skipTooLong: samples left out because they are longer than the PRM's context. */
    tooLong: Array<{where: string; message: string}>;
    /** Without a PRM: samples left out because `scores` has none for them. */
    missing: Array<{where: string; message: string}>;
    /** Of `scored`: samples whose scores were read from `cacheFile` (a resumed run). */
    resumed: number;
}

/**
 * Step scores for every sample of `splits` from a scores file, a PRM, or both: the PRM scores
 * only the samples the file lacks (resumable through `cacheFile`). Samples still without scores
 * (no PRM, or too long with skipTooLong) are left out of the returned splits and listed; when no
 * sample at all has scores, a StepwiseError names the file.
 */
export async function completeScores(splits: readonly ProcessSplit[], o: CompleteScoresOptions): Promise<CompletedScores> {
    const scores: SampleInputs<number[]> = new Map(o.scores ?? []);
    const has = (split: ProcessSplit, id: string) => lookup(scores, split.name, id) !== undefined;
    let scored = 0;
    let tooLong: CompletedScores["tooLong"] = [];
    let resumed = 0;
    if (o.prm) {
        // Every split stays (the cache's settings name them all); only samples without scores are scored.
        const todo = splits.map((split) => ({...split, samples: split.samples.filter((s) => !has(split, s.id))}));
        const n = todo.reduce((a, s) => a + s.samples.length, 0);
        if (n > 0) {
            const fresh = await scoreProcessSplits(todo, o.prm, o);
            for (const [k, v] of fresh) scores.set(k, v);
            tooLong = fresh.tooLong ?? [];
            resumed = fresh.resumed ?? 0;
            scored = n - tooLong.length;
        }
    }
    const missing: CompletedScores["missing"] = [];
    const kept = splits.map((split) => ({
        ...split,
        samples: split.samples.filter((s) => {
            if (has(split, s.id)) return true;
            if (!o.prm) missing.push({where: `${s.where} id ${JSON.stringify(s.id)}`, message: `no step scores in ${o.scoresFile ?? "the scores"} (split ${split.name})`});
            return false;
        }),
    }));
    if (kept.every((s) => s.samples.length === 0))
        throw new StepwiseError(o.prm ? `no sample of ${splits.map((s) => s.file).join(", ")} could be scored (all longer than the PRM's context)` : `${o.scoresFile ?? "--scores"}: has step scores for none of the samples of ${splits.map((s) => s.file).join(", ")} (ids must match; give --prm SPEC to score them)`);
    return {scores, splits: kept, scored, tooLong, missing, resumed};
}
