/**
 * Answer grading: extract final answers from model outputs and decide equivalence under a
 * `lenient` (Math-Verify-like) or `strict` (PRM800K-like) policy. See grade.ts and policy.ts.
 */
export {grade, answersEqual, type GradeResult, type GradedAnswer} from "./grade.ts";
export {extractAnswer, type Extraction, type ExtractorName, type ExtractOptions} from "./extract.ts";
export {hasFinalAnswer, isCutOff, isFinished, FINAL_ANSWER_EXTRACTORS, type FinishableCandidate} from "./finished.ts";
export {type GradeOptions, type Policy} from "./policy.ts";
export {type ComparePath} from "./compare.ts";
