/**
 * `evaluateProcessBenchFiles`: ProcessBench from files — what `stepwise eval processbench` runs.
 * The split files are read ({@link readProcessSplits}); the first-error predictions come from
 * one of: a PRM that scores the steps now (`prm`, resumable through `scoresOut`), step
 * scores (`scores`: the prediction is the first step below the threshold, optionally calibrated
 * on one split; with `prm` too, the PRM scores only the samples the file lacks), a judge
 * (`judge`), or predictions (`predictions`). Samples a partial `scores` file lacks (without
 * `prm`), and with `skipTooLong` samples too long for the PRM or the judge, are left out and listed. With `out`, writes summary.json, report.md,
 * predictions.jsonl and charts, and keeps the PRM's scores or the judge's verdicts there as they come
 * (`scores.jsonl`, `verdicts.jsonl`, unless `scoresOut` / `verdictsOut` name other files), so a run
 * stopped by an error or a kill resumes with the same command. Metrics: ProcessBench (Zheng et al. 2024) acc_error, acc_correct, F1.
 * Errors: StepwiseError for conflicting sources and bad records.
 */
import {StepwiseError} from "../../util/errors.ts";
import type {JudgeTemplate} from "../../judge/prompt.ts";
import {createScorer} from "../../prm/index.ts";
import {prepareOutput} from "../../io/output.ts";
import {DEFAULT_THRESHOLD, type ProcessBenchResult, type ProcessBenchSource, evaluateProcessBench, readPredictionsFile, readScoresFile} from "./evaluate.ts";
import {type ProcessSplit, readProcessSplits} from "./load.ts";
import {writeProcessBenchReport} from "./report.ts";
import {completeScores, reportCache} from "./score.ts";

export interface ProcessBenchFilesOptions {
    /** Split files (ProcessBench JSON arrays or JSONL of the same shape) or folders; split name = file stem. */
    data: string[];
    /** Score the steps with this PRM spec (see createScorer). */
    prm?: string;
    /** With `prm`: keep the scores in this JSONL (resumes an interrupted run). Default with `out`: `<out>/scores.jsonl`. */
    scoresOut?: string;
    /** With `prm`: samples scored at once. Default 4. */
    concurrency?: number;
    /** With `prm` or `judge`: leave out (and list in `tooLong`) samples longer than the PRM's / judge's context instead of stopping. */
    skipTooLong?: boolean;
    /** Step scores JSONL {id, step_scores}; may lack samples (see the module docs). */
    scores?: string;
    /** Predictions JSONL {id, prediction}: first-error step index, −1 for none. */
    predictions?: string;
    /** Ask this judge (chat engine spec) for each sample's first wrong step (src/eval/processbench/judge.ts); no verdict counts as wrong. */
    judge?: string;
    /** With `judge`: template, answers per sample, temperature, top-p, most tokens per answer (defaults: the template's, see src/judge/judge.ts JUDGE_PROTOCOLS). */
    judgeTemplate?: JudgeTemplate;
    judgeN?: number;
    judgeTemperature?: number;
    judgeTopP?: number;
    judgeMaxTokens?: number;
    /** With `judge`: keep the verdicts in this JSONL (resumes an interrupted run). Default with `out`: `<out>/verdicts.jsonl`. */
    verdictsOut?: string;
    /** Step-score threshold (with scores or prm). Default {@link DEFAULT_THRESHOLD}. */
    threshold?: number;
    /** Use the threshold that maximises F1 on this split for every split. */
    calibrate?: string;
    /** Write the report here (and compute the threshold curves for it). */
    out?: string;
    /** Progress of PRM scoring ("scoring"). */
    onProgress?: (stage: string, done: number, total: number) => void;
}

export interface ProcessBenchFilesResult {
    result: ProcessBenchResult;
    splits: ProcessSplit[];
    /** With `prm` or `judge` and `skipTooLong`: samples left out because they are longer than the PRM's / judge's context. */
    tooLong?: Array<{where: string; message: string}>;
    /** With `scores` and no `prm`: samples left out because the file has no scores for them. */
    missing?: Array<{where: string; message: string}>;
    /** With `scores` and `prm`: samples the file lacked that the PRM scored. */
    scoredMissing?: number;
    /** With `prm` or `judge`: samples whose scores or verdicts were read from the cache file of an earlier, interrupted run. */
    resumed?: {file: string; samples: number};
}

export async function evaluateProcessBenchFiles(o: ProcessBenchFilesOptions): Promise<ProcessBenchFilesResult> {
    const given = [o.scores ?? o.prm, o.predictions, o.judge].filter((x) => x !== undefined).length;
    if (given !== 1) throw new StepwiseError("give exactly one of --prm SPEC, --judge SPEC, --scores FILE or --predictions FILE (--scores with --prm: the PRM scores the samples the file lacks)");
    if (o.judge && o.calibrate !== undefined) throw new StepwiseError("--calibrate needs --scores or --prm (a judge's predictions have no threshold)");
    if (o.predictions && o.calibrate !== undefined) throw new StepwiseError("--calibrate needs --scores (predictions have no threshold)");
    const threshold = o.threshold ?? DEFAULT_THRESHOLD;
    if (o.out) prepareOutput(o.out, {folder: true, inputs: o.data});
    let splits = readProcessSplits(o.data);
    let source: ProcessBenchSource;
    let tooLong: ProcessBenchFilesResult["tooLong"];
    let missing: ProcessBenchFilesResult["missing"];
    let scoredMissing: number | undefined;
    let resumed: ProcessBenchFilesResult["resumed"];
    if (o.judge) {
        const {judgeProcessSplits} = await import("./judge.ts");
        const {createEngine} = await import("../../engines/spec.ts");
        // The judge loads only after the verdicts cache's checks (stage helper), in judgeSolutions.
        const judge = o.judge;
        const {file: cacheFile} = reportCache(o.verdictsOut, "--verdicts-out", o.out, "verdicts.jsonl");
        const {predictions, summary} = await judgeProcessSplits(splits, () => createEngine(judge), {engineSpec: judge, template: o.judgeTemplate, n: o.judgeN, temperature: o.judgeTemperature, topP: o.judgeTopP, maxTokens: o.judgeMaxTokens, cacheFile, concurrency: o.concurrency ?? 4, skipTooLong: o.skipTooLong, onProgress: (d, t) => o.onProgress?.("judging", d, t)});
        if (cacheFile && summary.skipped) resumed = {file: cacheFile, samples: summary.skipped};
        if (summary.tooLong.length) {
            tooLong = summary.tooLong;
            splits = splits.map((s) => ({...s, samples: s.samples.filter((x) => predictions.has(`${s.name}\u0000${x.id}`))}));
        }
        source = {kind: "predictions", predictions};
    } else if (o.prm || o.scores) {
        // The PRM loads only after the cache's checks (stage helper), in scoreProcessSplits, and only when some sample lacks scores.
        const {file: cacheFile, flag: cacheFlag} = reportCache(o.scoresOut, "--scores-out", o.prm ? o.out : undefined, "scores.jsonl");
        const done = await completeScores(splits, {
            scores: o.scores ? await readScoresFile(o.scores) : undefined,
            scoresFile: o.scores,
            prm: o.prm ? () => createScorer(o.prm!, {stepsOnly: true}) : undefined,
            cacheFile,
            cacheFlag,
            prmSpec: o.prm,
            concurrency: o.concurrency ?? 4,
            skipTooLong: o.skipTooLong,
            onProgress: (d, t) => o.onProgress?.("scoring", d, t),
        });
        splits = done.splits;
        if (done.tooLong.length) tooLong = done.tooLong;
        if (done.missing.length) missing = done.missing;
        if (o.scores && o.prm) scoredMissing = done.scored;
        if (cacheFile && done.resumed) resumed = {file: cacheFile, samples: done.resumed};
        source = {kind: "scores", scores: done.scores, threshold, calibrate: o.calibrate};
    } else source = {kind: "predictions", predictions: await readPredictionsFile(o.predictions!)};
    const result = evaluateProcessBench(splits, source, {curves: o.out !== undefined});
    if (o.out) await writeProcessBenchReport(result, splits, o.out, {data: o.data, ...(o.judge ? {judge: o.judge} : o.prm ? {prm: o.prm} : o.scores ? {scores: o.scores} : {predictions: o.predictions})});
    return {result, splits, ...(tooLong ? {tooLong} : {}), ...(missing ? {missing} : {}), ...(scoredMissing !== undefined ? {scoredMissing} : {}), ...(resumed ? {resumed} : {})};
}
