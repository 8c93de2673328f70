/** GRPO's advantages (src/train/grpo.ts): group-normalised outcome advantages, DeepSeekMath's process advantages and PRIME's. */
import {test} from "node:test";
import assert from "node:assert/strict";
import {groupAdvantages, primeAdvantages, processAdvantages} from "../../../src/train/grpo.ts";

const close = (a: number[], b: number[]) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-3, `${a} vs ${b}`));

test("groupAdvantages: (r − group mean) / (group std + eps), per consecutive group; a group of equal rewards gets 0", () => {
    close(groupAdvantages([1, 0, 1, 0, 1, 1], 2), [1, -1, 1, -1, 0, 0]);
    close(groupAdvantages([1, 0, 0, 0], 4), [1.732, -0.577, -0.577, -0.577]);
});

test("processAdvantages: step rewards normalised over the group; a token sums its own and every later step's", () => {
    // Sample 0: steps ending at tokens 2 and 4 with rewards 1 and 0; sample 1: one step (4 tokens) with reward 0.5.
    const adv = processAdvantages([[[2, 1], [4, 0]], [[4, 0.5]]], [4, 4]);
    // mean 0.5, std 0.408: z = 1.225, -1.225, 0.
    close(adv[0], [0, 0, -1.225, -1.225]);
    close(adv[1], [0, 0, 0, 0]);
    const adv2 = processAdvantages([[[1, 1], [3, 0]], [[3, 0]]], [3, 3]);
    close(adv2[0], [1.414 - 0.707, -0.707, -0.707]);
});

test("primeAdvantages: leave-one-out baselines on token rewards and outcome, returns, whitened over the batch (PRIME Eq. 5, the reference recipe's shape)", () => {
    // G = 2. Token rewards [1, 2] and [3]: means 1.5 and 3, baseline 4.5 / 1; r·2 − 4.5 → [−2.5, −0.5] and [1.5].
    // Outcomes 1 and 0: o·2 − 1 → 1 and −1. Returns: [−2.5 − 0.5 + 1, −0.5 + 1] = [−2, 0.5] and [1.5 − 1] = [0.5].
    // Whitened over [−2, 0.5, 0.5] (mean −1/3, unbiased std 1.4434): [−1.1547, 0.5774] and [0.5774].
    const adv = primeAdvantages([[1, 2], [3]], [1, 0], 2);
    close(adv[0], [-1.1547, 0.5774]);
    close(adv[1], [0.5774]);
    // Only the ratio of the coefficients matters (whitening); the outcome alone is RLOO on the last token's return.
    const scaled = primeAdvantages([[1, 2], [3]], [1, 0], 2, 5, 5);
    close(scaled[0], adv[0]);
    close(scaled[1], adv[1]);
    const outcomeOnly = primeAdvantages([[0, 0], [0, 0], [0, 0], [0, 0]], [1, 1, 0, 1], 4, 0, 1);
    // RLOO: 1 − 2/3 = 1/3 (3 samples), 0 − 1 = −1; every token carries its sample's; over the 8 tokens mean 0, unbiased std 0.6172: 1/3 → 0.5401, −1 → −1.6202.
    close(outcomeOnly.flat(), [0.5401, 0.5401, 0.5401, 0.5401, -1.6202, -1.6202, 0.5401, 0.5401]);
    assert.throws(() => primeAdvantages([[1], [2], [3]], [1, 0, 1], 2), /not whole groups of 2/);
});
