/**
 * The llama engine's linear-time tokenization (src/engines/llama/tokenize.ts) against
 * node-llama-cpp's own one-call tokenization, on the char vocabulary of the lab models and on
 * three real vocabularies (Mistral's SPM with its space prefix, Llama-3's and Qwen's byte-level
 * BPE with their special tokens); and that it is linear where the one call is quadratic.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {tinyModel} from "../../helpers/tiny-model.ts";
import {realVocabModel, type RealVocabName} from "../../helpers/real-vocab.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {ContextOverflowError} from "../../../src/util/errors.ts";
import {mulberry32} from "../../../src/util/rng.ts";

/** Random texts made of words, whitespace and the vocabulary's special tokens, next to each other and alone. */
function texts(specials: string[], seed: number, count: number): string[] {
    const rng = mulberry32(seed);
    const parts = ["Compute", " 3 + 4", "=", "7", "\n", "\n\n", " ", "  ", "\t", "é", "日本", "ки", "12.5", "The answer is", ...specials, ...specials];
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
        let t = "";
        const n = 1 + Math.floor(rng() * 14);
        for (let j = 0; j < n; j++) t += parts[Math.floor(rng() * parts.length)];
        out.push(t);
    }
    return out;
}

async function sameAsOneCall(path: string, specials: string[]): Promise<void> {
    const engine = await LlamaEngine.load(path, {sequences: 1, contextSize: 1024});
    try {
        const cases = [...texts(specials, 7, 300), specials.join(""), specials.join(" "), ` ${specials[0]} x ${specials[0]}`, `${specials[0]}\n${specials[0]}`];
        for (const text of cases)
            for (const special of [true, false]) {
                const oneCall = Array.from(engine.model.tokenize(text, special) as number[]);
                const got = await engine.tokenize(text, {addBos: false, special});
                assert.deepEqual(got, oneCall, `${JSON.stringify(text)} special=${special}`);
                if (special) assert.ok(engine.tokenLowerBound(text).tokens <= oneCall.length, `bound above the count for ${JSON.stringify(text)}`);
            }
    } finally {
        await engine.close();
    }
}

test("lab char vocabulary: the same tokens as one node-llama-cpp call, and the bound never exceeds the count", async () => {
    await sameAsOneCall(tinyModel(1, 8).path, ["<|step|>", "<|good|>", "<|bad|>", "<s>", "</s>"]);
});

for (const [name, specials] of [
    ["mistral", ["<s>", "</s>", "<unk>"]],
    ["llama3", ["<|begin_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|reserved_special_token_0|>"]],
    ["qwen", ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<extra_0>", "<tool_call>", "</tool_call>", "<|fim_prefix|>"]],
] as Array<[RealVocabName, string[]]>)
    test(`${name} vocabulary: the same tokens as one node-llama-cpp call`, async () => {
        await sameAsOneCall((await realVocabModel(name)).path, specials);
    });

test("80,000 tags tokenize in linear time, and a prompt that cannot fit is refused before tokenizing", async () => {
    const m = tinyModel(1, 8);
    const engine = await LlamaEngine.load(m.path, {sequences: 1, contextSize: 256});
    try {
        // One native call on 20,000 tags costs ~0.7 s and grows with the square; 80,000 took 40 s.
        const tags = "1+1=2<|step|>".repeat(80_000);
        const t0 = performance.now();
        const ids = await engine.tokenize(tags, {addBos: false});
        const ms = performance.now() - t0;
        assert.equal(ids.length, 80_000 * 6);
        assert.ok(ms < 3000, `${ms.toFixed(0)} ms for 80,000 tags`);
        assert.deepEqual(engine.tokenLowerBound(tags), {tokens: 80_000 + Math.ceil((80_000 * 5) / 8), specialTags: 80_000, bytes: 80_000 * 13});
        // generate / pool on a text prompt: refused from the bound, in well under the tokenization's time.
        const huge = "<|step|>".repeat(600_000);
        const t1 = performance.now();
        await assert.rejects(engine.generate({prompt: huge, maxTokens: 1}), (e: unknown) => e instanceof ContextOverflowError && /at least 600001 tokens \(4800000 bytes\), so it is longer than the context \(256 tokens\)/.test(e.message));
        await assert.rejects(engine.pool({input: huge, step: {tagId: m.vocab.stepTagId, returnedTokenIds: [m.vocab.goodId, m.vocab.badId]}}), ContextOverflowError);
        // Under the bytes' bound (1960 bytes, at most 8 per token: 245) the tags are counted: 280 tags, 280 tokens.
        await assert.rejects(engine.generate({prompt: "<|bad|>".repeat(280), maxTokens: 1}), /at least 281 tokens \(280 special tags in 1960 bytes\)/);
        assert.ok(performance.now() - t1 < 2000, `${(performance.now() - t1).toFixed(0)} ms to refuse 600,000 tags`);
    } finally {
        await engine.close();
    }
});
