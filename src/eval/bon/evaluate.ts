/**
 * Best-of-N evaluation over many random candidate subsets per question.
 *
 * For every subset size N and every question, `subsets` random N-subsets of the question's
 * candidates are drawn (seeded by the seed, the question id and N, so a question's numbers do not
 * depend on the other questions, on file order or on which methods are evaluated; ties are broken
 * by a separate seeded stream per method). Each method picks one answer per subset; a
 * question's score for a method is the fraction of its subsets where the pick is correct, and the
 * reported accuracy is the mean of these per-question scores.
 *
 * Confidence intervals: 95% Wilson score intervals (src/stats) on the accuracy with n = Q
 * questions. Averaging many subsets removes the subset-drawing noise, so the interval measures how
 * much the accuracy would move on another draw of questions from the same distribution; per-question
 * fractions in [0, 1] vary at most as much as 0/1 outcomes, so for N > 1 it is conservative. Unlike
 * the normal approximation used before, it is not [0, 0] when every question is wrong.
 *
 * Methods (ids in results):
 * - `first`: the first candidate of the subset (a random single sample; flat in N);
 * - `pass`: pass@N, any candidate of the subset is correct;
 * - `maj`: maj@N, the largest answer class ({@link majorityVote}); no answer → wrong;
 * - `bon-<agg>`: PRM Best-of-N, the candidate with the highest aggregated step score ({@link selectBestOfN});
 * - `vote-<agg>`: PRM-weighted majority vote, the class with the largest sum of aggregated scores
 *   ({@link weightedMajorityVote}).
 * The selectors are the decoders' (src/select/); ties are broken at random (option `ties`, default
 * "random"), or, with `ties: "first"`, as the decoders do: the lowest candidate index (Best-of-N)
 * and the answer seen first in candidate order (votes).
 *
 * Unfinished candidates (no final answer, or cut off without one: src/grade/finished.ts) are never
 * picked by `bon`, and do not vote in `maj`/`vote`, unless `allowUnfinished` is set; a subset
 * without a finished candidate then counts as wrong (unfinished rule "never": PRM800K's evaluation
 * never picks a solution without an answer). `first` and `pass` are unchanged.
 *
 * Memory is O(questions × methods × sizes) for the per-question means, independent of `subsets`.
 */
import {AGGREGATIONS, type Aggregation, aggregate} from "../../select/aggregate.ts";
import type {AnswerClasses} from "../../select/classes.ts";
import {type BestOfNRules, type TieRule, selectBestOfN} from "../../select/best-of-n.ts";
import {VoteScratch, type VoteRules, majorityVote, weightedMajorityVote} from "../../select/vote.ts";
import {type Interval, pairedBootstrap, wilsonInterval} from "../../stats/intervals.ts";
import {FastRng} from "../../util/rng.ts";
import {SubsetSampler, defaultSizes} from "./subsets.ts";

/** One question ready for evaluation: integer classes and aggregated scores, no text. */
export interface BonQuestion {
    id: string;
    /** Number of candidates. */
    n: number;
    /** Correctness per candidate (0/1). */
    correct: Uint8Array;
    /** Answer classes (see {@link AnswerClasses}). */
    classes: AnswerClasses;
    /** Aggregated PRM score per candidate, for each aggregation computed. */
    scores: Partial<Record<Aggregation, Float64Array>>;
    /** 1 when the candidate is finished (has a final answer), per candidate; absent: all finished. */
    finished?: Uint8Array;
}

/**
 * Build a {@link BonQuestion} from per-candidate verdicts, classes and step scores.
 * Scores are aggregated once here, under every rule in `aggregations` (default: all).
 */
export function prepareQuestion(input: {
    id: string;
    correct: ArrayLike<boolean | number>;
    classes: AnswerClasses;
    stepScores: ReadonlyArray<ArrayLike<number>> | null;
    aggregations?: readonly Aggregation[];
    /** Whether each candidate is finished (src/grade/finished.ts isFinished); default: all are. */
    finished?: ArrayLike<boolean | number>;
}): BonQuestion {
    const n = input.correct.length;
    if (input.classes.classOf.length !== n) throw new RangeError(`question ${input.id}: ${n} verdicts but ${input.classes.classOf.length} classes`);
    const correct = new Uint8Array(n);
    for (let i = 0; i < n; i++) correct[i] = input.correct[i] ? 1 : 0;
    const scores: Partial<Record<Aggregation, Float64Array>> = {};
    if (input.stepScores) {
        if (input.stepScores.length !== n) throw new RangeError(`question ${input.id}: ${n} verdicts but ${input.stepScores.length} score lists`);
        for (const agg of input.aggregations ?? AGGREGATIONS) {
            const a = new Float64Array(n);
            for (let i = 0; i < n; i++) a[i] = aggregate(input.stepScores[i], agg);
            scores[agg] = a;
        }
    }
    let finished: Uint8Array | undefined;
    if (input.finished) {
        if (input.finished.length !== n) throw new RangeError(`question ${input.id}: ${n} verdicts but ${input.finished.length} finished flags`);
        finished = new Uint8Array(n);
        for (let i = 0; i < n; i++) finished[i] = input.finished[i] ? 1 : 0;
    }
    return {id: input.id, n, correct, classes: input.classes, scores, ...(finished ? {finished} : {})};
}

/** A method of choosing one answer from N candidates. */
export type BonMethod = {kind: "first"} | {kind: "pass"} | {kind: "maj"} | {kind: "bon"; agg: Aggregation} | {kind: "vote"; agg: Aggregation};

/** The stable id of a method (`first`, `pass`, `maj`, `bon-min`, `vote-product`, …). */
export function methodId(m: BonMethod): string {
    return m.kind === "bon" || m.kind === "vote" ? `${m.kind}-${m.agg}` : m.kind;
}

/** A human-readable name of a method, for tables and plot legends. */
export function methodLabel(m: BonMethod): string {
    switch (m.kind) {
        case "first":
            return "first sample";
        case "pass":
            return "pass@N";
        case "maj":
            return "maj@N";
        case "bon":
            return `PRM BoN (${m.agg})`;
        case "vote":
            return `PRM-weighted vote (${m.agg})`;
    }
}

export interface BonOptions {
    /** Subset sizes; default 1, 2, 4, … up to the smallest candidate count (and that count). */
    sizes?: number[];
    /** Random subsets per question and size. Default 200. */
    subsets?: number;
    /** Base seed. Default 0. */
    seed?: number;
    /** Aggregations for Best-of-N. Default: all that the questions carry. */
    bonAggregations?: readonly Aggregation[];
    /** Aggregations for the PRM-weighted vote. Default ["product"]. */
    voteAggregations?: readonly Aggregation[];
    /**
     * Let Best-of-N pick, and votes count, unfinished candidates (no final answer). Default false:
     * they are never picked (PRM800K's rule).
     */
    allowUnfinished?: boolean;
    /**
     * Tie rule of `maj`, `bon` and `vote`: "random" (default; seeded per method) or "first", the
     * decoders' rule (lowest candidate index; the answer seen first).
     */
    ties?: TieRule;
    /** Called after each question. */
    onProgress?: (done: number, total: number) => void;
}

/** Accuracy of one method at one size. */
export interface BonPoint {
    n: number;
    /** Mean over questions of the per-question fraction correct (0..1). */
    accuracy: number;
    /** 95% Wilson interval over the questions (see the module docs); always set now (the type stays nullable for existing readers). */
    ci: [number, number] | null;
    /** The same as an {@link Interval} (n = questions, method "wilson"). */
    interval: Interval;
    /**
     * Per-question fraction correct (0..1), in question order: the items of paired comparisons
     * between methods, or between evaluations of the same questions (e.g. eval analyze's schemes).
     */
    perQuestion: Float64Array;
}

export interface BonMethodResult {
    id: string;
    label: string;
    method: BonMethod;
    points: BonPoint[];
}

export interface BonResult {
    questions: number;
    /** Smallest and largest candidate count per question. */
    candidates: {min: number; max: number};
    sizes: number[];
    subsets: number;
    seed: number;
    /** Whether unfinished candidates could be picked (option `allowUnfinished`). */
    allowUnfinished: boolean;
    /** Tie rule used (option `ties`). */
    ties: TieRule;
    methods: BonMethodResult[];
    /**
     * Paired comparisons on the same questions: every PRM method (`bon-*`, `vote-*`) against maj@N
     * at every size, the difference of accuracies B − A (fractions) with a 95% paired percentile
     * bootstrap interval over the questions (per-question fractions kept in pairs; 2,000
     * resamples, seed 0). Empty without PRM methods.
     */
    paired: BonPaired[];
}

/** One paired comparison of {@link BonResult}: `b` − `a` at subset size `size`. */
export interface BonPaired {
    a: string;
    b: string;
    size: number;
    diff: Interval;
}

/** The methods evaluated for the given options and questions. */
export function bonMethods(questions: readonly BonQuestion[], options: BonOptions = {}): BonMethod[] {
    const carried = AGGREGATIONS.filter((a) => questions.length > 0 && questions.every((q) => q.scores[a]));
    const pick = (asked: readonly Aggregation[] | undefined, fallback: readonly Aggregation[], what: string): Aggregation[] => {
        const list = [...(asked ?? fallback)];
        for (const a of list) if (!carried.includes(a)) throw new RangeError(`${what} aggregation "${a}" is not available: the questions carry scores for ${carried.length ? carried.join(", ") : "no aggregation (no step scores)"}`);
        return list;
    };
    const bon = pick(options.bonAggregations, carried, "Best-of-N");
    const vote = pick(options.voteAggregations, carried.includes("product") ? ["product"] : [], "weighted-vote");
    return [{kind: "first"}, {kind: "pass"}, {kind: "maj"}, ...bon.map((agg) => ({kind: "bon", agg}) as const), ...vote.map((agg) => ({kind: "vote", agg}) as const)];
}

/** Run the Best-of-N evaluation (see the module docs). */
export function evaluateBon(questions: readonly BonQuestion[], options: BonOptions = {}): BonResult {
    if (questions.length === 0) throw new RangeError("Best-of-N: no questions");
    const subsets = options.subsets ?? 200;
    if (!Number.isInteger(subsets) || subsets < 1) throw new RangeError(`subsets must be a positive integer, got ${subsets}`);
    const seed = options.seed ?? 0;
    const tieRule = options.ties ?? "random";
    if (tieRule !== "random" && tieRule !== "first") throw new RangeError(`ties must be "random" or "first", got "${tieRule}"`);
    let minN = Infinity;
    let maxN = 0;
    for (const q of questions) {
        minN = Math.min(minN, q.n);
        maxN = Math.max(maxN, q.n);
    }
    if (minN < 1) throw new RangeError(`question ${questions.find((q) => q.n < 1)!.id} has no candidates`);
    const sizes = options.sizes ?? defaultSizes(minN);
    for (const s of sizes)
        if (!Number.isInteger(s) || s < 1 || s > minN)
            throw new RangeError(`subset size ${s} is not in 1..${minN} (the smallest number of candidates of a question${minN < maxN ? `, e.g. ${questions.find((q) => q.n === minN)!.id}` : ""})`);
    const methods = bonMethods(questions, options);
    const M = methods.length;
    const Q = questions.length;
    // means[s][m][q]: per-question fraction correct.
    const means = sizes.map(() => methods.map(() => new Float64Array(Q)));
    const hits = new Float64Array(M);
    for (let qi = 0; qi < Q; qi++) {
        const q = questions[qi];
        const {classCorrect, count} = q.classes;
        const mask = !options.allowUnfinished && q.finished && q.finished.includes(0) ? q.finished : null;
        // unfinished candidates do not vote either
        const classOf = mask ? q.classes.classOf.map((c, i) => (mask[i] ? c : -1)) : q.classes.classOf;
        const scratch = new VoteScratch(count);
        const methodScores = methods.map((m) => (m.kind === "bon" || m.kind === "vote" ? q.scores[m.agg]! : null));
        for (let si = 0; si < sizes.length; si++) {
            const size = sizes[si];
            // Separate streams: the subsets drawn, and each method's tie-breaks, do not depend on
            // which other methods are evaluated.
            const sampler = new SubsetSampler(q.n, new FastRng(seed, q.id, size, "subsets"));
            const ties = methods.map((m) => new FastRng(seed, q.id, size, methodId(m)));
            const bonRules: BestOfNRules[] = ties.map((rng) => ({ties: tieRule, rng, finished: mask, unfinished: "never"}));
            const voteRules: VoteRules[] = ties.map((rng) => ({ties: tieRule === "first" ? "first-seen" : "random", rng, scratch}));
            hits.fill(0);
            for (let r = 0; r < subsets; r++) {
                const sub = sampler.draw(size);
                for (let mi = 0; mi < M; mi++) {
                    const m = methods[mi];
                    let ok = 0;
                    switch (m.kind) {
                        case "first":
                            ok = q.correct[sub[0]];
                            break;
                        case "pass":
                            for (let k = 0; k < size; k++)
                                if (q.correct[sub[k]]) {
                                    ok = 1;
                                    break;
                                }
                            break;
                        case "maj": {
                            const c = majorityVote(classOf, voteRules[mi], sub, size);
                            ok = c >= 0 ? classCorrect[c] : 0;
                            break;
                        }
                        case "bon": {
                            const pick = selectBestOfN(methodScores[mi]!, bonRules[mi], sub, size);
                            ok = pick >= 0 ? q.correct[pick] : 0;
                            break;
                        }
                        case "vote": {
                            const c = weightedMajorityVote(classOf, methodScores[mi]!, voteRules[mi], sub, size);
                            ok = c >= 0 ? classCorrect[c] : 0;
                            break;
                        }
                    }
                    hits[mi] += ok;
                }
            }
            for (let mi = 0; mi < M; mi++) means[si][mi][qi] = hits[mi] / subsets;
        }
        options.onProgress?.(qi + 1, Q);
    }
    return {
        questions: Q,
        candidates: {min: minN, max: maxN},
        sizes,
        subsets,
        seed,
        allowUnfinished: options.allowUnfinished ?? false,
        ties: tieRule,
        methods: methods.map((method, mi) => ({
            id: methodId(method),
            label: methodLabel(method),
            method,
            points: sizes.map((n, si) => accuracyPoint(n, means[si][mi])),
        })),
        paired: pairedAgainstMaj(methods, sizes, means),
    };
}

/** Every PRM method against maj@N at every size, paired over questions. */
function pairedAgainstMaj(methods: readonly BonMethod[], sizes: readonly number[], means: Float64Array[][]): BonPaired[] {
    const maj = methods.findIndex((m) => m.kind === "maj");
    if (maj < 0) return [];
    const out: BonPaired[] = [];
    methods.forEach((m, mi) => {
        if (m.kind !== "bon" && m.kind !== "vote") return;
        sizes.forEach((size, si) => out.push({a: "maj", b: methodId(m), size, diff: pairedBootstrap(means[si][maj], means[si][mi])}));
    });
    return out;
}

/** Accuracy at one size: the mean of per-question fractions, with its 95% Wilson interval over the questions. */
function accuracyPoint(n: number, values: Float64Array): BonPoint {
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += values[i];
    // the clamp guards float sums of fractions that overshoot Q by an ulp
    const w = wilsonInterval(Math.min(sum, values.length), values.length);
    return {n, accuracy: w.value, ci: [w.low, w.high], interval: w, perQuestion: values};
}
