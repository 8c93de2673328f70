/**
 * `stepwise eval analyze`: the Qwen paper's analyses of a PRM and AdaptiveStep's rating-position
 * test, as pure functions over scores already computed (the CLI reads files and runs the PRM).
 *
 * - (a) {@link falsePositiveTest}: flags on right-answer-wrong-process solutions vs the others;
 * - (b) {@link lowestStepAnalysis}: the share of solutions whose lowest step score is the last;
 * - (c) {@link compareAggregations}: Best-of-N per step-score aggregation;
 * - (d) {@link comparePositions}: Best-of-N with the PRM rating adaptive / random / newline positions.
 *
 * {@link runAnalyses} runs every analysis whose inputs are given; report.ts renders the result.
 */
import {StepwiseError} from "../../util/errors.ts";
import {type BonQuestion} from "../bon/evaluate.ts";
import {type Candidate, type GradingStats, buildQuestions} from "../bon/load.ts";
import type {AnswerGrader} from "../../grade/grader.ts";
import {DEFAULT_THRESHOLD, type SampleInputs} from "../processbench/evaluate.ts";
import type {ProcessSplit} from "../processbench/load.ts";
import {calibrateThreshold} from "../processbench/threshold.ts";
import {type AggregationComparison, type AggregationOptions, compareAggregations} from "./aggregations.ts";
import {type FalsePositiveResult, type LabelledScores, falsePositiveTest} from "./false-positive.ts";
import {type LowestStepResult, type ScoredSolution, lowestStepAnalysis} from "./lowest-step.ts";
import {type PositionCandidate, type PositionCompareOptions, type PositionComparison, comparePositions} from "./positions.ts";

export * from "./aggregations.ts";
export * from "./false-positive.ts";
export * from "./lowest-step.ts";
export * from "./positions.ts";

/** A ProcessBench-shaped split whose samples carry their step scores. */
export interface ScoredSplit {
    name: string;
    samples: Array<LabelledScores & {id: string; where: string}>;
}

/**
 * Join step scores to ProcessBench samples (by `split\u0000id`, else by id, as `eval processbench`
 * does). Throws a StepwiseError naming the sample or the scores line when one is missing or has the
 * wrong length.
 */
export function attachProcessScores(splits: readonly ProcessSplit[], scores: SampleInputs<number[]>): ScoredSplit[] {
    return splits.map((split) => ({
        name: split.name,
        samples: split.samples.map((s) => {
            const sc = scores.get(`${split.name}\u0000${s.id}`) ?? scores.get(s.id);
            if (!sc) throw new StepwiseError(`${s.where}: no step scores for id ${JSON.stringify(s.id)} (split ${split.name})`);
            if (sc.value.length !== s.steps.length) throw new StepwiseError(`${sc.where}: ${sc.value.length} step scores for ${s.id}, which has ${s.steps.length} steps`);
            return {id: s.id, where: s.where, label: s.label, scores: sc.value, ...(s.finalAnswerCorrect !== undefined ? {finalAnswerCorrect: s.finalAnswerCorrect} : {})};
        }),
    }));
}

/** Inputs of the Best-of-N analyses: prepared questions and, for (b), each candidate's step scores and verdict. */
export interface BonInput {
    questions: BonQuestion[];
    solutions?: ScoredSolution[];
    /** Where the candidates came from, for the report (e.g. a file name). */
    source?: string;
    grading?: GradingStats;
}

/** Grade scored candidates (e.g. from `readCandidates`) into a {@link BonInput}. Every candidate needs step scores. */
export function bonInputFromCandidates(candidates: readonly Candidate[], grader: AnswerGrader, source?: string): BonInput {
    const missing = candidates.find((c) => c.stepScores === null);
    if (missing) throw new StepwiseError(`${missing.where}: candidate has no step scores (the aggregation analysis needs them)`);
    const {questions, stats} = buildQuestions(candidates, grader);
    // buildQuestions groups by question id in first-appearance order, keeping the candidate order.
    const groups = new Map<string, Candidate[]>();
    for (const c of candidates) {
        const g = groups.get(c.questionId);
        if (g) g.push(c);
        else groups.set(c.questionId, [c]);
    }
    const solutions = questions.flatMap((q) => groups.get(q.id)!.map((c, k) => ({scores: c.stepScores!, correct: q.correct[k] === 1})));
    return {questions, solutions, grading: stats, ...(source !== undefined ? {source} : {})};
}

export interface AnalyzeInput {
    /** (a) and (b) on labelled solutions. */
    processBench?: {splits: ScoredSplit[]; threshold?: number; calibrate?: string};
    /** (b) and (c) on Best-of-N candidates with step scores. */
    bon?: BonInput;
    /** (d): candidates scored under each position scheme. Without `bon`, (b) and (c) also run on its adaptive scores. */
    positions?: {candidates: PositionCandidate[]; grader: AnswerGrader};
}

export interface AnalyzeOptions {
    aggregations?: AggregationOptions;
    positions?: PositionCompareOptions;
}

export interface AnalyzeResult {
    falsePositive?: FalsePositiveResult;
    lowestStep: {
        processBench?: {overall: LowestStepResult; splits: Array<{name: string} & LowestStepResult>};
        candidates?: LowestStepResult & {source: string};
    };
    aggregations?: AggregationComparison & {source: string};
    positions?: PositionComparison;
}

const PROCESS_CORRECTNESS = "process correct (label −1)";
const ANSWER_CORRECTNESS = "final answer correct";

/** The threshold of the false-positive test: given, calibrated on a split (max F1), or 0.5. */
function pickThreshold(pb: NonNullable<AnalyzeInput["processBench"]>): number {
    if (pb.calibrate === undefined) return pb.threshold ?? DEFAULT_THRESHOLD;
    const on = pb.splits.find((s) => s.name === pb.calibrate);
    if (!on) throw new StepwiseError(`--calibrate ${pb.calibrate}: no split named "${pb.calibrate}" (splits: ${pb.splits.map((s) => s.name).join(", ")})`);
    try {
        return calibrateThreshold(on.samples).threshold;
    } catch (e) {
        throw new StepwiseError(`--calibrate ${pb.calibrate}: ${(e as Error).message}`);
    }
}

/** Run every analysis whose inputs are given (see the module docs). Pure apart from CPU. */
export function runAnalyses(input: AnalyzeInput, options: AnalyzeOptions = {}): AnalyzeResult {
    const result: AnalyzeResult = {lowestStep: {}};
    if (input.processBench) {
        const pb = input.processBench;
        const threshold = pickThreshold(pb);
        result.falsePositive = {...falsePositiveTest(pb.splits, threshold), ...(pb.calibrate !== undefined ? {calibratedOn: pb.calibrate} : {})};
        const solutions = (s: ScoredSplit): ScoredSolution[] => s.samples.map((x) => ({scores: x.scores, correct: x.label === -1}));
        result.lowestStep.processBench = {
            overall: lowestStepAnalysis(pb.splits.flatMap(solutions), PROCESS_CORRECTNESS),
            splits: pb.splits.map((s) => ({name: s.name, ...lowestStepAnalysis(solutions(s), PROCESS_CORRECTNESS)})),
        };
    }
    let bon = input.bon;
    if (input.positions) {
        result.positions = comparePositions(input.positions.candidates, input.positions.grader, options.positions);
        if (!bon) {
            const adaptive = result.positions.schemes.find((s) => s.scheme === "adaptive")!;
            const groups = new Map<string, PositionCandidate[]>();
            for (const c of input.positions.candidates) {
                const g = groups.get(c.questionId);
                if (g) g.push(c);
                else groups.set(c.questionId, [c]);
            }
            const solutions = adaptive.questions.flatMap((q) => groups.get(q.id)!.map((c, k) => ({scores: c.scores.adaptive, correct: q.correct[k] === 1})));
            bon = {questions: adaptive.questions, solutions, source: "rating-position candidates (adaptive steps)"};
        }
    }
    if (bon) {
        const source = bon.source ?? "candidates";
        result.aggregations = {...compareAggregations(bon.questions, options.aggregations), source};
        if (bon.solutions) result.lowestStep.candidates = {...lowestStepAnalysis(bon.solutions, ANSWER_CORRECTNESS), source};
    }
    return result;
}
export {analyzeJson, analyzeMarkdown, falsePositiveChartSpec, lowestStepChartSpec, positionsChartSpec, writeAnalyzeReport} from "./report.ts";
