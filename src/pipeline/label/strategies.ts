/**
 * Which steps of a sample get rollouts:
 * - `linear`: every step in order (optionally stopping after the first negative step, the Qwen
 *   recipe: later steps are dropped from PRM training anyway);
 * - `binary`: the first negative step by binary search (OmegaPRM). It assumes the value of a
 *   prefix only falls once, at the first error: a sample whose own final answer is right is all
 *   positive, one whose answer is wrong has a negative last step, and the search halves the
 *   interval between the last known positive and the first known negative. O(log M) estimates
 *   instead of O(M);
 * - `hybrid`: binary search on samples whose own final answer is wrong, and a linear scan (stopping
 *   after the first negative) on samples whose answer is right, so that value dips inside right
 *   solutions — which binary search assumes away — are still found. With early stopping the scan of
 *   a right solution costs about one rollout per step.
 */
import type {StepEstimate} from "./estimate.ts";

export type SearchMode = "linear" | "binary" | "hybrid";

export interface StepLabels {
    hard: Array<0 | 1 | null>;
    soft: Array<number | null>;
    /** Per step: rollouts that count, correct ones, and how many hit max tokens (see estimate.ts). */
    rollouts: Array<{n: number; correct: number; truncated: number}>;
    firstNegative: number;
}

export interface SearchContext {
    steps: number;
    /** K and the positive rule. */
    k: number;
    minCorrect: number;
    /** Estimate step i (memoised by the caller if needed). */
    estimate: (i: number) => Promise<StepEstimate>;
    /** Whether the sample's own final answer is correct (binary search only). */
    sampleCorrect: () => boolean | Promise<boolean>;
}

function empty(m: number): StepLabels {
    return {hard: new Array(m).fill(null), soft: new Array(m).fill(null), rollouts: Array.from({length: m}, () => ({n: 0, correct: 0, truncated: 0})), firstNegative: -1};
}

/**
 * Store step i's estimate; returns the hard label the search follows. A step with no rollout
 * that counts (all truncated, `--truncated skip`) gets no label (null) and does not end the
 * search (treated as not negative).
 */
function record(labels: StepLabels, i: number, e: StepEstimate, c: SearchContext): 0 | 1 {
    labels.rollouts[i] = {n: e.n, correct: e.correct, truncated: e.truncated ?? 0};
    if (e.n === 0 && (e.truncated ?? 0) > 0) {
        labels.hard[i] = null;
        labels.soft[i] = null;
        return 1;
    }
    const hard = e.correct >= c.minCorrect ? 1 : 0;
    labels.hard[i] = hard;
    // An early-stopped estimate is not a fraction of the K drawn; with skipped truncated rollouts it is a fraction of those that finished.
    labels.soft[i] = (e.drawn ?? e.n) === c.k ? e.correct / e.n : null;
    return hard;
}

export async function linearSearch(c: SearchContext, stopAfterNegative: boolean): Promise<StepLabels> {
    const labels = empty(c.steps);
    for (let i = 0; i < c.steps; i++) {
        const hard = record(labels, i, await c.estimate(i), c);
        if (hard === 0 && labels.firstNegative < 0) {
            labels.firstNegative = i;
            if (stopAfterNegative) break;
        }
    }
    return labels;
}

export async function binarySearch(c: SearchContext): Promise<StepLabels> {
    const labels = empty(c.steps);
    if (c.steps === 0) return labels;
    if (await c.sampleCorrect()) {
        labels.hard.fill(1);
        return labels;
    }
    let lo = 0;
    let hi = c.steps - 1; // the last step is negative: its prefix is the whole (wrong) solution
    while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (record(labels, mid, await c.estimate(mid), c) === 1) lo = mid + 1;
        else hi = mid;
    }
    for (let i = 0; i < lo; i++) labels.hard[i] = 1;
    labels.hard[lo] = 0;
    for (let i = lo + 1; i < c.steps; i++) {
        labels.hard[i] = null;
        labels.soft[i] = null;
    }
    labels.firstNegative = lo;
    return labels;
}

export async function hybridSearch(c: SearchContext): Promise<StepLabels> {
    return (await c.sampleCorrect()) ? linearSearch(c, true) : binarySearch(c);
}
