/**
 * PRM Best-of-N: pick the candidate with the highest aggregated score (random among ties).
 * Unfinished candidates (no final answer; see src/grade/finished.ts) are never picked when a
 * `finished` mask is given, as PRM800K's evaluation never picks a solution without an answer.
 */
import type {FastRng} from "../../util/rng.ts";

/**
 * Index of the best-scored candidate among the first `size` entries of `subset`; with `finished`,
 * only candidates whose mask entry is 1 count, and −1 is returned when none of them is finished.
 */
export function bestOfN(subset: ArrayLike<number>, size: number, scores: ArrayLike<number>, rng: FastRng, finished: ArrayLike<number> | null = null): number {
    let best = -1;
    let bestScore = NaN;
    let ties = 0;
    for (let k = 0; k < size; k++) {
        const i = subset[k];
        if (finished !== null && !finished[i]) continue;
        const s = scores[i];
        if (best < 0 || s > bestScore || (bestScore !== bestScore && s === s)) {
            best = i;
            bestScore = s;
            ties = 1;
        } else if (s === bestScore && rng.below(++ties) === 0) best = i;
    }
    return best;
}
