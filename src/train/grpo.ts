/**
 * Group-relative policy gradient (GRPO, DeepSeekMath §4.1) for stepwise's tiny llama models:
 * advantages normalised within each group of G samples of one problem, the clipped importance
 * ratio against the policy that sampled (PPO's surrogate), and a KL penalty to a reference policy
 * (the starting one) with the k3 estimator `exp(ref − logp) − (ref − logp) − 1` per token.
 *
 * - {@link groupAdvantages}: outcome supervision, one advantage per sample: (r − mean) / (std + ε)
 *   over its group (population std).
 * - {@link processAdvantages}: process supervision (DeepSeekMath §4.1.3): every step reward of a
 *   group is normalised over all the group's step rewards, and a token's advantage is the sum of
 *   the normalised rewards of its own step and every later step.
 * - {@link primeAdvantages}: PRIME's estimator (Cui et al., arXiv 2502.01456, §3; the reference
 *   recipe's `compute_rloo_advantage_return`): leave-one-out baselines for the implicit PRM's token
 *   rewards and for the outcome, summed, returns with γ = 1, whitened over the batch.
 * - {@link pgStep}: one optimisation step on a batch of sequences with per-token advantages; the
 *   loss is the mean over all response tokens of the batch (token-level mean) of
 *   −min(ρA, clip(ρ, 1−ε, 1+ε)A) + β·KL.
 * - {@link sequenceLogprobs}: log-probabilities of every response token (no gradient), for the
 *   sampling policy ("old") and the reference.
 */
import * as tf from "@tensorflow/tfjs-core";
import type {Adam} from "./adam.ts";
import type {RowGroup} from "./batch.ts";
import type {TfLlama} from "./tfmodel.ts";

/** A sampled sequence: prompt tokens then response tokens (from `start`), and one advantage per response token. */
export interface PgSequence {
    tokens: number[];
    /** Index of the first response token (≥ 1). */
    start: number;
    /** Advantage of each response token (length tokens.length − start). */
    advantages: number[];
}

/** Outcome advantages: each reward minus its group's mean, over the group's std + eps. Groups are consecutive runs of `groupSize`. */
export function groupAdvantages(rewards: readonly number[], groupSize: number, eps = 1e-4): number[] {
    const out: number[] = [];
    for (let g = 0; g < rewards.length; g += groupSize) {
        const r = rewards.slice(g, g + groupSize);
        const mean = r.reduce((a, b) => a + b, 0) / r.length;
        const std = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / r.length);
        for (const x of r) out.push((x - mean) / (std + eps));
    }
    return out;
}

/**
 * Process advantages of one group: `steps[i]` lists sample i's steps as [end token (exclusive,
 * counted in response tokens), reward]. Rewards are normalised over all steps of the group; token
 * t of sample i gets the sum of the normalised rewards of the steps ending after t.
 */
export function processAdvantages(steps: ReadonlyArray<ReadonlyArray<readonly [number, number]>>, lengths: readonly number[], eps = 1e-4): number[][] {
    const all = steps.flat().map(([, r]) => r);
    const mean = all.length ? all.reduce((a, b) => a + b, 0) / all.length : 0;
    const std = all.length ? Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length) : 0;
    return steps.map((s, i) => {
        const adv = new Array<number>(lengths[i]).fill(0);
        for (const [end, r] of s) {
            const z = (r - mean) / (std + eps);
            for (let t = 0; t < Math.min(end, lengths[i]); t++) adv[t] += z;
        }
        return adv;
    });
}

/**
 * PRIME's advantages (arXiv 2502.01456 Eq. 5; shape as the reference recipe
 * `recipe/prime/prime_core_algos.py` computes them). Samples come in consecutive groups of `groupSize`
 * (G ≥ 2) answers to one problem.
 * - Token rewards rₜ (the implicit PRM's β·log πφ/πref of each response token): with mⱼ the mean
 *   token reward of sample j of the group, rₜ ← rₜ·G/(G−1) − Σⱼ mⱼ/(G−1).
 * - Outcome o (1 right, 0 wrong) at the last token: o ← o·G/(G−1) − Σⱼ oⱼ/(G−1) = o − mean of the
 *   others (RLOO).
 * - Each token's return: `processCoef`·(sum of the baselined token rewards from t on) +
 *   `outcomeCoef`·(the baselined outcome); then whitened (mean 0, std 1) over every response token
 *   of the batch. Only the ratio of the coefficients matters after whitening (the reference
 *   default is 5 : 5).
 * Returns one advantage per response token of each sample (`tokenRewards[i].length` of them).
 * Throws when a group is incomplete or G < 2.
 */
export function primeAdvantages(tokenRewards: ReadonlyArray<ArrayLike<number>>, outcome: readonly number[], groupSize: number, processCoef = 1, outcomeCoef = 1): number[][] {
    const G = groupSize;
    if (!(G >= 2) || tokenRewards.length % G !== 0 || outcome.length !== tokenRewards.length)
        throw new Error(`primeAdvantages: ${tokenRewards.length} samples (${outcome.length} outcomes) are not whole groups of ${G} ≥ 2`);
    const returns: number[][] = [];
    for (let g = 0; g < tokenRewards.length; g += G) {
        const means = Array.from({length: G}, (_, j) => {
            const r = tokenRewards[g + j];
            let s = 0;
            for (let t = 0; t < r.length; t++) s += r[t];
            return r.length ? s / r.length : 0;
        });
        const tokenBase = means.reduce((a, b) => a + b, 0) / (G - 1);
        const outs = outcome.slice(g, g + G);
        const outBase = outs.reduce((a, b) => a + b, 0) / (G - 1);
        for (let j = 0; j < G; j++) {
            const r = tokenRewards[g + j];
            const o = outcomeCoef * ((outs[j] * G) / (G - 1) - outBase);
            const ret = new Array<number>(r.length);
            let acc = 0;
            for (let t = r.length - 1; t >= 0; t--) {
                acc += processCoef * ((r[t] * G) / (G - 1) - tokenBase);
                ret[t] = acc + o; // the outcome sits on the last token, so every token's return includes it
            }
            returns.push(ret);
        }
    }
    const all = returns.flat();
    const mean = all.length ? all.reduce((a, b) => a + b, 0) / all.length : 0;
    const std = all.length > 1 ? Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / (all.length - 1)) : 0;
    return returns.map((r) => r.map((x) => (x - mean) / Math.sqrt(std * std + 1e-8)));
}

/** Dense arrays of a batch: sequences in groups of up to `rowsPerGroup` rows padded to the group's longest. */
function layout(seqs: readonly PgSequence[], vocab: number, rowsPerGroup: number) {
    const order = seqs.map((_, i) => i).sort((a, b) => seqs[a].tokens.length - seqs[b].tokens.length);
    const groups: RowGroup[] = [];
    const rowsOf: number[][] = [];
    for (let i = 0; i < order.length; i += rowsPerGroup) {
        const rows = order.slice(i, i + rowsPerGroup);
        groups.push({rows: rows.length, t: Math.max(...rows.map((r) => seqs[r].tokens.length - 1))});
        rowsOf.push(rows);
    }
    const n = groups.reduce((s, g) => s + g.rows * g.t, 0);
    const inputs = new Int32Array(n);
    const onehot = new Float32Array(n * vocab);
    const adv = new Float32Array(n);
    const mask = new Float32Array(n);
    /** Position in the layout of response token k of sequence s. */
    const where: Array<Int32Array> = seqs.map((s) => new Int32Array(s.tokens.length - s.start));
    let off = 0;
    groups.forEach((g, gi) => {
        for (const r of rowsOf[gi]) {
            const s = seqs[r];
            for (let p = 0; p < s.tokens.length - 1; p++) inputs[off + p] = s.tokens[p];
            for (let k = 0; k < s.tokens.length - s.start; k++) {
                const p = s.start - 1 + k; // the output at p predicts token p + 1
                onehot[(off + p) * vocab + s.tokens[p + 1]] = 1;
                adv[off + p] = s.advantages[k] ?? 0;
                mask[off + p] = 1;
                where[r][k] = off + p;
            }
            off += g.t;
        }
    });
    return {groups, inputs, onehot, adv, mask, where, n, count: mask.reduce((a, b) => a + b, 0)};
}

/** Log-probability of every response token of every sequence under `model` (no gradient). */
export function sequenceLogprobs(model: TfLlama, seqs: readonly PgSequence[], rowsPerGroup = 8): Float32Array[] {
    if (seqs.length === 0) return [];
    const L = layout(seqs, model.config.vocabSize, rowsPerGroup);
    const t = tf.tidy(() => tf.sum(tf.mul(tf.logSoftmax(model.logits(L.inputs, L.groups)), tf.tensor2d(L.onehot, [L.n, model.config.vocabSize])), 1));
    const all = t.dataSync() as Float32Array;
    t.dispose();
    return L.where.map((w) => Float32Array.from(w, (p) => all[p]));
}

export interface PgStepOptions {
    /** Learning rate of this step. */
    lr: number;
    /** Clip range ε of the ratio. */
    clip: number;
    /** KL coefficient β. */
    klCoef: number;
    /** Clip the global gradient norm (0 = off). */
    gradClip: number;
    rowsPerGroup?: number;
}

/** One GRPO step (see the module docs). `old` and `ref` are {@link sequenceLogprobs} of the sampling and reference policies. */
export function pgStep(model: TfLlama, adam: Adam, seqs: readonly PgSequence[], old: readonly Float32Array[], ref: readonly Float32Array[], o: PgStepOptions): {loss: number; kl: number; clipFraction: number; gradNorm: number} {
    const v = model.config.vocabSize;
    const L = layout(seqs, v, o.rowsPerGroup ?? 8);
    const oldA = new Float32Array(L.n);
    const refA = new Float32Array(L.n);
    L.where.forEach((w, s) => w.forEach((p, k) => ((oldA[p] = old[s][k]), (refA[p] = ref[s][k]))));
    const count = Math.max(1, L.count);
    let kl = 0;
    let clipFraction = 0;
    const {value, grads} = tf.variableGrads(() =>
        tf.tidy(() => {
            const tok = tf.sum(tf.mul(tf.logSoftmax(model.logits(L.inputs, L.groups)), tf.tensor2d(L.onehot, [L.n, v])), 1);
            const mask = tf.tensor1d(L.mask);
            const adv = tf.tensor1d(L.adv);
            const ratio = tf.exp(tf.sub(tok, tf.tensor1d(oldA)));
            const clipped = tf.clipByValue(ratio, 1 - o.clip, 1 + o.clip);
            const surr = tf.minimum(tf.mul(ratio, adv), tf.mul(clipped, adv));
            const d = tf.sub(tf.tensor1d(refA), tok);
            const k3 = tf.mul(tf.sub(tf.sub(tf.exp(d), d), 1), mask);
            kl = (tf.sum(k3).dataSync()[0] as number) / count;
            clipFraction = (tf.sum(tf.mul(tf.cast(tf.notEqual(ratio, clipped), "float32"), mask)).dataSync()[0] as number) / count;
            return tf.div(tf.neg(tf.sum(tf.sub(tf.mul(surr, mask), tf.mul(k3, o.klCoef)))), count) as tf.Scalar;
        }),
    );
    const normT = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))));
    const [loss] = value.dataSync();
    const [gradNorm] = normT.dataSync();
    adam.apply(grads, o.lr, o.gradClip > 0 && gradNorm > o.gradClip ? o.gradClip / gradNorm : 1);
    tf.dispose([value, normT, ...Object.values(grads)]);
    return {loss, kl, clipFraction, gradNorm};
}
