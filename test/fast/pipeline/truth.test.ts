/**
 * MC labels against exact step truth (src/pipeline/label/truth.ts): the three rates, the counts
 * behind them and their Wilson intervals, checked on hand-made records.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {compareWithTruth} from "../../../src/pipeline/label/truth.ts";
import {wilsonInterval} from "../../../src/stats/intervals.ts";
import type {LabelRecord} from "../../../src/core/records.ts";

const rec = (hard: Array<0 | 1 | null>, first_negative: number, correct: Array<boolean | null>, first_error: number) =>
    ({hard, soft: hard.map((h) => (h === null ? null : h)), first_negative, truth: {correct, first_error}}) as unknown as LabelRecord & {truth: {correct: Array<boolean | null>; first_error: number}};

test("compareWithTruth: rates, their counts and 95% Wilson intervals", () => {
    const t = compareWithTruth([
        rec([1, 0], 1, [true, false], 1), // first negative right; the wrong step labelled negative
        rec([1, 1], -1, [true, false], 1), // the wrong step labelled positive (a false positive), first negative missed
        rec([0, null], 0, [true, null], -1), // a correct step labelled negative; the unlabelled step is not compared
        rec([1, 1, 1], -1, [true, true, true], -1),
    ]);
    assert.deepEqual(t.counts, {first_negative_match: 2, false_negatives: 1, truly_correct: 6, false_positives: 1, truly_wrong: 2});
    assert.deepEqual([t.samples, t.first_negative_match, t.false_negative_rate, t.false_positive_rate, t.steps_compared], [4, 0.5, 1 / 6, 0.5, 8]);
    assert.deepEqual(t.first_negative_match_ci, wilsonInterval(2, 4));
    assert.deepEqual(t.false_negative_rate_ci, wilsonInterval(1, 6));
    assert.deepEqual(t.false_positive_rate_ci, wilsonInterval(1, 2));
    // No truly wrong step: no rate, no interval.
    const none = compareWithTruth([rec([1], -1, [true], -1)]);
    assert.ok(Number.isNaN(none.false_positive_rate));
    assert.equal(none.false_positive_rate_ci, undefined);
});
