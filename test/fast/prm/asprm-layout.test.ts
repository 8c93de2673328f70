/**
 * The `asprm` layout against Lux0926/ASPRM's released math Best-of-N data: the file its
 * `evaluation/math/BON/run_eval_code.sh` scores ASPRM with (`Example_Llama31_GSM8k_testset_bo256.jsonl`,
 * field `math_confidence_list`, read by `eval.py` as `question + math`) keeps the text intact with
 * " ки " after every step. The "Step N: … ки\n" variant (`…_with_step.jsonl`) is, per the ASPRM
 * README, the data for evaluating Math-Shepherd, not ASPRM; and the code data
 * (`code_confidence_list`) has the same intact layout as the math data.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {resolveFormat, taggedSteps} from "../../../src/prm/formats.ts";
import {recoverText, exportRecord} from "../../../src/pipeline/export/index.ts";

// The first candidate of the first question of the released file: its `pred`, cut at its decision tokens.
const PRED = " If the robe takes 2 bolts of blue fiber, then it takes 2/2 = 1 bolt of white fiber.\nSo in total, it takes 2 + 1 = 3 bolts.\n#### 3\nThe answer is: 3 ";
const STEPS = [" If the robe takes 2 bolts of blue fiber, then it takes 2/2 = 1 bolt of white fiber.\nSo", " in total, it takes 2 + 1 = 3 bolts.\n", "#### 3\nThe answer is: 3 "];
// …and its `math_confidence_list` entry.
const RELEASED = " If the robe takes 2 bolts of blue fiber, then it takes 2/2 = 1 bolt of white fiber.\nSo ки  in total, it takes 2 + 1 = 3 bolts.\n ки #### 3\nThe answer is: 3  ки ";

test("asprm: the released math BoN data is the text intact with ' ки ' after each step (no 'Step N:', nothing stripped)", () => {
    assert.equal(STEPS.join(""), PRED);
    assert.equal(taggedSteps(resolveFormat("asprm"), STEPS), RELEASED);
    // the asprm export writes the same tagged text after the question part
    const steps = STEPS.map((text, i, all) => {
        const start = all.slice(0, i).join("").length;
        return {text, start, end: start + text.length, token_start: i, token_end: i + 1};
    });
    const rec = {
        id: "robe#0", question_id: "robe", sample_index: 0, question: "How many bolts?", prompt: "How many bolts?\n", text: PRED, strategy: "adaptive", steps,
        hard: [1, 1, 1] as Array<0 | 1 | null>, soft: [1, 1, 1], rollouts: [{n: 1, correct: 1}, {n: 1, correct: 1}, {n: 1, correct: 1}],
        first_negative: -1, cost: {rollouts: 0, generated_tokens: 0, prefix_evaluations: 0}, method: "test",
    };
    const row = exportRecord(rec, {format: "asprm"}) as {query: string};
    assert.ok(row.query.endsWith(RELEASED), row.query);
    assert.equal(recoverText(row, {format: "asprm"}), "How many bolts? " + PRED);
});
