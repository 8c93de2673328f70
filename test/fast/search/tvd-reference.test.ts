// @tier fast
/**
 * TVD against the released code's details (Lux0926/ASPRM evaluation/{math,code}/TVD): EOS among
 * the candidates, the total token bound of a request, the code domain's settings and PRM context.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {ScriptedPolicy, FunctionScorer, type Script} from "../../helpers/scripted-policy.ts";
import {SearchPrm, tvd, resolveConfig, TVD_DOMAIN_DEFAULTS, type SearchProblem, type TvdIntervention} from "../../../src/search/index.ts";

const problem: SearchProblem = {id: "q1", question: "Compute 2 + 3.", prompt: "Q: Compute 2 + 3.\nA: ", gold: "5"};
const head = "So 2 + 3 = ";

/** "So 2 + 3 = " then `dist` (a decision token), then "D." for a digit D and EOS. */
function script(dist: Array<[string, number]>): Script {
    return (context) => {
        const r = context.slice(problem.prompt.length);
        if (r.length < head.length) return [[head[r.length], 1]];
        if (r.length === head.length) return dist;
        return r.length === head.length + 1 ? [[".", 1]] : [["", 1]];
    };
}

/** A FunctionScorer that also records the question of every PRM input. */
class QuestionScorer extends FunctionScorer {
    readonly questions: string[] = [];
    override async scoreSteps(question: string, steps: string[]): Promise<number[]> {
        this.questions.push(question);
        return super.scoreSteps(question, steps);
    }
}

test("TVD: EOS is a candidate; when the PRM picks it the response ends there, finished (released code)", async () => {
    // The PRM likes a response that stops right after "= " better than one with a digit.
    const scorer = new FunctionScorer((s) => (s.endsWith("= ") ? 0.9 : 0.3));
    const dist: Array<[string, number]> = [["6", 0.45], ["", 0.35], ["5", 0.2]];
    const r = await tvd(problem, {policy: new ScriptedPolicy(script(dist)).engine, prm: new SearchPrm(scorer)});
    assert.equal(r.text, head);
    const t = r.trace[0] as TvdIntervention;
    assert.deepEqual(t.candidates.map((c) => c.text), ["6", "", "5"]);
    assert.equal(t.chosen, 1);
    assert.equal(r.trace.length, 1);
    assert.ok(scorer.inputs.some((steps) => steps[steps.length - 1] === head), "the EOS candidate is scored as the response so far");
    // Named option off: EOS is no candidate, the greedy digit stays.
    const off = await tvd(problem, {policy: new ScriptedPolicy(script(dist)).engine, prm: new SearchPrm(scorer), config: {eosCandidate: false}});
    assert.equal(off.text, head + "6.");
    assert.deepEqual((off.trace[0] as TvdIntervention).candidates.map((c) => c.text), ["6", "5"]);
});

test("TVD: EOS as the greedy token at a decision ends decoding, with no PRM call", async () => {
    const scorer = new FunctionScorer(() => 0.9);
    const r = await tvd(problem, {policy: new ScriptedPolicy(script([["", 0.4], ["5", 0.35], ["6", 0.25]])).engine, prm: new SearchPrm(scorer)});
    assert.equal(r.text, head);
    assert.deepEqual(r.trace, []);
    assert.equal(scorer.inputs.length, 0);
});

test("TVD: maxTotalTokens bounds prompt plus response (released: 1,024 math, 2,048 code)", async () => {
    const scorer = new FunctionScorer(() => 0.5);
    // The scripted tokenizer counts characters: the prompt has 21 tokens, so 26 leave 5 to the response.
    const r = await tvd(problem, {policy: new ScriptedPolicy(script([["5", 0.9]])).engine, prm: new SearchPrm(scorer), config: {maxTotalTokens: problem.prompt.length + 5}});
    assert.equal(r.text, head.slice(0, 5));
    assert.equal(r.finished, false);
    // maxTokens still applies when it is the smaller bound.
    const r2 = await tvd(problem, {policy: new ScriptedPolicy(script([["5", 0.9]])).engine, prm: new SearchPrm(scorer), config: {maxTotalTokens: 1000, maxTokens: 3}});
    assert.equal(r2.text, head.slice(0, 3));
    assert.throws(() => resolveConfig({maxTotalTokens: -1}), /maxTotalTokens/);
});

test("TVD: prmContext prompt gives the PRM the whole prompt (released code domain), question by default", async () => {
    const dist: Array<[string, number]> = [["6", 0.45], ["5", 0.35]];
    const q = new QuestionScorer(() => 0.5);
    await tvd(problem, {policy: new ScriptedPolicy(script(dist)).engine, prm: new SearchPrm(q)});
    assert.deepEqual([...new Set(q.questions)], [problem.question]);
    const p = new QuestionScorer(() => 0.5);
    await tvd(problem, {policy: new ScriptedPolicy(script(dist)).engine, prm: new SearchPrm(p), config: {prmContext: "prompt"}});
    assert.deepEqual([...new Set(p.questions)], [problem.prompt]);
    assert.throws(() => resolveConfig({prmContext: "x" as "prompt"}), /prmContext/);
});

test("TVD domain defaults: code intervenes in code only with the prompt as PRM context; the total bounds", async () => {
    assert.deepEqual(TVD_DOMAIN_DEFAULTS.code, {tau: 0.28, maxTotalTokens: 2048, codeBlocksOnly: true, prmContext: "prompt"});
    assert.deepEqual(TVD_DOMAIN_DEFAULTS.math, {tau: 0.55, maxTotalTokens: 1024, codeBlocksOnly: false, prmContext: "question"});
});
