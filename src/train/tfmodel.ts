/**
 * The llama model of src/model/forward.ts in TensorFlow.js, for training: same math (RMSNorm,
 * adjacent-pair RoPE, causal attention, SwiGLU, untied output), batched.
 *
 * Layout: every matrix is held as a variable of shape [in, out] (the transpose of the GGUF
 * row-major W[out][in]) so that the forward pass is plain `x @ W`; the embedding is [vocab, d].
 * Two measured details of the wasm backend shape the code: it has no gradient for `gather`, so
 * the embedding's gradient is a one-hot matmul (custom gradient); and its built-in matmul gradients use transposed matmuls,
 * which are slow, so {@link mm} and {@link bmm} have custom gradients that transpose explicitly.
 */
import * as tf from "@tensorflow/tfjs-core";
import {headDim, type LlamaConfig} from "../model/config.ts";
import {llamaTensorDims, type LlamaWeights} from "../model/weights.ts";
import type {RowGroup} from "./batch.ts";

/**
 * a @ b with explicit-transpose gradients (dA = dY @ Bᵀ, dB = Aᵀ @ dY), `transpose` swapping
 * the last two axes of the rank it serves.
 */
function matmulWithExplicitGradients<T extends tf.Tensor2D | tf.Tensor3D>(transpose: (t: T) => T): (a: T, b: T) => T {
    return tf.customGrad((a, b, save) => {
        (save as tf.GradSaveFunc)([a as T, b as T]);
        return {
            value: tf.matMul(a as T, b as T),
            gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
                const [sa, sb] = saved as T[];
                return [tf.matMul(dy as T, transpose(sb)), tf.matMul(transpose(sa), dy as T)];
            },
        };
    }) as (a: T, b: T) => T;
}

/** a @ b (2-D) with explicit-transpose gradients. */
export const mm = matmulWithExplicitGradients<tf.Tensor2D>((t) => tf.transpose(t));

/** Batched a @ b (3-D) with explicit-transpose gradients. */
export const bmm = matmulWithExplicitGradients<tf.Tensor3D>((t) => tf.transpose(t, [0, 2, 1]));

/** Whether a GGUF tensor is a matrix held transposed in training layout. */
function isMatrix(name: string): boolean {
    return !name.endsWith("norm.weight") && name !== "token_embd.weight";
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
    const out = new Float32Array(data.length);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
    return out;
}

function is2D(t: tf.Tensor): t is tf.Tensor2D {
    return t.rank === 2;
}

/** A trainable llama model. Call {@link dispose} when done. */
export class TfLlama {
    /** Variables by GGUF tensor name, in training layout. */
    readonly vars = new Map<string, tf.Variable>();
    /** The weight matrix `name` (a rank-2 variable); an Error when it is missing or not 2-D. */
    matrix(name: string): tf.Tensor2D {
        const v = this.vars.get(name);
        if (!v || !is2D(v)) throw new Error(`weight ${name}: ${v ? `rank ${v.rank}` : "missing"}, expected a matrix`);
        return v;
    }

    private readonly rot: tf.Tensor2D;
    private readonly masks = new Map<number, tf.Tensor2D>();
    private ropeCos = new Float32Array(0);
    private ropeSin = new Float32Array(0);

    /**
     * `namePrefix` is put before each tfjs variable name (tfjs names variables globally, so a second
     * model beside another, e.g. PRIME's implicit PRM beside the policy, needs its own prefix); the
     * keys of {@link vars} stay the GGUF tensor names. Default "".
     */
    constructor(readonly config: LlamaConfig, weights: LlamaWeights, namePrefix = "") {
        for (const {name, dims} of llamaTensorDims(config)) {
            const w = weights[name];
            // GGUF dims [in, out] = row-major W[out][in]; training layout is [in, out].
            const value = isMatrix(name)
                ? tf.tensor2d(transpose(w, dims[1], dims[0]), [dims[0], dims[1]])
                : dims.length === 2 ? tf.tensor2d(w, [dims[1], dims[0]]) : tf.tensor1d(w);
            this.vars.set(name, tf.variable(value, true, namePrefix + name));
            value.dispose();
        }
        // x @ rot turns each adjacent pair (a, b) into (-b, a): RoPE = x·cos + (x @ rot)·sin.
        const d = config.dModel;
        const r = new Float32Array(d * d);
        for (let i = 0; i < d; i += 2) {
            r[(i + 1) * d + i] = -1;
            r[i * d + i + 1] = 1;
        }
        this.rot = tf.tensor2d(r, [d, d]);
    }

    /** Current weights as GGUF-layout Float32Arrays (copies). */
    weights(): LlamaWeights {
        const out: LlamaWeights = {};
        for (const {name, dims} of llamaTensorDims(this.config)) {
            const data = this.vars.get(name)!.dataSync() as Float32Array;
            out[name] = isMatrix(name) ? transpose(data, dims[0], dims[1]) : data.slice();
        }
        return out;
    }

    /** Causal mask [t, t] (0 on and below the diagonal, -1e9 above), cached per length. */
    private causalMask(t: number): tf.Tensor2D {
        let m = this.masks.get(t);
        if (m) return m;
        const data = new Float32Array(t * t);
        for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) data[i * t + j] = -1e9;
        // Kept: cached across tf.tidy scopes.
        m = tf.keep(tf.tensor2d(data, [t, t]));
        this.masks.set(t, m);
        return m;
    }

    /** RoPE tables cos/sin [N, d] for rows laid out as `groups` (position = index within the row). */
    private ropeTables(groups: RowGroup[]): {cos: tf.Tensor2D; sin: tf.Tensor2D} {
        const {dModel: d, nHeads} = this.config;
        const hd = headDim(this.config);
        const maxT = Math.max(...groups.map((g) => g.t));
        const n = groups.reduce((s, g) => s + g.rows * g.t, 0);
        if (this.ropeCos.length < maxT * d) {
            this.ropeCos = new Float32Array(maxT * d);
            this.ropeSin = new Float32Array(maxT * d);
            for (let pos = 0; pos < maxT; pos++)
                for (let i = 0; i < hd / 2; i++) {
                    const angle = pos * Math.pow(this.config.ropeTheta, (-2 * i) / hd);
                    for (let h = 0; h < nHeads; h++) {
                        const j = pos * d + h * hd + 2 * i;
                        this.ropeCos[j] = this.ropeCos[j + 1] = Math.cos(angle);
                        this.ropeSin[j] = this.ropeSin[j + 1] = Math.sin(angle);
                    }
                }
        }
        const cos = new Float32Array(n * d);
        const sin = new Float32Array(n * d);
        let off = 0;
        for (const g of groups)
            for (let r = 0; r < g.rows; r++) {
                cos.set(this.ropeCos.subarray(0, g.t * d), off);
                sin.set(this.ropeSin.subarray(0, g.t * d), off);
                off += g.t * d;
            }
        return {cos: tf.tensor2d(cos, [n, d]), sin: tf.tensor2d(sin, [n, d])};
    }

    private rmsNorm(x: tf.Tensor2D, gain: string): tf.Tensor2D {
        const ms = tf.mean(tf.square(x), -1, true);
        return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, this.config.rmsEps))), this.vars.get(gain)!) as tf.Tensor2D;
    }

    private rope(x: tf.Tensor2D, tables: {cos: tf.Tensor2D; sin: tf.Tensor2D}): tf.Tensor2D {
        return tf.add(tf.mul(x, tables.cos), tf.mul(mm(x, this.rot), tables.sin));
    }

    /**
     * Embedding rows of `tokens`: a gather forward; the gradient is the one-hot matmul
     * onehot(tokens)ᵀ @ dy (wasm has no gather gradient), built directly in transposed layout.
     */
    private embed(tokens: Int32Array): tf.Tensor2D {
        const vocab = this.config.vocabSize;
        const n = tokens.length;
        const f = tf.customGrad((e, save) => {
            const oneHotT = new Float32Array(vocab * n);
            for (let i = 0; i < n; i++) oneHotT[tokens[i] * n + i] = 1;
            const sel = tf.tensor2d(oneHotT, [vocab, n]);
            (save as tf.GradSaveFunc)([sel]);
            return {
                value: tf.gather(e as tf.Tensor2D, tf.tensor1d(tokens, "int32")),
                gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.matMul(saved[0] as tf.Tensor2D, dy as tf.Tensor2D),
            };
        }) as (e: tf.Tensor2D) => tf.Tensor2D;
        return f(this.matrix("token_embd.weight"));
    }

    /**
     * Logits [N, vocab] for token ids laid out as row groups (see {@link RowGroup}; a plain batch
     * of b rows of t ids is `[{rows: b, t}]`). Attention is causal within each row.
     * Must run inside tf.tidy / variableGrads.
     */
    logits(tokens: Int32Array, groups: RowGroup[]): tf.Tensor2D {
        const c = this.config;
        const {dModel: d, nHeads: nh} = c;
        const hd = headDim(c);
        const n = groups.reduce((s, g) => s + g.rows * g.t, 0);
        if (n !== tokens.length) throw new Error(`logits: ${tokens.length} tokens for groups of ${n} positions`);
        const tables = this.ropeTables(groups);
        const v = (name: string): tf.Tensor2D => this.matrix(name);
        let x = this.embed(tokens);
        const scale = 1 / Math.sqrt(hd);
        const attend = (q: tf.Tensor2D, k: tf.Tensor2D, vv: tf.Tensor2D, b: number, t: number): tf.Tensor2D => {
            const heads = (y: tf.Tensor2D, perm: number[], shape: [number, number, number]): tf.Tensor3D =>
                tf.reshape(tf.transpose(tf.reshape(y, [b, t, nh, hd]), perm), shape);
            const qh = heads(q, [0, 2, 1, 3], [b * nh, t, hd]);
            const kt = heads(k, [0, 2, 3, 1], [b * nh, hd, t]);
            const vh = heads(vv, [0, 2, 1, 3], [b * nh, t, hd]);
            const scores = tf.add(tf.mul(bmm(qh, kt), scale), this.causalMask(t));
            const att = bmm(tf.softmax(scores) as tf.Tensor3D, vh);
            return tf.reshape(tf.transpose(tf.reshape(att, [b, nh, t, hd]), [0, 2, 1, 3]), [b * t, d]);
        };
        for (let l = 0; l < c.nLayers; l++) {
            const p = `blk.${l}.`;
            const h = this.rmsNorm(x, p + "attn_norm.weight");
            const q = this.rope(mm(h, v(p + "attn_q.weight")), tables);
            const k = this.rope(mm(h, v(p + "attn_k.weight")), tables);
            const vv = mm(h, v(p + "attn_v.weight"));
            let merged: tf.Tensor2D;
            if (groups.length === 1) merged = attend(q, k, vv, groups[0].rows, groups[0].t);
            else {
                const parts: tf.Tensor2D[] = [];
                let off = 0;
                for (const g of groups) {
                    const size = g.rows * g.t;
                    const part = (y: tf.Tensor2D): tf.Tensor2D => tf.slice(y, [off, 0], [size, d]);
                    parts.push(attend(part(q), part(k), part(vv), g.rows, g.t));
                    off += size;
                }
                merged = tf.concat(parts, 0);
            }
            x = tf.add(x, mm(merged, v(p + "attn_output.weight")));
            const h2 = this.rmsNorm(x, p + "ffn_norm.weight");
            const g = mm(h2, v(p + "ffn_gate.weight"));
            const u = mm(h2, v(p + "ffn_up.weight"));
            const act = tf.mul(tf.mul(g, tf.sigmoid(g)), u) as tf.Tensor2D;
            x = tf.add(x, mm(act, v(p + "ffn_down.weight")));
        }
        return mm(this.rmsNorm(x, "output_norm.weight"), v("output.weight"));
    }

    /** Next-token probabilities after every token of one sequence (for checks and parity). */
    nextTokenProbs(tokens: readonly number[]): Float32Array[] {
        const probs = tf.tidy(() => tf.softmax(this.logits(Int32Array.from(tokens), [{rows: 1, t: tokens.length}])));
        const data = probs.dataSync() as Float32Array;
        probs.dispose();
        const v = this.config.vocabSize;
        return tokens.map((_, i) => data.slice(i * v, (i + 1) * v));
    }

    dispose(): void {
        for (const variable of this.vars.values()) variable.dispose();
        for (const m of this.masks.values()) m.dispose();
        this.rot.dispose();
    }
}
