/** Test fixture: a tiny random-weight stepwise llama model written as GGUF into a temp folder. */
import {mkdtempSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {writeLlamaGguf} from "../../src/gguf/index.ts";
import {randomLlamaWeights, type LlamaWeights} from "../../src/model/weights.ts";
import {makeLlamaConfig, type LlamaConfig} from "../../src/model/config.ts";
import {buildCharVocab, type CharVocab} from "../../src/model/vocab.ts";

export interface TinyModel {
    path: string;
    config: LlamaConfig;
    weights: LlamaWeights;
    vocab: CharVocab;
}

const cache = new Map<string, TinyModel>();

/**
 * Write (once per process and seed) a d=32, 2-layer model. `sharpen` multiplies the output
 * matrix so distributions are peaked rather than nearly uniform, as a trained model's are.
 * `kind` is its `stepwise.kind` metadata: "prm" for a model used as a PRM (PRM loaders refuse a policy).
 */
export function tinyModel(seed = 1, sharpen = 8, kind: "policy" | "prm" = "policy"): TinyModel {
    const key = `${seed}:${sharpen}:${kind}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const vocab = buildCharVocab();
    const config = makeLlamaConfig({vocabSize: vocab.tokens.length, dModel: 32, nLayers: 2, nHeads: 2, contextLength: 512});
    const weights = randomLlamaWeights(config, seed);
    const out = weights["output.weight"];
    for (let i = 0; i < out.length; i++) out[i] *= sharpen;
    const path = join(mkdtempSync(join(tmpdir(), "stepwise-tiny-")), `tiny-${seed}.gguf`);
    writeLlamaGguf(path, {config, weights, vocab, name: "tiny-test", kind});
    const model = {path, config, weights, vocab};
    cache.set(key, model);
    return model;
}

/**
 * A tiny model (as {@link tinyModel}) whose output matrix is all NaN: llama.cpp loads it and
 * computes NaN logits, as a model with broken weights does. Written once per process and kind.
 */
export function nanModel(kind: "policy" | "prm" = "policy"): TinyModel {
    const key = `nan:${kind}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const vocab = buildCharVocab();
    const config = makeLlamaConfig({vocabSize: vocab.tokens.length, dModel: 32, nLayers: 2, nHeads: 2, contextLength: 512});
    const weights = randomLlamaWeights(config, 1);
    weights["output.weight"].fill(NaN);
    const path = join(mkdtempSync(join(tmpdir(), "stepwise-nan-")), `nan-${kind}.gguf`);
    writeLlamaGguf(path, {config, weights, vocab, name: "nan-test", kind});
    const model = {path, config, weights, vocab};
    cache.set(key, model);
    return model;
}
