/**
 * (b) Where the lowest step score falls. The Qwen paper observes that PRMs tuned for Best-of-N put
 * their lowest step score on the last step in over 40% of cases: they behave like outcome models
 * that judge the final answer.
 *
 * A solution's lowest score is "at the last step" when the last score is strictly below every
 * earlier one (the first-index argmin convention, as numpy's argmin). When the last score only
 * ties the minimum with an earlier step it is counted as `tiedLast`, not as last. Single-step
 * solutions are trivially "last" and are counted apart (`singleStep`), outside the share; empty
 * score lists are ignored (`empty`).
 */

/** Where the minimum of one solution's step scores is. */
export type LowestPosition = "last" | "tied-last" | "earlier" | "single" | "empty";

/** Classify one solution's step scores (see the module docs). */
export function lowestPosition(scores: ArrayLike<number>): LowestPosition {
    const n = scores.length;
    if (n === 0) return "empty";
    if (n === 1) return "single";
    let min = Infinity;
    for (let i = 0; i < n - 1; i++) if (scores[i] < min) min = scores[i];
    const last = scores[n - 1];
    return last < min ? "last" : last === min ? "tied-last" : "earlier";
}

/** Counts over a set of solutions. `share` = atLast / multiStep (null when multiStep = 0). */
export interface LowestStepStats {
    n: number;
    /** Solutions with at least two steps: the denominator of `share`. */
    multiStep: number;
    atLast: number;
    tiedLast: number;
    singleStep: number;
    empty: number;
    share: number | null;
}

/** One scored solution and whether it is correct (null: unknown). */
export interface ScoredSolution {
    scores: ArrayLike<number>;
    correct: boolean | null;
}

/** The analysis overall and by correctness. */
export interface LowestStepResult {
    /** What "correct" means for these solutions (e.g. "process correct (label −1)", "final answer correct"). */
    correctness: string;
    all: LowestStepStats;
    correct: LowestStepStats;
    incorrect: LowestStepStats;
    /** Solutions of unknown correctness (in `all` only); 0 usually. */
    unknown: number;
}

/** Count lowest-score positions of a set of step-score lists. Pure. */
export function lowestStepStats(lists: Iterable<ArrayLike<number>>): LowestStepStats {
    const s: LowestStepStats = {n: 0, multiStep: 0, atLast: 0, tiedLast: 0, singleStep: 0, empty: 0, share: null};
    for (const scores of lists) {
        s.n++;
        switch (lowestPosition(scores)) {
            case "last":
                s.multiStep++;
                s.atLast++;
                break;
            case "tied-last":
                s.multiStep++;
                s.tiedLast++;
                break;
            case "earlier":
                s.multiStep++;
                break;
            case "single":
                s.singleStep++;
                break;
            case "empty":
                s.empty++;
                break;
        }
    }
    s.share = s.multiStep ? s.atLast / s.multiStep : null;
    return s;
}

/** The lowest-step analysis overall and split by correctness. Pure. */
export function lowestStepAnalysis(solutions: readonly ScoredSolution[], correctness: string): LowestStepResult {
    return {
        correctness,
        all: lowestStepStats(solutions.map((s) => s.scores)),
        correct: lowestStepStats(solutions.filter((s) => s.correct === true).map((s) => s.scores)),
        incorrect: lowestStepStats(solutions.filter((s) => s.correct === false).map((s) => s.scores)),
        unknown: solutions.filter((s) => s.correct === null).length,
    };
}
