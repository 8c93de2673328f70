import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {writeLlamaGguf, readLlamaGguf} from "../../../src/gguf/llama.ts";
import {makeLlamaConfig} from "../../../src/model/config.ts";
import {buildCharVocab, CharTokenizer} from "../../../src/model/vocab.ts";
import {nextTokenProbs, LlamaRunner, softmax} from "../../../src/model/forward.ts";
import {trainLanguageModel, TfLlama, initTf} from "../../../src/train/index.ts";
import type {Sfc32Rng as Rng} from "../../../src/util/rng.ts";
import {llamaCppNextTokenProbs} from "../../helpers/llamacpp.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-parity-"));
test.after(() => rmSync(dir, {recursive: true, force: true}));

const vocab = buildCharVocab();
const tok = new CharTokenizer(vocab);
const config = makeLlamaConfig({vocabSize: vocab.tokens.length, dModel: 32, nLayers: 2, nHeads: 2, dFF: 64});
const text = "Compute 3 + 4 * 2.\nFirst, 4 * 2 = 8, so 3 + 8.<|step|>\nSo 3 + 8 = 11.\nThe answer is 11.";

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
}

test("tfjs, JS forward pass and llama.cpp agree on next-token probabilities of a trained model", async (t) => {
    // A few steps of training so the weights (and distributions) are far from the random init.
    const source = (rng: Rng, n: number) =>
        Array.from({length: n}, () => {
            const a = rng.int(10), b = rng.int(10);
            const tokens = tok.encode(`${a} + ${b} = ${a + b}.\n${text}`, {addBos: true, addEos: true});
            return {tokens, lossMask: {start: 1, end: tokens.length}};
        });
    const {weights} = await trainLanguageModel({config, batchSource: source, steps: 30, lr: 1e-2, batchSize: 4, seqLen: 128, seed: 3, quiet: true});
    const path = join(dir, "trained.gguf");
    writeLlamaGguf(path, {config, weights, vocab});

    const ids = tok.encode(text, {addBos: true});
    const positions = [0, 1, 7, 20, 30, ids.indexOf(vocab.stepTagId), ids.length - 1];
    const js = nextTokenProbs(config, weights, ids);
    await initTf();
    const model = new TfLlama(config, weights);
    const tfp = model.nextTokenProbs(ids);
    model.dispose();
    const cpp = await llamaCppNextTokenProbs(path, ids, positions, config.vocabSize);
    let worstJsTf = 0;
    let worstJsCpp = 0;
    positions.forEach((pos, i) => {
        worstJsTf = Math.max(worstJsTf, maxAbsDiff(js[pos], tfp[pos]));
        worstJsCpp = Math.max(worstJsCpp, maxAbsDiff(js[pos], cpp[i]));
    });
    t.diagnostic(`max |Δp| over ${positions.length} positions: JS vs tfjs ${worstJsTf.toExponential(2)}, JS vs llama.cpp ${worstJsCpp.toExponential(2)}`);
    assert.ok(Math.max(...js[ids.length - 1]) > 0.05, "trained distribution should not be uniform");
    assert.ok(worstJsTf <= 1e-4, `JS vs tfjs: ${worstJsTf}`);
    assert.ok(worstJsCpp <= 1e-4, `JS vs llama.cpp: ${worstJsCpp}`);

    // Reading the GGUF back gives the same model.
    const back = await readLlamaGguf(path);
    assert.ok(maxAbsDiff(nextTokenProbs(back.config, back.weights, ids)[ids.length - 1], js[ids.length - 1]) === 0);
});

test("a model grown by growLlamaLayers gives llama.cpp the same next-token probabilities as the model it grew from", async () => {
    const {randomLlamaWeights, growLlamaLayers} = await import("../../../src/model/weights.ts");
    const weights = randomLlamaWeights(config, 11);
    const grown = growLlamaLayers(config, weights, 2, 4);
    const [a, b] = [join(dir, "base.gguf"), join(dir, "grown.gguf")];
    writeLlamaGguf(a, {config, weights, vocab});
    writeLlamaGguf(b, {config: grown.config, weights: grown.weights, vocab});
    assert.equal((await readLlamaGguf(b)).config.nLayers, config.nLayers + 2);
    const ids = tok.encode(text, {addBos: true});
    const positions = [0, 9, ids.length - 1];
    const [pa, pb] = [await llamaCppNextTokenProbs(a, ids, positions, config.vocabSize), await llamaCppNextTokenProbs(b, ids, positions, config.vocabSize)];
    const worst = Math.max(...positions.map((_, i) => maxAbsDiff(pa[i], pb[i])));
    assert.ok(worst <= 1e-6, `llama.cpp, base vs grown: ${worst}`);
});

test("LlamaRunner: incremental feeding equals a fresh run; truncate branches from a prefix", async () => {
    const {weights} = await import("../../../src/model/weights.ts").then((m) => ({weights: m.randomLlamaWeights(config, 5)}));
    const ids = tok.encode("12 + 7 = 19", {addBos: true});
    const runner = new LlamaRunner(config, weights);
    const full = ids.map((t) => runner.feed(t));
    runner.truncate(4);
    assert.equal(runner.length, 4);
    const again = ids.slice(4).map((t) => runner.feed(t));
    assert.deepEqual(again.at(-1), full.at(-1));
    const p = softmax(full.at(-1)!);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-9);
});
