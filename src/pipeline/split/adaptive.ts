/**
 * AdaptiveStep splitting: every token whose confidence is below τ is a decision token, and a step
 * ends right after it (the decision token is the last token of its step). A response with no
 * decision token is one step.
 */
import type {GeneratedToken} from "../../engines/types.ts";

/** Token ends (see stepsFromCuts) after each token with confidence < tau. */
export function adaptiveCuts(tokens: ReadonlyArray<Pick<GeneratedToken, "confidence">>, tau: number): number[] {
    const cuts: number[] = [];
    for (let i = 0; i < tokens.length; i++) if (tokens[i].confidence < tau) cuts.push(i + 1);
    return cuts;
}
