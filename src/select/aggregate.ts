/**
 * Step-score aggregation: one number per candidate solution from its PRM step scores, used to
 * rank candidates in Best-of-N and to weight votes in PRM-weighted majority voting.
 *
 * - `min`: the weakest step (a solution is as good as its worst step);
 * - `max`: the strongest step;
 * - `mean`: the average step score;
 * - `product`: the product of step scores (the Qwen paper's default), i.e. the probability that
 *   every step is correct if the scores were independent;
 * - `last`: the score of the last step (suits PRMs trained on Monte-Carlo value labels).
 *
 * A candidate with no scored steps aggregates to 0 under every rule: it ranks below any scored
 * candidate with a positive score and adds no weight to its answer in a weighted vote.
 */

/** The aggregation rules, in report order. */
export const AGGREGATIONS = ["min", "max", "mean", "product", "last"] as const;

export type Aggregation = (typeof AGGREGATIONS)[number];

/** True when `name` is one of {@link AGGREGATIONS}. */
export function isAggregation(name: string): name is Aggregation {
    return (AGGREGATIONS as readonly string[]).includes(name);
}

/** Aggregate the step scores of one candidate (0 when there are none; see the module docs). */
export function aggregate(scores: ArrayLike<number>, how: Aggregation): number {
    const n = scores.length;
    if (n === 0) return 0;
    switch (how) {
        case "last":
            return scores[n - 1];
        case "min": {
            let m = Infinity;
            for (let i = 0; i < n; i++) if (scores[i] < m) m = scores[i];
            return m;
        }
        case "max": {
            let m = -Infinity;
            for (let i = 0; i < n; i++) if (scores[i] > m) m = scores[i];
            return m;
        }
        case "mean": {
            let s = 0;
            for (let i = 0; i < n; i++) s += scores[i];
            return s / n;
        }
        case "product": {
            let p = 1;
            for (let i = 0; i < n; i++) p *= scores[i];
            return p;
        }
    }
}
