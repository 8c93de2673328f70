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
