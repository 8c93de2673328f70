/**
 * The step splitter: the one place that decides where a solution's steps end. `stepwise split`
 * (and through its files label, score, train and stats), the decoders (TVD, Best-of-N, weighted
 * vote, beam search, DVTS) and the viewer all cut with it, so a PRM is read at the positions it
 * was trained on.
 *
 * A {@link StepRule} names where steps end; {@link splitSteps} applies it to a sample's tokens:
 * - `adaptive` (AdaptiveStep): after every decision token, a token whose probability is below τ
 *   under the named comparison `cutoff` (./cutoff.ts: `"raw"` p < τ, default; `"percent2"` the
 *   released TVD code's two-decimal percents);
 * - `delimiter`: after the token holding the last character of every occurrence of a string
 *   ("\n" is `stepwise split --strategy newline`, "\n\n" is `double-newline`);
 * - `fixed`: every N tokens; `random`: K random boundaries seeded by the sample id.
 * Then ./spans.ts turns the cuts into steps, with the named whitespace rule `blank`
 * ({@link BlankSteps}): `"keep"` by default for adaptive, fixed and random (a lone "\n" decision
 * token is a step), `"merge"` for delimiters (the line-break references drop blank lines).
 *
 * This folder imports nothing from above it (only src/util).
 */
import {StepwiseError} from "../util/errors.ts";
import {decisionCuts, delimiterCuts, fixedCuts, randomCuts} from "./cuts.ts";
import type {Cutoff} from "./cutoff.ts";
import {stepsFromCuts, tokenOffsets, type BlankSteps, type StepSpan} from "./spans.ts";

export {usableCandidate} from "./candidates.ts";
export {CUTOFFS, decisionBound, isDecision, type Cutoff} from "./cutoff.ts";
export {decisionCuts, delimiterCuts, firstDecision, fixedCuts, randomCuts} from "./cuts.ts";
export {cutSpans, stepsFromCuts, tokenOffsets, type BlankSteps, type StepSpan} from "./spans.ts";

/** Where steps end (see the module docs). `blank` overrides the rule's default whitespace rule. */
export type StepRule =
    | {kind: "adaptive"; tau: number; cutoff?: Cutoff; blank?: BlankSteps}
    | {kind: "delimiter"; text: string; blank?: BlankSteps}
    | {kind: "fixed"; tokens: number; blank?: BlankSteps}
    | {kind: "random"; positions: number; seed: number; blank?: BlankSteps};

/** The whitespace rule of a step rule: its own `blank`, else "merge" for delimiters and "keep" otherwise. */
export function blankRule(rule: StepRule): BlankSteps {
    return rule.blank ?? (rule.kind === "delimiter" ? "merge" : "keep");
}

/** One sample to split: its text and tokens (token texts concatenate to the text); `id` seeds `random` and names the sample in errors. */
export interface SplitInput {
    id?: string;
    text: string;
    tokens: ReadonlyArray<{text: string; confidence: number}>;
}

/** Token ends of a rule on one sample (before the whitespace rule; see ./spans.ts). */
export function ruleCuts(input: SplitInput, rule: StepRule, offsets: readonly number[] = tokenOffsets(input.tokens)): number[] {
    switch (rule.kind) {
        case "adaptive":
            return decisionCuts(input.tokens, rule.tau, rule.cutoff);
        case "delimiter":
            return delimiterCuts(input.text, offsets, rule.text);
        case "fixed":
            return fixedCuts(input.tokens.length, rule.tokens);
        case "random":
            return randomCuts(input.tokens.length, rule.positions, input.id ?? "", rule.seed);
    }
}

/**
 * Cut one sample into steps. Pure. The steps' texts concatenate to `text` and their token spans
 * tile the tokens; no tokens, no steps. Throws a StepwiseError naming the sample when the token
 * texts do not concatenate to its text.
 */
export function splitSteps(input: SplitInput, rule: StepRule): StepSpan[] {
    const offsets = tokenOffsets(input.tokens);
    if (offsets[offsets.length - 1] !== input.text.length || input.tokens.map((t) => t.text).join("") !== input.text)
        throw new StepwiseError(`split: tokens of sample${input.id !== undefined ? ` "${input.id}"` : ""} do not concatenate to its text`);
    return stepsFromCuts(input.text, offsets, ruleCuts(input, rule, offsets), blankRule(rule));
}

/** The step texts of {@link splitSteps}. */
export function splitStepTexts(input: SplitInput, rule: StepRule): string[] {
    return splitSteps(input, rule).map((s) => s.text);
}
