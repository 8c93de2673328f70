/**
 * Random splitting (the AdaptiveStep paper's "random positions" baseline): `k` distinct step ends
 * drawn uniformly among the T-1 boundaries between tokens, so a sample gets up to k+1 steps.
 * The draw is seeded by the sample id (and an optional seed), so the same sample is always cut
 * at the same places, whatever else is in the file.
 */
import {Rng, deriveSeed} from "../../util/rng.ts";

/** k distinct token ends in 1..tokenCount-1 (all of them when there are fewer), ascending. */
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
