/**
 * Where steps end, in tokens: each rule returns token ends ("cuts", see ./spans.ts) for one
 * sample. Every rule cuts on token boundaries.
 */
import {Rng, deriveSeed} from "../util/rng.ts";
import {decisionBound, type Cutoff} from "./cutoff.ts";

/**
 * AdaptiveStep: a step ends right after every decision token (the decision token is the last
 * token of its step; ./cutoff.ts says when p is below τ). A response with no decision token is one step.
 */
export function decisionCuts(tokens: ReadonlyArray<{confidence: number}>, tau: number, cutoff: Cutoff = "raw"): number[] {
    const b = decisionBound(tau, cutoff);
    const cuts: number[] = [];
    for (let i = 0; i < tokens.length; i++) if (tokens[i].confidence < b) cuts.push(i + 1);
    return cuts;
}

/** Index of the first decision token (see {@link decisionCuts}), or −1. */
export function firstDecision(tokens: ReadonlyArray<{confidence: number}>, tau: number, cutoff: Cutoff = "raw"): number {
    const b = decisionBound(tau, cutoff);
    for (let i = 0; i < tokens.length; i++) if (tokens[i].confidence < b) return i;
    return -1;
}

/**
 * Delimiter splitting: a step ends after the token holding the last character of every
 * occurrence of `delimiter` in the text (overlapping ones included), so the delimiter stays in
 * the step it ends. "\n" cuts after every token holding a line break; "\n\n" after the token
 * holding the second "\n" of every pair (the pair may span two tokens).
 */
export function delimiterCuts(text: string, offsets: readonly number[], delimiter: string): number[] {
    const cuts: number[] = [];
    if (delimiter === "") return cuts;
    let tok = 0;
    for (let at = text.indexOf(delimiter); at >= 0; at = text.indexOf(delimiter, at + 1)) {
        const last = at + delimiter.length - 1;
        while (offsets[tok + 1] <= last) tok++;
        if (cuts[cuts.length - 1] !== tok + 1) cuts.push(tok + 1);
    }
    return cuts;
}

/** Fixed-length splitting: token ends n, 2n, ... below `tokenCount` (the last step may be shorter). */
export function fixedCuts(tokenCount: number, n: number): number[] {
    const cuts: number[] = [];
    for (let e = n; e < tokenCount; e += n) cuts.push(e);
    return cuts;
}

/**
 * Random splitting (the AdaptiveStep paper's "random positions" baseline): `k` distinct step ends
 * drawn uniformly among the T-1 boundaries between tokens, so a sample gets up to k+1 steps.
 * The draw is seeded by the sample id (and an optional seed), so the same sample is always cut
 * at the same places, whatever else is in the file. Ascending; all boundaries when there are fewer than k.
 */
export function randomCuts(tokenCount: number, k: number, sampleId: string, seed = 0): number[] {
    const slots = tokenCount - 1;
    if (slots <= 0 || k <= 0) return [];
    if (k >= slots) return Array.from({length: slots}, (_, i) => i + 1);
    const rng = new Rng(deriveSeed("split:random", sampleId, seed));
    // Partial Fisher-Yates over the boundary indices, sparse so long samples cost O(k).
    const swapped = new Map<number, number>();
    const out: number[] = [];
    for (let i = 0; i < k; i++) {
        const j = rng.int(i, slots - 1);
        const vj = swapped.get(j) ?? j;
        const vi = swapped.get(i) ?? i;
        swapped.set(j, vi);
        out.push(vj + 1);
    }
    return out.sort((a, b) => a - b);
}
