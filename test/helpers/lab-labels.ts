/** Test fixture: labelled lab solutions (LabelRecords) with a learnable signal for tag-PRM training. */
import {generateProblems} from "../../src/domains/lab/index.ts";

/** Canonical lab solutions, line steps; every other one gets a wrong step 1 (label 0, later steps unlabelled). */
export function labelled(n: number) {
    return generateProblems(n, {seed: 3, split: "train", knobs: {minOps: 2, maxOps: 2}}).map((p, i) => {
        const lines = [...p.steps];
        const wrong = i % 2 === 1;
        if (wrong) lines[1] = lines[1].replace(/= (\d+)/, (_m, v) => `= ${Number(v) + 7}`);
        let start = 0;
        const steps = lines.map((l, j) => {
            const text = l + (j < lines.length - 1 ? "\n" : "");
            const s = {text, start, end: start + text.length, token_start: start, token_end: start + text.length};
            start += text.length;
            return s;
        });
        const hard = steps.map((_, j) => (wrong && j >= 1 ? (j === 1 ? 0 : null) : 1)) as Array<0 | 1 | null>;
        return {id: p.id, question_id: p.id, sample_index: 0, question: p.question, prompt: p.question + "\n", text: lines.join("\n"), strategy: "newline", steps, hard, soft: hard.map((h) => h), rollouts: hard.map((h) => ({n: 8, correct: h ? 8 : 0})), first_negative: wrong ? 1 : -1, cost: {rollouts: 0, generated_tokens: 0, prefix_evaluations: 0}, method: "test"};
    });
}

