/**
 * TVD with a scorer that reads every candidate of a decision from one pass (implicit PRMs,
 * src/prm/implicit.ts): one PRM call per decision with the response so far and the candidates'
 * ids, and the policy-prior weight of the choice (SearchConfig.priorWeight).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {ScriptedPolicy, FunctionScorer, type Script} from "../../helpers/scripted-policy.ts";
import {chooseCandidate, rankWith, SearchPrm, tvd, type SearchProblem, type TvdIntervention} from "../../../src/search/index.ts";
import {resolveFormat} from "../../../src/prm/formats.ts";
import {type Continuation, type ContinuationOptions, type ContinuationScorer} from "../../../src/prm/implicit.ts";
import type {StepScorer} from "../../../src/prm/scorer.ts";

const problem: SearchProblem = {id: "q1", question: "Compute 2 + 3.", prompt: "Compute 2 + 3.\n", gold: "5"};

/** "So 2 + 3 = " then 6 (p .45, greedy), 5 (p .35) or 7 (p .2), then ".\nThe answer is D." */
const script: Script = (context) => {
    const response = context.slice(problem.prompt.length);
    const head = "So 2 + 3 = ";
    if (response.length < head.length) return [[head[response.length], 1]];
    if (response.length === head.length)
        return [
            ["6", 0.45],
            ["5", 0.35],
            ["7", 0.2],
        ];
    const d = response[head.length];
    const target = `${head}${d}.\nThe answer is ${d}.`;
    return response.length < target.length ? [[target[response.length], 1]] : [["", 1]];
};

/** A continuation scorer: 7 scores 0.8, 5 scores 0.7, anything else 0.2; records its calls. */
class OnePassScorer implements StepScorer, ContinuationScorer {
    readonly format = resolveFormat("stepwise-lab");
    readonly requestsPerCall = 2;
    readonly calls: Array<{steps: string[]; candidates: Continuation[]}> = [];
    async scoreContinuations(_q: string, steps: string[], candidates: Continuation[]): Promise<number[]> {
        this.calls.push({steps, candidates});
        return candidates.map((c) => (c.text === "7" ? 0.8 : c.text === "5" ? 0.7 : 0.2));
    }
    async scoreSteps(_q: string, steps: string[]): Promise<number[]> {
        return steps.map(() => 0.5);
    }
    async scoreMany(items: Array<{question: string; steps: string[]}>): Promise<number[][]> {
        return Promise.all(items.map((it) => this.scoreSteps(it.question, it.steps)));
    }
    async close() {}
}

test("TVD asks a continuation scorer once per decision, with the response so far and every candidate", async () => {
    const scorer = new OnePassScorer();
    const r = await tvd(problem, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(scorer)});
    assert.equal(scorer.calls.length, 1);
    assert.equal(scorer.calls[0].steps.join(""), "So 2 + 3 = ");
    assert.deepEqual(scorer.calls[0].candidates.map((c) => c.text), ["6", "5", "7"]);
    assert.equal(r.prm_calls, 1, "one PRM input for the whole decision");
    assert.equal(r.requests, 1 + 1 + 2, "two policy calls (to the decision, after it) and the scorer's two model requests");
    const [iv] = r.trace.filter((t): t is TvdIntervention => t.type === "tvd");
    assert.deepEqual(iv.candidates.map((c) => c.score), [0.2, 0.7, 0.8]);
    assert.equal(r.text, "So 2 + 3 = 7.\nThe answer is 7.");
});

test("TVD prior weight: logit(score) + w·log p(candidate) — w 0 keeps the PRM's argmax, a large w falls back to the policy", async () => {
    const run = (priorWeight: number) => tvd(problem, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(new OnePassScorer()), config: {priorWeight}});
    assert.equal((await run(0)).answer, "7");
    // logit(.7) + 1·log .35 = -0.20 beats logit(.8) + log .2 = -0.22 and logit(.2) + log .45 = -2.18
    assert.equal((await run(1)).answer, "5");
    assert.equal((await run(50)).answer, "6");
    const ranks = rankWith(1, [0.2, 0.7, 0.8], [{prob: 0.45}, {prob: 0.35}, {prob: 0.2}]);
    assert.ok(Math.abs(ranks[1] - (Math.log(0.7 / 0.3) + Math.log(0.35))) < 1e-12);
    assert.deepEqual(rankWith(0, [0.2, 0.7], [{prob: 0.5}, {prob: 0.5}]), [0.2, 0.7]);
});

test("a tag PRM (no continuation reading) still gets one input per candidate, the candidate ending the last step", async () => {
    const scorer = new FunctionScorer((s) => (s.endsWith("5") ? 0.9 : 0.3));
    const r = await tvd(problem, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(scorer)});
    assert.equal(r.prm_calls, 3);
    assert.deepEqual(scorer.inputs.map((s) => s.at(-1)), ["So 2 + 3 = 6", "So 2 + 3 = 5", "So 2 + 3 = 7"]);
    assert.equal(r.answer, "5");
});

/** A continuation scorer whose scores all round to 1 (σ(q), q > 37): only its values tell the candidates apart. */
class SaturatedScorer extends OnePassScorer {
    constructor(readonly reportValues: boolean) {
        super();
    }
    override async scoreContinuations(_q: string, _steps: string[], candidates: Continuation[], options: ContinuationOptions = {}): Promise<number[]> {
        const qs = candidates.map((c) => (c.text === "5" ? 60 : c.text === "7" ? 50 : 40));
        if (this.reportValues && options.values) options.values.splice(0, options.values.length, ...qs);
        return qs.map((q) => 1 / (1 + Math.exp(-q)));
    }
}

test("TVD with scores that round to 1: the scorer's values (logits) decide, with or without a prior weight; without values the greedy token is kept", async () => {
    assert.equal(1 / (1 + Math.exp(-40)), 1, "σ(40) is exactly 1 in float64");
    const run = (reportValues: boolean, priorWeight = 0) => tvd(problem, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(new SaturatedScorer(reportValues)), config: {priorWeight}});
    const picked = await run(true);
    assert.equal(picked.answer, "5");
    const [iv] = picked.trace.filter((t): t is TvdIntervention => t.type === "tvd");
    assert.deepEqual(iv.candidates.map((c) => [c.score, c.value]), [[1, 40], [1, 60], [1, 50]], "the trace keeps each candidate's value");
    assert.equal((await run(false)).answer, "6", "a tie keeps the greedy token");
    // w 1: 60 + log .35 beats 50 + log .2 and 40 + log .45; logit(clamped 1) would tie them all at 34.5 + w·log p.
    assert.equal((await run(true, 1)).answer, "5");
    assert.equal((await run(false, 1)).answer, "6", "clamped logits: the policy prior alone decides");
});

test("chooseCandidate: the greedy token unless beaten by more than the margin; exact ties broken by values only", () => {
    assert.equal(chooseCandidate([0.5, 0.7, 0.9], 0), 2);
    assert.equal(chooseCandidate([0.5, 0.7, 0.9], 0.5), 0, "margin not cleared");
    assert.equal(chooseCandidate([0.5, 0.7, 0.7], 0), 1, "the first of equals");
    assert.equal(chooseCandidate([1, 1, 1], 0), 0);
    assert.equal(chooseCandidate([1, 1, 1], 0, [40, 45, 50]), 2);
    assert.equal(chooseCandidate([1, 1, 1], 0, [40, 45, 45]), 1);
    assert.equal(chooseCandidate([1, 1, 1], 0.1, [40, 45, 50]), 0, "a margin is in rank units: a tie never clears it");
    assert.equal(chooseCandidate([0.2, -Infinity, 0.1], 0, [1, 5, 0]), 0, "an unscored candidate is never kept");
    assert.equal(chooseCandidate([-Infinity, 0.1, 0.3], 0), 2, "an unscored greedy token is replaced");
    assert.equal(chooseCandidate([-Infinity, -Infinity], 0, [0, 5]), 0, "nothing scored: the greedy token stays, whatever the values");
});
