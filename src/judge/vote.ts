/**
 * The vote over a judge's n answers for one solution (the Qwen recipe samples the judge several
 * times): the most frequent answer wins. It is src/select's {@link majorityVote} over the answers,
 * numbered in the order they were first given.
 *
 * Tie rule (`ties`): "none" (the compact template's rule since it was written: a tie between the
 * most frequent indices gives null, never a guess) or "first-seen" (ProcessBench's reference:
 * `Counter.most_common(1)` keeps, among equal counts, the answer counted first, i.e. given first).
 *
 * Two votes share that rule: {@link judgeVote} over parsed indices (unparsable answers do not
 * vote) and {@link processBenchVote}, ProcessBench's vote over the boxes' texts.
 */
import {VOTE_TIE, majorityVote} from "../select/vote.ts";
import {pythonInt} from "./parse.ts";

export interface Vote {
    /** The winning index (−1: no wrong step), or null on a tie (rule "none"), when no answer voted, or when the winner is no index. */
    first_error: number | null;
    /** Votes of the winner / all n answers (0 when first_error is null). */
    agreement: number;
    /**
     * Why there is no winner: a tie (rule "none"); no answer voted ("all-unparsable"); or, in
     * {@link processBenchVote}, the most common box is not an index in −1…steps−1 ("winner-unparsable").
     */
    reason?: "tie" | "all-unparsable" | "winner-unparsable";
}

/**
 * The most common key (null keys do not vote) and its count; `winner` is undefined on a tie under
 * "none" or when nothing voted.
 */
export function mostCommon<K>(keys: ReadonlyArray<K | null>, ties: "none" | "first-seen"): {winner?: K; count: number; reason?: "tie" | "all-unparsable"} {
    const ids = new Map<K, number>();
    const values: K[] = [];
    const classOf = keys.map((v) => {
        if (v === null) return -1;
        let c = ids.get(v);
        if (c === undefined) {
            c = values.length;
            values.push(v);
            ids.set(v, c);
        }
        return c;
    });
    const win = majorityVote(classOf, {ties});
    if (win === VOTE_TIE) return {count: 0, reason: "tie"};
    if (win < 0) return {count: 0, reason: "all-unparsable"};
    return {winner: values[win], count: classOf.filter((c) => c === win).length};
}

/** Vote over parsed first-error indices (null: unparsable, does not vote); see the module docs for `ties` (default "none"). */
export function judgeVote(votes: ReadonlyArray<number | null>, options: {ties?: "none" | "first-seen"} = {}): Vote {
    const m = mostCommon(votes, options.ties ?? "none");
    if (m.winner === undefined) return {first_error: null, agreement: 0, reason: m.reason};
    return {first_error: m.winner, agreement: m.count / votes.length};
}

/**
 * ProcessBench's vote (QwenLM/ProcessBench `code/run_eval.py`, the `--use_voting` branch of
 * `main`): answers without a box are dropped; the others vote with their box's stripped TEXT
 * (`boxes`, from {@link lastBoxProcessBench}: "1" and "01" are different answers, and a box that
 * holds no integer, e.g. "x", votes like any other); the most common text wins, ties going to
 * the text given first; the winner is then read as an integer (Python `int`). When the winning
 * text is no integer, there is no prediction even if other answers held integers; stepwise
 * likewise gives none for an integer outside −1…`steps`−1 (a prediction that can match no label).
 *
 * @param boxes per answer, the last box's text or null (no box).
 * @param steps the solution's step count.
 * @returns the {@link Vote}; `agreement` counts the answers that wrote the winning text.
 */
export function processBenchVote(boxes: ReadonlyArray<string | null>, steps: number): Vote {
    const m = mostCommon(boxes, "first-seen");
    if (m.winner === undefined) return {first_error: null, agreement: 0, reason: "all-unparsable"};
    const n = pythonInt(m.winner);
    if (n === null || n < -1 || n >= steps) return {first_error: null, agreement: 0, reason: "winner-unparsable"};
    return {first_error: n, agreement: m.count / boxes.length};
}
