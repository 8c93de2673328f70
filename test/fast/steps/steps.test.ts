/**
 * The one step splitter (src/steps): the τ comparison pinned to the released TVD code, and the
 * steps every decoder reads equal to `stepwise split`'s on the same tokens.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {decisionBound, isDecision, splitStepTexts, cutSpans, delimiterCuts, tokenOffsets} from "../../../src/steps/index.ts";
import {splitFile} from "../../../src/pipeline/split/index.ts";
import type {SampleRecord, StepsRecord} from "../../../src/core/records.ts";
import {beamSearch, bestOfNDecode, SearchPrm, splitSample, tvd, resolveConfig, type SearchConfig, type SearchProblem, type TvdIntervention} from "../../../src/search/index.ts";
import {ScriptedPolicy, FunctionScorer, type Script} from "../../helpers/scripted-policy.ts";
import {Rng} from "../../../src/util/rng.ts";
import {decodeCutoff} from "../../../src/cli/commands/decode.ts";
import {methodOf} from "../../../src/search/decode-file.ts";

test('cutoff "percent2" is the released TVD test np.round(p*100, 2) < 100·τ, halves to even', () => {
    // Values checked with numpy 2.4: np.round(p*100, 2) → 54.99, 55.0, 55.0, 54.6, 27.99, 12.34
    assert.equal(isDecision(0.5499, 0.55, "percent2"), true);
    assert.equal(isDecision(0.54996, 0.55, "percent2"), false);
    assert.equal(isDecision(0.54995, 0.55, "percent2"), false, "5499.5 rounds half to even: 5500 → 55.0");
    assert.equal(isDecision(0.546, 0.55, "percent2"), true, "54.6 < 55 (an integer-percent rule said 55)");
    assert.equal(isDecision(0.27995, 0.28, "percent2"), true, "27.995·100 is 2799.4999… in doubles → 27.99");
    // 0.12345·10000 is exactly 1234.5 → 1234 (even), 12.34 < 12.35; rounding halves up would give 12.35
    assert.equal(isDecision(0.12345, 0.1235, "percent2"), true);
    assert.equal(isDecision(0.55, 0.55, "percent2"), false, "τ = 0.55 is exactly 55, not 55.00000000000001");
    // raw: p < τ
    assert.equal(isDecision(0.5499, 0.55, "raw"), true);
    assert.equal(isDecision(0.54996, 0.55, "raw"), true);
    assert.equal(isDecision(0.55, 0.55), false);
    // the bound engines get: p < bound ⇔ decision, at the boundary and on random probabilities
    for (const tau of [0.55, 0.28, 0.1235, 0.0312, 1, 0]) {
        const b = decisionBound(tau, "percent2");
        assert.equal(isDecision(b, tau, "percent2"), false, `bound of ${tau}`);
        if (b > 0) assert.equal(isDecision(b - Number.EPSILON * b, tau, "percent2"), true, `below the bound of ${tau}`);
        const rng = new Rng(7);
        for (let i = 0; i < 2000; i++) {
            const p = i % 2 ? rng.next() : Math.max(0, tau + (rng.next() - 0.5) * 1e-3);
            assert.equal(p < b, isDecision(p, tau, "percent2"), `p = ${p}, τ = ${tau}`);
        }
    }
    assert.ok(decisionBound(0.55, "percent2") > 0.549949 && decisionBound(0.55, "percent2") <= 0.54995);
    assert.equal(decisionBound(0.55, "raw"), 0.55);
});

test("the whitespace rule is one named option; delimiters cut after the token holding their last character", () => {
    const texts = ["x", "\n", "y"];
    assert.deepEqual(cutSpans(texts, [1, 2], "keep"), [[0, 1], [1, 2], [2, 3]]);
    assert.deepEqual(cutSpans(texts, [1, 2], "merge"), [[0, 2], [2, 3]]);
    assert.deepEqual(cutSpans(["", "a", "", "b"], [1, 3], "keep"), [[0, 3], [3, 4]], "text-less steps merge under both rules");
    assert.deepEqual(cutSpans([" ", "\n"], [1], "merge"), [[0, 2]], "only whitespace: one step");
    assert.deepEqual(cutSpans([], [], "keep"), []);
    // "\n\n" inside one token, split across two, and a run of three line breaks (overlapping pairs)
    const toks = ["a", ".\n\n", "b", "\n", "\nc", "\n", "\n", "\n", "d"];
    const text = toks.join("");
    assert.deepEqual(delimiterCuts(text, tokenOffsets(toks.map((t) => ({text: t}))), "\n\n"), [2, 5, 7, 8]);
    assert.deepEqual(delimiterCuts(text, tokenOffsets(toks.map((t) => ({text: t}))), "\n"), [2, 4, 5, 6, 7, 8]);
});

const problem: SearchProblem = {id: "q1", question: "Compute b.", prompt: "Compute b.\n", gold: "5"};

/** Tokens with confidences: a line-break decision token alone, two in a row, a digit decision with alternatives. */
const RESPONSE: Array<[string, number]> = [["a", 1], ["\n", 0.3], ["\n", 0.2], ["b", 1], ["=", 0.45], ["5", 0.4], [".", 1], ["\n", 0.1], ["The answer is 5.", 1]];
const script: Script = (context) => {
    const response = context.slice(problem.prompt.length);
    let at = 0;
    for (const [t, p] of RESPONSE) {
        if (response.length === at) return t === "5" ? [["5", p], ["6", 0.35], ["7", 0.25]] : [[t, p]];
        at += t.length;
    }
    return [["", 1]];
};

/** Steps of `stepwise split --strategy adaptive:TAU` (the file stage) for the given tokens. */
async function splitByStage(pieces: Array<[string, number]>, tau: number): Promise<string[]> {
    const dir = mkdtempSync(join(tmpdir(), "steps-"));
    try {
        const text = pieces.map((p) => p[0]).join("");
        const sample: SampleRecord = {
            id: "q1#0", question_id: "q1", sample_index: 0, question: problem.question, prompt: problem.prompt, text,
            tokens: pieces.map(([t, c]) => ({text: t, confidence: c, top: []})), finish_reason: "stop", engine: "test", seed: 0, temperature: 0,
        };
        writeFileSync(join(dir, "samples.jsonl"), JSON.stringify(sample) + "\n");
        await splitFile({input: join(dir, "samples.jsonl"), out: join(dir, "steps.jsonl"), strategy: {kind: "adaptive", tau}});
        const rec = JSON.parse(readFileSync(join(dir, "steps.jsonl"), "utf8").trim()) as StepsRecord;
        return rec.steps.map((s) => s.text);
    } finally {
        rmSync(dir, {recursive: true, force: true});
    }
}

test("the steps every decoder reads equal `stepwise split`'s on the same tokens", async () => {
    const split = await splitByStage(RESPONSE, 0.5);
    // the case: a whitespace decision token is a step of its own, in the pipeline and in search
    assert.deepEqual(split, ["a\n", "\n", "b=", "5", ".\n", "The answer is 5."]);
    for (const cutoff of ["raw", "percent2"] as const) {
        const config: Partial<SearchConfig> = {tau: 0.5, cutoff, n: 2, temperature: 0, maxTokens: 64, allowUnfinished: true};
        // Best-of-N / weighted vote: the steps of a whole sample
        const bon = new FunctionScorer(() => 0.5);
        await bestOfNDecode(problem, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(bon), config});
        assert.deepEqual(bon.inputs[0], split, `best-of-n, ${cutoff}`);
        assert.deepEqual(splitSample(RESPONSE.map((p) => p[0]).join(""), RESPONSE.map(([text, confidence]) => ({text, confidence})), resolveConfig(config)), split);
        // TVD: at each decision the PRM reads the steps of the response so far + the candidate
        const tv = new FunctionScorer(() => 0.5);
        const r = await tvd(problem, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(tv), config});
        const at = r.trace.find((t) => t.type === "tvd") as TvdIntervention;
        const prefix = r.response_tokens!.slice(0, at.position + 1).map((t) => [t.text, t.confidence] as [string, number]);
        assert.deepEqual(tv.inputs[0], await splitByStage(prefix, 0.5), `tvd, ${cutoff}`);
        assert.deepEqual(tv.inputs[0], ["a\n", "\n", "b=", "5"]);
        // Beam search: the last iteration generates to the end; its piece is cut the same way
        const bm = new FunctionScorer(() => 0.5);
        await beamSearch(problem, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(bm), config: {...config, maxSteps: 1}});
        assert.deepEqual(bm.inputs[0], split, `beam, ${cutoff}`);
    }
    // Beam search step by step: its steps are the split's too
    const steps = new FunctionScorer(() => 0.5);
    await beamSearch(problem, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(steps), config: {tau: 0.5, cutoff: "raw", n: 1, beamWidth: 1, temperature: 0, maxTokens: 64}});
    assert.deepEqual(steps.inputs.at(-1), split);
});

test("delimiter steps: Best-of-N reads `stepwise split --strategy double-newline`'s steps", () => {
    const tokens = ["Step", " one", ".\n\n", "\n\n", "Two", ".\n\nThe", " end."].map((text) => ({text, confidence: 1}));
    const text = tokens.map((t) => t.text).join("");
    const config = resolveConfig({stepEnd: {kind: "delimiter", text: "\n\n"}});
    const expected = splitStepTexts({text, tokens}, {kind: "delimiter", text: "\n\n"});
    assert.deepEqual(expected, ["Step one.\n\n\n\n", "Two.\n\nThe", " end."]);
    assert.deepEqual(splitSample(text, tokens, config), expected);
});


test("decode: percent2 by default, raw for τ from a threshold file (as split compares), named in the method", () => {
    assert.equal(decodeCutoff({}), "percent2");
    assert.equal(decodeCutoff({threshold: "threshold.json"}), "raw");
    assert.equal(decodeCutoff({threshold: "threshold.json", cutoff: "percent2"}), "percent2");
    assert.equal(decodeCutoff({exactTau: true}), "raw");
    assert.throws(() => decodeCutoff({exactTau: true, cutoff: "percent2"}), /--exact-tau contradicts --cutoff percent2/);
    assert.match(methodOf("tvd", resolveConfig()), /^tvd tau=0\.55 \(percent2\) k=8 /);
    assert.match(methodOf("best-of-n", resolveConfig({cutoff: "raw"})), / steps=adaptive tau=0\.55 seed=0 /);
});
