/** The code domain's library surface: sandbox, verifier, extraction, categories, the code lab. */
export {detectSandbox, runSandboxed, findPython, sandboxArgv, DEFAULT_LIMITS as DEFAULT_SANDBOX_LIMITS, SANDBOX_ENV, type SandboxInfo, type SandboxLimits, type RunOutcome, type RunOptions as SandboxRunOptions} from "../../domains/code/sandbox.ts";
export {verifyProgram, verifyCandidates, defaultConcurrency, asCodeProblem, asCodeCandidate, CODE_STATUSES, type CodeTestProblem, type CodeCandidate, type CodeStatus, type CodeVerdict, type VerifyOptions} from "../../domains/code/verifier.ts";
export {readCodeProblems, readCodeCandidates, readJsonlMaybeGz} from "../../domains/code/problems.ts";
export {runCodeFile, referenceCandidates, formatStatusCounts, type CodeRunOptions, type CodeRunSummary} from "../../domains/code/run.ts";
export {extractCode, codeBlockSpans, insideCode, type CodeSpan} from "../../domains/code/extract.ts";
export {codeStatementCategories, codeStatementSpans, codeCategoryTable, CODE_STATEMENT_CATEGORIES, CODE_STATEMENT_SCHEME, type CodeStatementCategory, type CategoryRow} from "../../domains/code/categories.ts";
export {makeCodeVerifier, makeCodeJudge, gradeCodeFile, type CodeVerifierOptions, type SolutionVerdict, type CodeJudge, type GradeFileOptions} from "../../domains/code/pipeline.ts";
export {codeVerifier} from "../../domains/code/verifier-definition.ts";
export {mutateOffByOne, mutateFlipComparison} from "../../domains/code/mutate.ts";
export {generateCodeProblems, parseCodeQuestion, isCodeLabQuestion, isCodeHeldout, CODE_HELDOUT_FRACTION, type CodeProblem, type CodeTaskFamily, type CodeLabOptions} from "../../domains/code/lab/tasks.ts";
export {codePolicyPrompt} from "../../domains/code/lab/policy-prompt.ts";
export {evaluateCodePolicy, CODE_LAB_MAX_TOKENS, type CodePolicyEval, type CodePolicyEvalOptions} from "./eval.ts";
