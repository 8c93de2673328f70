/**
 * The one Best-of-N selector: among a pool of candidates, the one with the highest score
 * (an aggregated PRM step score: ./aggregate.ts). Used by `eval bon` (offline, on scored records),
 * the best-of-n, weighted-vote and beam decoders (online) and anything else that picks one
 * candidate by score. The rules that used to differ between those callers are arguments:
 *
 * - `ties` — equal top scores: `"first"` keeps the candidate with the lowest index (the first
 *   sampled); `"random"` picks uniformly among them with the caller's seeded generator.
 *   NaN scores never tie and rank below every number.
 * - `unfinished` (with a `finished` mask; see src/grade/finished.ts) — `"never"`: unfinished
 *   candidates are never picked, and −1 is returned when none in the pool is finished (PRM800K's
 *   evaluation: no answer, scored wrong); `"fallback"`: as `"never"`, but when none is finished
 *   the best of all candidates is picked (a decoder must return some text; an unfinished pick
 *   has no answer and is graded wrong, so accuracy equals `"never"`'s); `"allow"`: the mask is
 *   ignored.
 */
import type {FastRng} from "../util/rng.ts";

/** How equal top scores (or, in a vote, equal top tallies) are broken in Best-of-N. */
export type TieRule = "first" | "random";

/** What Best-of-N does with unfinished candidates (see the module docs). */
export type UnfinishedRule = "never" | "fallback" | "allow";

export interface BestOfNRules {
    /** Tie rule. Default "first". */
    ties?: TieRule;
    /** The generator for `ties: "random"` (required then). */
    rng?: FastRng;
    /** Per candidate (indexed like `scores`), 1/true when finished; null/absent: all are finished. */
    finished?: ArrayLike<number | boolean> | null;
    /** Unfinished rule. Default "never" (only matters with `finished`). */
    unfinished?: UnfinishedRule;
}

/**
 * Index of the best-scored candidate (see the module docs for the rules).
 *
 * @param scores one score per candidate (any real numbers; higher is better).
 * @param pool the candidate indices to choose from, in any order (default: all of `scores`);
 *   only its first `size` entries count (default: all), so a reused subset buffer can be passed.
 * @returns a candidate index, or −1 when the pool is empty or (rule "never") holds no finished candidate.
 * @throws RangeError for `ties: "random"` without `rng`.
 */
export function selectBestOfN(scores: ArrayLike<number>, rules: BestOfNRules = {}, pool?: ArrayLike<number>, size?: number): number {
    const ties = rules.ties ?? "first";
    if (ties === "random" && !rules.rng) throw new RangeError('selectBestOfN: ties "random" needs an rng');
    const unfinished = rules.unfinished ?? "never";
    const mask = unfinished === "allow" ? null : (rules.finished ?? null);
    const count = pool ? (size ?? pool.length) : scores.length;
    const best = pickBest(scores, ties, rules.rng, mask, pool, count);
    if (best < 0 && mask !== null && unfinished === "fallback") return pickBest(scores, ties, rules.rng, null, pool, count);
    return best;
}

function pickBest(scores: ArrayLike<number>, ties: TieRule, rng: FastRng | undefined, mask: ArrayLike<number | boolean> | null, pool: ArrayLike<number> | undefined, count: number): number {
    let best = -1;
    let bestScore = NaN;
    let tied = 0;
    for (let k = 0; k < count; k++) {
        const i = pool ? pool[k] : k;
        if (mask !== null && !mask[i]) continue;
        const s = scores[i];
        if (best < 0 || s > bestScore || (bestScore !== bestScore && s === s)) {
            best = i;
            bestScore = s;
            tied = 1;
        } else if (s === bestScore) {
            if (ties === "first") {
                if (i < best) best = i;
            } else if (rng!.below(++tied) === 0) best = i;
        }
    }
    return best;
}

/**
 * The candidates a rule lets a selector choose from, in index order: the finished ones (`"never"`),
 * the finished ones or all when none is (`"fallback"`), or all (`"allow"`). The pool form of the
 * unfinished rule, for callers that vote or search over the eligible candidates.
 */
export function eligibleCandidates(finished: ArrayLike<number | boolean>, unfinished: UnfinishedRule): number[] {
    const all = Array.from({length: finished.length}, (_, i) => i);
    if (unfinished === "allow") return all;
    const done = all.filter((i) => finished[i]);
    return done.length || unfinished === "never" ? done : all;
}
