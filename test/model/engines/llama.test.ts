import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {tinyModel, type TinyModel} from "../../helpers/tiny-model.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {nextTokenProbs} from "../../../src/model/forward.ts";

let m: TinyModel;
let engine: LlamaEngine;
const prompt = "Compute 3 + 4.\n";

before(async () => {
    m = tinyModel(1, 40);
    engine = await LlamaEngine.load(m.path, {sequences: 4, contextSize: 256});
});
after(async () => engine.close());

test("confidences are the raw model probabilities, whatever the sampling filters", async () => {
    const promptIds = await engine.tokenize(prompt);
    for (const opts of [{temperature: 1}, {temperature: 0.5, topK: 3}, {temperature: 1.5, topP: 0.5}, {temperature: 0}]) {
        const [s] = await engine.generate({prompt, n: 1, seed: 3, maxTokens: 12, ...opts});
        const ids = [...promptIds, ...s.tokens.map((t) => t.id!)];
        const ref = nextTokenProbs(m.config, m.weights, ids);
        s.tokens.forEach((t, i) => {
            const p = ref[promptIds.length - 1 + i];
            assert.ok(Math.abs(t.confidence - p[t.id!]) < 1e-5, `token ${i} (${JSON.stringify(opts)}): ${t.confidence} vs ${p[t.id!]}`);
            // top alternatives come from the same raw distribution, most likely first
            assert.ok(Math.abs(t.top[0].prob - Math.max(...p)) < 1e-5);
            for (let j = 1; j < t.top.length; j++) assert.ok(t.top[j].prob <= t.top[j - 1].prob);
        });
        if (opts.temperature === 0) s.tokens.forEach((t) => assert.equal(t.id, t.top[0].id, "greedy picks the top token"));
        if ("topK" in opts) {
            for (const t of s.tokens) assert.ok(t.top.slice(0, 3).some((a) => a.id === t.id), "top-k=3 only samples among the 3 most likely");
        }
    }
});

test("same seed, same samples; n samples evaluate the prompt once", async () => {
    const before = engine.stats().prefixEvaluations;
    const a = await engine.generate({prompt, n: 8, seed: 11, maxTokens: 16});
    assert.equal(engine.stats().prefixEvaluations - before, 1, "8 samples from one prompt: one prefix evaluation");
    const b = await engine.generate({prompt, n: 8, seed: 11, maxTokens: 16});
    const c = await engine.generate({prompt, n: 8, seed: 12, maxTokens: 16});
    assert.deepEqual(a.map((s) => s.text), b.map((s) => s.text));
    assert.notDeepEqual(a.map((s) => s.text), c.map((s) => s.text));
    assert.deepEqual(a.map((s) => s.index), [0, 1, 2, 3, 4, 5, 6, 7]);
    for (const s of a) assert.equal(s.text, s.tokens.map((t) => t.text).join(""));
    // sample i does not depend on how many others were asked for
    const single = await engine.generate({prompt, n: 3, seed: 11, maxTokens: 16});
    assert.deepEqual(single.map((s) => s.text), a.slice(0, 3).map((s) => s.text));
});

test("stop strings end a sample and are cut from it", async () => {
    const samples = await engine.generate({prompt, n: 4, seed: 5, maxTokens: 40});
    // pick a character that occurs in a sample and use it as stop string
    const s = samples.find((x) => x.text.length > 3)!;
    const stopChar = s.text[2];
    const [cut] = await engine.generate({prompt, n: 1, seed: 5, maxTokens: 40, stop: [stopChar]});
    assert.equal(cut.finishReason, "stop");
    assert.ok(!cut.text.includes(stopChar));
    assert.ok(samples[0].text.startsWith(cut.text));
});

test("probeTokens reads candidate probabilities at given positions in one pass", async () => {
    const ids = await engine.tokenize("12 + 7 = 19<|step|>19 * 3 = 57<|step|>");
    const tag = m.vocab.stepTagId;
    const positions = ids.flatMap((t, i) => (t === tag ? [i] : []));
    assert.equal(positions.length, 2, "the step tag is one token");
    const {probs} = await engine.probeTokens({input: ids, positions, candidates: [m.vocab.goodId, m.vocab.badId]});
    const ref = nextTokenProbs(m.config, m.weights, ids);
    positions.forEach((pos, j) => {
        assert.ok(Math.abs(probs[j][0] - ref[pos][m.vocab.goodId]) < 1e-5);
        assert.ok(Math.abs(probs[j][1] - ref[pos][m.vocab.badId]) < 1e-5);
    });
});

test("nextToken and promptLogprobs agree with the forward pass", async () => {
    const ids = await engine.tokenize(prompt);
    const ref = nextTokenProbs(m.config, m.weights, ids);
    const {top} = await engine.nextToken(ids, {topK: 5});
    assert.equal(top.length, 5);
    assert.ok(Math.abs(top[0].prob - Math.max(...ref[ids.length - 1])) < 1e-5);
    const lp = await engine.promptLogprobs(ids, {topK: 3});
    assert.equal(lp[0], null);
    for (let i = 1; i < ids.length; i++) {
        assert.ok(Math.abs(lp[i]!.prob - ref[i - 1][ids[i]]) < 1e-5);
        // the true vocabulary rank: 1 + the number of tokens strictly more likely
        // (bounds: near-ties in float32 logits may order either way)
        const p0 = ref[i - 1][ids[i]];
        const lo = 1 + ref[i - 1].filter((p) => p > p0 * (1 + 1e-4)).length;
        const hi = 1 + ref[i - 1].filter((p) => p > p0 * (1 - 1e-4)).length;
        assert.ok(lp[i]!.rank >= lo && lp[i]!.rank <= hi, `rank at ${i}: ${lp[i]!.rank} not in [${lo}, ${hi}]`);
        assert.equal(lp[i]!.id, ids[i]);
        assert.equal(lp[i]!.top.length, 3);
    }
});

test("bad requests fail with clear errors", async () => {
    await assert.rejects(engine.generate({prompt, n: 0}), /n must be a positive integer/);
    await assert.rejects(engine.generate({prompt: [1, 99999]}), /outside the vocabulary/);
    await assert.rejects(engine.probeTokens({input: "ab", positions: [50], candidates: [3]}), /outside the input/);
    await assert.rejects(LlamaEngine.load("/nonexistent/model.gguf"), /model file not found/);
});

test("node-llama-cpp internal used for prefix copies is still there (exact version pin)", async () => {
    // LlamaEngine copies a prompt's KV cache with the undocumented
    // LlamaContextSequence._copyStateFromOtherSequence; package.json pins node-llama-cpp exactly.
    // If an upgrade drops or renames it, this fails (the engine would silently fall back to one
    // prefix evaluation per sequence).
    const pkg = JSON.parse(await import("node:fs").then((fs) => fs.readFileSync(new URL("../../../package.json", import.meta.url), "utf8")));
    assert.match(pkg.dependencies["node-llama-cpp"], /^\d+\.\d+\.\d+$/, "node-llama-cpp must be pinned to an exact version");
    const proto = Object.getPrototypeOf((engine as unknown as {sequencePool: {free: object[]}}).sequencePool.free[0]);
    assert.equal(typeof proto._copyStateFromOtherSequence, "function");
    const before = engine.stats().prefixEvaluations;
    await engine.generate({prompt: "Compute 9 + 9.\n", n: 4, seed: 1, maxTokens: 3});
    assert.equal(engine.stats().prefixEvaluations - before, 1, "4 sequences from one prefix evaluation");
});

test("capabilities, facets and stopBelowConfidence (native)", async () => {
    assert.deepEqual(engine.capabilities, {maxTopLogprobs: engine.info.vocabSize, exactProbes: true, stopBelowConfidence: "native", streaming: true});
    for (const facet of ["chat", "probeTokens", "promptLogprobs", "pool"] as const) assert.equal(typeof engine[facet], "function", facet);
    const [s] = await engine.generate({prompt, seed: 2, temperature: 1, maxTokens: 40, stopBelowConfidence: 1});
    assert.equal(s.finishReason, "low-confidence");
    assert.equal(s.tokens.length, 1, "every token is below τ = 1: the first one ends the sample");
    await assert.rejects(engine.generate({prompt, stopBelowConfidence: 2}), /stopBelowConfidence must be in \[0, 1\]/);
});
