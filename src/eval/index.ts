/**
 * Evaluation of PRMs: Best-of-N (bon/), ProcessBench (processbench/) and PRMBench (prmbench/).
 * The CLI (`stepwise eval ...`) is a thin layer over these functions.
 */
// The selectors Best-of-N evaluation runs (src/select/), the same functions as the root's.
export * from "../select/index.ts";
export * from "../stats/index.ts";
export {SubsetSampler, defaultSizes} from "./bon/subsets.ts";
export {FastRng, Rng, Sfc32Rng, deriveSeed, hashString} from "../util/rng.ts";
export {
    type BonMethod, type BonMethodResult, type BonOptions, type BonPoint, type BonQuestion, type BonResult,
    bonMethods, evaluateBon, methodId, methodLabel, prepareQuestion,
} from "./bon/evaluate.ts";
export {type Candidate, type CandidateFields, DEFAULT_CANDIDATE_FIELDS, type GradingStats, buildQuestions, readCandidates, readStepScores} from "./bon/load.ts";
export {type BonSummary, bonChartSpec, bonMarkdown, bonSummary, writeBonReport} from "./bon/report.ts";
export {type AnswerGrader, defaultGrader} from "../grade/grader.ts";
export {type ProcessSample, type ProcessSplit, readProcessSplit, readProcessSplits} from "./processbench/load.ts";
export {type ProcessMetrics, averageF1, harmonicF1, processMetrics} from "./processbench/metrics.ts";
export {type Calibration, calibrateThreshold, firstBelow} from "./processbench/threshold.ts";
export {
    DEFAULT_THRESHOLD, type ProcessBenchResult, type ProcessBenchSource, type SplitResult,
    evaluateProcessBench, readPredictionsFile, readScoresFile,
} from "./processbench/evaluate.ts";
export {type ProcessBenchJson, processBenchJson, processBenchMarkdown, processBenchSummary, writeProcessBenchReport} from "./processbench/report.ts";
export {type BonFileOptions, type BonFileResult, evaluateBonFile} from "./bon/run.ts";
export {type ProcessBenchFilesOptions, type ProcessBenchFilesResult, evaluateProcessBenchFiles} from "./processbench/run.ts";
export {type AnalyzeFilesOptions, type AnalyzeFilesResult, analyzeFiles} from "./analyze/run.ts";
export {analyzeJson, analyzeMarkdown, writeAnalyzeReport} from "./analyze/report.ts";
export * as analyze from "./analyze/index.ts";
export {type PrmBenchData, type PrmBenchItem, CATEGORY_GROUPS, CORRECT, CORRECT_SOURCE, limitPerClassification, readPrmBench} from "./prmbench/load.ts";
export {
    type ItemOutcome, type PrmBenchMetrics, type PrmBenchResult,
    aggregatePrmBench, evaluateItem, prmScoreOf, validFromFirstError, validFromScores,
} from "./prmbench/metrics.ts";
export {type PrmBenchJson, prmBenchChartSpec, prmBenchJson, prmBenchMarkdown, writePrmBenchReport} from "./prmbench/report.ts";
export {DEFAULT_PRMBENCH_THRESHOLD, type PrmBenchFilesOptions, type PrmBenchFilesResult, evaluatePrmBenchFiles, readPrmBenchPredictions} from "./prmbench/run.ts";
