/**
 * How MC labels compare with a domain's exact step truth (the lab's: src/domains/lab/verifier.ts): the share of
 * samples whose MC first-negative step is the true first wrong step, and per-step false
 * positive / false negative rates (the Qwen paper's "MC labels are noisy", measured exactly).
 */
import type {LabelRecord} from "../../core/records.ts";
import {wilsonInterval, type Interval} from "../../stats/intervals.ts";

export type {StepTruth} from "../../domains/verifier.ts";
import type {StepTruth} from "../../domains/verifier.ts";

export interface TruthAgreement {
    samples: number;
    /** Share of samples whose MC first negative equals the true first error (−1 = −1 counts). */
    first_negative_match: number;
    /** Among labelled steps that are truly correct: share labelled negative. */
    false_negative_rate: number;
    /** Among labelled steps that are truly wrong (the first error): share labelled positive. */
    false_positive_rate: number;
    /** Soft labels: mean over truly correct steps and over truly wrong steps. */
    soft_mean_correct: number;
    soft_mean_wrong: number;
    steps_compared: number;
    /** Counts behind the rates: samples whose first negative matched, truly correct steps labelled negative of all truly correct ones, truly wrong steps labelled positive of all truly wrong ones. */
    counts: {first_negative_match: number; false_negatives: number; truly_correct: number; false_positives: number; truly_wrong: number};
    /** 95% Wilson intervals of the three rates (fractions; absent when their denominator is 0). */
    first_negative_match_ci?: Interval;
    false_negative_rate_ci?: Interval;
    false_positive_rate_ci?: Interval;
}

export function compareWithTruth(records: Array<LabelRecord & {truth?: StepTruth}>): TruthAgreement {
    let match = 0;
    let n = 0;
    let fn = 0;
    let trulyCorrect = 0;
    let fp = 0;
    let trulyWrong = 0;
    let softC = 0;
    let softCn = 0;
    let softW = 0;
    let softWn = 0;
    for (const r of records) {
        if (!r.truth) continue;
        n++;
        if (r.first_negative === r.truth.first_error) match++;
        r.hard.forEach((h, i) => {
            const t = r.truth!.correct[i];
            if (h === null || t === null || t === undefined) return;
            if (t) {
                trulyCorrect++;
                if (h === 0) fn++;
            } else {
                trulyWrong++;
                if (h === 1) fp++;
            }
            const s = r.soft[i];
            if (s !== null && s !== undefined) {
                if (t) {
                    softC += s;
                    softCn++;
                } else {
                    softW += s;
                    softWn++;
                }
            }
        });
    }
    return {
        samples: n,
        first_negative_match: n ? match / n : NaN,
        false_negative_rate: trulyCorrect ? fn / trulyCorrect : NaN,
        false_positive_rate: trulyWrong ? fp / trulyWrong : NaN,
        soft_mean_correct: softCn ? softC / softCn : NaN,
        soft_mean_wrong: softWn ? softW / softWn : NaN,
        steps_compared: trulyCorrect + trulyWrong,
        counts: {first_negative_match: match, false_negatives: fn, truly_correct: trulyCorrect, false_positives: fp, truly_wrong: trulyWrong},
        ...(n ? {first_negative_match_ci: wilsonInterval(match, n)} : {}),
        ...(trulyCorrect ? {false_negative_rate_ci: wilsonInterval(fn, trulyCorrect)} : {}),
        ...(trulyWrong ? {false_positive_rate_ci: wilsonInterval(fp, trulyWrong)} : {}),
    };
}
