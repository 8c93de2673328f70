import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, rmSync, statSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {writeLlamaGguf, readLlamaGguf} from "../../../src/gguf/llama.ts";
import {checkGgufHeader, readGgufF32Tensors, readGgufInfo} from "../../../src/gguf/reader.ts";
import {StepwiseError} from "../../../src/util/errors.ts";
import {writeGguf, gv} from "../../../src/gguf/writer.ts";
import {randomLlamaWeights, llamaTensorDims} from "../../../src/model/weights.ts";
import {makeLlamaConfig} from "../../../src/model/config.ts";
import {buildCharVocab, CharTokenizer} from "../../../src/model/vocab.ts";
import {cpuLlama, llamaCppNextTokenProbs} from "../../helpers/llamacpp.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-gguf-"));
test.after(() => rmSync(dir, {recursive: true, force: true}));

const vocab = buildCharVocab();
const config = makeLlamaConfig({vocabSize: vocab.tokens.length, dModel: 32, nLayers: 2, nHeads: 2});
const weights = randomLlamaWeights(config, 7);
const modelPath = join(dir, "tiny.gguf");
writeLlamaGguf(modelPath, {config, weights, vocab, kind: "prm", extraMetadata: {"stepwise.note": "test", "stepwise.threshold": 0.25, "stepwise.k": 8}});

test("vocabulary layout", () => {
    assert.equal(vocab.unkId, 0);
    assert.equal(vocab.bosId, 1);
    assert.equal(vocab.eosId, 2);
    assert.deepEqual([vocab.stepTagId, vocab.goodId, vocab.badId], [3, 4, 5]);
    assert.equal(vocab.tokens[6], "<0x00>");
    assert.equal(vocab.tokens[261], "<0xFF>");
    assert.equal(vocab.tokens.length, 262 + 1 + 95);
    const tok = new CharTokenizer(vocab);
    assert.deepEqual(tok.encode("\n"), [262]);
    assert.equal(tok.encode("3 + 4 = 7\n").length, 10);
    assert.deepEqual(tok.encode("x<|step|>", {addBos: true, addEos: true}), [1, tok.encode("x")[0], 3, 2]);
    assert.equal(tok.decode(tok.encode("a b\n<|good|>é")), "a b\n<|good|>é");
});

test("GGUF reads back with readGgufInfo (node-llama-cpp's GGUF reader)", async () => {
    const info = await readGgufInfo(modelPath);
    const m = info.metadata;
    assert.equal(m["general.architecture"], "llama");
    assert.equal(m["llama.embedding_length"], 32);
    assert.equal(m["llama.block_count"], 2);
    assert.equal(m["llama.rope.dimension_count"], 16);
    assert.equal(m["tokenizer.ggml.model"], "llama");
    assert.equal(m["tokenizer.ggml.add_space_prefix"], false);
    assert.equal(m["stepwise.kind"], "prm");
    assert.equal(m["stepwise.step_tag"], "<|step|>");
    assert.equal(m["stepwise.note"], "test");
    assert.equal(m["stepwise.k"], 8);
    assert.ok(Math.abs((m["stepwise.threshold"] as number) - 0.25) < 1e-7);
    assert.deepEqual(m["tokenizer.ggml.tokens"], vocab.tokens);
    const dims = llamaTensorDims(config);
    assert.deepEqual(info.tensorInfos.map((t) => t.name), dims.map((t) => t.name));
    assert.deepEqual(info.tensorInfos.find((t) => t.name === "blk.0.ffn_down.weight")!.shape.map(Number), [config.dFF, 32]);
    for (const t of info.tensorInfos) assert.equal((info.tensorDataOffset + Number(t.offset)) % 32, 0);

    const back = await readLlamaGguf(modelPath);
    assert.deepEqual(back.config, config);
    assert.deepEqual(back.vocab, vocab);
    for (const {name} of dims) assert.deepEqual(back.weights[name], weights[name]);
});

test("generic writer: typed metadata and shape checks", async () => {
    const p = join(dir, "generic.gguf");
    writeGguf(p, {"general.architecture": gv.str("none"), "a.u": gv.u32(5), "a.i": gv.i32(-3), "a.b": gv.bool(true), "a.arr": gv.arr("int32", [1, -2])}, [
        {name: "t", dims: [3, 2], data: new Float32Array([1, 2, 3, 4, 5, 6])},
    ]);
    const info = await readGgufInfo(p);
    assert.equal(info.metadata["a.i"], -3);
    assert.equal(info.metadata["a.b"], true);
    assert.deepEqual(info.metadata["a.arr"], [1, -2]);
    assert.equal(statSync(p).size, info.tensorDataOffset + 32);
    assert.throws(() => writeGguf(p, {}, [{name: "t", dims: [4], data: new Float32Array(3)}]), /dims/);
    assert.throws(() => writeGguf(p, {"x": gv.u32(-1)}, []), /not a valid uint32/);
});

test("readGgufInfo: full metadata keys (also keys that prefix each other), and the file itself when its name reads as a split part", async () => {
    const p = join(dir, "m-00001-of-00002.gguf"); // node-llama-cpp would splice parts by default (part 2 does not exist)
    writeGguf(p, {"general.architecture": gv.str("none"), "a.b": gv.str("x"), "a": gv.u32(1), "a.b.c": gv.i32(-2), "z.u64": {type: "uint64", value: 5}}, [{name: "t", dims: [2], data: new Float32Array([1, 2])}]);
    const info = await readGgufInfo(p);
    const m = info.metadata;
    assert.deepEqual([m["general.architecture"], m["a"], m["a.b"], m["a.b.c"], m["z.u64"]], ["none", 1, "x", -2, 5n]);
    assert.deepEqual(info.tensorInfos, [{name: "t", shape: [2], dtype: 0, offset: 0}]);
    await assert.rejects(readGgufInfo(join(dir, "missing.gguf")), /missing\.gguf: no such file/);
});

test("a GGUF that cannot be opened is a one-line StepwiseError naming it (header check and tensor read)", async () => {
    const missing = join(dir, "gone.gguf");
    assert.throws(() => checkGgufHeader(missing), (e) => e instanceof StepwiseError && /gone\.gguf: no such file/.test(e.message) && !e.message.includes("\n"));
    const info = await readGgufInfo(modelPath);
    assert.throws(() => readGgufF32Tensors(missing, info), (e) => e instanceof StepwiseError && /gone\.gguf: no such file/.test(e.message));
});

test("node-llama-cpp loads the model, tokenizes like the JS tokenizer and gives a distribution", async () => {
    const llama = await cpuLlama();
    const model = await llama.loadModel({modelPath});
    const tok = new CharTokenizer(vocab);
    try {
        for (const text of ["Q: 12+7*3=?\nA: 7*3 = 21<|step|>\n", "  two  spaces <|good|><|bad|>", "tab\tand é"]) {
            assert.deepEqual(Array.from(model.tokenize(text, false)), tok.encode(text), text);
            assert.deepEqual(Array.from(model.tokenize(text, true)), tok.encode(text, {parseSpecial: true}), text);
            assert.equal(model.detokenize(model.tokenize(text, false)), text);
        }
        assert.deepEqual(Array.from(model.tokenize("<s>x</s>", true)), tok.encode("<s>x</s>", {parseSpecial: true}));
        assert.equal(model.tokens.bos, vocab.bosId);
        assert.equal(model.tokens.eos, vocab.eosId);
    } finally {
        await model.dispose();
    }
    const tokens = tok.encode("1+2=3\n", {addBos: true});
    const [probs] = await llamaCppNextTokenProbs(modelPath, tokens, [tokens.length - 1], config.vocabSize);
    const sum = probs.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-3, `sum ${sum}`);
    // Random small weights: a nearly uniform distribution.
    assert.ok(Math.max(...probs) < 0.05);
});
