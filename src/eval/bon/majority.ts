/**
 * Majority voting over answer classes: plain (maj@N, one vote per candidate) and PRM-weighted
 * (each candidate votes with its aggregated PRM score). Ties are broken uniformly at random
 * with the caller's seeded generator.
 */
import type {FastRng} from "../../util/rng.ts";

/** Reusable scratch space for {@link majorityVote}, sized to a question's class count. */
export class VoteScratch {
    readonly votes: Float64Array;
    /** `seen[c] === stamp` marks class c as already considered in the current vote. */
    readonly seen: Int32Array;
    stamp = 0;
    constructor(classes: number) {
        this.votes = new Float64Array(classes);
        this.seen = new Int32Array(classes);
    }
}

/**
 * The winning answer class among the first `size` candidates of `subset`, or −1 when none of
 * them has an answer (class −1 never votes).
 *
 * @param classOf class per candidate (−1: no answer).
 * @param weights vote weight per candidate (null: one vote each).
 */
export function majorityVote(subset: ArrayLike<number>, size: number, classOf: ArrayLike<number>, weights: ArrayLike<number> | null, scratch: VoteScratch, rng: FastRng): number {
    const {votes, seen} = scratch;
    for (let k = 0; k < size; k++) {
        const i = subset[k];
        const c = classOf[i];
        if (c >= 0) votes[c] += weights === null ? 1 : weights[i];
    }
    const stamp = ++scratch.stamp;
    let best = -1;
    let bestVotes = -Infinity;
    let ties = 0;
    for (let k = 0; k < size; k++) {
        const c = classOf[subset[k]];
        if (c < 0 || seen[c] === stamp) continue;
        seen[c] = stamp;
        const v = votes[c];
        if (v > bestVotes) {
            best = c;
            bestVotes = v;
            ties = 1;
        } else if (v === bestVotes && rng.below(++ties) === 0) best = c;
    }
    for (let k = 0; k < size; k++) {
        const c = classOf[subset[k]];
        if (c >= 0) votes[c] = 0;
    }
    return best;
}
