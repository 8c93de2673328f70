/**
 * (c) Best-of-N by step-score aggregation, side by side (min, max, mean, product, last), with the
 * first-sample, maj@N and pass@N references. A thin layer over {@link evaluateBon}: the full curve
 * (every N) is kept for the plot, and the table is read at the largest N.
 *
 * The Qwen paper: product and min suit PRMs trained on judge or human labels, last suits PRMs
 * trained on Monte-Carlo value labels; a PRM whose ranking hardly depends on the aggregation (or
 * that wins only with `last`) behaves like an outcome model.
 */
import {AGGREGATIONS, type Aggregation} from "../../select/aggregate.ts";
import {type Interval, pairedBootstrap} from "../../stats/intervals.ts";
import {type BonQuestion, type BonResult, evaluateBon} from "../bon/evaluate.ts";

export interface AggregationOptions {
    /** Aggregations compared (default: all five). */
    aggregations?: readonly Aggregation[];
    /** Subset sizes (default 1, 2, 4, … up to the smallest candidate count). */
    sizes?: number[];
    /** Random subsets per question and size (default 200). */
    subsets?: number;
    seed?: number;
}

/** One row of the table at the largest N. Accuracies are fractions. */
export interface AggregationRow {
    /** A method id of {@link evaluateBon} (`bon-min`, `maj`, …). */
    id: string;
    label: string;
    accuracy: number;
    /** The accuracy's 95% Wilson interval over the questions (n = questions; see evaluateBon). */
    interval: Interval;
    /** Per-question fraction correct, in question order (the items of {@link PairedAccuracy}). */
    perQuestion: Float64Array;
}

/**
 * Two methods compared on the same questions: `diff` = accuracy of `b` − accuracy of `a`
 * (fractions), with a 95% paired percentile bootstrap interval over the questions (per-question
 * fractions kept in pairs; 2,000 resamples, seed 0).
 */
export interface PairedAccuracy {
    a: string;
    b: string;
    /** What is compared, for the sentence: "PRM BoN (min) − PRM BoN (last)". */
    what: string;
    diff: Interval;
}

/** Compare `b` with `a` on the same questions (both per-question fraction arrays in the same question order). Pure. */
export function pairedAccuracy(a: {id: string; perQuestion: ArrayLike<number>}, b: {id: string; perQuestion: ArrayLike<number>}, what: string): PairedAccuracy {
    return {a: a.id, b: b.id, what, diff: pairedBootstrap(a.perQuestion, b.perQuestion)};
}

export interface AggregationComparison {
    /** The largest N, where the table is read. */
    n: number;
    questions: number;
    /** PRM Best-of-N per aggregation, in the order asked. */
    rows: AggregationRow[];
    /** first sample, pass@N and maj@N at the same N. */
    baselines: AggregationRow[];
    /**
     * Paired comparisons at N on the same questions: every aggregation against `last` (the Qwen
     * paper's outcome-model reading; against the first aggregation asked when `last` is not
     * compared), then every aggregation against maj@N.
     */
    paired: PairedAccuracy[];
    /** The full evaluation (every N), for the plot. */
    bon: BonResult;
}

/** Compare Best-of-N aggregations on prepared questions (which must carry every aggregation asked). Pure. */
export function compareAggregations(questions: readonly BonQuestion[], options: AggregationOptions = {}): AggregationComparison {
    const aggregations = options.aggregations ?? AGGREGATIONS;
    const bon = evaluateBon(questions, {sizes: options.sizes, subsets: options.subsets, seed: options.seed, bonAggregations: aggregations, voteAggregations: []});
    const last = bon.sizes.length - 1;
    let at = 0;
    for (let i = 1; i <= last; i++) if (bon.sizes[i] > bon.sizes[at]) at = i;
    const row = (id: string): AggregationRow => {
        const m = bon.methods.find((x) => x.id === id)!;
        const p = m.points[at];
        return {id, label: m.label, accuracy: p.accuracy, interval: p.interval, perQuestion: p.perQuestion};
    };
    const rows = aggregations.map((a) => row(`bon-${a}`));
    const baselines = ["first", "pass", "maj"].map(row);
    const ref = rows.find((r) => r.id === "bon-last") ?? rows[0];
    const maj = baselines[2];
    const paired = [
        ...rows.filter((r) => r !== ref).map((r) => pairedAccuracy(ref, r, `${r.label} − ${ref.label}`)),
        ...rows.map((r) => pairedAccuracy(maj, r, `${r.label} − ${maj.label}`)),
    ];
    return {n: bon.sizes[at], questions: bon.questions, rows, baselines, paired, bon};
}
