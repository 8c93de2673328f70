/**
 * From step scores to a first-error prediction, and the threshold that maximises F1.
 *
 * Prediction: the first step whose score is below the threshold (strictly), −1 when none is.
 *
 * Calibration: each sample's prediction is correct on an interval of thresholds. With m_i the
 * minimum of the first i+1 scores, a sample labelled L ≥ 0 is predicted L exactly when
 * m_L < t ≤ m_{L−1} (m_{−1} = +∞), and a sample labelled −1 is predicted −1 when t ≤ min(scores).
 * Both counts are therefore step functions of t that change only at score values, so F1 is
 * evaluated once per interval between consecutive distinct breakpoints (sorted arrays and binary
 * search: O(S log S) for S samples). The returned threshold is the midpoint of the best interval
 * (the lowest breakpoint for the interval below every score, just above the highest score for the
 * interval above every score); among equally good intervals the lowest wins. Calibration needs
 * both erroneous and correct samples (else F1 is undefined: a RangeError).
 */
import {harmonicF1} from "./metrics.ts";

/** Index of the first score below `threshold`, or −1. */
export function firstBelow(scores: ArrayLike<number>, threshold: number): number {
    for (let i = 0; i < scores.length; i++) if (scores[i] < threshold) return i;
    return -1;
}

export interface Calibration {
    threshold: number;
    /** F1 (fraction) of the threshold on the calibration data. */
    f1: number;
    accError: number | null;
    accCorrect: number | null;
}

/** Number of entries of a sorted array that are < t. */
function countBelow(sorted: Float64Array, t: number): number {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (sorted[mid] < t) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/**
 * Evaluate acc_error, acc_correct and F1 for every threshold interval; returns the F1-maximising
 * threshold and, when asked, the whole curve (one point per interval, at its representative threshold).
 */
export function calibrateThreshold(samples: ReadonlyArray<{scores: ArrayLike<number>; label: number}>, options: {curve?: boolean} = {}): Calibration & {curve?: Array<{threshold: number; f1: number | null; accError: number | null; accCorrect: number | null}>} {
    if (samples.length === 0) throw new RangeError("cannot calibrate a threshold on no samples");
    const lows: number[] = [];
    const highs: number[] = [];
    const mins: number[] = [];
    const breaks: number[] = [];
    for (const {scores, label} of samples) {
        let m = Infinity;
        let before = Infinity;
        for (let i = 0; i < scores.length; i++) {
            if (i === label) before = m;
            m = Math.min(m, scores[i]);
            breaks.push(scores[i]);
            if (i === label) {
                lows.push(m);
                highs.push(before);
            }
        }
        if (label === -1) mins.push(m);
        else if (label >= scores.length) {
            // The label is past the last scored step: never predicted.
            lows.push(Infinity);
            highs.push(Infinity);
        }
    }
    const lo = Float64Array.from(lows).sort();
    const hi = Float64Array.from(highs).sort();
    const mn = Float64Array.from(mins).sort();
    const distinct = [...new Set(breaks)].sort((a, b) => a - b);
    const nError = lows.length;
    const nCorrect = mins.length;
    if (nError === 0 || nCorrect === 0) throw new RangeError(`cannot calibrate a threshold on data with no ${nError === 0 ? "erroneous" : "correct"} samples (F1 is undefined)`);
    // Representative thresholds: t = distinct[0] (below every score), midpoints, and just above the max.
    const candidates: number[] = [];
    if (distinct.length === 0) candidates.push(0.5);
    else {
        candidates.push(distinct[0]);
        for (let k = 1; k < distinct.length; k++) candidates.push((distinct[k - 1] + distinct[k]) / 2);
        const top = distinct[distinct.length - 1];
        candidates.push(top + Math.max(1e-9, Math.abs(top) * 1e-9));
    }
    let best: Calibration | null = null;
    const curve: Array<{threshold: number; f1: number | null; accError: number | null; accCorrect: number | null}> = [];
    for (const t of candidates) {
        // Correct samples: predicted −1 when min ≥ t. Erroneous: lo < t ≤ hi.
        const accCorrect = nCorrect ? (nCorrect - countBelow(mn, t)) / nCorrect : null;
        const accError = nError ? (countBelow(lo, t) - countBelow(hi, t)) / nError : null;
        const f1 = harmonicF1(accError, accCorrect);
        if (options.curve) curve.push({threshold: t, f1, accError, accCorrect});
        if (f1 !== null && (best === null || f1 > best.f1)) best = {threshold: t, f1, accError, accCorrect};
    }
    return {...best!, ...(options.curve ? {curve} : {})};
}
