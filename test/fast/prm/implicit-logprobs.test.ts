/**
 * The implicit PRM scorer over engines that only give prompt logprobs (vLLM, `stepwise serve`):
 * one promptLogprobs request per model, response tokens found by their character ends (a BOS
 * without text, prompt tokens excluded), candidates read from the top list at the last position.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import type {Engine, PromptTokenLogprob} from "../../../src/engines/types.ts";
import {ImplicitPrmScorer} from "../../../src/prm/implicit.ts";
import {StepwiseError} from "../../../src/util/errors.ts";

/** A character-level engine whose p(next char | text) = f(text, char); only promptLogprobs. */
function logprobEngine(f: (text: string, c: string) => number, name: string, calls: string[] = []): Engine {
    return {
        info: {kind: "fake", model: name},
        capabilities: {exactProbes: false, promptLogprobs: true, maxTopLogprobs: 20},
        async promptLogprobs(input: string | number[], options: {topK?: number} = {}): Promise<Array<PromptTokenLogprob | null>> {
            const text = input as string;
            calls.push(text);
            const out: Array<PromptTokenLogprob | null> = [null]; // BOS
            for (let i = 0; i < text.length; i++) {
                const before = text.slice(0, i);
                const top = "0123456789".split("").map((c) => ({text: c, prob: f(before, c)})).sort((a, b) => b.prob - a.prob).slice(0, options.topK ?? 0);
                out.push({id: i, text: text[i], prob: f(before, text[i]), rank: 1, top});
            }
            return out;
        },
        async close() {},
    } as unknown as Engine;
}

const ref = (_t: string, c: string) => (c === "5" ? 0.4 : 0.05);
const prm = (t: string, c: string) => (t.endsWith("= ") && c === "5" ? 0.8 : t === "Q " && c === "5" ? 0.9 : c === "5" ? 0.4 : 0.05);

test("implicit PRM over prompt logprobs: σ(β·Σ log πθ/πref) at step ends, the prompt excluded; candidates from one request per model", async () => {
    const calls: string[] = [];
    const s = new ImplicitPrmScorer(logprobEngine(prm, "prm", calls), logprobEngine(ref, "ref", calls), {beta: 0.5});
    const scores = await s.scoreSteps("Q 5", ["2 + 3 = ", "5"]);
    // The response's "5" after "= " differs (0.8 vs 0.4); the question's "5" (0.9 vs 0.4) is prompt, not counted.
    assert.ok(Math.abs(scores[0] - 0.5) < 1e-12);
    assert.ok(Math.abs(scores[1] - 1 / (1 + Math.exp(-0.5 * Math.log(2)))) < 1e-12);
    calls.length = 0;
    const c = await s.scoreContinuations("Q 5", ["2 + 3 = "], [{text: "5"}, {text: "6"}, {text: "x"}]);
    assert.equal(calls.length, 2, "one request per model");
    assert.deepEqual(calls, ["Q 5\n2 + 3 = 5", "Q 5\n2 + 3 = 5"]);
    assert.ok(Math.abs(c[0] - scores[1]) < 1e-12, "the first candidate = scoring the response with it");
    assert.ok(Math.abs(c[1] - 0.5) < 1e-12, "6: same probability under both models");
    assert.equal(c[2], 0, "a candidate outside the top lists scores 0");
});

test("implicit PRM: models that tokenize differently, or a bad beta, are errors", async () => {
    const short = logprobEngine(ref, "short");
    const shorter = {...short, promptLogprobs: async (i: string) => (await short.promptLogprobs!(i)).slice(1)} as Engine;
    const s = new ImplicitPrmScorer(logprobEngine(prm, "prm"), shorter, {beta: 0.5});
    await assert.rejects(s.scoreSteps("Q", ["1"]), (e: Error) => e instanceof StepwiseError && /tokenize the input differently/.test(e.message));
    assert.throws(() => new ImplicitPrmScorer(logprobEngine(prm, "a"), logprobEngine(ref, "b"), {beta: 0}), /beta must be a positive number/);
});

test("implicit PRM with the policy as its reference: the policy's reading replaces the reference request only when it lines up", async () => {
    const calls: string[] = [];
    const refCalls: string[] = [];
    const s = new ImplicitPrmScorer(logprobEngine(prm, "prm", calls), logprobEngine(ref, "ref", refCalls), {beta: 0.5, policyIsReference: true});
    assert.equal(s.policyIsReference, true);
    const question = "Q 5";
    const steps = ["2 + 3 = "];
    const cands = [{text: "5"}, {text: "6"}, {text: "x"}];
    const want = await s.scoreContinuations(question, steps, cands);
    const reading = {prompt: "Q 5\n", tokens: [..."2 + 3 = "].map((c) => ({text: c, prob: ref("", c)})), candidates: cands.map((c) => ref("", c.text))};
    const cases: Array<[string, typeof reading, number]> = [
        ["lined up", reading, 1],
        ["another prompt", {...reading, prompt: "Q 5\n\n"}, 2],
        ["a token more", {...reading, tokens: [...reading.tokens, {text: "5", prob: 0.4}]}, 2],
        ["other token boundaries", {...reading, tokens: [{text: "2 ", prob: 0.05}, ...reading.tokens.slice(2)]}, 2],
        ["another token text", {...reading, tokens: [{text: "3", prob: 0.05}, ...reading.tokens.slice(1)]}, 2],
        ["a candidate missing", {...reading, candidates: reading.candidates.slice(1)}, 2],
    ];
    for (const [what, r, requests] of cases) {
        calls.length = refCalls.length = 0;
        const usage = {requests: 0};
        const got = await s.scoreContinuations(question, steps, cands, {reference: r, usage});
        assert.equal(usage.requests, requests, what);
        assert.equal(calls.length, 1, `${what}: the PRM is read once`);
        assert.equal(refCalls.length, requests - 1, `${what}: the reference model is run only when the reading does not line up`);
        got.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-12, `${what}, candidate ${i}: ${x} vs ${want[i]}`));
    }
    assert.deepEqual(s.referenceReadings, {reused: 1, run: 6});
});

test("implicit PRM continuations: values are the scores' logits, and they keep candidates apart where σ rounds to 1 or 0", async () => {
    const s = new ImplicitPrmScorer(logprobEngine(prm, "prm"), logprobEngine(ref, "ref"), {beta: 0.5});
    const cands = [{text: "5"}, {text: "6"}, {text: "x"}];
    const values: number[] = [99]; // overwritten, not appended to
    const scores = await s.scoreContinuations("Q 5", ["2 + 3 = "], cands, {values});
    assert.equal(values.length, 3);
    assert.ok(Math.abs(values[0] - 0.5 * Math.log(2)) < 1e-12 && Math.abs(values[1]) < 1e-12);
    assert.equal(values[2], -Infinity, "unreadable: −∞, its score 0");
    values.forEach((q, i) => assert.ok(Math.abs(1 / (1 + Math.exp(-q)) - scores[i]) < 1e-12));
    // β 80: log-ratios log 2 and log 8 give q 55 and 166, both σ = 1 exactly; the values still differ.
    const big = new ImplicitPrmScorer(logprobEngine((t, c) => (c === "5" ? 0.8 : c === "6" ? 0.4 : 0.05), "prm"), logprobEngine((t, c) => (c === "5" ? 0.1 : c === "6" ? 0.2 : 0.05), "ref"), {beta: 80});
    const bv: number[] = [];
    const bs = await big.scoreContinuations("Q", ["1"], [{text: "6"}, {text: "5"}], {values: bv});
    assert.deepEqual(bs, [1, 1], "both scores round to 1");
    assert.ok(bv[1] - bv[0] > 100, `values apart: ${bv}`);
});
