/**
 * The lab domain: synthetic multi-step arithmetic with exact per-step ground truth.
 *
 * - {@link labStream} / {@link generateProblems}: seeded problems with canonical solutions.
 * - Text format: see ./format.ts (one operation per line, restating the remaining expression).
 */
export * from "./expr.ts";
export * from "./format.ts";
export * from "./presets.ts";
export * from "./generate.ts";
