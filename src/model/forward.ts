/**
 * A plain JS (Float32Array) forward pass of a stepwise llama model, with the same math as
 * llama.cpp's `llama` architecture: RMSNorm, RoPE on adjacent pairs (x[2i], x[2i+1]) of each
 * head, causal multi-head attention, SwiGLU feed-forward, untied output matrix.
 *
 * {@link LlamaRunner} keeps a KV cache, so feeding a sequence token by token costs O(n) per
 * token: it serves both whole-sequence scoring and generation (e.g. greedy evaluation).
 */
import {headDim, type LlamaConfig} from "./config.ts";
import {checkLlamaWeights, type LlamaWeights} from "./weights.ts";
import {StepwiseError} from "../util/errors.ts";

/** y[o] = Σ_i W[o][i]·x[i] for a row-major W of `out` rows of x.length values. */
function matVec(w: Float32Array, x: Float32Array, out: number): Float32Array {
    const n = x.length;
    const y = new Float32Array(out);
    for (let o = 0; o < out; o++) {
        let s = 0;
        const base = o * n;
        for (let i = 0; i < n; i++) s += w[base + i] * x[i];
        y[o] = s;
    }
    return y;
}

function rmsNorm(x: Float32Array, gain: Float32Array, eps: number): Float32Array {
    let ss = 0;
    for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
    const scale = 1 / Math.sqrt(ss / x.length + eps);
    const y = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = x[i] * scale * gain[i];
    return y;
}

/** Rotate adjacent pairs of each head of `v` (in place) for position `pos`. */
function rope(v: Float32Array, pos: number, nHeads: number, hd: number, theta: number): void {
    for (let i = 0; i < hd / 2; i++) {
        const angle = pos * Math.pow(theta, (-2 * i) / hd);
        const c = Math.cos(angle);
        const s = Math.sin(angle);
        for (let h = 0; h < nHeads; h++) {
            const j = h * hd + 2 * i;
            const a = v[j];
            const b = v[j + 1];
            v[j] = a * c - b * s;
            v[j + 1] = a * s + b * c;
        }
    }
}

/** Softmax of logits (computed in float64). */
export function softmax(logits: ArrayLike<number>, temperature = 1): Float64Array {
    const p = new Float64Array(logits.length);
    let max = -Infinity;
    for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] / temperature);
    let sum = 0;
    for (let i = 0; i < logits.length; i++) sum += p[i] = Math.exp(logits[i] / temperature - max);
    for (let i = 0; i < p.length; i++) p[i] /= sum;
    return p;
}

/** Incremental forward pass with a KV cache. */
export class LlamaRunner {
    private readonly keys: Float32Array[][] = [];
    private readonly values: Float32Array[][] = [];
    private readonly hd: number;

    constructor(readonly config: LlamaConfig, readonly weights: LlamaWeights) {
        checkLlamaWeights(config, weights);
        this.hd = headDim(config);
        this.reset();
    }

    /** Number of tokens fed since the last reset. */
    get length(): number {
        return this.keys[0]?.length ?? 0;
    }

    /** Forget all fed tokens. */
    reset(): void {
        this.keys.length = 0;
        this.values.length = 0;
        for (let l = 0; l < this.config.nLayers; l++) {
            this.keys.push([]);
            this.values.push([]);
        }
    }

    /** Drop fed tokens beyond the first `n` (e.g. to branch from a shared prefix). */
    truncate(n: number): void {
        for (let l = 0; l < this.config.nLayers; l++) {
            this.keys[l].length = Math.min(this.keys[l].length, n);
            this.values[l].length = Math.min(this.values[l].length, n);
        }
    }

    /** Feed one token; returns the logits of the next token. */
    feed(token: number): Float32Array {
        const c = this.config;
        const w = this.weights;
        const d = c.dModel;
        const hd = this.hd;
        if (!Number.isInteger(token) || token < 0 || token >= c.vocabSize) throw new StepwiseError(`forward: token id ${token} out of range`);
        const pos = this.length;
        let x: Float32Array = w["token_embd.weight"].slice(token * d, (token + 1) * d);
        const scale = 1 / Math.sqrt(hd);
        for (let l = 0; l < c.nLayers; l++) {
            const p = `blk.${l}.`;
            const h = rmsNorm(x, w[p + "attn_norm.weight"], c.rmsEps);
            const q = matVec(w[p + "attn_q.weight"], h, d);
            const k = matVec(w[p + "attn_k.weight"], h, d);
            const v = matVec(w[p + "attn_v.weight"], h, d);
            rope(q, pos, c.nHeads, hd, c.ropeTheta);
            rope(k, pos, c.nHeads, hd, c.ropeTheta);
            this.keys[l].push(k);
            this.values[l].push(v);
            const att = new Float32Array(d);
            const n = pos + 1;
            const scores = new Float64Array(n);
            for (let hh = 0; hh < c.nHeads; hh++) {
                const o = hh * hd;
                let max = -Infinity;
                for (let t = 0; t < n; t++) {
                    const kt = this.keys[l][t];
                    let s = 0;
                    for (let i = 0; i < hd; i++) s += q[o + i] * kt[o + i];
                    scores[t] = s * scale;
                    if (scores[t] > max) max = scores[t];
                }
                let sum = 0;
                for (let t = 0; t < n; t++) sum += scores[t] = Math.exp(scores[t] - max);
                for (let t = 0; t < n; t++) {
                    const a = scores[t] / sum;
                    const vt = this.values[l][t];
                    for (let i = 0; i < hd; i++) att[o + i] += a * vt[o + i];
                }
            }
            const ao = matVec(w[p + "attn_output.weight"], att, d);
            for (let i = 0; i < d; i++) x[i] += ao[i];
            const h2 = rmsNorm(x, w[p + "ffn_norm.weight"], c.rmsEps);
            const g = matVec(w[p + "ffn_gate.weight"], h2, c.dFF);
            const u = matVec(w[p + "ffn_up.weight"], h2, c.dFF);
            for (let i = 0; i < c.dFF; i++) g[i] = (g[i] / (1 + Math.exp(-g[i]))) * u[i];
            const f = matVec(w[p + "ffn_down.weight"], g, d);
            for (let i = 0; i < d; i++) x[i] += f[i];
        }
        x = rmsNorm(x, w["output_norm.weight"], c.rmsEps);
        return matVec(w["output.weight"], x, c.vocabSize);
    }
}

/** Logits after every token of `tokens` (row t predicts token t+1). */
export function forwardLogits(config: LlamaConfig, weights: LlamaWeights, tokens: readonly number[]): Float32Array[] {
    const runner = new LlamaRunner(config, weights);
    return tokens.map((t) => runner.feed(t));
}

/** Next-token probabilities after every token of `tokens`. */
export function nextTokenProbs(config: LlamaConfig, weights: LlamaWeights, tokens: readonly number[]): Float64Array[] {
    return forwardLogits(config, weights, tokens).map((l) => softmax(l));
}
