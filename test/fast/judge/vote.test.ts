import {test} from "node:test";
import assert from "node:assert/strict";
import {judgeVote, processBenchVote} from "../../../src/judge/vote.ts";
import {lastBoxProcessBench} from "../../../src/judge/parse.ts";

test("the most frequent parsed index wins; agreement is its share of all answers", () => {
    assert.deepEqual(judgeVote([2, 2, -1, 2, 1]), {first_error: 2, agreement: 0.6});
    assert.deepEqual(judgeVote([-1]), {first_error: -1, agreement: 1});
});

test("unparsable answers do not vote", () => {
    assert.deepEqual(judgeVote([null, null, 3, null, null]), {first_error: 3, agreement: 0.2});
    assert.deepEqual(judgeVote([null, 1, 1, 2, null]), {first_error: 1, agreement: 0.4});
});

test("a tie or no parsed answer gives no verdict, never a guess", () => {
    assert.deepEqual(judgeVote([1, 2, 1, 2, null]), {first_error: null, agreement: 0, reason: "tie"});
    assert.deepEqual(judgeVote([-1, 0]), {first_error: null, agreement: 0, reason: "tie"});
    assert.deepEqual(judgeVote([null, null]), {first_error: null, agreement: 0, reason: "all-unparsable"});
    assert.deepEqual(judgeVote([]), {first_error: null, agreement: 0, reason: "all-unparsable"});
});

test('tie rule "first-seen" (ProcessBench: Counter.most_common keeps the first given); the default stays "none"', () => {
    assert.deepEqual(judgeVote([1, 2, 1, 2, null], {ties: "first-seen"}), {first_error: 1, agreement: 0.4});
    assert.deepEqual(judgeVote([null, 2, 1, 1, 2], {ties: "first-seen"}), {first_error: 2, agreement: 0.4});
    assert.deepEqual(judgeVote([-1, 0], {ties: "first-seen"}), {first_error: -1, agreement: 0.5});
    assert.deepEqual(judgeVote([0, -1], {ties: "first-seen"}), {first_error: 0, agreement: 0.5});
    assert.deepEqual(judgeVote([null, null], {ties: "first-seen"}), {first_error: null, agreement: 0, reason: "all-unparsable"});
    assert.deepEqual(judgeVote([0, -1]), {first_error: null, agreement: 0, reason: "tie"});
});

// ProcessBench's vote (code/run_eval.py --use_voting): extract_answer per answer, None dropped,
// Counter(preds).most_common(1)[0][0], then int(); each row is [answers, Python's winning text, int() of it].
const REFERENCE_VOTES: Array<[string[], string | null, number | null]> = [
    [["\\boxed{1}", "\\boxed{2}", "\\boxed{2}", "\\boxed{1}"], "1", 1], // tie: the text counted first
    [["\\boxed{2}", "\\boxed{1}", "\\boxed{1}", "\\boxed{2}"], "2", 2],
    [["none", "none", "\\boxed{3}"], "3", 3], // answers without a box are not counted
    [["none", "none"], null, null],
    [["\\boxed{x}", "\\boxed{x}", "\\boxed{1}"], "x", null], // a box that holds no integer votes, and can win
    [["\\boxed{x}", "\\boxed{1}", "\\boxed{x}", "\\boxed{1}"], "x", null],
    [["\\boxed{1}", "\\boxed{01}", "\\boxed{ 1}", "\\boxed{01}"], "1", 1], // texts, not integers: "1" and "01" differ
    [["\\boxed{-1}", "\\boxed{0}", "hmm", "\\boxed{0}", "\\boxed{-1}"], "-1", -1],
    [["\\boxed{7}", "\\boxed{7}", "\\boxed{1}"], "7", 7],
];

test("processBenchVote gives ProcessBench's prediction: boxed texts vote, first most common wins, no box does not vote", () => {
    const steps = 5;
    for (const [answers, text, int] of REFERENCE_VOTES) {
        const boxes = answers.map(lastBoxProcessBench);
        const v = processBenchVote(boxes, steps);
        const expected = int !== null && int >= -1 && int < steps ? int : null;
        assert.equal(v.first_error, expected, JSON.stringify(answers));
        if (expected !== null) assert.equal(v.agreement, boxes.filter((b) => b === text).length / answers.length);
        else assert.equal(v.reason, text === null ? "all-unparsable" : "winner-unparsable", JSON.stringify(answers));
    }
    // 7 wins for the reference too, but it is no step of a 5-step solution: no verdict (a miss either way)
    assert.deepEqual(processBenchVote(["7", "7", "1"], 5), {first_error: null, agreement: 0, reason: "winner-unparsable"});
    assert.deepEqual(processBenchVote(["0", "0", "1"], 5), {first_error: 0, agreement: 2 / 3});
});
