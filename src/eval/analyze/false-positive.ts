/**
 * (a) The false-positive test of the Qwen paper ("Lessons of developing PRMs", §BoN bias):
 * policies often reach the right final answer through a wrong step, and Best-of-N cannot see it,
 * so a PRM tuned for Best-of-N learns to pass such solutions. This test asks how often the PRM
 * flags an error (some step scored below the threshold) on solutions whose final answer is right
 * but whose process is wrong, next to the same on wrong-answer solutions and on fully correct ones.
 *
 * Groups (from ProcessBench's `final_answer_correct` and `label`, or the same fields of lab records):
 * - `right-answer-wrong-process`: final answer correct, label ≠ −1;
 * - `wrong-answer`: final answer wrong (whatever the label);
 * - `fully-correct`: label = −1 and the final answer not known to be wrong.
 * A sample with an error but no `final_answer_correct` belongs to no group (counted as `unknown`).
 *
 * Flagged = the first step scoring strictly below the threshold exists (as ProcessBench predicts).
 * For samples with a labelled error, the flagged step is compared with the label: `exact` (the same
 * step), `early` (before it: a false alarm on a correct step), `late` (after it).
 */
import {firstBelow} from "../processbench/threshold.ts";

/** One labelled solution with its step scores. */
export interface LabelledScores {
    /** Index of the first wrong step, −1 when every step is correct. */
    label: number;
    /** Whether the final answer is right; undefined when unknown. */
    finalAnswerCorrect?: boolean;
    scores: ArrayLike<number>;
}

/** The groups compared, in report order. */
export const FP_GROUPS = ["right-answer-wrong-process", "wrong-answer", "fully-correct"] as const;
export type FpGroup = (typeof FP_GROUPS)[number];

/** Human-readable group names for tables and plots. */
export const FP_GROUP_LABELS: Record<FpGroup, string> = {
    "right-answer-wrong-process": "right answer, wrong process",
    "wrong-answer": "wrong answer",
    "fully-correct": "fully correct",
};

/** The group of a sample (see the module docs), or null when it belongs to none. */
export function fpGroup(s: Pick<LabelledScores, "label" | "finalAnswerCorrect">): FpGroup | null {
    if (s.finalAnswerCorrect === false) return "wrong-answer";
    if (s.label === -1) return "fully-correct";
    return s.finalAnswerCorrect === true ? "right-answer-wrong-process" : null;
}

/** Flag counts of one group. Shares are fractions (0..1), null when their denominator is 0. */
export interface FlagStats {
    n: number;
    /** Samples with some step below the threshold. */
    flagged: number;
    /** Samples with a labelled error (label ≥ 0): the denominator of the location shares. */
    located: number;
    /** Flagged exactly at the labelled first error. */
    exact: number;
    /** Flagged before the labelled first error. */
    early: number;
    /** Flagged after the labelled first error. */
    late: number;
    flaggedShare: number | null;
    exactShare: number | null;
}

/** One set of samples (a split, or all of them): counts per group. */
export interface FalsePositiveStats {
    groups: Record<FpGroup, FlagStats>;
    /** Samples in no group (an error, but the final answer's correctness unknown). */
    unknown: number;
}

function emptyCounts(): FlagStats {
    return {n: 0, flagged: 0, located: 0, exact: 0, early: 0, late: 0, flaggedShare: null, exactShare: null};
}

function finish(c: FlagStats): FlagStats {
    return {...c, flaggedShare: c.n ? c.flagged / c.n : null, exactShare: c.located ? c.exact / c.located : null};
}

/** Count flags per group over `samples` at `threshold` (see the module docs). Pure. */
export function falsePositiveStats(samples: Iterable<LabelledScores>, threshold: number): FalsePositiveStats {
    const groups = Object.fromEntries(FP_GROUPS.map((g) => [g, emptyCounts()])) as Record<FpGroup, FlagStats>;
    let unknown = 0;
    for (const s of samples) {
        const g = fpGroup(s);
        if (g === null) {
            unknown++;
            continue;
        }
        const c = groups[g];
        c.n++;
        const at = firstBelow(s.scores, threshold);
        if (at >= 0) c.flagged++;
        if (s.label >= 0) {
            c.located++;
            if (at === s.label) c.exact++;
            else if (at >= 0 && at < s.label) c.early++;
            else if (at > s.label) c.late++;
        }
    }
    for (const g of FP_GROUPS) groups[g] = finish(groups[g]);
    return {groups, unknown};
}

/** The false-positive test per split and over all splits. */
export interface FalsePositiveResult {
    threshold: number;
    /** Where the threshold came from, when it was calibrated (a split name). */
    calibratedOn?: string;
    splits: Array<{name: string} & FalsePositiveStats>;
    overall: FalsePositiveStats;
}

/** Run the false-positive test on named splits of scored samples. Pure. */
export function falsePositiveTest(splits: ReadonlyArray<{name: string; samples: readonly LabelledScores[]}>, threshold: number): FalsePositiveResult {
    return {
        threshold,
        splits: splits.map((s) => ({name: s.name, ...falsePositiveStats(s.samples, threshold)})),
        overall: falsePositiveStats(
            splits.flatMap((s) => s.samples),
            threshold,
        ),
    };
}
