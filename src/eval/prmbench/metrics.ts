/**
 * PRMBench metrics, as the reference evaluator computes them (ssmisya/PRMBench,
 * `mr_eval/tasks/prmtest_classified_subset400/task.py`: `eval_on_hallucination_step` per item,
 * `evaluate_function` over items) and PRMScore as its tables compute it
 * (`mr_visualize/eval_res_view/draw_tabs/form_latex_strs.ipynb`: `get_prmscore_from_current_res_dict`).
 *
 * Per item ({@link evaluateItem}): a step is predicted valid or not (a PRM: score > threshold).
 * Only the steps the model labelled count (error steps past them count nowhere). "Positive" is
 * a valid step: a right step predicted valid is a TP, predicted invalid an FN; a wrong step
 * predicted invalid is a TN, predicted valid an FP. Right-step and wrong-step hits give the
 * correct-step and wrong-step accuracies; first-error accuracy is 1 when the first wrong step
 * (lowest error step, if labelled) is predicted invalid, else 0 (no entry without one); the
 * response accuracy is the share of steps predicted valid.
 *
 * Over items ({@link aggregatePrmBench}):
 * - step accuracies pool the steps of all items (a mean over steps, not over items); first-error
 *   accuracy is a mean over items that have one;
 * - precision, recall, F1 pool TP/FP/FN over items; negative precision = TN/(TN+FN), negative
 *   recall = TN/(TN+FP), negative F1 their harmonic mean;
 * - similarity: for an item `<c>_<idx>`, |its response accuracy − that of `correct_<idx>`|, when
 *   that item exists, has a response accuracy that is not 0 (the reference tests it for
 *   truthiness) and this item's is defined; averaged over items;
 * - the totals cover every item except the `correct_` ones (those count only in the `correct`
 *   category and as the other side of similarity);
 * - an item with no prediction (a judge without a verdict: the reference's `validity: false`) is
 *   left out of every metric; validity rate = valid non-`correct_` items / all items (so at most
 *   394/442 on the subset, as the reference's subset task computes it).
 * - PRMScore = max(0, (F1 + negative F1) / 2); for `multi_solutions` (no wrong steps) it is F1
 *   alone, clamped the same way; the `correct` category has none (the tables leave it out).
 *   Group scores (the paper's Simplicity, Soundness, Sensitivity) are means of their categories'.
 *
 * Undefined values: where the reference divides by zero it writes −1 and keeps computing with it
 * (e.g. F1 = 2·(−1)·0/(−1) = 0 when nothing is predicted positive and there are positives; F1 =
 * −1 when precision = recall = 0). Those exact numbers are kept; a final value of −1 is returned as
 * null. PRMScore uses the raw values before that (so a −1 pulls it down, then it is clamped).
 */
import {bootstrapInterval, type BootstrapOptions, type Interval, wilsonInterval} from "../../stats/intervals.ts";
import {CATEGORY_GROUPS, CORRECT, type PrmBenchItem} from "./load.ts";

/** The category whose PRMScore is F1 alone (it has no wrong steps). */
export const F1_ONLY_CATEGORY = "multi_solutions";

/** The outcome of one item (`eval_on_hallucination_step`). */
export interface ItemOutcome {
    tp: number;
    fp: number;
    tn: number;
    fn: number;
    /** First-error hit (1/0), null when the first error step is not among the labelled steps (or there is none). */
    firstError: 0 | 1 | null;
    /** Share of labelled steps predicted valid; null with no labels (the reference's −1). */
    responseAcc: number | null;
}

/**
 * Score one item: `errorSteps` 1-based (as in the data), `valid[i]` whether step i is predicted
 * valid. Steps past `valid.length` are not looked at.
 */
export function evaluateItem(errorSteps: readonly number[], valid: readonly boolean[]): ItemOutcome {
    const wrong = new Set(errorSteps.map((s) => s - 1));
    const first = errorSteps.length ? Math.min(...errorSteps) - 1 : -1;
    let tp = 0;
    let fp = 0;
    let tn = 0;
    let fn = 0;
    let firstError: 0 | 1 | null = null;
    let nValid = 0;
    for (let i = 0; i < valid.length; i++) {
        if (valid[i]) nValid++;
        if (i === first) firstError = valid[i] ? 0 : 1;
        if (wrong.has(i)) {
            if (valid[i]) fp++;
            else tn++;
        } else if (valid[i]) tp++;
        else fn++;
    }
    return {tp, fp, tn, fn, firstError, responseAcc: valid.length ? nValid / valid.length : null};
}

/** Metrics of one category or of the totals. Fractions; null where the reference reports −1. */
export interface PrmBenchMetrics {
    /** Items counted (with a prediction). */
    items: number;
    /** Labelled steps counted. */
    steps: number;
    tp: number;
    fp: number;
    tn: number;
    fn: number;
    correctStepAcc: number | null;
    wrongStepAcc: number | null;
    totalStepAcc: number | null;
    firstErrorAcc: number | null;
    similarity: number | null;
    precision: number | null;
    recall: number | null;
    f1: number | null;
    negativePrecision: number | null;
    negativeRecall: number | null;
    negativeF1: number | null;
    /** PRMScore (see the module docs); null for the `correct` category. */
    prmscore: number | null;
    /** 95% percentile bootstrap over this category's items (2000 resamples, seed 0); null with no PRMScore. */
    prmscoreInterval: Interval | null;
    /** 95% Wilson interval of first-error accuracy over the items that have a first error; null with none. */
    firstErrorInterval: Interval | null;
}

export interface PrmBenchResult {
    /** Every item except the `correct_` ones (the reference's `total_hallucination_results`). */
    total: PrmBenchMetrics;
    /** Per classification (the reference's `hallucination_type_results`): the paper's categories in its order, then any others, then `correct`. */
    categories: Array<PrmBenchMetrics & {name: string}>;
    /** Mean PRMScore of each group's categories (null when none of them is in the data). */
    groups: Array<{group: string; categories: string[]; prmscore: number | null}>;
    /** Valid non-`correct_` items / all items (the reference's `validitiy_rate`). */
    validityRate: number;
    /** Items in the data / without a prediction. */
    nItems: number;
    nInvalid: number;
    /** Per item, in item order: its outcome, or null when it has no prediction. */
    outcomes: Array<ItemOutcome | null>;
}

/** x / y, or the reference's −1 when y = 0. */
const ratio = (x: number, y: number): number => (y !== 0 ? x / y : -1);
/** The reference's F1 of two ratios that may be −1: 2pr/(p+r), −1 when p + r = 0. */
const f1Of = (p: number, r: number): number => (p + r !== 0 ? (2 * p * r) / (p + r) : -1);
/** A final value: −1 → null, −0 → 0. */
const out = (x: number): number | null => (x === -1 ? null : x === 0 ? 0 : x);

interface Counts {
    tp: number;
    fp: number;
    tn: number;
    fn: number;
}

/** Raw (−1-carrying) F1 and negative F1 of pooled counts. */
function rawF1s(c: Counts): {precision: number; recall: number; f1: number; negPrecision: number; negRecall: number; negF1: number} {
    const precision = ratio(c.tp, c.tp + c.fp);
    const recall = ratio(c.tp, c.tp + c.fn);
    const negPrecision = ratio(c.tn, c.tn + c.fn);
    const negRecall = ratio(c.tn, c.tn + c.fp);
    return {precision, recall, f1: f1Of(precision, recall), negPrecision, negRecall, negF1: f1Of(negPrecision, negRecall)};
}

/** PRMScore of pooled counts: max(0, (F1 + negative F1)/2), or max(0, F1) with `f1Only`. */
export function prmScoreOf(c: Counts, f1Only = false): number {
    const r = rawF1s(c);
    const s = f1Only ? r.f1 : r.f1 * 0.5 + r.negF1 * 0.5;
    return s > 0 ? s : 0;
}

const mean = (sum: number, n: number): number | null => (n > 0 ? sum / n : null);

function metricsOf(items: ReadonlyArray<{o: ItemOutcome; similarity: number | null}>, prmKind: "both" | "f1" | "none", bootstrap: BootstrapOptions): PrmBenchMetrics {
    const c: Counts = {tp: 0, fp: 0, tn: 0, fn: 0};
    let fe = 0;
    let feN = 0;
    let simSum = 0;
    let simN = 0;
    for (const {o, similarity} of items) {
        c.tp += o.tp;
        c.fp += o.fp;
        c.tn += o.tn;
        c.fn += o.fn;
        if (o.firstError !== null) {
            fe += o.firstError;
            feN++;
        }
        if (similarity !== null) {
            simSum += similarity;
            simN++;
        }
    }
    const r = rawF1s(c);
    const steps = c.tp + c.fp + c.tn + c.fn;
    let prmscore: number | null = null;
    let prmscoreInterval: Interval | null = null;
    if (prmKind !== "none") {
        const f1Only = prmKind === "f1";
        prmscore = prmScoreOf(c, f1Only);
        if (items.length > 0)
            prmscoreInterval = bootstrapInterval(
                items.length,
                (idx) => {
                    const s: Counts = {tp: 0, fp: 0, tn: 0, fn: 0};
                    for (let k = 0; k < idx.length; k++) {
                        const o = items[idx[k]].o;
                        s.tp += o.tp;
                        s.fp += o.fp;
                        s.tn += o.tn;
                        s.fn += o.fn;
                    }
                    return prmScoreOf(s, f1Only);
                },
                bootstrap,
            );
    }
    return {
        items: items.length,
        steps,
        ...c,
        correctStepAcc: mean(c.tp, c.tp + c.fn),
        wrongStepAcc: mean(c.tn, c.tn + c.fp),
        totalStepAcc: mean(c.tp + c.tn, steps),
        firstErrorAcc: mean(fe, feN),
        similarity: mean(simSum, simN),
        precision: out(r.precision),
        recall: out(r.recall),
        f1: out(r.f1),
        negativePrecision: out(r.negPrecision),
        negativeRecall: out(r.negRecall),
        negativeF1: out(r.negF1),
        prmscore,
        prmscoreInterval,
        firstErrorInterval: feN > 0 ? wilsonInterval(fe, feN, bootstrap.level ?? 0.95) : null,
    };
}

/** Order of categories in reports: the paper's, then others by name, then `correct`. */
function categoryOrder(names: Iterable<string>): string[] {
    const paper = CATEGORY_GROUPS.flatMap((g) => g.categories);
    const set = new Set(names);
    const known = paper.filter((c) => set.has(c));
    const others = [...set].filter((c) => !paper.includes(c) && c !== CORRECT).sort();
    return [...known, ...others, ...(set.has(CORRECT) ? [CORRECT] : [])];
}

/**
 * Aggregate per-item predictions: `valid[i]` is item i's step validity predictions, or null when
 * it has none (left out, as the reference's invalid responses). Items and predictions in the
 * same order. See the module docs for every rule.
 */
export function aggregatePrmBench(items: readonly PrmBenchItem[], valid: ReadonlyArray<readonly boolean[] | null>, options: {bootstrap?: BootstrapOptions} = {}): PrmBenchResult {
    if (items.length !== valid.length) throw new RangeError(`${items.length} items but ${valid.length} predictions`);
    const bootstrap = options.bootstrap ?? {};
    const outcomes = items.map((it, i) => (valid[i] ? evaluateItem(it.errorSteps, valid[i]!) : null));
    const correctAcc = new Map<string, number | null>();
    items.forEach((it, i) => {
        if (it.classification === CORRECT && outcomes[i]) correctAcc.set(it.id, outcomes[i]!.responseAcc);
    });
    const byCategory = new Map<string, Array<{o: ItemOutcome; similarity: number | null}>>();
    const total: Array<{o: ItemOutcome; similarity: number | null}> = [];
    for (const it of items) if (!byCategory.has(it.classification)) byCategory.set(it.classification, []);
    let validOther = 0;
    items.forEach((it, i) => {
        const o = outcomes[i];
        if (!o) return;
        let similarity: number | null = null;
        if (it.classification !== CORRECT) {
            validOther++;
            // The reference: correct_ + the id without its "<classification>_" prefix.
            const ref = correctAcc.get(`${CORRECT}_${it.id.slice(it.classification.length + 1)}`);
            // Truthiness in the reference: a missing or 0 accuracy gives no similarity (−1 would count).
            const refAcc = ref === undefined ? undefined : ref === null ? -1 : ref;
            if (refAcc !== undefined && refAcc !== 0 && o.responseAcc !== null) similarity = Math.abs(o.responseAcc - refAcc);
            total.push({o, similarity});
        }
        byCategory.get(it.classification)!.push({o, similarity});
    });
    const categories = categoryOrder(byCategory.keys()).map((name) => ({
        name,
        ...metricsOf(byCategory.get(name)!, name === CORRECT ? "none" : name === F1_ONLY_CATEGORY ? "f1" : "both", bootstrap),
    }));
    const groups = CATEGORY_GROUPS.map(({group, categories: names}) => {
        const present = categories.filter((c) => names.includes(c.name));
        return {group, categories: present.map((c) => c.name), prmscore: present.length ? present.reduce((a, c) => a + c.prmscore!, 0) / present.length : null};
    });
    return {
        total: metricsOf(total, "both", bootstrap),
        categories,
        groups,
        validityRate: items.length ? validOther / items.length : 0,
        nItems: items.length,
        nInvalid: outcomes.filter((o) => o === null).length,
        outcomes,
    };
}

/** Step validity from scores: score > threshold (strictly, as the reference's PRM wrappers). */
export function validFromScores(scores: readonly number[], threshold: number): boolean[] {
    return scores.map((s) => s > threshold);
}

/**
 * Step validity from a judge's first wrong step: steps before it valid, it and later ones
 * invalid; −1 (no wrong step): every step valid.
 */
export function validFromFirstError(firstError: number, steps: number): boolean[] {
    return Array.from({length: steps}, (_, i) => firstError < 0 || i < firstError);
}
