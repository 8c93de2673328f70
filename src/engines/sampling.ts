/**
 * Token sampling from a raw next-token distribution, shared by engines that see logits.
 *
 * Order of operations (as vLLM and HF transformers do): temperature, then top-k, then top-p.
 * The recorded confidence is never affected: it is the raw softmax probability (see types.ts).
 * Randomness comes from a seeded generator (src/util/rng.ts): sample i of a request draws from
 * {@link sampleRng}(seed, i).
 */
import {Rng} from "../util/rng.ts";
import type {SamplingOptions} from "./types.ts";

/** Tokens generated when a request sets no maxTokens, on every engine. */
export const DEFAULT_MAX_TOKENS = 256;

/**
 * The sampling the in-process llama engine applies for these options (temperature, top-k, top-p,
 * min-p; no penalties), every filter explicit and neutral where unset: its
 * {@link Engine.samplingRecord}, in vLLM's field names.
 */
export function inProcessSamplingRecord(o: SamplingOptions): Record<string, unknown> {
    return {
        temperature: o.temperature ?? 1,
        max_tokens: o.maxTokens ?? DEFAULT_MAX_TOKENS,
        top_p: o.topP ?? 1,
        top_k: o.topK !== undefined && o.topK > 0 ? o.topK : -1,
        min_p: o.minP ?? 0,
        repetition_penalty: 1,
        frequency_penalty: 0,
        presence_penalty: 0,
        stop: o.stop ?? [],
    };
}

/**
 * The random stream of sample i of a request seeded `seed`: a function of `seed + i` only, the
 * rule of vLLM's parallel sampling (vllm/v1/engine/parallel_sampling.py seeds child j of a
 * request with n > 1 by `seed + j`). So a request for n samples with seed s, n requests for one
 * sample with seeds s, s+1, …, and chunks with `firstIndex` all give the same samples, in-process
 * and through an OpenAI-compatible server.
 */
export function sampleRng(seed: number, index: number): Rng {
    return new Rng(seed + index);
}

/** A raw distribution as parallel arrays sorted by logit, highest first. */
export interface RawDistribution {
    ids: Int32Array | number[];
    logits: Float32Array | number[];
    /** Σ exp(logit − maxLogit) over the WHOLE vocabulary (may exceed the sum over the listed ids). */
    totalWeight: number;
}

/** Raw probability of the i-th listed token. */
export function rawProb(dist: RawDistribution, i: number): number {
    return Math.exp(dist.logits[i] - dist.logits[0]) / dist.totalWeight;
}

export interface SampleParams {
    temperature: number;
    topK: number;
    topP: number;
    /** Min-p (0 = off), applied after temperature and before top-p, as vLLM's sampler does. */
    minP?: number;
}

/**
 * Pick an index into `dist` (sorted, highest first). Temperature 0 is greedy. The listed ids must
 * cover the candidates that top-k keeps (all of the vocabulary when topK is 0).
 */
export function sampleIndex(dist: RawDistribution, params: SampleParams, rng: {next(): number}): number {
    const n = dist.ids.length;
    if (params.temperature <= 0 || n === 1) return 0;
    let k = params.topK > 0 ? Math.min(params.topK, n) : n;
    const max = dist.logits[0];
    const weights = new Float64Array(k);
    let sum = 0;
    for (let i = 0; i < k; i++) {
        const w = Math.exp((dist.logits[i] - max) / params.temperature);
        weights[i] = w;
        sum += w;
    }
    let keep = k;
    if (params.minP !== undefined && params.minP > 0) {
        // weights[0] is the largest: keep the sorted prefix with weight ≥ minP · max.
        let m = 1;
        while (m < k && weights[m] >= params.minP * weights[0]) m++;
        if (m < k) {
            keep = m;
            sum = 0;
            for (let i = 0; i < keep; i++) sum += weights[i];
            k = keep;
        }
    }
    if (params.topP > 0 && params.topP < 1) {
        let cum = 0;
        for (let i = 0; i < k; i++) {
            cum += weights[i] / sum;
            if (cum >= params.topP) {
                keep = i + 1;
                break;
            }
        }
        if (keep < k) {
            sum = 0;
            for (let i = 0; i < keep; i++) sum += weights[i];
        }
    }
    let r = rng.next() * sum;
    for (let i = 0; i < keep; i++) {
        r -= weights[i];
        if (r < 0) return i;
    }
    return keep - 1;
}
