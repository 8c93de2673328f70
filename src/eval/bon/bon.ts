/** PRM Best-of-N: pick the candidate with the highest aggregated score (random among ties). */
import type {FastRng} from "./random.ts";

/** Index of the best-scored candidate among the first `size` entries of `subset`. */
export function bestOfN(subset: ArrayLike<number>, size: number, scores: ArrayLike<number>, rng: FastRng): number {
    let best = subset[0];
    let bestScore = scores[best];
    let ties = 1;
    for (let k = 1; k < size; k++) {
        const i = subset[k];
        const s = scores[i];
        if (s > bestScore || (bestScore !== bestScore && s === s)) {
            best = i;
            bestScore = s;
            ties = 1;
        } else if (s === bestScore && rng.below(++ties) === 0) best = i;
    }
    return best;
}
