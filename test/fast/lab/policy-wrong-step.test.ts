/**
 * `lab eval-policy`'s figures on hand-made lab solutions: right answers reached through a wrong
 * step (exact lab truth on newline steps), maj@k, and the paired differences of two policies.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {checkAnswer, generateProblems, type LabProblem} from "../../../src/domains/lab/index.ts";
import {comparePolicies, evaluatePolicyRecords, hasWrongStep, majorityCorrect, wrongStepShare} from "../../../src/apps/lab/eval/policy.ts";
import {sampleId, type SampleRecord} from "../../../src/core/records.ts";
import {StepwiseError} from "../../../src/util/errors.ts";

const problems = generateProblems(3, {seed: 31, split: "heldout"});
// problem 0: "Compute 4 * (16 - 14)." = 8, solved "First, 16 - 14 = 2, so 4 * 2.\nFinally, 4 * 2 = 8.\nThe answer is 8."
const p0 = problems[0];
const chars = (text: string) => [...text].map((c) => ({text: c, confidence: 0.9}));

/** Hand-made solutions of problem 0 and what they are. */
const solutions = {
    right: p0.solution,
    // right answer, wrong arithmetic in the first step
    wrongFirstStep: "First, 16 - 14 = 3, so 4 * 2.\nFinally, 4 * 2 = 8.\nThe answer is 8.",
    // right answer, wrong arithmetic in the last equation
    wrongLastStep: "First, 16 - 14 = 2, so 4 * 2.\nFinally, 4 * 2 = 9.\nThe answer is 8.",
    // right answer, then text after the answer line (a wrong step by the truth)
    afterAnswer: `${p0.solution}\nThe answer is 8.`,
    wrongAnswer: "First, 16 - 14 = 2, so 4 * 2.\nFinally, 4 * 2 = 9.\nThe answer is 9.",
    noAnswer: "First, 16 - 14 = 2, so 4 * 2.",
};

test("hasWrongStep: the lab truth on newline steps of hand-made solutions", () => {
    assert.equal(p0.question, "Compute 4 * (16 - 14).");
    const has = (text: string) => hasWrongStep(p0.question, {text, tokens: chars(text)});
    assert.equal(has(solutions.right), false);
    assert.equal(has(solutions.wrongFirstStep), true);
    assert.equal(has(solutions.wrongLastStep), true);
    assert.equal(has(solutions.afterAnswer), true);
    assert.equal(has(solutions.wrongAnswer), true);
    assert.equal(has(solutions.noAnswer), false);
    // tokens of several characters, cut inside a line: the same truth
    const text = solutions.wrongFirstStep;
    assert.equal(hasWrongStep(p0.question, {text, tokens: [{text: text.slice(0, 20), confidence: 1}, {text: text.slice(20), confidence: 1}]}), true);
    assert.throws(() => hasWrongStep(p0.question, {id: "x#0", text, tokens: chars(text.slice(1))}), (e: Error) => e instanceof StepwiseError && /sample "x#0"/.test(e.message));
});

function record(p: LabProblem, i: number, text: string, greedy: boolean): SampleRecord {
    return {id: sampleId(p.id, i), question_id: p.id, sample_index: i, question: p.question, prompt: `${p.question}\n`, text, tokens: chars(text), finish_reason: "eos", engine: "hand", seed: 0, temperature: greedy ? 0 : 1};
}

/** Greedy and 4 samples per problem; problems 1 and 2 answered by their canonical solutions unless told. */
function evalOf(greedyTexts: string[], sampleTexts: string[][]) {
    const greedy = problems.map((p, i) => record(p, 0, greedyTexts[i] ?? p.solution, true));
    const samples = problems.flatMap((p, i) => (sampleTexts[i] ?? [p.solution, p.solution, p.solution, p.solution]).map((t, j) => record(p, j, t, false)));
    return evaluatePolicyRecords(problems, greedy, samples, 4);
}

test("evaluatePolicyRecords: the share of right answers reached through a wrong step, greedy and samples, with Wilson intervals", () => {
    const ev = evalOf([solutions.wrongLastStep], [[solutions.right, solutions.wrongFirstStep, solutions.wrongAnswer, solutions.afterAnswer]]);
    // greedy: 3 right answers (problem 0 through a wrong step, 1 and 2 canonical)
    assert.deepEqual(ev.right_answer_wrong_step.greedy, {right: 3, wrong_step: 1, share: 1 / 3, share_ci: {value: 0.3333, low: 0.0615, high: 0.7923, n: 3, method: "wilson", level: 0.95}});
    // samples: problem 0 has 3 right answers, 2 through a wrong step; problems 1 and 2 have 4 clean right answers each
    const s = ev.right_answer_wrong_step.samples;
    assert.deepEqual([s.right, s.wrong_step, s.share], [11, 2, 2 / 11]);
    assert.deepEqual([s.share_ci!.n, s.share_ci!.method, s.share_ci!.value], [11, "wilson", 0.1818]);
    assert.equal(ev.right_answer_wrong_process, 2 / 11);
    assert.equal(ev.greedy_accuracy, 1);
    // nothing right: no share, no interval
    const none = evalOf([solutions.wrongAnswer], [[solutions.wrongAnswer, solutions.wrongAnswer, solutions.noAnswer, solutions.wrongAnswer]]);
    assert.equal(none.right_answer_wrong_step.greedy.right, 2);
    assert.deepEqual(wrongStepShare([{correct: false, wrongStep: true}]), {right: 0, wrong_step: 0, share: null, share_ci: null});
});

test("majorityCorrect and maj@k: one vote per answer, ties to the answer seen first, no answer no vote", () => {
    const t = solutions;
    const correct = (texts: string[]) => texts.map((x) => checkAnswer(p0, x).correct);
    assert.equal(majorityCorrect([t.wrongAnswer, t.right, t.wrongAnswer], correct([t.wrongAnswer, t.right, t.wrongAnswer])), false);
    assert.equal(majorityCorrect([t.wrongAnswer, t.right, t.wrongFirstStep], correct([t.wrongAnswer, t.right, t.wrongFirstStep])), true);
    // a tie: the answer seen first wins
    assert.equal(majorityCorrect([t.right, t.wrongAnswer], [true, false]), true);
    assert.equal(majorityCorrect([t.wrongAnswer, t.right], [false, true]), false);
    // answerless samples do not vote
    assert.equal(majorityCorrect([t.noAnswer, t.noAnswer, t.right], [false, false, true]), true);
    assert.equal(majorityCorrect([t.noAnswer], [false]), false);
    // maj@4 over problems: problem 0 votes 9, 9, 8, (none) → wrong; problems 1, 2 right
    const ev = evalOf([], [[t.wrongAnswer, t.wrongAnswer, t.right, t.noAnswer]]);
    assert.deepEqual([ev.maj_at_k, ev.maj_at_k_ci!.n, ev.maj_at_k_ci!.method], [2 / 3, 3, "wilson"]);
    assert.equal(ev.pass_at_k["4"], 1);
});

test("comparePolicies: A − B per problem, paired bootstrap and exact McNemar; itself → exactly 0", () => {
    const a = evalOf([solutions.right], [[solutions.right, solutions.right, solutions.wrongAnswer, solutions.wrongAnswer]]);
    const b = evalOf([solutions.wrongAnswer], [[solutions.wrongAnswer, solutions.wrongAnswer, solutions.wrongAnswer, solutions.right]]);
    const d = comparePolicies(a, b, {a: "rl.gguf", b: "start.gguf"});
    assert.equal(d.n, 3);
    // greedy: A right on all 3, B on 2 → +1/3
    assert.equal(d.greedy_accuracy.difference.value, 0.3333);
    assert.equal(d.greedy_accuracy.difference.method, "paired-bootstrap-percentile");
    assert.deepEqual([d.greedy_accuracy.mcnemar.a_only, d.greedy_accuracy.mcnemar.b_only, d.greedy_accuracy.mcnemar.value], [1, 0, 1]);
    assert.match(d.greedy_accuracy.sentence, /^rl\.gguf − start\.gguf greedy accuracy: \+33\.3 points; the difference is not significant at 95%: interval 0\.0 to \+100\.0 points, n 3; McNemar exact p = 1\.000 \(1 problem only rl\.gguf got right, 0 only start\.gguf\)$/);
    // maj@4: A's problem 0 ties 8 (first) vs 9 → right; B's votes 9 → wrong
    assert.equal(d.maj_at_k!.difference.value, 0.3333);
    // pass@4: both have a right sample everywhere
    assert.deepEqual([d.pass_at_k!.difference.value, d.pass_at_k!.difference.low, d.pass_at_k!.difference.high], [0, 0, 0]);
    const same = comparePolicies(a, a);
    for (const f of [same.greedy_accuracy, same.maj_at_k!, same.pass_at_k!]) {
        assert.deepEqual([f.difference.value, f.difference.low, f.difference.high, f.mcnemar.value], [0, 0, 0, 1]);
        assert.match(f.sentence, /^A − B .*: 0\.0 points; the difference is not significant/);
    }
});

test("comparePolicies: evaluations of other problems or sample counts are refused, naming them", () => {
    const a = evalOf([], []);
    const other = evaluatePolicyRecords(problems.slice(1), problems.slice(1).map((p) => record(p, 0, p.solution, true)), problems.slice(1).flatMap((p) => [0, 1, 2, 3].map((j) => record(p, j, p.solution, false))), 4);
    assert.throws(() => comparePolicies(a, other, {a: "a.gguf", b: "b.gguf"}), (e: Error) => e instanceof StepwiseError && e.message === "compare policies: a.gguf was measured on 3 problems but b.gguf on 2");
    const swapped = {...a, results: [a.results[1], a.results[0], a.results[2]]};
    assert.throws(() => comparePolicies(a, swapped), (e: Error) => e instanceof StepwiseError && e.message.includes(`problem 1 is "${problems[0].id}" for A but "${problems[1].id}" for B`));
    assert.throws(() => comparePolicies(a, {...a, k: 2}), (e: Error) => e instanceof StepwiseError && /A has 4 samples per problem but B 2/.test(e.message));
});
