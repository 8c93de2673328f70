/**
 * ProcessBench metrics (Qwen, "The Lessons of Developing PRMs", §ProcessBench).
 *
 * For one split: acc_error = share of erroneous samples (label ≠ −1) whose predicted first-error
 * index equals the label; acc_correct = share of correct samples (label = −1) predicted −1;
 * F1 = 2·acc_error·acc_correct / (acc_error + acc_correct) (0 when both are 0).
 *
 * Edge cases: a split with no erroneous samples has acc_error = null (there is nothing to be
 * accurate on), likewise acc_correct = null with no correct samples; F1 is then null, because the
 * harmonic mean needs both. The average F1 is the mean over splits whose F1 is defined, null when
 * none is. Values are fractions here and percentages in reports.
 */
import {bootstrapInterval, type BootstrapOptions, type Interval, wilsonInterval} from "../../stats/intervals.ts";

export interface ProcessMetrics {
    /** Accuracy on erroneous samples (null: none in the split). */
    accError: number | null;
    /** Accuracy on correct samples (null: none in the split). */
    accCorrect: number | null;
    /** Harmonic mean of the two (null when either is null). */
    f1: number | null;
    n: number;
    nError: number;
    nCorrect: number;
}

/** Harmonic mean of two accuracies (0 when both are 0; null when either is null). */
export function harmonicF1(a: number | null, b: number | null): number | null {
    if (a === null || b === null) return null;
    return a + b === 0 ? 0 : (2 * a * b) / (a + b);
}

/**
 * The counts behind {@link processMetrics} over the items `idx` of a split (default: all of them,
 * in order; a bootstrap resample repeats some): erroneous and correct items, and the hits among each.
 */
function processCounts(labels: ArrayLike<number>, predictions: ArrayLike<number>, idx?: ArrayLike<number>): {nError: number; nCorrect: number; accError: number | null; accCorrect: number | null} {
    let nError = 0;
    let nCorrect = 0;
    let hitError = 0;
    let hitCorrect = 0;
    const n = idx ? idx.length : labels.length;
    for (let k = 0; k < n; k++) {
        const i = idx ? idx[k] : k;
        if (labels[i] === -1) {
            nCorrect++;
            if (predictions[i] === -1) hitCorrect++;
        } else {
            nError++;
            if (predictions[i] === labels[i]) hitError++;
        }
    }
    return {nError, nCorrect, accError: nError ? hitError / nError : null, accCorrect: nCorrect ? hitCorrect / nCorrect : null};
}

/** Metrics of predictions against labels (same order, same length). */
export function processMetrics(labels: ArrayLike<number>, predictions: ArrayLike<number>): ProcessMetrics {
    if (labels.length !== predictions.length) throw new RangeError(`${labels.length} labels but ${predictions.length} predictions`);
    const {accError, accCorrect, nError, nCorrect} = processCounts(labels, predictions);
    return {accError, accCorrect, f1: harmonicF1(accError, accCorrect), n: labels.length, nError, nCorrect};
}

/** Mean of the defined F1 values (null when none is defined). */
export function averageF1(f1s: ReadonlyArray<number | null>): number | null {
    const defined = f1s.filter((f): f is number => f !== null);
    return defined.length ? defined.reduce((a, b) => a + b, 0) / defined.length : null;
}

/** 95% intervals of one split's metrics (fractions): Wilson for the two accuracies, a percentile bootstrap over the split's samples for F1 (null where the metric is). */
export interface ProcessIntervals {
    accError: Interval | null;
    accCorrect: Interval | null;
    f1: Interval | null;
}

/** F1 of the items `idx` of a split (NaN when undefined in that resample). */
function f1Of(labels: ArrayLike<number>, predictions: ArrayLike<number>, idx: ArrayLike<number>): number {
    const c = processCounts(labels, predictions, idx);
    return harmonicF1(c.accError, c.accCorrect) ?? NaN;
}

/** Intervals of {@link processMetrics}' figures (src/stats: Wilson; bootstrap with 2,000 resamples, seed 0). */
export function processIntervals(labels: ArrayLike<number>, predictions: ArrayLike<number>, options: BootstrapOptions = {}): ProcessIntervals {
    const m = processMetrics(labels, predictions);
    const level = options.level ?? 0.95;
    return {
        accError: m.accError === null ? null : wilsonInterval(m.accError * m.nError, m.nError, level),
        accCorrect: m.accCorrect === null ? null : wilsonInterval(m.accCorrect * m.nCorrect, m.nCorrect, level),
        f1: m.f1 === null ? null : bootstrapInterval(m.n, (idx) => f1Of(labels, predictions, idx), options),
    };
}

/**
 * Interval of the average F1 over splits: a percentile bootstrap resampling the samples of each
 * split within that split (stratified), the average taken over the splits whose F1 is defined on
 * the full data. Null when no split's F1 is.
 */
export function averageF1Interval(splits: ReadonlyArray<{labels: ArrayLike<number>; predictions: ArrayLike<number>}>, options: BootstrapOptions = {}): Interval | null {
    const defined = splits.filter((s) => processMetrics(s.labels, s.predictions).f1 !== null);
    if (defined.length === 0) return null;
    // Items: the samples of the defined splits end to end; stratum = split.
    const labels = defined.flatMap((s) => Array.from(s.labels));
    const predictions = defined.flatMap((s) => Array.from(s.predictions));
    const strata = defined.flatMap((s, j) => Array.from(s.labels, () => j));
    const starts = defined.map((_, j) => strata.indexOf(j));
    return bootstrapInterval(
        labels.length,
        (idx) => {
            let sum = 0;
            for (let j = 0; j < defined.length; j++) {
                const f = f1Of(labels, predictions, idx.subarray(starts[j], starts[j] + defined[j].labels.length));
                if (f !== f) return NaN;
                sum += f;
            }
            return sum / defined.length;
        },
        {...options, strata},
    );
}
