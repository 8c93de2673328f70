/**
 * Hyper-parameters of the tiny llama-architecture models stepwise trains and writes as GGUF.
 */
import {StepwiseError} from "../util/errors.ts";

/** Shape of a llama model (the subset llama.cpp's `llama` architecture needs). */
export interface LlamaConfig {
    /** Number of tokens in the vocabulary. */
    vocabSize: number;
    /** Embedding (residual stream) width. */
    dModel: number;
    /** Number of transformer blocks. */
    nLayers: number;
    /** Number of attention heads; dModel must be divisible by it. */
    nHeads: number;
    /** Number of key/value heads; stepwise models use nKvHeads = nHeads (no GQA). */
    nKvHeads: number;
    /** Hidden width of the SwiGLU feed-forward block. */
    dFF: number;
    /** Maximum sequence length the model is meant for (written as llama.context_length). */
    contextLength: number;
    /** RoPE base frequency. */
    ropeTheta: number;
    /** RMSNorm epsilon. */
    rmsEps: number;
}

/** Width of one attention head. */
export function headDim(config: LlamaConfig): number {
    return config.dModel / config.nHeads;
}

/** Fill the optional fields with stepwise defaults and validate the result. */
export function makeLlamaConfig(c: Pick<LlamaConfig, "vocabSize" | "dModel" | "nLayers" | "nHeads"> & Partial<LlamaConfig>): LlamaConfig {
    const config: LlamaConfig = {
        nKvHeads: c.nHeads,
        dFF: c.dFF ?? defaultFeedForward(c.dModel),
        contextLength: 512,
        ropeTheta: 10000,
        rmsEps: 1e-5,
        ...c,
    };
    validateLlamaConfig(config);
    return config;
}

/** SwiGLU width: about 8/3 · d, rounded up to a multiple of 32. */
export function defaultFeedForward(dModel: number): number {
    return Math.ceil((8 * dModel) / 3 / 32) * 32;
}

/** Throw a StepwiseError if the config is not a valid stepwise llama shape. */
export function validateLlamaConfig(c: LlamaConfig): void {
    const ints: Array<keyof LlamaConfig> = ["vocabSize", "dModel", "nLayers", "nHeads", "nKvHeads", "dFF", "contextLength"];
    for (const k of ints)
        if (!Number.isInteger(c[k]) || (c[k] as number) <= 0) throw new StepwiseError(`llama config: ${k} must be a positive integer, got ${c[k]}`);
    if (c.dModel % c.nHeads !== 0) throw new StepwiseError(`llama config: dModel ${c.dModel} is not divisible by nHeads ${c.nHeads}`);
    if (headDim(c) % 2 !== 0) throw new StepwiseError(`llama config: head dimension ${headDim(c)} must be even (RoPE)`);
    if (c.nKvHeads !== c.nHeads) throw new StepwiseError(`llama config: nKvHeads must equal nHeads (${c.nHeads}), got ${c.nKvHeads}`);
    if (!(c.ropeTheta > 0) || !(c.rmsEps > 0)) throw new StepwiseError("llama config: ropeTheta and rmsEps must be positive");
}
