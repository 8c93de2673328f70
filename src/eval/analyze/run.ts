/**
 * `analyzeFiles`: the Qwen PRM analyses from files — what `stepwise eval analyze` runs. It reads the
 * files, runs the PRM where asked (ProcessBench samples without `scores`; every position scheme of
 * `candidates`), runs {@link runAnalyses} and, with `out`, writes the report. Each analysis runs
 * when its inputs are given:
 * (a) flags on right-answer-wrong-process solutions and (b) lowest step at the last step, from
 * `data` (ProcessBench splits) with `scores` or `prm`; (b)(c) from `bon` (Best-of-N candidates);
 * (d) rating positions (adaptive vs random vs newline) from `candidates` (SampleRecords) with `prm` and `tau`.
 * Errors: StepwiseError for missing or conflicting inputs and bad records (file:line: field).
 */
import {requireGold} from "../../io/dataset.ts";
import {mkdirSync} from "node:fs";
import {writeFileAtomic} from "../../io/atomic.ts";
import {join} from "node:path";
import {StepwiseError} from "../../util/errors.ts";
import {CandidateSampleSchema, readRecords} from "../../core/schemas.ts";
import {createScorer, type StepScorer} from "../../prm/index.ts";
import {DEFAULT_CANDIDATE_FIELDS, readCandidates, readStepScores} from "../bon/load.ts";
import {defaultGrader} from "../../grade/grader.ts";
import {DEFAULT_THRESHOLD, readScoresFile} from "../processbench/evaluate.ts";
import {readProcessSplits} from "../processbench/load.ts";
import {completeScores} from "../processbench/score.ts";
import {type AnalyzeInput, type AnalyzeResult, attachProcessScores, bonInputFromCandidates, runAnalyses} from "./index.ts";
import {type PositionSample, POSITION_SCHEMES, scorePositions} from "./positions.ts";
import type {Aggregation} from "../../select/aggregate.ts";
import {writeAnalyzeReport} from "./report.ts";

export interface AnalyzeFilesOptions {
    /** (a)(b) ProcessBench split files or folders (or lab records of the same shape). */
    data?: string[];
    /** (a)(b) step scores JSONL {id, step_scores, split?} of the `data` samples. */
    scores?: string;
    /** PRM spec (see createScorer): scores `data` when no `scores`, and every position scheme of `candidates`. */
    prm?: string;
    /** With `data` and `prm`: keep the ProcessBench scores in this JSONL (resumable). */
    scoresOut?: string;
    /**
     * With `prm`: leave out (and list in `tooLong`) ProcessBench samples and candidates whose PRM
     * input is longer than the PRM's context, instead of stopping.
     */
    skipTooLong?: boolean;
    /** (a) a step is flagged when its score is below this. Default {@link DEFAULT_THRESHOLD}. */
    threshold?: number;
    /** (a) use the threshold that maximises ProcessBench F1 on this split instead. */
    calibrate?: string;
    /** (b)(c) Best-of-N candidates JSONL (as `eval bon`). */
    bon?: string;
    /** (c) step scores JSONL joined on the candidate id. */
    bonScores?: string;
    /** (d) SampleRecord JSONL (tokens with confidences, gold or correct, question_id); needs `prm` and `tau`. */
    candidates?: string;
    /** (d) adaptive confidence threshold τ. */
    tau?: number;
    /** (d) random positions per sample (default: its adaptive step count − 1). */
    randomK?: number;
    /** (d) seed of the random positions. Default 0. */
    randomSeed?: number;
    /** (d) Best-of-N size (default: all candidates of a question). */
    n?: number;
    /** (d) Best-of-N aggregations. Default min, mean, max (the released AdaptiveStep evaluation). */
    positionAggregations?: Aggregation[];
    /** (c)(d) random subsets per question and N. Default 200. */
    subsets?: number;
    /** (c)(d) seed of the subsets and tie-breaks. Default 0. */
    seed?: number;
    /** With `prm`: solutions scored at once. Default 4. */
    concurrency?: number;
    /** Answer grading policy. Default lenient. */
    policy?: "lenient" | "strict";
    /** Write summary.json, report.md, charts (and position-scores.jsonl for (d)) here. */
    out?: string;
    /** Progress per stage ("scoring ProcessBench", "scoring positions"). */
    onProgress?: (stage: string, done: number, total: number) => void;
}

export interface AnalyzeFilesResult {
    result: AnalyzeResult;
    /** The inputs as recorded in summary.json. */
    inputs: Record<string, unknown>;
    /** With skipTooLong: ProcessBench samples and candidates left out because their PRM input is longer than the PRM's context. */
    tooLong?: Array<{where: string; message: string}>;
    /** With `scores` and no `prm`: ProcessBench samples left out because the file has no scores for them. */
    missing?: Array<{where: string; message: string}>;
    /** With `scores` and `prm`: samples the file lacked that the PRM scored. */
    scoredMissing?: number;
}

export async function analyzeFiles(o: AnalyzeFilesOptions): Promise<AnalyzeFilesResult> {
    if (!o.data && !o.bon && !o.candidates) throw new StepwiseError("nothing to analyze: give --data (with --scores or --prm), --bon, or --candidates (with --prm)");
    if (o.data && !o.scores && !o.prm) throw new StepwiseError("--data needs --scores FILE or --prm SPEC");
    if (!o.data && (o.scores || o.scoresOut || o.calibrate)) throw new StepwiseError("--scores, --scores-out and --calibrate apply to --data");
    if (o.scores && o.scoresOut && !o.prm) throw new StepwiseError("--scores-out applies when --prm scores --data (with --scores: the samples it lacks)");
    if (o.bonScores && !o.bon) throw new StepwiseError("--bon-scores needs --bon");
    if (o.candidates && !o.prm) throw new StepwiseError("--candidates needs --prm SPEC (the PRM rates every position scheme)");
    if (o.candidates && o.tau === undefined) throw new StepwiseError("--candidates needs the adaptive threshold: --tau T or --threshold-file F");
    const threshold = o.threshold ?? DEFAULT_THRESHOLD;
    const subsets = o.subsets ?? 200;
    const seed = o.seed ?? 0;
    const concurrency = o.concurrency ?? 4;
    const policy = o.policy ?? "lenient";
    const grader = defaultGrader({policy});
    const input: AnalyzeInput = {};
    const inputs: Record<string, unknown> = {};
    let scorer: StepScorer | undefined;
    const tooLong: NonNullable<AnalyzeFilesResult["tooLong"]> = [];
    const report: Pick<AnalyzeFilesResult, "missing" | "scoredMissing"> = {};
    try {
        if (o.data) {
            // --scores may lack samples: the PRM (when given) scores only those, else they are left out and listed.
            const done = await completeScores(readProcessSplits(o.data), {
                scores: o.scores ? await readScoresFile(o.scores) : undefined,
                scoresFile: o.scores,
                prm: o.prm
                    ? async () => {
                          scorer ??= await createScorer(o.prm!, {stepsOnly: true});
                          // Kept open for --candidates; closed once at the end.
                          return Object.assign(Object.create(scorer) as StepScorer, {close: async () => {}});
                      }
                    : undefined,
                cacheFile: o.scoresOut,
                prmSpec: o.prm,
                concurrency,
                skipTooLong: o.skipTooLong,
                onProgress: (d, t) => o.onProgress?.("scoring ProcessBench", d, t),
            });
            tooLong.push(...done.tooLong);
            if (done.missing.length) report.missing = done.missing;
            if (o.scores && o.prm) report.scoredMissing = done.scored;
            input.processBench = {splits: attachProcessScores(done.splits, done.scores), threshold, calibrate: o.calibrate};
            Object.assign(inputs, {data: o.data, ...(o.scores ? {scores: o.scores} : {prm: o.prm}), threshold, ...(o.calibrate ? {calibrate: o.calibrate} : {})});
        }
        if (o.bon) {
            const joined = o.bonScores ? await readStepScores(o.bonScores) : undefined;
            const candidates = await readCandidates(o.bon, DEFAULT_CANDIDATE_FIELDS, joined);
            if (candidates.length === 0) throw new StepwiseError(`${o.bon}: no candidates`);
            input.bon = bonInputFromCandidates(candidates, grader, o.bon);
            Object.assign(inputs, {bon: o.bon, ...(o.bonScores ? {bon_scores: o.bonScores} : {})});
        }
        if (o.candidates) {
            const samples: PositionSample[] = [];
            const seen = new Map<string, number>();
            for await (const {record, line, where} of readRecords(o.candidates, CandidateSampleSchema)) {
                const prev = seen.get(record.id);
                if (prev !== undefined) throw new StepwiseError(`${o.candidates}:${line}: field "id": duplicate sample id "${record.id}" (also on line ${prev})`);
                seen.set(record.id, line);
                if (record.correct === undefined) requireGold(record.gold, where, "gold"); // no "correct" verdict: graded against gold
                samples.push(record);
            }
            if (samples.length === 0) throw new StepwiseError(`${o.candidates}: no samples`);
            scorer ??= await createScorer(o.prm!, {stepsOnly: true});
            const candidates = await scorePositions(samples, scorer, {tau: o.tau!, randomK: o.randomK, seed: o.randomSeed ?? 0, concurrency, onProgress: (d, t) => o.onProgress?.("scoring positions", d, t), ...(o.skipTooLong ? {tooLong} : {})});
            if (candidates.length === 0) throw new StepwiseError(`${o.candidates}: every sample is longer than the PRM's context`);
            input.positions = {candidates, grader};
            Object.assign(inputs, {candidates: o.candidates, prm: o.prm, tau: o.tau, random_k: o.randomK ?? "auto", random_seed: o.randomSeed ?? 0});
            if (o.out) {
                mkdirSync(o.out, {recursive: true});
                const lines = candidates.map((c) => JSON.stringify({id: c.id, question_id: c.questionId, ...Object.fromEntries(POSITION_SCHEMES.map((s) => [`${s}_scores`, c.scores[s]]))}));
                writeFileAtomic(join(o.out, "position-scores.jsonl"), lines.join("\n") + "\n");
            }
        }
    } finally {
        await scorer?.close();
    }
    let result: AnalyzeResult;
    try {
        result = runAnalyses(input, {aggregations: {subsets, seed}, positions: {n: o.n, subsets, seed, aggregations: o.positionAggregations}});
    } catch (e) {
        if (e instanceof RangeError) throw new StepwiseError(e.message);
        throw e;
    }
    if (o.out) await writeAnalyzeReport(result, o.out, inputs);
    return {result, inputs, ...(tooLong.length ? {tooLong} : {}), ...report};
}
