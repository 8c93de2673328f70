/**
 * Runs that finish: at the policy's or the PRM's context end every decoder ends that solution
 * unfinished (context_end "policy" / "prm") instead of stopping the run; only a question whose
 * prompt alone fills the context stops `decodeFile` (or is skipped with skipTooLong). Questions are
 * GSM8K rows (skipped with a reason without ../shared/data); the engines are scripted with one
 * character per token and a context limit that fails as the real engines do.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {ScriptedPolicy, FunctionScorer, type Script} from "../../helpers/scripted-policy.ts";
import {beamSearch, bestOfNDecode, decodeFile, dvts, greedy, SearchPrm, tvd, weightedVoteDecode, type DecodeRecord, type SearchProblem, type Strategy} from "../../../src/search/index.ts";
import type {GenerateRequest, Sample} from "../../../src/engines/types.ts";
import {ContextOverflowError, StepwiseError} from "../../../src/util/errors.ts";

const GSM8K = new URL("../../../../shared/data/gsm8k/test.jsonl", import.meta.url).pathname;
const skip = existsSync(GSM8K) ? false : `no GSM8K file at ${GSM8K}`;
const rows = (): Array<{question: string; answer: string}> =>
    readFileSync(GSM8K, "utf8")
        .split("\n")
        .slice(0, 20)
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l));

/** A policy with a context of `context` tokens (characters): as the OpenAI engine, samples are cut at its end, and a prompt that fills it is an error. */
class ContextPolicy extends ScriptedPolicy {
    constructor(
        script: Script,
        readonly context: number,
    ) {
        super(script);
    }
    override async generate(r: GenerateRequest): Promise<Sample[]> {
        const n = (r.prompt as string).length;
        if (n >= this.context)
            throw new ContextOverflowError(`generate: the prompt (${n} tokens) fills the server's context (${this.context} tokens, max_model_len at /v1/models), leaving no room to generate; shorten the prompt`, n, this.context);
        return super.generate({...r, maxTokens: Math.min(r.maxTokens ?? 256, this.context - n)});
    }
}

/** Never ends: "a", "b" or "c" at every 8th character (a decision token at p .5 / .3 / .2), "x" otherwise. */
const endless: Script = (context) => {
    const i = context.indexOf("Answer:");
    const k = context.length - i;
    return k % 8 === 0 ? [["a", 0.5], ["b", 0.3], ["c", 0.2]] : [["x", 1]];
};

/** A PRM whose context holds `limit` characters of steps; longer inputs fail with the served PRM's HTTP 400 wording. */
class LimitedScorer extends FunctionScorer {
    constructor(
        readonly limit: number,
        score: (step: string) => number,
    ) {
        super(score);
    }
    override async scoreSteps(question: string, steps: string[]): Promise<number[]> {
        const n = steps.join("").length;
        if (n > this.limit)
            throw new StepwiseError(`POST http://127.0.0.1:8001/pooling: HTTP 400: this model's maximum context length is ${this.limit} tokens, but the input has ${n} tokens; shorten the input`);
        return super.scoreSteps(question, steps);
    }
}

const problemOf = (row: {question: string}, i: number): SearchProblem => ({id: `gsm8k-${i}`, question: row.question, prompt: `Question: ${row.question}\nAnswer:`});
const STRATEGIES: Array<[string, Strategy]> = [
    ["greedy", greedy],
    ["tvd", tvd],
    ["best-of-n", bestOfNDecode],
    ["weighted-vote", weightedVoteDecode],
    ["beam", beamSearch],
    ["dvts", dvts],
];

test("every decoder ends a GSM8K solution that reaches the policy's context end as unfinished, without an error", {skip}, async () => {
    const problem = problemOf(rows()[15], 15);
    for (const [name, run] of STRATEGIES) {
        const policy = new ContextPolicy(endless, problem.prompt.length + 100);
        const prm = new SearchPrm(new FunctionScorer((s) => (s.endsWith("b") ? 0.9 : 0.1)));
        const r = await run(problem, {policy: policy.engine, prm, config: {maxTokens: 4000, n: 4, beamWidth: 2, maxSteps: 40}});
        assert.equal(r.finished, false, name);
        assert.equal(r.answer, null, name);
        assert.ok(r.text.length > 0 && r.text.length <= 100, `${name}: ${r.text.length} characters`);
        assert.equal(r.context_end, "policy", name);
    }
});

test("a PRM input longer than the PRM's context: TVD ends unfinished, beams end unscored, Best-of-N and the vote leave the candidate out", {skip}, async () => {
    const problem = problemOf(rows()[3], 3);
    const policy = () => new ScriptedPolicy(endless);
    // TVD: the decisions are scored until the response outgrows the PRM's 60 characters.
    const t = await tvd(problem, {policy: policy().engine, prm: new SearchPrm(new LimitedScorer(60, () => 0.5)), config: {maxTokens: 400}});
    assert.equal(t.finished, false);
    assert.equal(t.context_end, "prm");
    // it stops at the first decision whose input (response so far + candidate) passes 60 characters
    assert.ok(t.text.length >= 60 && t.text.length < 68, `${t.text.length}`);
    assert.ok(t.trace.length > 0);
    // beam and DVTS: children outgrowing the PRM end there; the run does not fail.
    for (const [name, run] of [["beam", beamSearch], ["dvts", dvts]] as const) {
        const r = await run(problem, {policy: policy().engine, prm: new SearchPrm(new LimitedScorer(30, () => 0.5)), config: {maxTokens: 400, n: 4, beamWidth: 2}});
        assert.equal(r.finished, false, name);
        assert.equal(r.context_end, "prm", name);
        const scores = r.trace.flatMap((e) => (e.type === "beam" ? e.candidates.map((c) => c.score) : []));
        assert.ok(scores.some((s) => Number.isNaN(s)), `${name}: an unscored child is traced`);
        assert.match(JSON.stringify(r.trace), /"score":null/);
    }
    // Best-of-N / vote: "L…" samples are too long for the PRM (which would love them); the short one wins.
    const answer = (text: string): Script => (context) => {
        const response = context.slice(problem.prompt.length);
        if (response === "") return [["S", 0.5], ["L", 0.5]];
        const target = response[0] === "S" ? "S. The answer is 18." : "L" + " so".repeat(30) + ". The answer is 7.";
        return response.length < target.length ? [[target[response.length], 1]] : [["", 1]];
    };
    for (const [name, run] of [["best-of-n", bestOfNDecode], ["weighted-vote", weightedVoteDecode]] as const) {
        const prm = new SearchPrm(new LimitedScorer(40, (s) => (s.includes("so") ? 0.99 : 0.5)));
        const r = await run(problem, {policy: new ScriptedPolicy(answer(problem.prompt)).engine, prm, config: {n: 6, stepEnd: {kind: "delimiter", text: ". "}}});
        assert.equal(r.answer, "18", name);
        assert.equal(r.finished, true, name);
        const cands = r.trace.filter((e) => e.type === "candidate");
        assert.ok(cands.some((c) => c.type === "candidate" && Number.isNaN(c.score)), `${name}: some candidates are unscored`);
        // no candidate fits: the first, unfinished
        const none = await run(problem, {policy: new ScriptedPolicy(answer(problem.prompt)).engine, prm: new SearchPrm(new LimitedScorer(5, () => 0.5)), config: {n: 4}});
        assert.equal(none.finished, false, name);
        assert.equal(none.answer, null, name);
        assert.equal(none.context_end, "prm", name);
    }
});

test("decodeFile: a question whose prompt alone fills the context stops the run naming it, or is skipped and listed with skipTooLong", {skip}, async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-context-end-"));
    const data = join(dir, "gsm8k3.jsonl");
    const three = rows().slice(0, 3);
    writeFileSync(data, three.map((r) => JSON.stringify(r)).join("\n") + "\n");
    // The context fits the first and third prompts, not the second.
    const prompts = three.map((r) => `Question: ${r.question}\nAnswer:`);
    const context = Math.max(prompts[0].length, prompts[2].length) + 40;
    if (!(prompts[1].length >= context)) {
        prompts[1] += " ".repeat(context); // keep the test meaningful whatever the rows' lengths
        three[1].question += " ".repeat(context);
        writeFileSync(data, three.map((r) => JSON.stringify(r)).join("\n") + "\n");
    }
    const o = (out: string, skipTooLong?: boolean) => ({
        strategy: "tvd" as const,
        policy: new ContextPolicy(endless, context).engine,
        prm: new SearchPrm(new FunctionScorer(() => 0.5)),
        data,
        out: join(dir, out),
        template: "Question: {question}\nAnswer:",
        config: {maxTokens: 1000},
        concurrency: 1,
        skipTooLong,
    });
    await assert.rejects(decodeFile(o("stop.jsonl")), /gsm8k3\.jsonl:2 id "[^"]+": generate: the prompt \(\d+ tokens\) fills the server's context .*--skip-too-long skips such records/);
    const s = await decodeFile(o("skip.jsonl", true));
    assert.equal(s.tooLong?.length, 1);
    assert.match(s.tooLong![0].where, /gsm8k3\.jsonl:2/);
    const records = readFileSync(join(dir, "skip.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as DecodeRecord);
    assert.equal(records.length, 2);
    for (const r of records) {
        assert.equal(r.finished, false);
        assert.equal(r.context_end, "policy");
    }
});
