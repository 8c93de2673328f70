/**
 * `POST /get_reward` (src/apps/serve/reward.ts) with a scripted PRM: the request bodies
 * OpenRLHF's reference client sends (openrlhf/utils/agent.py at 3c3be62: one query per request,
 * `{"query": [q], "prompts": [p], "labels": [label]}`, q = decode(prompt + response tokens) with
 * special tokens; sharded over several servers, so empty lists; the older remote_rm_utils.py
 * batched many), the response fields it reads (rewards, scores, extra_logs), the step rules, the
 * aggregations, and the server's error objects.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {createApp} from "../../../src/apps/serve/server.ts";
import {stripEos, truncatedPromptOverlap, type RewardConfig} from "../../../src/apps/serve/reward.ts";
import type {Engine, PromptTokenLogprob} from "../../../src/engines/types.ts";
import {resolveFormat, type StepScorer} from "../../../src/prm/index.ts";
import {ContextOverflowError} from "../../../src/util/errors.ts";

/** A served engine that is never asked to generate (only /get_reward is used). */
const engine = {info: {kind: "llama", model: "prm.gguf", contextSize: 4096}, capabilities: {}} as unknown as Engine;

/** A PRM that gives a step 0.2 when it says "wrong", else 0.9, and records what it read. */
class ScriptedScorer implements StepScorer {
    readonly format = resolveFormat("math-shepherd");
    calls: Array<{question: string; steps: string[]}> = [];
    async scoreSteps(question: string, steps: string[]) {
        this.calls.push({question, steps});
        if (steps.some((s) => s.includes("too long"))) throw new ContextOverflowError("PRM input is 9000 tokens, longer than the PRM's context (4096 tokens)");
        return steps.map((s) => (s.includes("wrong") ? 0.2 : 0.9));
    }
    async scoreMany(): Promise<number[][]> {
        throw new Error("not used");
    }
    async close() {}
}

function app(config: Partial<RewardConfig> = {}, scorer = new ScriptedScorer()) {
    const reward: RewardConfig = {scorer, aggregation: "min", steps: {kind: "delimiter", text: "\n"}, ...config};
    return {scorer, app: createApp({engine, reward, limits: {maxPrompts: 8}})};
}

async function post(a: ReturnType<typeof createApp>, body: unknown, type = "application/json") {
    const r = await a.request("/get_reward", {method: "POST", headers: {"content-type": type}, body: JSON.stringify(body)});
    return {status: r.status, json: (await r.json()) as any};
}

const prompt = "Compute 3 + 4 * 2.\n";
const response = "First, 4 * 2 = 8, so 3 + 8.\nSo 3 + 8 = 11.\nThe answer is 11.";

test("OpenRLHF's per-sample request: rewards = scores = the min of the step scores, per-step scores, numeric extra_logs; EOS stripped", async () => {
    const {app: a, scorer} = app();
    // SingleTurnAgentExecutor: query = decode(prompt + response tokens, skip_special_tokens=False), so the EOS text ends it.
    const {status, json} = await post(a, {query: [prompt + response.replace("= 11.\nThe", "= 12 wrong.\nThe") + "</s>"], prompts: [prompt], labels: ["11"]});
    assert.equal(status, 200);
    assert.deepEqual(json, {
        rewards: [0.2],
        scores: [0.2],
        extra_logs: {prm_steps: [3], prm_min_step: [0.2], prompt_truncated: [0], prm_too_long: [0]},
        step_scores: [[0.9, 0.2, 0.9]],
    });
    assert.deepEqual(scorer.calls, [{question: "Compute 3 + 4 * 2.", steps: ["First, 4 * 2 = 8, so 3 + 8.\n", "So 3 + 8 = 12 wrong.\n", "The answer is 11."]}]);
});

test("a batch (the older remote_rm_utils.py client), labels of any type and null ignored; aggregations min, product, last, mean, max", async () => {
    const queries = [prompt + response, prompt + "So 3 + 8 = 12 wrong.\nThe answer is 12.<|im_end|>", prompt + ""];
    const expected: Record<string, number[]> = {min: [0.9, 0.2, 0], product: [0.9 ** 3, 0.2 * 0.9, 0], last: [0.9, 0.9, 0], mean: [0.9, 0.55, 0], max: [0.9, 0.9, 0]};
    for (const [aggregation, rewards] of Object.entries(expected)) {
        const {app: a} = app({aggregation: aggregation as RewardConfig["aggregation"]});
        const {status, json} = await post(a, {query: queries, prompts: [prompt, prompt, prompt], labels: [null, 12, {x: 1}]});
        assert.equal(status, 200, JSON.stringify(json));
        json.rewards.forEach((r: number, i: number) => assert.ok(Math.abs(r - rewards[i]) < 1e-12, `${aggregation} query ${i}: ${r} ≠ ${rewards[i]}`));
        assert.deepEqual(json.scores, json.rewards);
        assert.deepEqual(json.extra_logs.prm_steps, [3, 2, 0]); // an empty response has no step and gets 0
        assert.deepEqual(json.step_scores[2], []);
    }
});

test("sharded over two servers, the second gets empty lists: an empty answer, not an error", async () => {
    const {app: a} = app();
    const {status, json} = await post(a, {query: [], prompts: [], labels: []});
    assert.equal(status, 200);
    assert.deepEqual(json, {rewards: [], scores: [], extra_logs: {prm_steps: [], prm_min_step: [], prompt_truncated: [], prm_too_long: []}, step_scores: []});
});

test("queries without prompts (serve_rm.py's shape): the prompt ends at --prompt-end; without one it is a 400 naming prompts", async () => {
    const {app: a, scorer} = app({promptEnd: "\n"});
    const ok = await post(a, {query: [prompt + response]});
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json.rewards, [0.9]);
    assert.equal(scorer.calls[0].question, "Compute 3 + 4 * 2.");
    const missing = await post(a, {query: ["no line break here"]});
    assert.equal(missing.status, 400);
    assert.equal(missing.json.error.param, "query.0");
    assert.match(missing.json.error.message, /^query\.0: no prompts given and the query has no "\\n"/);
    const none = await post(app().app, {query: [prompt + response], prompts: null});
    assert.equal(none.status, 400);
    assert.equal(none.json.error.param, "prompts");
});

test("a prompt the trainer cut from the left: the query begins with the prompt's end; a query that does not begin with its prompt is a 400 naming it", async () => {
    const long = "Some long context that the trainer had to cut. ".repeat(4) + prompt;
    const cut = long.slice(60);
    const {app: a, scorer} = app();
    const ok = await post(a, {query: [prompt + response, cut + response], prompts: [prompt, long], labels: [null, null]});
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    assert.deepEqual(ok.json.extra_logs.prompt_truncated, [0, 1]);
    assert.deepEqual(scorer.calls[1].steps, scorer.calls[0].steps);
    const bad = await post(a, {query: [prompt + response, "Compute 9 - 1.\n" + response], prompts: [prompt, prompt]});
    assert.equal(bad.status, 400);
    assert.deepEqual([bad.json.error.param, bad.json.error.code, bad.json.error.type], ["query.1", 400, "BadRequestError"]);
    assert.match(bad.json.error.message, /^query\.1: does not begin with prompts\.1/);
});

test("bad bodies: OpenAI error objects naming the field (the server's limits and Content-Type rule apply)", async () => {
    const {app: a} = app();
    for (const [body, param, pattern] of [
        [{query: [prompt + response], prompts: [prompt, prompt]}, "prompts", /^prompts: 2 prompts for 1 queries/],
        [{query: [1, 2]}, "query", /^query: expected a string or a list of strings/],
        [{prompts: [prompt]}, "query", /^query: expected a string or a list of strings/],
        [{query: {}}, "query", /^query: expected a string or a list of strings/],
        [{query: Array(9).fill(prompt), prompts: Array(9).fill(prompt)}, "query", /^query: at most 8 queries per request, got 9/],
        [{query: [prompt + "fine\nthis one is too long"], prompts: [prompt]}, "query.0", /^query\.0: PRM input is 9000 tokens.*\(--too-long-reward R gives such a query the reward R instead of failing the request\)$/],
    ] as const) {
        const {status, json} = await post(a, body);
        assert.equal(status, 400, JSON.stringify(body));
        assert.equal(json.error.param, param);
        assert.match(json.error.message, pattern);
    }
    assert.equal((await post(a, {query: []}, "text/plain")).status, 415);
    const plain = await post(createApp({engine}), {query: [prompt + response], prompts: [prompt]});
    assert.equal(plain.status, 400);
    assert.match(plain.json.error.message, /not started as a PRM/);
});

test("--too-long-reward: a query longer than the PRM's context gets that reward and prm_too_long 1; the rest of the batch is scored", async () => {
    const {app: a} = app({tooLongReward: -1});
    const {status, json} = await post(a, {query: [prompt + response, prompt + "fine\nthis one is too long", prompt + response], prompts: [prompt, prompt, prompt]});
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual(json.rewards, [0.9, -1, 0.9]);
    assert.deepEqual(json.extra_logs.prm_too_long, [0, 1, 0]);
    assert.deepEqual(json.extra_logs.prm_steps, [3, 0, 3]);
    assert.deepEqual(json.step_scores[1], []);
    // The server's cheap check (a query certainly longer than the context, before tokenizing) counts the same way.
    const checked = createApp({engine: {...engine, tokenLowerBound: (t: string) => ({tokens: t.length, bytes: t.length})} as unknown as Engine, reward: {scorer: new ScriptedScorer(), aggregation: "min", steps: {kind: "delimiter", text: "\n"}, tooLongReward: 0}, limits: {maxPrompts: 8}});
    const long = await post(checked, {query: [prompt + response, prompt + "x".repeat(5000)], prompts: [prompt, prompt]});
    assert.equal(long.status, 200, JSON.stringify(long.json));
    assert.deepEqual(long.json.extra_logs.prm_too_long, [0, 1]);
    const strict = createApp({engine: {...engine, tokenLowerBound: (t: string) => ({tokens: t.length, bytes: t.length})} as unknown as Engine, reward: {scorer: new ScriptedScorer(), aggregation: "min", steps: {kind: "delimiter", text: "\n"}}, limits: {maxPrompts: 8}});
    const refused = await post(strict, {query: [prompt + "x".repeat(5000)], prompts: [prompt]});
    assert.equal(refused.status, 400);
    assert.match(refused.json.error.message, /^query\.0: this model's maximum context length is 4096 tokens, but the input has at least \d+ tokens .*: the PRM's context \(--too-long-reward R/);
});

test("adaptive steps: a step ends after every response token the policy gave probability below τ (prompt and response tokenized apart)", async () => {
    // One character per token; the policy is unsure (p = 0.3) of every digit, sure of everything else.
    const policy = {
        info: {kind: "llama", model: "policy.gguf"},
        capabilities: {},
        async tokenize(text: string, o: {addBos?: boolean} = {}) {
            return [...(o.addBos === false ? [] : [1]), ...[...text].map((c) => c.charCodeAt(0))];
        },
        async detokenize(ids: number[]) {
            return String.fromCharCode(...ids.filter((t) => t !== 1));
        },
        async promptLogprobs(ids: number[]): Promise<Array<PromptTokenLogprob | null>> {
            return ids.map((id, i) => (i === 0 ? null : {id, text: String.fromCharCode(id), prob: /\d/.test(String.fromCharCode(id)) ? 0.3 : 0.95, rank: 1, top: []}));
        },
    } as unknown as Engine;
    const {app: a, scorer} = app({steps: {kind: "adaptive", tau: 0.5, policy}});
    const {status, json} = await post(a, {query: [prompt + "So 3 + 8 = 11.</s>"], prompts: [prompt]});
    assert.equal(status, 200, JSON.stringify(json));
    assert.deepEqual(scorer.calls[0].steps, ["So 3", " + 8", " = 1", "1", "."]);
    assert.deepEqual(json.extra_logs.prm_steps, [5]);
});

test("truncatedPromptOverlap: the longest end of the prompt the query begins with; stripEos strips repeated end texts", () => {
    assert.equal(truncatedPromptOverlap("abcabcX", "bcXrest"), 3);
    assert.equal(truncatedPromptOverlap("aaaa", "aaab"), 3);
    assert.equal(truncatedPromptOverlap("xyz", "abc"), 0);
    assert.equal(truncatedPromptOverlap("abc", ""), 0);
    assert.equal(stripEos("text<|im_end|></s></s>", ["</s>", "<|im_end|>"]), "text");
    assert.equal(stripEos("</s> in the middle", ["</s>"]), "</s> in the middle");
});
