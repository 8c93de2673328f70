import {test} from "node:test";
import assert from "node:assert/strict";
import {judgeVote} from "../../src/judge/vote.ts";

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
