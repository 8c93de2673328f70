// @tier fast
/** The lab policy evaluation from sample files (what the demo reads after `sampleDataset`) equals the one from the engine. */
import {test} from "node:test";
import assert from "node:assert/strict";
import {generateProblems, type LabProblem} from "../../src/domains/lab/index.ts";
import {evaluatePolicy, evaluatePolicyRecords} from "../../src/apps/lab/eval/policy.ts";
import {sampleId, type SampleRecord} from "../../src/core/records.ts";
import type {GenerateRequest, Sample} from "../../src/engines/types.ts";
import {StepwiseError} from "../../src/util/errors.ts";
import {ScriptedLabEngine} from "../helpers/scripted-lab-engine.ts";

const problems = generateProblems(5, {seed: 31, split: "heldout"});
const K = 4;

/** Sample i of a problem: its canonical solution, or (every third one, and greedy on odd problems) one with a wrong first step and answer. */
function solution(p: LabProblem, i: number, greedy: boolean): string {
    const wrong = greedy ? Number(p.id.split("h").pop()) % 2 === 1 : i % 3 === 1;
    if (!wrong) return p.solution;
    const lines = [...p.steps];
    lines[0] = lines[0].replace(/= (\d+)/, (_m, v) => `= ${Number(v) + 1}`);
    lines[lines.length - 1] = `The answer is ${Number(p.answer) + 1}.`;
    return lines.join("\n");
}

const sample = (text: string, index: number): Sample => ({index, text, tokens: [...text].map((c, j) => ({text: c, confidence: ((j * 7 + index) % 10) / 10 + 0.05, top: []})), finishReason: "eos"});

/** Whole lab solutions (the scripted lab engine's capabilities, another script). */
class LabSolutions extends ScriptedLabEngine {
    override async generate(r: GenerateRequest): Promise<Sample[]> {
        const p = problems.find((x) => `${x.question}\n` === r.prompt)!;
        return Array.from({length: r.n ?? 1}, (_, j) => sample(solution(p, (r.firstIndex ?? 0) + j, r.temperature === 0), (r.firstIndex ?? 0) + j));
    }
}

function record(p: LabProblem, i: number, greedy: boolean): SampleRecord {
    const s = sample(solution(p, i, greedy), i);
    return {id: sampleId(p.id, i), question_id: p.id, sample_index: i, question: p.question, prompt: `${p.question}\n`, text: s.text, tokens: s.tokens, finish_reason: "eos", engine: "scripted", seed: 0, temperature: greedy ? 0 : 1};
}

test("evaluatePolicyRecords: the same figures as evaluatePolicy on the same samples, in any record order", async () => {
    const fromEngine = await evaluatePolicy({engine: new LabSolutions(), problems, k: K});
    const greedy = problems.map((p) => record(p, 0, true));
    const samples = problems.flatMap((p) => Array.from({length: K}, (_, i) => record(p, i, false))).reverse();
    const fromRecords = evaluatePolicyRecords(problems, greedy, samples, K);
    const {results: a, ...figuresA} = fromEngine;
    const {results: b, ...figuresB} = fromRecords;
    assert.deepEqual(figuresB, figuresA);
    assert.equal(b.length, problems.length);
    assert.deepEqual(
        b.map((r) => r.sampleCorrect),
        a.map((r) => r.sampleCorrect),
    );
    // the scripted solutions make both figures informative: some greedy and some samples wrong
    assert.ok(figuresA.greedy_accuracy > 0 && figuresA.greedy_accuracy < 1, String(figuresA.greedy_accuracy));
    assert.ok(figuresA.sample_accuracy > 0 && figuresA.sample_accuracy < 1, String(figuresA.sample_accuracy));
});

test("evaluatePolicyRecords: a problem without its greedy record or with another sample count is named", () => {
    const greedy = problems.map((p) => record(p, 0, true));
    const samples = problems.flatMap((p) => Array.from({length: K}, (_, i) => record(p, i, false)));
    assert.throws(() => evaluatePolicyRecords(problems, greedy.slice(1), samples, K), (e: Error) => e instanceof StepwiseError && e.message.includes(JSON.stringify(problems[0].id)) && /no greedy sample/.test(e.message));
    assert.throws(() => evaluatePolicyRecords(problems, greedy, samples.slice(1), K), (e: Error) => e instanceof StepwiseError && e.message === `problem ${JSON.stringify(problems[0].id)}: ${K - 1} samples, expected ${K}`);
});
