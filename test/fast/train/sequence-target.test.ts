/** Sequence targets (implicit-PRM outcome loss) in packed batches: which positions sum into which sequence, and bad spans refused. */
import {test} from "node:test";
import assert from "node:assert/strict";
import {packBatch} from "../../../src/train/batch.ts";

test("packBatch: a sequence target selects the token each scored position predicts and sums those positions", () => {
    const v = 6;
    const b = packBatch(
        [
            {tokens: [1, 2, 3, 4], sequence: {from: 2, to: 4, refLogprob: -1.5, beta: 0.1, label: 1}},
            {tokens: [1, 5], lossMask: {start: 1, end: 2}},
            {tokens: [1, 2, 5], sequence: {from: 1, to: 3, refLogprob: -0.5, beta: 0.2, label: 0}},
        ],
        v,
        8,
    );
    const q = b.sequences!;
    assert.equal(q.count, 2);
    assert.deepEqual(Array.from(q.refLogprob), [-1.5, -0.5]);
    assert.deepEqual(Array.from(q.beta).map((x) => Math.round(x * 10) / 10), [0.1, 0.2]);
    assert.deepEqual(Array.from(q.label), [1, 0]);
    const n = b.inputs.length;
    // Rows of each sequence (positions predicting tokens [from, to)) and the token selected there.
    for (const [k, expected] of [
        [0, [3, 4]],
        [1, [2, 5]],
    ] as const) {
        const rows = Array.from({length: n}, (_, r) => r).filter((r) => q.segment[k * n + r] === 1);
        assert.equal(rows.length, 2);
        assert.deepEqual(rows.map((r) => Array.from(q.select.subarray(r * v, (r + 1) * v)).indexOf(1)), expected);
        assert.deepEqual(rows.map((r) => b.inputs[r]), k === 0 ? [2, 3] : [1, 2], "the input at a scored row is the token before the predicted one");
    }
    assert.equal(b.count, 1, "the LM example still counts its own position");
    assert.equal(packBatch([{tokens: [1, 2]}], v, 8).sequences, null);
});

test("packBatch: a sequence span outside the example, or with a bad beta or label, is an error naming it", () => {
    const bad = (sequence: {from: number; to: number; refLogprob: number; beta: number; label: number}) => () => packBatch([{tokens: [1, 2, 3], sequence}], 6, 8);
    assert.throws(bad({from: 0, to: 2, refLogprob: 0, beta: 1, label: 1}), /sequence target \[0, 2\) outside the example/);
    assert.throws(bad({from: 1, to: 4, refLogprob: 0, beta: 1, label: 1}), /outside the example \(3 tokens/);
    assert.throws(bad({from: 1, to: 3, refLogprob: 0, beta: 0, label: 1}), /beta > 0/);
    assert.throws(bad({from: 1, to: 3, refLogprob: NaN, beta: 1, label: 1}), /finite refLogprob/);
    assert.throws(bad({from: 1, to: 3, refLogprob: 0, beta: 1, label: 2}), /label in \[0, 1\]/);
    assert.throws(() => packBatch([{tokens: [1, 2, 3, 4], sequence: {from: 1, to: 4, refLogprob: 0, beta: 1, label: 1}}], 6, 2), /past the 2 positions/);
});

test("packBatch: a target's bias offsets its subset's logits (−log πref: a softmax over log πθ/πref); bad biases and repeated ids are refused", () => {
    const v = 5;
    const b = packBatch([{tokens: [1, 2, 3], targets: [{pos: 2, tokenIds: [4, 1, 2], probs: [0.5, 0.5, 0], bias: [2.5, -0.25, 7]}]}], v, 8);
    const row = Array.from(b.supportBias!.subarray(2 * v, 3 * v));
    assert.deepEqual(row, [-1e9, -0.25, 7, -1e9, 2.5].map((x) => Math.fround(x)));
    assert.deepEqual(Array.from(b.targets.subarray(2 * v, 3 * v)), [0, 0.5, 0, 0, 0.5]);
    // Without a bias the subset is unbiased, as a tag PRM's good/bad target has always been.
    const plain = packBatch([{tokens: [1, 2, 3], targets: [{pos: 1, tokenIds: [3, 4], probs: [1, 0]}]}], v, 8);
    assert.deepEqual(Array.from(plain.supportBias!.subarray(v, 2 * v)), [-1e9, -1e9, -1e9, 0, 0].map((x) => Math.fround(x)));
    assert.throws(() => packBatch([{tokens: [1, 2], targets: [{pos: 1, tokenIds: [3, 4], probs: [1, 0], bias: [0]}]}], v, 8), /bias must be finite numbers, one per token id/);
    assert.throws(() => packBatch([{tokens: [1, 2], targets: [{pos: 1, tokenIds: [3, 4], probs: [1, 0], bias: [0, Infinity]}]}], v, 8), /bias must be finite/);
    assert.throws(() => packBatch([{tokens: [1, 2], targets: [{pos: 1, tokenIds: [3, 3], probs: [1, 0]}]}], v, 8), /position 1 lists a token id twice/);
});

test("packBatch: a per-token loss weight scales that token's target row and counts as many positions; 0 leaves it out; a bad weight is refused", () => {
    const plain = packBatch([{tokens: [1, 2, 3, 4], lossMask: [false, true, true, true]}], 6, 8);
    const weighted = packBatch([{tokens: [1, 2, 3, 4], lossMask: [0, 1, 0, 5]}], 6, 8);
    assert.equal(plain.count, 3);
    assert.equal(weighted.count, 6);
    // Position 0 predicts token 2 (weight 1), position 1 predicts token 3 (weight 0: nothing), position 2 predicts token 4 (weight 5).
    assert.deepEqual(Array.from(weighted.targets.slice(0, 6)), [0, 0, 1, 0, 0, 0]);
    assert.deepEqual(Array.from(weighted.targets.slice(6, 12)), [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(weighted.targets.slice(12, 18)), [0, 0, 0, 0, 5, 0]);
    assert.throws(() => packBatch([{tokens: [1, 2], lossMask: [0, -1]}], 6, 8), /loss weight -1 of token 1: expected a finite number ≥ 0/);
    assert.throws(() => packBatch([{tokens: [1, 2], lossMask: [0, Number.NaN]}], 6, 8), /loss weight NaN of token 1/);
});
