import {test} from "node:test";
import assert from "node:assert/strict";
import {majorityVote} from "../../src/judge/vote.ts";

test("the most frequent parsed index wins; agreement is its share of all answers", () => {
    assert.deepEqual(majorityVote([2, 2, -1, 2, 1]), {first_error: 2, agreement: 0.6});
    assert.deepEqual(majorityVote([-1]), {first_error: -1, agreement: 1});
});

test("unparsable answers do not vote", () => {
    assert.deepEqual(majorityVote([null, null, 3, null, null]), {first_error: 3, agreement: 0.2});
    assert.deepEqual(majorityVote([null, 1, 1, 2, null]), {first_error: 1, agreement: 0.4});
});

test("a tie or no parsed answer gives no verdict, never a guess", () => {
    assert.deepEqual(majorityVote([1, 2, 1, 2, null]), {first_error: null, agreement: 0, reason: "tie"});
    assert.deepEqual(majorityVote([-1, 0]), {first_error: null, agreement: 0, reason: "tie"});
    assert.deepEqual(majorityVote([null, null]), {first_error: null, agreement: 0, reason: "all-unparsable"});
    assert.deepEqual(majorityVote([]), {first_error: null, agreement: 0, reason: "all-unparsable"});
});
