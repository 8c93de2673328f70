import {test} from "node:test";
import assert from "node:assert/strict";
import {VOTE_NONE, VOTE_TIE, VoteScratch, answerClasses, eligibleCandidates, majorityVote, selectBestOfN, weightedMajorityVote} from "../../../src/select/index.ts";
import {FastRng} from "../../../src/util/rng.ts";

test('selectBestOfN: ties "first" keep the lowest candidate index, whatever the pool order; NaN ranks last', () => {
    assert.equal(selectBestOfN([0.5, 0.9, 0.9, 0.1]), 1);
    assert.equal(selectBestOfN([0.5, 0.9, 0.9, 0.1], {}, [3, 2, 1, 0]), 1);
    assert.equal(selectBestOfN([0.5, 0.9, 0.9, 0.1], {ties: "first"}, [2, 3, 1], 2), 2); // only the first 2 of the pool count
    assert.equal(selectBestOfN([NaN, 0.2]), 1);
    assert.equal(selectBestOfN([]), -1);
    assert.throws(() => selectBestOfN([1, 1], {ties: "random"}), /needs an rng/);
});

test("selectBestOfN: the unfinished rules never / fallback / allow", () => {
    const scores = [0.2, 0.99, 0.5];
    const finished = [true, false, true];
    assert.equal(selectBestOfN(scores, {finished, unfinished: "never"}), 2);
    assert.equal(selectBestOfN(scores, {finished, unfinished: "fallback"}), 2);
    assert.equal(selectBestOfN(scores, {finished, unfinished: "allow"}), 1);
    // no finished candidate in the pool
    assert.equal(selectBestOfN(scores, {finished, unfinished: "never"}, [1]), -1);
    assert.equal(selectBestOfN(scores, {finished, unfinished: "fallback"}, [1]), 1);
    assert.equal(selectBestOfN(scores, {finished: [0, 0, 0], unfinished: "fallback"}), 1);
    assert.deepEqual(eligibleCandidates([0, 1, 1], "never"), [1, 2]);
    assert.deepEqual(eligibleCandidates([0, 0], "never"), []);
    assert.deepEqual(eligibleCandidates([0, 0], "fallback"), [0, 1]);
    assert.deepEqual(eligibleCandidates([0, 1], "fallback"), [1]);
    assert.deepEqual(eligibleCandidates([0, 1], "allow"), [0, 1]);
});

test('votes: "first-seen" gives a tie to the class voted for at the lowest candidate index (ProcessBench), "none" to nobody', () => {
    const classOf = [2, 1, 1, 2, -1, 0];
    assert.equal(majorityVote(classOf), 2); // classes 1 and 2 tie at 2; class 2 first voted at index 0
    assert.equal(majorityVote(classOf, {ties: "first-seen"}, [5, 3, 2, 1, 0]), 2); // pool order does not matter
    assert.equal(majorityVote(classOf, {ties: "first-seen"}, [1, 2, 3, 5]), 1);
    assert.equal(majorityVote(classOf, {ties: "none"}), VOTE_TIE);
    assert.equal(majorityVote([1, 1, 0], {ties: "none"}), 1);
    assert.equal(majorityVote([-1, -1]), VOTE_NONE);
    assert.equal(majorityVote([]), VOTE_NONE);
    // weighted: sums of weights, the same tie rules
    assert.equal(weightedMajorityVote(classOf, [0.1, 0.5, 0.5, 0.1, 9, 0.3]), 1);
    assert.equal(weightedMajorityVote([0, 1], [0.5, 0.5], {ties: "first-seen"}), 0);
    assert.equal(weightedMajorityVote([0, 1], [0.5, 0.5], {ties: "none"}), VOTE_TIE);
    const rng = new FastRng(5);
    const wins = [0, 0];
    for (let r = 0; r < 4000; r++) wins[weightedMajorityVote([0, 1], [0.5, 0.5], {ties: "random", rng})]++;
    assert.ok(Math.abs(wins[0] / 4000 - 0.5) < 0.04, `${wins}`);
    assert.throws(() => majorityVote([0, 3], {scratch: new VoteScratch(2)}), /beyond the scratch/);
    assert.throws(() => majorityVote([0, 1], {ties: "random"}), /needs an rng/);
});

test("answerClasses without verdicts: components of the grader's equivalence, numbered in candidate order", () => {
    const eq = (x: string, y: string): boolean => Math.abs(Number(x) - Number(y)) <= 1;
    const r = answerClasses(["10", "1", "2", null, "3"], null, eq);
    assert.deepEqual([...r.classOf], [0, 1, 1, -1, 1]);
    assert.deepEqual([...r.classCorrect], [0, 0]);
});
