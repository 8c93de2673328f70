/**
 * Training examples and how a batch of them becomes dense arrays for the loss.
 *
 * Two kinds of supervision, freely mixed:
 * - **LM loss** (`lossMask`): token i is predicted from the output at position i-1; `lossMask`
 *   says which tokens count (a boolean per token, or the half-open range [start, end)).
 * - **Target distributions** (`targets`): the output at position `pos` (the input token at
 *   `pos`, e.g. a step tag) is trained towards `probs` over the token subset `tokenIds`, with
 *   the softmax restricted to that subset: a PRM's good/bad cross-entropy with hard
 *   (`[1, 0]`) or soft (`[p, 1-p]`) labels.
 * The loss is the mean cross-entropy over all supervised positions of the batch.
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
}

export interface TrainExample {
    tokens: number[];
    /** Which tokens are LM-predicted (token 0 never is: nothing precedes it). */
    lossMask?: boolean[] | {start: number; end: number};
    targets?: PositionTarget[];
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
    /** Number of supervised positions. */
    count: number;
    /** Number of real (non-padding) input positions. */
    realTokens: number;
}

function lmMask(ex: TrainExample, i: number): boolean {
    const m = ex.lossMask;
    if (!m) return false;
    if (Array.isArray(m)) return m[i] === true;
    return i >= m.start && i < m.end;
}

/** Input positions an example occupies: all its tokens if it has targets, else all but the last. */
function span(ex: TrainExample): number {
    return Math.max(1, ex.tokens.length - (ex.targets?.length ? 0 : 1));
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
            if (!lmMask(ex, i)) continue;
            targets[(base + i - 1) * vocabSize + ex.tokens[i]] = 1;
            supervised.add(i - 1);
            count++;
        }
        for (const tg of ex.targets ?? []) {
            if (tg.pos < 0 || tg.pos >= ex.tokens.length) throw new StepwiseError(`train: target position ${tg.pos} outside the example (${ex.tokens.length} tokens)`);
            if (tg.pos >= len) continue;
            if (supervised.has(tg.pos)) throw new StepwiseError(`train: position ${tg.pos} has both an LM target and a target distribution`);
            if (tg.tokenIds.length !== tg.probs.length || tg.tokenIds.length === 0) throw new StepwiseError("train: target tokenIds and probs must be non-empty and of the same length");
            const row = (base + tg.pos) * vocabSize;
            supportBias ??= new Float32Array(n * vocabSize);
            supportBias.fill(-1e9, row, row + vocabSize);
            tg.tokenIds.forEach((id, j) => {
                checkId(id);
                supportBias![row + id] = 0;
                targets[row + id] = tg.probs[j];
            });
            supervised.add(tg.pos);
            count++;
        }
    });
    return {groups, inputs, targets, supportBias, count, realTokens};
}
