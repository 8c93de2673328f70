/**
 * Majority vote over a judge's n answers for one solution (the Qwen recipe samples the judge
 * several times): the most frequent parsed index wins. Unparsable answers do not vote. A tie
 * between the most frequent indices, or no parsed answer at all, gives null: never a guess.
 */

export interface Vote {
    /** The winning index (−1: no wrong step), or null on a tie or when no answer parsed. */
    first_error: number | null;
    /** Votes of the winner / all n answers (0 when null). */
    agreement: number;
    /** Why there is no winner. */
    reason?: "tie" | "all-unparsable";
}

export function majorityVote(votes: ReadonlyArray<number | null>): Vote {
    const counts = new Map<number, number>();
    for (const v of votes) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
    if (counts.size === 0) return {first_error: null, agreement: 0, reason: "all-unparsable"};
    const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    if (ranked.length > 1 && ranked[1][1] === ranked[0][1]) return {first_error: null, agreement: 0, reason: "tie"};
    return {first_error: ranked[0][0], agreement: ranked[0][1] / votes.length};
}
