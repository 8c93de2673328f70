/**
 * growLlamaLayers (src/model/weights.ts): a deeper model that computes the same next-token
 * probabilities as the one it grew from, until training moves its new blocks' outputs.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {makeLlamaConfig} from "../../../src/model/config.ts";
import {buildCharVocab, CharTokenizer} from "../../../src/model/vocab.ts";
import {nextTokenProbs} from "../../../src/model/forward.ts";
import {checkLlamaWeights, growLlamaLayers, randomLlamaWeights} from "../../../src/model/weights.ts";

const vocab = buildCharVocab();
const config = makeLlamaConfig({vocabSize: vocab.tokens.length, dModel: 32, nLayers: 2, nHeads: 2, dFF: 64});
const ids = new CharTokenizer(vocab).encode("Compute 3 + 4 * 2.\nFirst, 4 * 2 = 8, so 3 + 8.", {addBos: true});

test("growLlamaLayers: two more blocks, the same probabilities; a nudged new output changes them", () => {
    const weights = randomLlamaWeights(config, 5);
    const grown = growLlamaLayers(config, weights, 2, 9);
    assert.equal(grown.config.nLayers, 4);
    checkLlamaWeights(grown.config, grown.weights);
    assert.equal(grown.weights["blk.1.attn_q.weight"], weights["blk.1.attn_q.weight"], "old blocks shared");
    assert.ok(grown.weights["blk.3.attn_q.weight"].some((x) => x !== 0), "new attention inputs are random");
    assert.ok(grown.weights["blk.3.ffn_down.weight"].every((x) => x === 0) && grown.weights["blk.2.attn_output.weight"].every((x) => x === 0), "new residual outputs are zero");
    const before = nextTokenProbs(config, weights, ids);
    const after = nextTokenProbs(grown.config, grown.weights, ids);
    let max = 0;
    for (let i = 0; i < before.length; i++) for (let j = 0; j < before[i].length; j++) max = Math.max(max, Math.abs(before[i][j] - after[i][j]));
    assert.ok(max < 1e-6, `max |Δp| ${max}`);
    // The new blocks are live: a non-zero output projection moves the distribution.
    const nudged = {...grown.weights, "blk.3.ffn_down.weight": grown.weights["blk.3.ffn_down.weight"].map((_, i) => ((i * 7919) % 13) / 13 - 0.5)};
    const moved = nextTokenProbs(grown.config, nudged, ids);
    assert.ok(Math.abs(moved.at(-1)![0] - after.at(-1)![0]) + Math.abs(moved.at(-1)![5] - after.at(-1)![5]) > 1e-6);
    assert.deepEqual(growLlamaLayers(config, weights, 2, 9).weights["blk.2.attn_k.weight"], grown.weights["blk.2.attn_k.weight"], "seeded");
    assert.throws(() => growLlamaLayers(config, weights, 0, 1), /positive integer, got 0/);
    assert.throws(() => growLlamaLayers({...config, dModel: 64}, weights, 1, 1), /llama weights: /);
});
