/**
 * The one majority vote and the one weighted majority vote, over answer classes (integers per
 * candidate, −1 = no answer, never votes; ./classes.ts groups answers into classes). Used by
 * `eval bon` (maj@N and the PRM-weighted vote), the weighted-vote decoder and the judge's vote
 * over its sampled verdicts.
 *
 * Tie rules (`ties`), for classes with the same top tally:
 * - `"first-seen"`: the class whose earliest vote has the lowest candidate index, i.e. the answer
 *   seen first in sampling order (ProcessBench's reference: `Counter.most_common`, insertion order);
 * - `"random"`: uniformly at random with the caller's seeded generator;
 * - `"none"`: no winner ({@link VOTE_TIE}); the judge's rule, never a guess.
 */
import type {FastRng} from "../util/rng.ts";

/** Returned when no candidate in the pool has a class (nobody voted). */
export const VOTE_NONE = -1;
/** Returned on a tie under `ties: "none"`. */
export const VOTE_TIE = -2;

/** How a vote's tie is broken (see the module docs). */
export type VoteTieRule = "first-seen" | "random" | "none";

export interface VoteRules {
    /** Tie rule. Default "first-seen". */
    ties?: VoteTieRule;
    /** The generator for `ties: "random"` (required then). */
    rng?: FastRng;
    /** Reusable tallies, sized to at least the class count (hot loops); default: allocated per call. */
    scratch?: VoteScratch;
}

/** Reusable scratch space for the votes, sized to a question's class count. */
export class VoteScratch {
    readonly votes: Float64Array;
    /** `seen[c] === stamp` marks class c as already considered in the current vote. */
    readonly seen: Int32Array;
    /** Lowest candidate index that voted for class c in the current vote. */
    readonly first: Int32Array;
    stamp = 0;
    constructor(readonly classes: number) {
        this.votes = new Float64Array(classes);
        this.seen = new Int32Array(classes);
        this.first = new Int32Array(classes);
    }
}

/**
 * Plain majority vote (one vote per candidate): see {@link weightedMajorityVote}.
 */
export function majorityVote(classOf: ArrayLike<number>, rules: VoteRules = {}, pool?: ArrayLike<number>, size?: number): number {
    return weightedMajorityVote(classOf, null, rules, pool, size);
}

/**
 * The winning answer class: the class with the largest sum of its voters' weights.
 *
 * @param classOf class per candidate (−1: no answer, does not vote).
 * @param weights vote weight per candidate, e.g. an aggregated PRM score (null: one vote each).
 * @param pool the candidate indices that vote, in any order (default: all of `classOf`); only its
 *   first `size` entries count (default: all).
 * @returns the winning class, {@link VOTE_NONE} when nobody voted, {@link VOTE_TIE} on a tie under `ties: "none"`.
 * @throws RangeError for `ties: "random"` without `rng`, or a scratch smaller than the class count.
 */
export function weightedMajorityVote(classOf: ArrayLike<number>, weights: ArrayLike<number> | null, rules: VoteRules = {}, pool?: ArrayLike<number>, size?: number): number {
    const ties = rules.ties ?? "first-seen";
    const rng = rules.rng;
    if (ties === "random" && !rng) throw new RangeError('majority vote: ties "random" needs an rng');
    const count = pool ? (size ?? pool.length) : classOf.length;
    const at = (k: number): number => (pool ? pool[k] : k);
    let scratch = rules.scratch;
    if (!scratch) {
        let classes = 0;
        for (let k = 0; k < count; k++) classes = Math.max(classes, classOf[at(k)] + 1);
        scratch = new VoteScratch(classes);
    }
    const {votes, seen, first} = scratch;
    const stamp = ++scratch.stamp;
    for (let k = 0; k < count; k++) {
        const i = at(k);
        const c = classOf[i];
        if (c < 0) continue;
        if (c >= scratch.classes) throw new RangeError(`majority vote: class ${c} is beyond the scratch's ${scratch.classes} classes`);
        if (seen[c] !== stamp) {
            seen[c] = stamp;
            votes[c] = 0;
            first[c] = i;
        } else if (i < first[c]) first[c] = i;
        votes[c] += weights === null ? 1 : weights[i];
    }
    // Second pass in pool order; `seen` is re-stamped so each class is considered once.
    const stamp2 = ++scratch.stamp;
    let best = VOTE_NONE;
    let bestVotes = -Infinity;
    let tied = 0;
    for (let k = 0; k < count; k++) {
        const c = classOf[at(k)];
        if (c < 0 || seen[c] === stamp2) continue;
        seen[c] = stamp2;
        const v = votes[c];
        if (v > bestVotes) {
            best = c;
            bestVotes = v;
            tied = 1;
        } else if (v === bestVotes) {
            tied++;
            if (ties === "first-seen") {
                if (first[c] < first[best]) best = c;
            } else if (ties === "random" && rng!.below(tied) === 0) best = c;
        }
    }
    return ties === "none" && tied > 1 ? VOTE_TIE : best;
}
