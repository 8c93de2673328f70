/**
 * `evaluatePrmBenchFiles`: PRMBench from files — what `stepwise eval prmbench` runs. The data is
 * read and expanded ({@link readPrmBench}); each item's step validity comes from exactly one of:
 * - `prm`: a PRM scores the steps now, through ProcessBench's scoring path
 *   (src/eval/processbench/score.ts: resumable with `scoresOut`, `skipTooLong`); valid = score > threshold;
 * - `predictions`: JSONL rows `{idx, step_scores: number[]}` keyed by the reference's item ids
 *   (`<classification>_<idx>`, `correct_<idx>`); valid = score > threshold; a row
 *   `{idx, validity: false}` marks an item without a prediction (left out, as the reference does);
 * - `judge`: the LLM judge's voted first wrong step (src/judge, through ProcessBench's judging
 *   path, resumable with `verdictsOut`): steps before it valid, from it on invalid, every step
 *   valid for −1; no verdict (tie, nothing parsable) = no prediction, left out.
 * Metrics: src/eval/prmbench/metrics.ts. With `out`, writes the report (report.ts).
 * Errors: StepwiseError for conflicting sources, bad records, missing, unknown or repeated ids and
 * step-count mismatches, each naming the file and line.
 */
import {basename, extname} from "node:path";
import {type Engine} from "../../engines/types.ts";
import {StepwiseError} from "../../util/errors.ts";
import type {Lazy} from "../../core/stage.ts";
import {prepareOutput} from "../../io/output.ts";
import {readJsonl} from "../../io/jsonl.ts";
import {parseStepScores} from "../bon/load.ts";
import type {ProcessSplit} from "../processbench/load.ts";
import {sampleKey} from "../processbench/evaluate.ts";
import {limitPerClassification, type PrmBenchData, type PrmBenchItem, readPrmBench} from "./load.ts";
import {aggregatePrmBench, type PrmBenchResult, validFromFirstError, validFromScores} from "./metrics.ts";

/** Default validity threshold on step scores (the reference's PRM wrappers: valid when score > 0.5). */
export const DEFAULT_PRMBENCH_THRESHOLD = 0.5;

export interface PrmBenchFilesOptions {
    /** PRMBench JSONL files or folders of them. */
    data: string[];
    /** Score the steps with this PRM spec (see createScorer). */
    prm?: string;
    /** With `prm`: keep the scores in this JSONL (resumes an interrupted run). Default with `out`: `<out>/scores.jsonl`. */
    scoresOut?: string;
    /** With `prm` or `judge`: items scored or judged at once. Default 4. */
    concurrency?: number;
    /** With `prm` or `judge`: leave out (and list in `tooLong`) items longer than the PRM's / judge's context instead of stopping. */
    skipTooLong?: boolean;
    /** Predictions JSONL `{idx, step_scores}` (or `{idx, validity: false}`). */
    predictions?: string;
    /** Ask this judge (chat engine spec) for each item's first wrong step. */
    judge?: string;
    /** With `judge`: the engine to use instead of making one from the spec (tests; the spec still names it in the verdicts). */
    judgeEngine?: Lazy<Engine>;
    judgeN?: number;
    judgeTemperature?: number;
    judgeMaxTokens?: number;
    /** With `judge`: keep the verdicts in this JSONL (resumes an interrupted run). Default with `out`: `<out>/verdicts.jsonl`. */
    verdictsOut?: string;
    /** A step is valid when its score is > threshold. Default {@link DEFAULT_PRMBENCH_THRESHOLD}. */
    threshold?: number;
    /** Only the first `limit` items of each classification (a quick run). */
    limit?: number;
    /** Write the report here. */
    out?: string;
    onProgress?: (stage: string, done: number, total: number) => void;
}

export interface PrmBenchFilesResult {
    result: PrmBenchResult;
    /** The items evaluated (after `limit`, without those left out as too long). */
    items: PrmBenchItem[];
    data: PrmBenchData;
    /** The threshold used (PRM scores and predictions). */
    threshold?: number;
    /** With `prm` or `judge` and `skipTooLong`: items left out because they are longer than the PRM's / judge's context. */
    tooLong?: Array<{where: string; message: string}>;
    /** With `prm` or `judge`: items whose scores or verdicts were read from the cache file of an earlier, interrupted run. */
    resumed?: {file: string; samples: number};
}

/** The split name of a data file in the shared scoring and judging paths (and their caches): its stem, as ProcessBench's. */
const splitName = (file: string): string => basename(file, extname(file));

/** Items as ProcessBench splits (one per data file), for the shared scoring and judging paths. The label is unused there. */
function asSplits(items: readonly PrmBenchItem[], files: readonly string[]): ProcessSplit[] {
    return files
        .map((file) => ({
            name: splitName(file),
            file,
            samples: items.filter((it) => it.file === file).map((it) => ({id: it.id, problem: it.question, steps: it.steps, label: -1, where: it.where})),
        }))
        .filter((s) => s.samples.length > 0);
}

/** Read `--predictions`: JSONL `{idx, step_scores}` or `{idx, validity: false}` → id → scores (null: no prediction). */
export async function readPrmBenchPredictions(file: string): Promise<Map<string, {scores: number[] | null; where: string}>> {
    const outMap = new Map<string, {scores: number[] | null; where: string}>();
    for await (const {record, line} of readJsonl(file)) {
        const where = `${file}:${line}`;
        const idx = record.idx ?? record.id;
        if (typeof idx !== "string" || idx === "") throw new StepwiseError(`${where}: missing "idx" (the item id, e.g. "confidence_prm_test_p1_0" or "correct_prm_test_p1_0")`);
        const prev = outMap.get(idx);
        if (prev) throw new StepwiseError(`${where}: duplicate idx ${JSON.stringify(idx)} (also at ${prev.where})`);
        if (record.validity === false) {
            outMap.set(idx, {scores: null, where});
            continue;
        }
        if (record.validity !== undefined && record.validity !== true) throw new StepwiseError(`${where}: "validity" must be true or false, got ${JSON.stringify(record.validity)}`);
        outMap.set(idx, {scores: parseStepScores(record.step_scores, where, "step_scores"), where});
    }
    return outMap;
}

/** Join predictions to items: every item needs one row with one score per step; every row must name an item of the data. */
function joinPredictions(items: readonly PrmBenchItem[], all: readonly PrmBenchItem[], preds: Map<string, {scores: number[] | null; where: string}>, file: string, threshold: number): Array<boolean[] | null> {
    const known = new Set(all.map((it) => it.id));
    for (const [idx, p] of preds)
        if (!known.has(idx)) {
            const hint = all.some((it) => it.sourceIdx === idx) ? ` (ids are "<classification>_<idx>" or "correct_<idx>", e.g. ${JSON.stringify(all.find((it) => it.sourceIdx === idx)!.id)})` : "";
            throw new StepwiseError(`${p.where}: idx ${JSON.stringify(idx)} is not an item of the data${hint}`);
        }
    const missing = items.filter((it) => !preds.has(it.id));
    if (missing.length) throw new StepwiseError(`${file}: no prediction for ${missing.length} item${missing.length > 1 ? "s" : ""}, first ${JSON.stringify(missing[0].id)} (${missing[0].where})`);
    return items.map((it) => {
        const p = preds.get(it.id)!;
        if (p.scores === null) return null;
        if (p.scores.length !== it.steps.length) throw new StepwiseError(`${p.where}: ${p.scores.length} step scores for ${it.id}, which has ${it.steps.length} steps`);
        return validFromScores(p.scores, threshold);
    });
}

export async function evaluatePrmBenchFiles(o: PrmBenchFilesOptions): Promise<PrmBenchFilesResult> {
    const given = [o.prm, o.predictions, o.judge].filter((x) => x !== undefined).length;
    if (given !== 1) throw new StepwiseError("give exactly one of --prm SPEC, --judge SPEC or --predictions FILE");
    if (o.judge && o.threshold !== undefined) throw new StepwiseError("--threshold needs --prm or --predictions (a judge's verdicts have no scores)");
    if (o.threshold !== undefined && !Number.isFinite(o.threshold)) throw new StepwiseError(`--threshold must be a finite number, got ${o.threshold}`);
    if (o.limit !== undefined && !(Number.isInteger(o.limit) && o.limit >= 1)) throw new StepwiseError(`--limit must be a positive integer, got ${o.limit}`);
    const threshold = o.threshold ?? DEFAULT_PRMBENCH_THRESHOLD;
    if (o.out) prepareOutput(o.out, {folder: true, inputs: o.data});
    const data = readPrmBench(o.data);
    let items = o.limit !== undefined ? limitPerClassification(data.items, o.limit) : data.items;
    let valid: Array<boolean[] | null>;
    let tooLong: PrmBenchFilesResult["tooLong"];
    let resumed: PrmBenchFilesResult["resumed"];
    if (o.predictions) {
        valid = joinPredictions(items, data.items, await readPrmBenchPredictions(o.predictions), o.predictions, threshold);
    } else if (o.judge) {
        const {judgeProcessSplits, NO_VERDICT} = await import("../processbench/judge.ts");
        const {createEngine} = await import("../../engines/spec.ts");
        const judge = o.judge;
        const {reportCache} = await import("../processbench/score.ts");
        const {file: cacheFile} = reportCache(o.verdictsOut, "--verdicts-out", o.out, "verdicts.jsonl");
        const {predictions, summary} = await judgeProcessSplits(asSplits(items, data.files), o.judgeEngine ?? (() => createEngine(judge)), {
            engineSpec: judge,
            n: o.judgeN,
            temperature: o.judgeTemperature,
            maxTokens: o.judgeMaxTokens,
            cacheFile,
            concurrency: o.concurrency ?? 4,
            skipTooLong: o.skipTooLong,
            onProgress: (d, t) => o.onProgress?.("judging", d, t),
        });
        if (cacheFile && summary.skipped) resumed = {file: cacheFile, samples: summary.skipped};
        if (summary.tooLong.length) {
            tooLong = summary.tooLong;
            items = items.filter((it) => predictions.has(sampleKey(splitName(it.file), it.id)));
        }
        valid = items.map((it) => {
            const p = predictions.get(sampleKey(splitName(it.file), it.id))!.value;
            return p === NO_VERDICT ? null : validFromFirstError(p, it.steps.length);
        });
    } else {
        const {createScorer} = await import("../../prm/index.ts");
        const {scoreProcessSplits, reportCache} = await import("../processbench/score.ts");
        const prm = o.prm!;
        const {file: cacheFile, flag: cacheFlag} = reportCache(o.scoresOut, "--scores-out", o.out, "scores.jsonl");
        const scores = await scoreProcessSplits(asSplits(items, data.files), () => createScorer(prm, {stepsOnly: true}), {
            cacheFile,
            cacheFlag,
            prmSpec: prm,
            concurrency: o.concurrency ?? 4,
            skipTooLong: o.skipTooLong,
            onProgress: (d, t) => o.onProgress?.("scoring", d, t),
        });
        if (cacheFile && scores.resumed) resumed = {file: cacheFile, samples: scores.resumed};
        if (scores.tooLong?.length) {
            tooLong = scores.tooLong;
            items = items.filter((it) => scores.has(sampleKey(splitName(it.file), it.id)));
        }
        valid = items.map((it) => {
            const s = scores.get(sampleKey(splitName(it.file), it.id))!;
            if (s.value.length !== it.steps.length) throw new StepwiseError(`${s.where}: ${s.value.length} step scores for ${it.id}, which has ${it.steps.length} steps`);
            return validFromScores(s.value, threshold);
        });
    }
    const result = aggregatePrmBench(items, valid);
    const run: PrmBenchFilesResult = {result, items, data, ...(o.judge ? {} : {threshold}), ...(tooLong ? {tooLong} : {}), ...(resumed ? {resumed} : {})};
    if (o.out) {
        const {writePrmBenchReport} = await import("./report.ts");
        await writePrmBenchReport(run, o.out, {data: o.data, ...(o.judge ? {judge: o.judge} : o.prm ? {prm: o.prm} : {predictions: o.predictions}), ...(o.limit !== undefined ? {limit: o.limit} : {})});
    }
    return run;
}
