/**
 * Training examples and how a batch of them becomes dense arrays for the loss.
 *
 * Two kinds of supervision, freely mixed:
 * - **LM loss** (`lossMask`): token i is predicted from the output at position i-1; `lossMask`
 *   says which tokens count (a boolean per token, a weight ≥ 0 per token, or the half-open range
 *   [start, end)). A weight w scales that token's cross-entropy and counts w times in the mean.
 * - **Target distributions** (`targets`): the output at position `pos` (the input token at
 *   `pos`, e.g. a step tag) is trained towards `probs` over the token subset `tokenIds`, with
 *   the softmax restricted to that subset: a PRM's good/bad cross-entropy with hard
 *   (`[1, 0]`) or soft (`[p, 1-p]`) labels; with per-token `bias` = −log πref, the softmax over
 *   alternative tokens' implicit rewards log πθ/πref (an implicit PRM's branch objective).
 * - **Sequence targets** (`sequence`): an implicit PRM's outcome loss (Yuan et al., "Free Process
 *   Rewards without Process Labels", arXiv 2412.01981): the reward of tokens [from, to) is
 *   r = β·(Σ log πθ(tokenᵢ | <i) − Σ log πref(tokenᵢ | <i)), trained with the binary
 *   cross-entropy of σ(r) against the outcome label.
 * The loss is the mean cross-entropy over all supervised positions of the batch, plus the mean
 * sequence loss over the examples that have a sequence target.
 */
import {StepwiseError} from "../util/errors.ts";
import type {Sfc32Rng as Rng} from "../util/rng.ts";

/** A per-position target distribution over a small token subset. */
export interface PositionTarget {
    /** Index of the input token whose next-token output is trained. */
    pos: number;
    /** Tokens of the restricted softmax (e.g. [good, bad]). */
    tokenIds: number[];
    /** Target probabilities, same length as tokenIds, summing to 1. */
    probs: number[];
    /**
     * Additive offsets of the subset's logits before the restricted softmax, same length as
     * tokenIds; default 0. With bias = −log πref(token) the softmax is over the implicit rewards
     * log πθ(token)/πref(token) (β 1): a listwise contrast of alternative tokens at one position.
     */
    bias?: number[];
}

/**
 * An implicit-PRM outcome target over a token span: r = beta·(Σ_{i∈[from,to)} log πθ(tokens[i] |
 * tokens[<i]) − refLogprob), loss = −label·log σ(r) − (1 − label)·log(1 − σ(r)).
 */
export interface SequenceTarget {
    /** First scored token (≥ 1: token 0 has nothing before it). */
    from: number;
    /** One past the last scored token (≤ tokens.length). */
    to: number;
    /** Σ log πref of tokens [from, to) under the reference model (natural log). */
    refLogprob: number;
    /** β > 0: the reward scale. */
    beta: number;
    /** Outcome label in [0, 1] (1: the answer is right). */
    label: number;
}

export interface TrainExample {
    tokens: number[];
    /**
     * Which tokens are LM-predicted (token 0 never is: nothing precedes it): a boolean per token, a
     * weight per token (0: not predicted; w > 0: its cross-entropy counts w times in the batch mean),
     * or the range [start, end) with weight 1.
     */
    lossMask?: boolean[] | number[] | {start: number; end: number};
    targets?: PositionTarget[];
    sequence?: SequenceTarget;
}

/** Produces a batch of examples; must draw all randomness from `rng` (for exact resumes). */
export type BatchSource = (rng: Rng, batchSize: number) => TrainExample[];

/** A group of equally long rows: attention runs per group, each padded only to its own longest row. */
export interface RowGroup {
    rows: number;
    t: number;
}

/**
 * A batch as dense arrays. Rows (one example each) are laid out group after group; within a group
 * every row has `t` positions. N = Σ rows·t positions in all.
 */
export interface PackedBatch {
    groups: RowGroup[];
    /** Input token ids [N] (padding: 0). */
    inputs: Int32Array;
    /** Target distribution per position [N·vocab] (rows of unsupervised positions are 0). */
    targets: Float32Array;
    /** Positions with a restricted softmax: additive bias [N·vocab] (0 in the subset, -1e9 outside), or null when every position is LM. */
    supportBias: Float32Array | null;
    /** Number of supervised positions, each LM position counted by its weight (TrainExample.lossMask). */
    count: number;
    /** Number of real (non-padding) input positions. */
    realTokens: number;
    /**
     * Sequence targets, or null when no example has one: `select` [N·vocab] one-hot of the token
     * each scored position predicts, `segment` [S·N] which positions sum into sequence s, and per
     * sequence its reference log-probability, β and label [S].
     */
    sequences: {count: number; select: Float32Array; segment: Float32Array; refLogprob: Float32Array; beta: Float32Array; label: Float32Array} | null;
}

/** The LM weight of token i (0: not predicted). */
function lmWeight(ex: TrainExample, i: number): number {
    const m = ex.lossMask;
    if (!m) return 0;
    if (Array.isArray(m)) {
        const w = m[i];
        if (typeof w === "number") {
            if (!(w >= 0 && Number.isFinite(w))) throw new StepwiseError(`train: loss weight ${w} of token ${i}: expected a finite number ≥ 0`);
            return w;
        }
        return w === true ? 1 : 0;
    }
    return i >= m.start && i < m.end ? 1 : 0;
}

/** Input positions an example occupies: all its tokens if it has targets, else all but the last. */
function span(ex: TrainExample): number {
    return Math.max(1, ex.tokens.length - (ex.targets?.length ? 0 : 1));
}

function checkSequence(ex: TrainExample, maxLen: number): void {
    const q = ex.sequence!;
    if (!(Number.isInteger(q.from) && Number.isInteger(q.to) && q.from >= 1 && q.to > q.from && q.to <= ex.tokens.length))
        throw new StepwiseError(`train: sequence target [${q.from}, ${q.to}) outside the example (${ex.tokens.length} tokens; from ≥ 1)`);
    if (q.to - 1 > maxLen) throw new StepwiseError(`train: sequence target ends at token ${q.to}, past the ${maxLen} positions an example may use (seqLen)`);
    if (!(q.beta > 0) || !Number.isFinite(q.refLogprob) || !(q.label >= 0 && q.label <= 1))
        throw new StepwiseError(`train: sequence target needs beta > 0, a finite refLogprob and a label in [0, 1] (got beta ${q.beta}, refLogprob ${q.refLogprob}, label ${q.label})`);
}

export interface PackOptions {
    /**
     * Examples per attention group. Examples are sorted by length and cut into groups of this
     * size, each padded only to its own longest example: attention cost (quadratic in length)
     * then follows the real lengths instead of the batch maximum. Default: one group.
     */
    groupSize?: number;
}

/**
 * Lay examples out as dense arrays. Each example contributes at most `maxLen` input positions
 * (longer ones are cut).
 */
export function packBatch(examples: TrainExample[], vocabSize: number, maxLen: number, options: PackOptions = {}): PackedBatch {
    if (examples.length === 0) throw new StepwiseError("train: empty batch");
    const groupSize = Math.max(1, Math.min(options.groupSize ?? examples.length, examples.length));
    const lengths = examples.map((ex) => Math.min(maxLen, span(ex)));
    // Longest first (stable), so each group's padding is small.
    const order = examples.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
    const groups: RowGroup[] = [];
    const rowStart: number[] = new Array(examples.length);
    let n = 0;
    for (let g = 0; g < order.length; g += groupSize) {
        const members = order.slice(g, g + groupSize);
        const t = Math.max(...members.map((i) => lengths[i]));
        groups.push({rows: members.length, t});
        members.forEach((i, r) => {
            rowStart[i] = n + r * t;
        });
        n += members.length * t;
    }
    const inputs = new Int32Array(n);
    const targets = new Float32Array(n * vocabSize);
    let supportBias: Float32Array | null = null;
    const withSequence = examples.flatMap((ex, e) => (ex.sequence ? [e] : []));
    let sequences: PackedBatch["sequences"] = null;
    if (withSequence.length) {
        const s = withSequence.length;
        sequences = {count: s, select: new Float32Array(n * vocabSize), segment: new Float32Array(s * n), refLogprob: new Float32Array(s), beta: new Float32Array(s), label: new Float32Array(s)};
        withSequence.forEach((e, k) => {
            const ex = examples[e];
            checkSequence(ex, lengths[e]);
            const q = ex.sequence!;
            for (let i = q.from; i < q.to; i++) {
                const row = rowStart[e] + i - 1;
                sequences!.select[row * vocabSize + ex.tokens[i]] = 1;
                sequences!.segment[k * n + row] = 1;
            }
            sequences!.refLogprob[k] = q.refLogprob;
            sequences!.beta[k] = q.beta;
            sequences!.label[k] = q.label;
        });
    }
    let count = 0;
    let realTokens = 0;
    const checkId = (id: number): void => {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new StepwiseError(`train: token id ${id} out of range`);
    };
    examples.forEach((ex, e) => {
        const len = lengths[e];
        const base = rowStart[e];
        ex.tokens.forEach(checkId);
        for (let i = 0; i < len; i++) inputs[base + i] = ex.tokens[i];
        realTokens += len;
        const supervised = new Set<number>();
        for (let i = 1; i < ex.tokens.length && i - 1 < len; i++) {
            const w = lmWeight(ex, i);
            if (w === 0) continue;
            targets[(base + i - 1) * vocabSize + ex.tokens[i]] = w;
            supervised.add(i - 1);
            count += w;
        }
        for (const tg of ex.targets ?? []) {
            if (tg.pos < 0 || tg.pos >= ex.tokens.length) throw new StepwiseError(`train: target position ${tg.pos} outside the example (${ex.tokens.length} tokens)`);
            if (tg.pos >= len) continue;
            if (supervised.has(tg.pos)) throw new StepwiseError(`train: position ${tg.pos} has both an LM target and a target distribution`);
            if (tg.tokenIds.length !== tg.probs.length || tg.tokenIds.length === 0) throw new StepwiseError("train: target tokenIds and probs must be non-empty and of the same length");
            if (tg.bias && (tg.bias.length !== tg.tokenIds.length || !tg.bias.every(Number.isFinite))) throw new StepwiseError("train: target bias must be finite numbers, one per token id");
            if (new Set(tg.tokenIds).size !== tg.tokenIds.length) throw new StepwiseError(`train: target position ${tg.pos} lists a token id twice`);
            const row = (base + tg.pos) * vocabSize;
            supportBias ??= new Float32Array(n * vocabSize);
            supportBias.fill(-1e9, row, row + vocabSize);
            tg.tokenIds.forEach((id, j) => {
                checkId(id);
                supportBias![row + id] = tg.bias?.[j] ?? 0;
                targets[row + id] = tg.probs[j];
            });
            supervised.add(tg.pos);
            count++;
        }
    });
    return {groups, inputs, targets, supportBias, count, realTokens, sequences};
}
