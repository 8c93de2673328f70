/**
 * Weight naming and shapes of stepwise llama models. Weights are stored under their GGUF tensor
 * names as flat row-major Float32Arrays: a matrix W[out][in] is `out` rows of `in` values, which is
 * exactly GGUF's layout for dims [in, out] (ne[0] innermost), so no transposition is ever needed.
 */
import {headDim, type LlamaConfig} from "./config.ts";
import {Sfc32Rng as Rng} from "../util/rng.ts";
import {StepwiseError} from "../util/errors.ts";

/** Weights by GGUF tensor name. */
export type LlamaWeights = Record<string, Float32Array>;

/** GGUF dims (ne[0] first) of every tensor of a model, in file order. */
export function llamaTensorDims(c: LlamaConfig): Array<{name: string; dims: number[]}> {
    const d = c.dModel;
    const kv = c.nKvHeads * headDim(c);
    const out: Array<{name: string; dims: number[]}> = [{name: "token_embd.weight", dims: [d, c.vocabSize]}];
    for (let l = 0; l < c.nLayers; l++) {
        const p = `blk.${l}.`;
        out.push(
            {name: p + "attn_norm.weight", dims: [d]},
            {name: p + "attn_q.weight", dims: [d, d]},
            {name: p + "attn_k.weight", dims: [d, kv]},
            {name: p + "attn_v.weight", dims: [d, kv]},
            {name: p + "attn_output.weight", dims: [d, d]},
            {name: p + "ffn_norm.weight", dims: [d]},
            {name: p + "ffn_gate.weight", dims: [d, c.dFF]},
            {name: p + "ffn_up.weight", dims: [d, c.dFF]},
            {name: p + "ffn_down.weight", dims: [c.dFF, d]},
        );
    }
    out.push({name: "output_norm.weight", dims: [d]}, {name: "output.weight", dims: [d, c.vocabSize]});
    return out;
}

/** Total number of parameters. */
export function countParameters(c: LlamaConfig): number {
    return llamaTensorDims(c).reduce((n, t) => n + t.dims.reduce((a, b) => a * b, 1), 0);
}

/** Throw if `weights` lacks a tensor of `config` or has one of the wrong size. */
export function checkLlamaWeights(c: LlamaConfig, weights: LlamaWeights): void {
    for (const {name, dims} of llamaTensorDims(c)) {
        const w = weights[name];
        const n = dims.reduce((a, b) => a * b, 1);
        if (!w) throw new StepwiseError(`llama weights: missing tensor ${name}`);
        if (w.length !== n) throw new StepwiseError(`llama weights: ${name} has ${w.length} values, expected ${n} (dims [${dims}])`);
    }
}

/**
 * Seeded random initialization as in GPT-2: norms 1, every matrix N(0, 0.02²), the output
 * projections of residual branches (attn_output, ffn_down) scaled by 1/√(2·layers).
 * The same config and seed always give the same weights.
 */
export function randomLlamaWeights(c: LlamaConfig, seed: number): LlamaWeights {
    const rng = new Rng(seed);
    const weights: LlamaWeights = {};
    const residualScale = 1 / Math.sqrt(2 * c.nLayers);
    for (const {name, dims} of llamaTensorDims(c)) {
        const n = dims.reduce((a, b) => a * b, 1);
        const w = new Float32Array(n);
        if (name.endsWith("norm.weight")) w.fill(1);
        else {
            const std = name.endsWith("attn_output.weight") || name.endsWith("ffn_down.weight") ? 0.02 * residualScale : 0.02;
            for (let i = 0; i < n; i++) w[i] = rng.normal() * std;
        }
        weights[name] = w;
    }
    return weights;
}

/**
 * A deeper copy of a model that computes exactly the same function: `extra` blocks appended after
 * the last one, each with norms 1, attention q/k/v and feed-forward gate/up drawn as in
 * {@link randomLlamaWeights} (seeded), and zero residual-branch outputs (attn_output, ffn_down), so
 * each new block adds 0 to the residual stream until training moves those outputs (the
 * function-preserving deepening of Net2Net's Net2DeeperNet, Chen et al., arXiv 1511.05641, with
 * zero-initialised residual branches in place of identity matrices). The old tensors are shared,
 * not copied. Used by `lab train-judge --grow-layers`.
 * @throws StepwiseError when `extra` is not a positive integer or `weights` does not fit `c`.
 */
export function growLlamaLayers(c: LlamaConfig, weights: LlamaWeights, extra: number, seed: number): {config: LlamaConfig; weights: LlamaWeights} {
    if (!(Number.isInteger(extra) && extra > 0)) throw new StepwiseError(`grow layers: the number of new layers must be a positive integer, got ${extra}`);
    checkLlamaWeights(c, weights);
    const config: LlamaConfig = {...c, nLayers: c.nLayers + extra};
    const fresh = randomLlamaWeights(config, seed);
    const out: LlamaWeights = {...weights};
    for (let l = c.nLayers; l < config.nLayers; l++)
        for (const {name} of llamaTensorDims(config).filter((t) => t.name.startsWith(`blk.${l}.`)))
            out[name] = name.endsWith("attn_output.weight") || name.endsWith("ffn_down.weight") ? new Float32Array(fresh[name].length) : fresh[name];
    return {config, weights: out};
}
