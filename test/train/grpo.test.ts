// @tier fast
/** GRPO's advantages (src/train/grpo.ts): group-normalised outcome advantages and DeepSeekMath's process advantages. */
import {test} from "node:test";
import assert from "node:assert/strict";
import {groupAdvantages, processAdvantages} from "../../src/train/grpo.ts";

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
