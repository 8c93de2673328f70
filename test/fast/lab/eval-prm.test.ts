import {test} from "node:test";
import assert from "node:assert/strict";
import {generateProblems} from "../../../src/domains/lab/index.ts";
import {labTruth} from "../../../src/domains/lab/verifier.ts";
import {evaluateLabPrm} from "../../../src/apps/lab/eval/prm.ts";
import type {SampleRecord} from "../../../src/core/records.ts";

/** Samples with one token per character; digits are "decisions" (low confidence). */
function samples(): SampleRecord[] {
    return generateProblems(6, {seed: 21, split: "heldout"}).flatMap((p) =>
        [0, 1, 2, 3].map((i) => {
            const lines = [...p.steps];
            if (i % 2 === 1) {
                lines[0] = lines[0].replace(/= (\d+)/, (_m, v) => `= ${Number(v) + 1}`);
                lines[lines.length - 1] = `The answer is ${Number(p.answer) + 1}.`;
            }
            const text = lines.join("\n");
            return {
                id: `${p.id}#${i}`, question_id: p.id, sample_index: i, question: p.question, prompt: p.question + "\n", text,
                tokens: [...text].map((ch) => ({text: ch, confidence: /\d/.test(ch) ? 0.01 : 0.9, top: []})),
                finish_reason: "eos", gold: p.answer, engine: "test", seed: 0, temperature: 1,
            };
        }),
    );
}

test("lab PRM evaluation: a PRM that knows the truth gets AUC 1, F1 100 and beats majority voting", async () => {
    const all = samples();
    // an oracle PRM: the lab's exact truth for the steps it is given (low from the first wrong step on)
    const oracle = {
        async scoreSteps(question: string, steps: string[]) {
            let end = 0;
            const spans = steps.map((text) => ({text, start: end, end: (end += text.length), token_start: 0, token_end: 0}));
            const truth = labTruth({question, text: steps.join(""), steps: spans});
            return truth.correct.map((c) => (c === true ? 0.9 : 0.1));
        },
    };
    const ev = await evaluateLabPrm({samples: all, scorer: oracle, tau: 0.05, subsets: 20});
    assert.equal(ev.samples, 24);
    assert.equal(ev.questions, 6);
    assert.ok(ev.step_auc > 0.95, `AUC ${ev.step_auc}`);
    assert.equal(ev.processbench.at_half.f1, 1);
    const at4 = (id: string) => ev.bon.methods.find((m) => m.id === id)!.points.find((p) => p.n === 4)!.accuracy;
    assert.equal(at4("bon-min"), 100);
    assert.ok(ev.analyses.positions, "rating-position test ran");
});
