/**
 * The lab domain: synthetic multi-step arithmetic with exact per-step ground truth.
 *
 * - {@link labStream} / {@link generateProblems}: seeded problems with canonical solutions
 *   (./generate.ts; knobs and presets in ./presets.ts).
 * - Text format: ./format.ts (one operation per line, restating the remaining expression, then
 *   `The answer is N.`).
 * - Exact verifiers: {@link checkAnswer} and the process verifier {@link verifyProcess}, with
 *   {@link labelSegments} to map its verdict to other step boundaries (./verify.ts).
 * - A lab PRMBench: PRMBench's kinds of error made from exact truth ({@link labPrmBenchRows},
 *   ./prmbench.ts).
 * - Synthetic wrong restatements of a solution for critic training data ({@link perturbRestatement},
 *   ./perturb.ts).
 */
export * from "./expr.ts";
export * from "./format.ts";
export * from "./presets.ts";
export * from "./generate.ts";
export * from "./verify.ts";
export * from "./prmbench.ts";
export * from "./perturb.ts";
