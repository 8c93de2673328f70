/**
 * The vote over a judge's n answers for one solution (the Qwen recipe samples the judge several
 * times): the most frequent parsed index wins; unparsable answers do not vote. It is src/select's
 * {@link majorityVote} over the parsed indices, numbered in the order they were first given.
 *
 * Tie rule (`ties`): "none" (the default, this judge's rule since it was written: a tie between
 * the most frequent indices gives null, never a guess) or "first-seen" (ProcessBench's reference:
 * `Counter.most_common` keeps the index that was given first).
 */
import {VOTE_TIE, majorityVote} from "../select/vote.ts";

export interface Vote {
    /** The winning index (−1: no wrong step), or null on a tie (rule "none") or when no answer parsed. */
    first_error: number | null;
    /** Votes of the winner / all n answers (0 when null). */
    agreement: number;
    /** Why there is no winner. */
    reason?: "tie" | "all-unparsable";
}

/** Vote over parsed first-error indices (null: unparsable); see the module docs for `ties`. */
export function judgeVote(votes: ReadonlyArray<number | null>, options: {ties?: "none" | "first-seen"} = {}): Vote {
    const ids = new Map<number, number>();
    const values: number[] = [];
    const classOf = votes.map((v) => {
        if (v === null) return -1;
        let c = ids.get(v);
        if (c === undefined) {
            c = values.length;
            values.push(v);
            ids.set(v, c);
        }
        return c;
    });
    const win = majorityVote(classOf, {ties: options.ties ?? "none"});
    if (win === VOTE_TIE) return {first_error: null, agreement: 0, reason: "tie"};
    if (win < 0) return {first_error: null, agreement: 0, reason: "all-unparsable"};
    return {first_error: values[win], agreement: classOf.filter((c) => c === win).length / votes.length};
}
