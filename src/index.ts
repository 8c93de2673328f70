/**
 * stepwise's library entry point. With its subpaths it gives everything the CLI does (every
 * function a command calls is exported here or by a subpath: test/fast/layout/cli-exports.test.ts).
 *
 * The root is light (test/model/layout/light-root.test.ts): importing it loads no training (tfjs),
 * plotting (vega, vega-lite, resvg), symbolic-math (@cortex-js/compute-engine), Markdown
 * (marked) or POS-tagger (pos) package. Plots, the grader's symbolic path and the token
 * categories' tagger load their package on first use; the workflows that train live behind
 * subpaths: `stepwise/train` (trainPrm, trainPolicy, trainLabJudge, trainCodePolicy and the
 * trainer), `stepwise/lab` (the lab domain, its evaluations and training), `stepwise/demo`
 * (runDemo); the HTTP servers too (hono): `stepwise/serve` (startServer, createApp) and
 * `stepwise/view` (startViewer, exportViewer, ViewStore); and `stepwise/grade`, `stepwise/eval`,
 * `stepwise/prm`.
 */
import "./apps/domains.ts";
export * from "./engines/types.ts";
export {createEngine, parseEngineSpec, sameModelSpec, checkModelKind, labModelPath, LAB_MODELS, ENGINE_SPEC_FORMS} from "./engines/spec.ts";
export {LlamaEngine, type LlamaEngineOptions} from "./engines/llama/engine.ts";
export {OpenAIEngine, type OpenAIEngineOptions, type ServerContext} from "./engines/openai/engine.ts";

export * from "./core/records.ts";
export {sampleDataset, type SampleOptions} from "./pipeline/sample.ts";
export {computeThreshold, thresholdFromFile, plotThreshold, type ThresholdSummary} from "./pipeline/threshold.ts";
export {parseStrategy, splitSample, splitFile, toStepsRecord, type SplitStrategy} from "./pipeline/split/index.ts";
export {splitSteps, splitStepTexts, isDecision, decisionBound, CUTOFFS, type StepRule, type StepSpan, type Cutoff, type BlankSteps} from "./steps/index.ts";
export {computeStats, statsMarkdown} from "./pipeline/stats/index.ts";
export {labelFile, labelSample, summarizeLabels, compareWithTruth, methodString, TRUNCATED_WARN_SHARE, type LabelSettings} from "./pipeline/label/index.ts";
export {labelBranches, labelBranchesFile, summarizeBranches, branchMethodString, type BranchSettings, type BranchFileOptions, type BranchSummary} from "./pipeline/label/branches.ts";
export {DEFAULT_VERIFIER, checkVerifierArgs, getVerifier, makeVerifier, parseVerifierArgs, registerVerifier, verifierArgsHelp, verifierNames, type StepTruthFn, type Verifier, type VerifierArgs, type VerifierArgument, type VerifierDefinition, type VerifierInput, type VerifierName} from "./pipeline/label/verifiers.ts";
export {labTruth, labVerifier} from "./domains/lab/verifier.ts";
export {exportFile, exportRecord} from "./pipeline/export/index.ts";
export {scoreFile} from "./pipeline/score.ts";

export {createScorer, type CreateScorerOptions, TagPrmScorer, PoolingPrmScorer, resolveFormat, PRM_FORMATS, type StepScorer, type PrmFormat} from "./prm/index.ts";
export {rocAuc} from "./prm/metrics.ts";
// One selector, one vote of each kind, one statistics module (used by eval bon, the decoders and the judge).
export * from "./select/index.ts";
export * from "./stats/index.ts";

export {grade, answersEqual, extractAnswer} from "./grade/index.ts";
export {hasFinalAnswer, isCutOff, isFinished, type FinishableCandidate} from "./grade/index.ts";
export * as evaluation from "./eval/index.ts";
export {evaluatePolicy} from "./apps/lab/eval/policy.ts";
export {evalLabPolicy, type EvalLabPolicyOptions, type LabPolicyComparison} from "./apps/lab/eval/run.ts";
export {readQuestions, type QuestionRow} from "./io/dataset.ts";
export {resolveTagIds, chatmlInput, labelledTag, plainInput, taggedSteps} from "./prm/index.ts";
export {recoverText, EXPORT_FORMATS, type ExportOptions, type ExportFormat} from "./pipeline/export/index.ts";
export {classifyTokens, registerCategoryScheme, categoryScheme, MATH_SCHEME, CODE_SCHEME, type CategoryScheme, type CategorySpan} from "./pipeline/stats/index.ts";
export {greedy, tvd, bestOfNDecode, weightedVoteDecode, beamSearch, dvts, decodeFile, SearchPrm, STRATEGIES, STRATEGY_FUNCTIONS, DEFAULT_SEARCH_CONFIG, TVD_DOMAIN_TAU, TVD_DOMAIN_DEFAULTS, pairedDifference, summarizeDecode, type PairedDifference, type DecodeResult, type DecodeRecord, type DecodeSummary, type SearchConfig, type SearchContext, type SearchProblem, type TraceEvent, type StrategyName} from "./search/index.ts";
export * from "./apps/code/index.ts";

// Everything else the CLI runs (item 4 of issue 11: the library equals the CLI).
export {JsonlWriter, readJsonl, readJsonlAll} from "./io/jsonl.ts";
// The checks every command makes before its work: inputs readable, outputs writable (never an input), ports free.
export {StepwiseError, fsError, describeError} from "./util/errors.ts";
export {plural} from "./util/plural.ts";
export {prepareOutput, type OutputCheck} from "./io/output.ts";
export {writeFileAtomic} from "./io/atomic.ts";
export {checkInputFile} from "./io/text.ts";
export {checkCanListen} from "./io/listen.ts";
// A graceful shutdown (serve, view) takes over SIGINT/SIGTERM from the cleanup hook.
export {claimSignals} from "./io/process-end.ts";
export {readRecords, readRecordsAll, checkRecord, parseRecord, SampleRecordSchema, SampleInputSchema, StepsRecordSchema, LabelRecordSchema, BranchLabelRecordSchema, FilteredLabelRecordSchema, ScoredRecordSchema, DecodeRecordSchema, VerdictRecordSchema, CodeVerdictSchema, CodeGradedRecordSchema} from "./core/schemas.ts";
export {gradeJsonlFile, type GradedRecord} from "./grade/file.ts";
export {readThresholdFile, DOMAIN_QUANTILES} from "./pipeline/threshold.ts";
export {STRATEGY_FORMS} from "./pipeline/split/index.ts";
export {categorySchemeNames} from "./pipeline/stats/index.ts";
export {writeStatsPlots} from "./pipeline/stats/plots.ts";
export {readGgufInfo, checkGgufHeader} from "./gguf/reader.ts";
export {readLlamaGguf, writeLlamaGguf} from "./gguf/llama.ts";
export * as judge from "./judge/index.ts";
export * as filter from "./filter/index.ts";
export {judgeSolution, judgeSolutions, judgeFile, judgeInputFromRow, judgeMethod, summarizeVerdicts, judgeMessages, judgeUserMessage, parseVerdict, extractBoxes, judgeVote, JUDGE_TEMPLATES, JUDGE_PROTOCOLS, defaultJudgeTemplate, processBenchCritiquePrompt, parseVerdictProcessBench, processBenchVote, type JudgeTemplate, type JudgeProtocolRecord, type VerdictRecord, type JudgeInput, type JudgeSettings, type JudgeSummary, type ParsedVerdict, type ParseFailure, type Vote} from "./judge/index.ts";
export {consensusFilter, consensusDecision, readVerdicts, readLabels, checkJoin, judgeLabels, labTruthLabels, DISAGREEMENT_KINDS, type ConsensusSummary, type DisagreementKind} from "./filter/index.ts";
export {judgeProcessSplits, NO_VERDICT} from "./eval/processbench/judge.ts";
export {LAB_JUDGE_CHAT_TEMPLATE, renderLabJudgeChat, critiqueText} from "./apps/lab/judge/template.ts";
export {labProcessBench, labProcessBenchRow} from "./apps/lab/judge/processbench.ts";
