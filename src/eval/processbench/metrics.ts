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

/** Metrics of predictions against labels (same order, same length). */
export function processMetrics(labels: ArrayLike<number>, predictions: ArrayLike<number>): ProcessMetrics {
    if (labels.length !== predictions.length) throw new RangeError(`${labels.length} labels but ${predictions.length} predictions`);
    let nError = 0;
    let nCorrect = 0;
    let hitError = 0;
    let hitCorrect = 0;
    for (let i = 0; i < labels.length; i++) {
        if (labels[i] === -1) {
            nCorrect++;
            if (predictions[i] === -1) hitCorrect++;
        } else {
            nError++;
            if (predictions[i] === labels[i]) hitError++;
        }
    }
    const accError = nError ? hitError / nError : null;
    const accCorrect = nCorrect ? hitCorrect / nCorrect : null;
    return {accError, accCorrect, f1: harmonicF1(accError, accCorrect), n: labels.length, nError, nCorrect};
}

/** Mean of the defined F1 values (null when none is defined). */
export function averageF1(f1s: ReadonlyArray<number | null>): number | null {
    const defined = f1s.filter((f): f is number => f !== null);
    return defined.length ? defined.reduce((a, b) => a + b, 0) / defined.length : null;
}
