/**
 * The AdaptiveStep quantile presets of `stepwise threshold --domain` (used by ./threshold.ts), in a
 * module that imports nothing so the CLI's `--help` lists them without loading the threshold stage.
 */

/** Quantile presets per domain (AdaptiveStep): math 2% (1,517k decision tokens of 78M); code 1.4% (Table 10: 234k of 17M). */
export const DOMAIN_QUANTILES: Readonly<Record<"math" | "code", number>> = {math: 0.02, code: 0.014};
export type ThresholdDomain = keyof typeof DOMAIN_QUANTILES;
