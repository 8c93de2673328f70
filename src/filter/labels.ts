/**
 * Step labels from other sources than MC estimation, in the LabelRecord shape `train-prm` and
 * `export` read, for comparing label sources with the same trainer:
 * - {@link judgeLabels}: from a judge verdict (steps before the judge's first wrong step
 *   positive, that step negative, later steps unlabelled; −1 → every step positive);
 * - {@link labTruthLabels}: the lab's exact step truth ("gold" labels; lab problems only).
 * `soft` equals `hard` (a verdict has no graded confidence); `rollouts` are 0/0 and `cost` 0.
 */
import type {LabelRecord} from "../core/records.ts";
import {labTruth} from "../domains/lab/verifier.ts";

function fromFirstError(record: LabelRecord, firstError: number, method: string): LabelRecord {
    const hard: Array<0 | 1 | null> = record.steps.map((_, i) => (firstError < 0 || i < firstError ? 1 : i === firstError ? 0 : null));
    return {
        ...record,
        hard,
        soft: hard.map((h) => h),
        rollouts: record.steps.map(() => ({n: 0, correct: 0})),
        first_negative: firstError,
        cost: {rollouts: 0, generated_tokens: 0, prefix_evaluations: 0},
        method,
    };
}

/** Labels from a verdict's first error (null when the verdict has none). */
export function judgeLabels(record: LabelRecord, verdict: {first_error: number | null; method?: string}): LabelRecord | null {
    if (verdict.first_error === null) return null;
    return fromFirstError(record, verdict.first_error, `judge:${verdict.method ?? "?"}`);
}

/** The lab's exact labels of a split lab sample (src/domains/lab/verify.ts via labTruth). */
export function labTruthLabels(record: LabelRecord): LabelRecord {
    return fromFirstError(record, labTruth(record).first_error, "lab-truth");
}
