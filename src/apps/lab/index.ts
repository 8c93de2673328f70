/**
 * `stepwise/lab`: the synthetic arithmetic lab — problems with exact per-step truth (./domain),
 * its verifier and step truth for the label stage (./verifier.ts), policy and PRM evaluations on
 * held-out problems (./eval, with the workflows of `stepwise lab eval-policy|eval-prm` in
 * ./eval/run.ts), the file workflows of `stepwise lab generate|verify` (./files.ts) and training of
 * the lab policy (./policy).
 */
export * from "../../domains/lab/index.ts";
export {labTruth, labVerifier} from "../../domains/lab/verifier.ts";
export {evaluatePolicy, evaluatePolicyRecords, comparePolicies, hasWrongStep, majorityCorrect, wrongStepShare, labPrompt, LAB_MAX_TOKENS, passAtK, type PolicyEval, type PolicyEvalOptions, type ProblemResult, type PairedFigure, type PolicyPairing, type WrongStepShare} from "./eval/policy.ts";
export {evaluateLabPrm, labGrader, type LabPrmEval, type LabPrmEvalOptions} from "./eval/prm.ts";
export {labCandidates, type LabCandidates} from "./eval/candidates.ts";
export {trainPolicy, policyConfig, policyExample, policyBatchSource, type PolicyTrainOptions} from "./policy/train.ts";
export {quickGreedyEval, generateSolution, type QuickEval} from "./policy/eval.ts";
export {generateLabFile, verifyLabFile, type GenerateLabOptions, type GenerateLabSummary, type VerifyLabOptions, type VerifyLabSummary} from "../../domains/lab/files.ts";
export {evalLabPolicy, comparisonJson, decodedFolder, type EvalLabPolicyOptions, type LabPolicyComparison, type MeasuredPolicy, runPolicyEval, runPrmEval, reportLabPrm, bonAtMaxN, defaultPolicyPath, defaultPrmPath, type PolicyEvalRunOptions, type PrmEvalRunOptions, type LabPrmReportOptions} from "./eval/run.ts";
export {trainLabJudge} from "./judge/train.ts";
export {labProcessBench} from "./judge/processbench.ts";
