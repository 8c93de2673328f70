import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, rmSync, readFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {trainLanguageModel, packBatch, learningRate, initTf, type TrainExample} from "../../../src/train/index.ts";
import {mm, bmm} from "../../../src/train/tfmodel.ts";
import type {Tensor, Tensor2D, Tensor3D} from "@tensorflow/tfjs-core";
import {readCheckpoint, writeCheckpoint} from "../../../src/train/checkpoint.ts";
import {makeLlamaConfig} from "../../../src/model/config.ts";
import {buildCharVocab, CharTokenizer} from "../../../src/model/vocab.ts";
import {Sfc32Rng as Rng} from "../../../src/util/rng.ts";
import {nextTokenProbs} from "../../../src/model/forward.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-train-"));
test.after(() => rmSync(dir, {recursive: true, force: true}));

const vocab = buildCharVocab();
const tok = new CharTokenizer(vocab);
const config = makeLlamaConfig({vocabSize: vocab.tokens.length, dModel: 32, nLayers: 1, nHeads: 2, dFF: 64});

/** Sums of two digits; loss on the answer only. Lengths vary so batches have several groups. */
const sums = (rng: Rng, n: number): TrainExample[] =>
    Array.from({length: n}, () => {
        const a = rng.int(10), b = rng.int(10);
        const pad = " ".repeat(rng.int(6));
        const prompt = tok.encode(`${pad}${a}+${b}=`, {addBos: true});
        const tokens = [...prompt, ...tok.encode(String(a + b)), vocab.eosId];
        return {tokens, lossMask: {start: prompt.length, end: tokens.length}};
    });

test("learning-rate schedule: linear warmup then cosine to the floor", () => {
    assert.equal(learningRate(0, 100, 1, 10, 0.1), 0.1);
    assert.equal(learningRate(9, 100, 1, 10, 0.1), 1);
    assert.ok(Math.abs(learningRate(100, 100, 1, 10, 0.1) - 0.1) < 1e-12);
    assert.ok(learningRate(50, 100, 1, 10, 0.1) < 1 && learningRate(50, 100, 1, 10, 0.1) > 0.1);
});

test("mm and bmm: values and gradients equal tf.matMul's (2-D and batched 3-D)", async () => {
    const tf = await initTf();
    const rng = new Rng(3);
    const rand = (shape: number[]) => tf.tensor(Array.from({length: shape.reduce((a, b) => a * b, 1)}, () => rng.next() - 0.5), shape);
    /** Gradients of sum(f(a, b) ⊙ w) with respect to a and b (w random, so they are not all ones). */
    const check = (f: (a: Tensor, b: Tensor) => Tensor, sa: number[], sb: number[]) => {
        const [a, b] = [rand(sa), rand(sb)];
        const w = rand([...sa.slice(0, -1), sb[sb.length - 1]]);
        const gradsOf = (g: (a: Tensor, b: Tensor) => Tensor) => tf.grads((x: Tensor, y: Tensor) => tf.sum(tf.mul(g(x, y), w)))([a, b]);
        const [ours, theirs] = [gradsOf(f), gradsOf((x, y) => tf.matMul(x, y))];
        assert.deepEqual(Array.from(f(a, b).dataSync()), Array.from(tf.matMul(a, b).dataSync()));
        for (let i = 0; i < 2; i++) {
            assert.deepEqual(ours[i].shape, theirs[i].shape);
            const [x, y] = [ours[i].dataSync(), theirs[i].dataSync()];
            for (let k = 0; k < x.length; k++) assert.ok(Math.abs(x[k] - y[k]) < 1e-5, `${sa.length}-D gradient ${i}[${k}]: ${x[k]} vs ${y[k]}`);
        }
    };
    check((a, b) => mm(a as Tensor2D, b as Tensor2D), [3, 4], [4, 5]);
    check((a, b) => bmm(a as Tensor3D, b as Tensor3D), [2, 3, 4], [2, 4, 5]);
});

test("packBatch: length groups, loss positions, restricted-softmax targets", () => {
    const examples: TrainExample[] = [
        {tokens: [1, 300, 301, 2], lossMask: {start: 2, end: 4}},
        {tokens: [1, 300, 301, 302, 303, 304, 2], lossMask: [false, false, false, false, false, true, true]},
        {tokens: [1, 300, vocab.stepTagId, 301, vocab.stepTagId], targets: [{pos: 2, tokenIds: [vocab.goodId, vocab.badId], probs: [0.75, 0.25]}, {pos: 4, tokenIds: [vocab.goodId, vocab.badId], probs: [0, 1]}]},
    ];
    const b = packBatch(examples, vocab.tokens.length, 64, {groupSize: 2});
    // Longest first: example 1 (6 positions) with example 2 (5 positions, targets need all tokens), then example 0 (3).
    assert.deepEqual(b.groups, [{rows: 2, t: 6}, {rows: 1, t: 3}]);
    assert.equal(b.inputs.length, 15);
    assert.equal(b.count, 2 + 2 + 2);
    assert.equal(b.realTokens, 6 + 5 + 3);
    const V = vocab.tokens.length;
    // Example 2 is row 1 of group 0 (offset 6): target at its position 2.
    const row = (6 + 2) * V;
    assert.equal(b.targets[row + vocab.goodId], 0.75);
    assert.equal(b.targets[row + vocab.badId], 0.25);
    assert.equal(b.supportBias![row + vocab.goodId], 0);
    assert.equal(b.supportBias![row + 300], -1e9);
    // Example 0 is group 1 (offset 12): tokens 301 and EOS predicted from positions 1 and 2.
    assert.equal(b.targets[(12 + 1) * V + 301], 1);
    assert.equal(b.targets[(12 + 2) * V + 2], 1);
    assert.equal(b.targets[(12 + 0) * V + 300], 0);
    assert.throws(() => packBatch([{tokens: [1, 9999]}], V, 8), /out of range/);
});

test("checkpoint files round-trip and are replaced atomically", () => {
    const p = join(dir, "ck", "checkpoint.bin");
    writeCheckpoint(p, {step: 3, note: "é"}, [{name: "a", data: new Float32Array([1, 2, 3])}, {name: "b", data: new Float32Array([4])}]);
    const back = readCheckpoint(p)!;
    assert.equal(back.header.step, 3);
    assert.equal(back.header.note, "é");
    assert.deepEqual(Array.from(back.tensors.get("a")!), [1, 2, 3]);
    assert.deepEqual(Array.from(back.tensors.get("b")!), [4]);
    assert.equal(readCheckpoint(join(dir, "none.bin")), null);
});

test("training reduces the loss; a resumed run ends with the same weights as an uninterrupted one", async () => {
    const base = {config, batchSource: sums, steps: 20, lr: 1e-2, batchSize: 8, seqLen: 32, groupSize: 3, seed: 11, quiet: true, checkpointEverySteps: 5};
    const full = await trainLanguageModel({...base, checkpointDir: join(dir, "full")});
    const first = full.losses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const last = full.losses.slice(-3).reduce((a, b) => a + b) / 3;
    assert.ok(last < first * 0.7, `loss ${first} → ${last}`);
    assert.equal(full.steps, 20);
    assert.ok(full.completed);

    const ck = join(dir, "split");
    const part = await trainLanguageModel({...base, checkpointDir: ck, stopAtStep: 8});
    assert.equal(part.steps, 8);
    assert.equal(part.completed, false);
    const rest = await trainLanguageModel({...base, checkpointDir: ck});
    assert.equal(rest.resumedFrom, 8);
    assert.equal(rest.steps, 20);
    for (const name of Object.keys(full.weights)) assert.deepEqual(rest.weights[name], full.weights[name], name);
    assert.deepEqual([...part.losses, ...rest.losses], full.losses);
    assert.match(readFileSync(join(ck, "train.log"), "utf8"), /resumed from .* at step 8/);

    // A checkpoint trained with other settings is refused, naming them; the same settings resume.
    const st = join(dir, "settings");
    await trainLanguageModel({...base, checkpointDir: st, stopAtStep: 5, settings: {data: "a.jsonl", weight: 8}});
    await assert.rejects(trainLanguageModel({...base, checkpointDir: st, settings: {data: "a.jsonl", weight: 1}}), /checkpoint of another run \(settings\.weight: 8 → 1\)/);
    await assert.rejects(trainLanguageModel({...base, checkpointDir: st}), /\(settings\.data: "a\.jsonl" → \(not set\); settings\.weight: 8 → \(not set\)\)/);
    assert.equal((await trainLanguageModel({...base, checkpointDir: st, settings: {weight: 8, data: "a.jsonl"}})).resumedFrom, 5);

    // A checkpoint trained on another schedule (learning rate, batch, seed, clipping, decay) is refused,
    // naming each field; a longer --steps is not a schedule change and resumes.
    const sch = join(dir, "schedule");
    await trainLanguageModel({...base, checkpointDir: sch, stopAtStep: 5});
    await assert.rejects(trainLanguageModel({...base, lr: 5e-3, checkpointDir: sch}), /checkpoint of another run \(schedule\.lr: 0\.01 → 0\.005\); give the options it was started with/);
    await assert.rejects(trainLanguageModel({...base, batchSize: 4, seed: 12, checkpointDir: sch}), /\(schedule\.batchSize: 8 → 4; schedule\.seed: 11 → 12\)/);
    await assert.rejects(trainLanguageModel({...base, gradClip: 0, weightDecay: 0.1, checkpointDir: sch}), /\(schedule\.gradClip: 1 → 0; schedule\.weightDecay: 0 → 0\.1\)/);
    assert.equal((await trainLanguageModel({...base, steps: 25, checkpointDir: sch})).resumedFrom, 5);

    // A checkpoint of another shape is refused.
    await assert.rejects(trainLanguageModel({...base, config: {...config, dFF: 96}, checkpointDir: ck}), /checkpoint of another run \(shape\.dFF: 64 → 96\)/);
});

test("target distributions over a token subset train a PRM-style head", async () => {
    // Label: good after an even digit, bad after an odd one (soft targets 0.9 / 0.1).
    const prm = (rng: Rng, n: number): TrainExample[] =>
        Array.from({length: n}, () => {
            const d = rng.int(10);
            const tokens = tok.encode(`${d}<|step|>`, {addBos: true});
            const p = d % 2 === 0 ? 0.9 : 0.1;
            return {tokens, targets: [{pos: tokens.length - 1, tokenIds: [vocab.goodId, vocab.badId], probs: [p, 1 - p]}]};
        });
    const r = await trainLanguageModel({config, batchSource: prm, steps: 40, lr: 1e-2, batchSize: 16, seqLen: 8, seed: 2, quiet: true});
    const score = (d: number): number => {
        const ids = tok.encode(`${d}<|step|>`, {addBos: true});
        const p = nextTokenProbs(config, r.weights, ids).at(-1)!;
        return p[vocab.goodId] / (p[vocab.goodId] + p[vocab.badId]);
    };
    assert.ok(score(4) > 0.7 && score(7) < 0.3, `scores ${score(4)} ${score(7)}`);
});
