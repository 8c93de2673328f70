/**
 * Stepwise llama models as GGUF files that llama.cpp (node-llama-cpp) runs: the `llama`
 * architecture metadata, the SPM character vocabulary, `stepwise.*` keys that make a PRM file
 * self-describing, and F32 tensors.
 */
import {writeGguf, gv, type GgufValue} from "./writer.ts";
import {readGgufInfo, readGgufF32Tensors, type GgufInfo} from "./reader.ts";
import {headDim, validateLlamaConfig, type LlamaConfig} from "../model/config.ts";
import {checkLlamaWeights, llamaTensorDims, type LlamaWeights} from "../model/weights.ts";
import {TokenType, type CharVocab} from "../model/vocab.ts";
import {StepwiseError} from "../util/errors.ts";

/** What a stepwise model file is for. */
export type StepwiseModelKind = "policy" | "prm";

export interface WriteLlamaGgufOptions {
    config: LlamaConfig;
    weights: LlamaWeights;
    vocab: CharVocab;
    /** `general.name`. Default "stepwise-tiny-llama". */
    name?: string;
    /** `stepwise.kind`. Default "policy". */
    kind?: StepwiseModelKind;
    /**
     * More metadata (keys should start with "stepwise."). Plain values are typed as: string →
     * string, boolean → bool, integer → int32, other number → float32; pass a {@link GgufValue}
     * to choose the type.
     */
    extraMetadata?: Record<string, string | number | boolean | GgufValue>;
}

/** The `tokenizer.ggml.*` metadata of a vocabulary. */
export function vocabMetadata(vocab: CharVocab): Record<string, GgufValue> {
    return {
        "tokenizer.ggml.model": gv.str("llama"),
        "tokenizer.ggml.tokens": gv.arr("string", vocab.tokens),
        "tokenizer.ggml.scores": gv.arr("float32", vocab.scores),
        "tokenizer.ggml.token_type": gv.arr("int32", vocab.tokenTypes),
        "tokenizer.ggml.bos_token_id": gv.u32(vocab.bosId),
        "tokenizer.ggml.eos_token_id": gv.u32(vocab.eosId),
        "tokenizer.ggml.unknown_token_id": gv.u32(vocab.unkId),
        "tokenizer.ggml.add_bos_token": gv.bool(true),
        "tokenizer.ggml.add_eos_token": gv.bool(false),
        "tokenizer.ggml.add_space_prefix": gv.bool(false),
    };
}

function toGgufValue(key: string, v: string | number | boolean | GgufValue): GgufValue {
    if (typeof v === "string") return gv.str(v);
    if (typeof v === "boolean") return gv.bool(v);
    if (typeof v === "number") return Number.isInteger(v) ? gv.i32(v) : gv.f32(v);
    if (v && typeof v === "object" && "type" in v) return v;
    throw new StepwiseError(`gguf: metadata ${key}: unsupported value ${JSON.stringify(v)}`);
}

/** The `general.*` and `llama.*` metadata of an F32 llama model with this config (llama.cpp's keys). */
export function llamaArchMetadata(c: LlamaConfig, name: string): Record<string, GgufValue> {
    return {
        "general.architecture": gv.str("llama"),
        "general.name": gv.str(name),
        "general.file_type": gv.u32(0), // ALL_F32
        "llama.context_length": gv.u32(c.contextLength),
        "llama.embedding_length": gv.u32(c.dModel),
        "llama.block_count": gv.u32(c.nLayers),
        "llama.feed_forward_length": gv.u32(c.dFF),
        "llama.attention.head_count": gv.u32(c.nHeads),
        "llama.attention.head_count_kv": gv.u32(c.nKvHeads),
        "llama.rope.dimension_count": gv.u32(headDim(c)),
        "llama.rope.freq_base": gv.f32(c.ropeTheta),
        "llama.attention.layer_norm_rms_epsilon": gv.f32(c.rmsEps),
        "llama.vocab_size": gv.u32(c.vocabSize),
    };
}

/** Write a stepwise llama model (F32) as GGUF at `path` (atomically). */
export function writeLlamaGguf(path: string, options: WriteLlamaGgufOptions): void {
    const {config: c, weights, vocab} = options;
    validateLlamaConfig(c);
    checkLlamaWeights(c, weights);
    if (vocab.tokens.length !== c.vocabSize) throw new StepwiseError(`gguf: vocabulary has ${vocab.tokens.length} tokens but config.vocabSize is ${c.vocabSize}`);
    const metadata: Record<string, GgufValue> = {
        ...llamaArchMetadata(c, options.name ?? "stepwise-tiny-llama"),
        ...vocabMetadata(vocab),
        "stepwise.kind": gv.str(options.kind ?? "policy"),
        "stepwise.step_tag": gv.str(vocab.stepTag),
        "stepwise.step_tag_id": gv.u32(vocab.stepTagId),
        "stepwise.good_token": gv.str(vocab.goodToken),
        "stepwise.good_token_id": gv.u32(vocab.goodId),
        "stepwise.bad_token": gv.str(vocab.badToken),
        "stepwise.bad_token_id": gv.u32(vocab.badId),
    };
    for (const [k, v] of Object.entries(options.extraMetadata ?? {})) metadata[k] = toGgufValue(k, v);
    const tensors = llamaTensorDims(c).map(({name, dims}) => ({name, dims, data: weights[name]}));
    writeGguf(path, metadata, tensors);
}

export interface LlamaGgufModel {
    config: LlamaConfig;
    weights: LlamaWeights;
    vocab: CharVocab;
    /** All metadata by full key (see {@link GgufInfo}), including `stepwise.*`. */
    metadata: Record<string, unknown>;
}

/** The shortest decimal that is the same float32 as `v` (so 1e-5 written as F32 reads back as 1e-5). */
export function shortestFloat32(v: number): number {
    const f = Math.fround(v);
    for (let p = 1; p <= 9; p++) {
        const d = parseFloat(f.toPrecision(p));
        if (Math.fround(d) === f) return d;
    }
    return f;
}

/** Read a stepwise llama GGUF (F32) back into config, weights and vocabulary. */
export async function readLlamaGguf(path: string): Promise<LlamaGgufModel> {
    const info = await readGgufInfo(path);
    const m = info.metadata;
    if (m["general.architecture"] !== "llama") throw new StepwiseError(`${path}: architecture is ${String(m["general.architecture"])}, expected llama`);
    const num = (key: string, fallback?: number): number => {
        const v = m[key];
        if (v === undefined && fallback !== undefined) return fallback;
        if (typeof v !== "number" && typeof v !== "bigint") throw new StepwiseError(`${path}: metadata ${key} is missing`);
        return Number(v);
    };
    const tokens = m["tokenizer.ggml.tokens"] as string[] | undefined;
    if (!Array.isArray(tokens)) throw new StepwiseError(`${path}: no tokenizer.ggml.tokens`);
    const config: LlamaConfig = {
        vocabSize: num("llama.vocab_size", tokens.length),
        dModel: num("llama.embedding_length"),
        nLayers: num("llama.block_count"),
        nHeads: num("llama.attention.head_count"),
        nKvHeads: num("llama.attention.head_count_kv", num("llama.attention.head_count")),
        dFF: num("llama.feed_forward_length"),
        contextLength: num("llama.context_length"),
        ropeTheta: shortestFloat32(num("llama.rope.freq_base", 10000)),
        rmsEps: shortestFloat32(num("llama.attention.layer_norm_rms_epsilon")),
    };
    validateLlamaConfig(config);
    const types = (m["tokenizer.ggml.token_type"] as number[] | undefined) ?? tokens.map(() => TokenType.NORMAL);
    const idOf = (textKey: string, idKey: string): {text: string; id: number} => {
        const text = typeof m[textKey] === "string" ? (m[textKey] as string) : "";
        const id = m[idKey] !== undefined ? Number(m[idKey]) : tokens.indexOf(text);
        return {text, id};
    };
    const step = idOf("stepwise.step_tag", "stepwise.step_tag_id");
    const good = idOf("stepwise.good_token", "stepwise.good_token_id");
    const bad = idOf("stepwise.bad_token", "stepwise.bad_token_id");
    const vocab: CharVocab = {
        tokens,
        scores: (m["tokenizer.ggml.scores"] as number[] | undefined) ?? tokens.map(() => 0),
        tokenTypes: types.map(Number),
        unkId: num("tokenizer.ggml.unknown_token_id", 0),
        bosId: num("tokenizer.ggml.bos_token_id"),
        eosId: num("tokenizer.ggml.eos_token_id"),
        stepTag: step.text,
        stepTagId: step.id,
        goodToken: good.text,
        goodId: good.id,
        badToken: bad.text,
        badId: bad.id,
    };
    const weights = readGgufF32Tensors(path, info);
    checkLlamaWeights(config, weights);
    return {config, weights, vocab, metadata: m};
}
