import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {tinyModel, type TinyModel} from "../../helpers/tiny-model.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {startServer, type RunningServer} from "../../../src/apps/serve/server.ts";
import {wrapEngine} from "../../helpers/wrap-engine.ts";

let m: TinyModel;
let engine: LlamaEngine;
let server: RunningServer;
const prompt = "Compute 3 + 4.\n";

before(async () => {
    m = tinyModel(1, 40);
    engine = await LlamaEngine.load(m.path, {sequences: 4, contextSize: 256});
    server = await startServer({
        engine,
        port: 0,
        modelName: "tiny",
        pooling: {stepTagId: m.vocab.stepTagId, returnedTokenIds: [m.vocab.goodId, m.vocab.badId]},
    });
});
after(async () => {
    await server.close();
    await engine.close();
});

async function post(path: string, body: unknown): Promise<{status: number; json: any}> {
    const r = await fetch(server.url + path, {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(body)});
    return {status: r.status, json: await r.json()};
}

test("binds loopback and lists the model", async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = (await (await fetch(server.url + "/v1/models")).json()) as {data: Array<{id: string}>};
    assert.equal(r.data[0].id, "tiny");
});

test("completions: n, seed and logprobs equal the engine's own samples", async () => {
    const {status, json} = await post("/v1/completions", {model: "tiny", prompt, n: 3, seed: 9, max_tokens: 8, logprobs: 3, temperature: 1});
    assert.equal(status, 200);
    const direct = await engine.generate({prompt, n: 3, seed: 9, maxTokens: 8, topLogprobs: 3});
    assert.equal(json.choices.length, 3);
    json.choices.forEach((c: any, i: number) => {
        assert.equal(c.index, i);
        assert.equal(c.text, direct[i].text);
        assert.equal(c.logprobs.tokens.join(""), c.text);
        c.logprobs.token_logprobs.forEach((lp: number, j: number) => assert.ok(Math.abs(Math.exp(lp) - direct[i].tokens[j].confidence) < 1e-6, `${Math.exp(lp)} vs ${direct[i].tokens[j].confidence}`));
        assert.equal(Object.keys(c.logprobs.top_logprobs[0]).length <= 3, true);
    });
    assert.equal(json.usage.completion_tokens, direct.reduce((a, s) => a + s.tokens.length, 0));
});

test("echo and prompt_logprobs score the prompt itself", async () => {
    const {json} = await post("/v1/completions", {prompt, max_tokens: 1, logprobs: 1, echo: true, prompt_logprobs: 2, temperature: 0});
    const c = json.choices[0];
    assert.ok(c.text.startsWith(prompt));
    assert.equal(c.logprobs.token_logprobs[0], null);
    const ids = await engine.tokenize(prompt);
    const lp = await engine.promptLogprobs(ids, {topK: 2});
    assert.equal(c.prompt_logprobs.length, ids.length);
    for (let i = 1; i < ids.length; i++) assert.ok(Math.abs(c.prompt_logprobs[i][String(ids[i])].logprob - Math.log(lp[i]!.prob)) < 1e-9);
});

test("chat completions, tokenize and detokenize", async () => {
    const {status, json} = await post("/v1/chat/completions", {messages: [{role: "user", content: "hi"}], max_tokens: 5, logprobs: true, top_logprobs: 2, seed: 1});
    assert.equal(status, 200);
    assert.equal(json.choices[0].message.role, "assistant");
    assert.equal(json.choices[0].logprobs.content.map((t: any) => t.token).join(""), json.choices[0].message.content);
    const tok = await post("/tokenize", {prompt: "12+7"});
    assert.deepEqual(tok.json.tokens, await engine.tokenize("12+7"));
    const de = await post("/detokenize", {tokens: tok.json.tokens});
    assert.equal(de.json.prompt, "12+7");
});

test("STEP pooling returns the normalized label probabilities at every tag, positive first", async () => {
    const input = "12 + 7 = 19<|step|>19 * 3 = 57<|step|>";
    const {json} = await post("/pooling", {model: "tiny", input});
    const rows = json.data[0].data as number[][];
    assert.equal(rows.length, 2);
    const ids = await engine.tokenize(input);
    const positions = ids.flatMap((t, i) => (t === m.vocab.stepTagId ? [i] : []));
    const {probs} = await engine.probeTokens({input: ids, positions, candidates: [m.vocab.goodId, m.vocab.badId]});
    rows.forEach((row, j) => {
        assert.ok(Math.abs(row[0] + row[1] - 1) < 1e-9);
        assert.ok(Math.abs(row[0] - probs[j][0] / (probs[j][0] + probs[j][1])) < 1e-9);
    });
    const emb = await post("/v1/embeddings", {input});
    assert.deepEqual(emb.json.data[0].embedding, rows.flat());
});

test("bad requests get 4xx with the field named", async () => {
    const a = await post("/v1/completions", {prompt, n: 0});
    assert.equal(a.status, 400);
    assert.match(a.json.error.message, /^n:/);
    const b = await post("/v1/completions", {model: "other", prompt});
    assert.equal(b.status, 404);
    const c = await fetch(server.url + "/v1/completions", {method: "POST", headers: {"content-type": "application/json"}, body: "{not json"});
    assert.equal(c.status, 400);
});

test("hardening: bad ids, empty prompts, oversized batches and inputs get OpenAI error objects, and the server lives on", async () => {
    const vocab = engine.info.vocabSize!;
    for (const tokens of [[vocab], [-1], [1e20], [1.5]]) {
        const r = await post("/detokenize", {tokens});
        assert.equal(r.status, 400, JSON.stringify(tokens));
        assert.equal(typeof r.json.error.message, "string");
        assert.ok("param" in r.json.error);
    }
    for (const p of ["", [], [[]], [""]]) {
        const r = await post("/v1/completions", {prompt: p, max_tokens: 2});
        assert.equal(r.status, 400, JSON.stringify(p));
        assert.equal(r.json.error.param?.split(".")[0], "prompt");
    }
    const r1 = await post("/v1/completions", {prompt: [prompt, prompt, prompt], n: 100, max_tokens: 1});
    assert.equal(r1.status, 400);
    assert.match(r1.json.error.message, /300 choices; at most 256/);
    assert.equal((await post("/v1/completions", {prompt: [99999], max_tokens: 1})).status, 400);
    // A pooling input longer than the context is refused before any work.
    const long = "1+1=2<|step|>".repeat(2000);
    const t0 = Date.now();
    const r2 = await post("/pooling", {input: long});
    assert.equal(r2.status, 400);
    assert.match(r2.json.error.message, /maximum context length/);
    assert.ok(Date.now() - t0 < 30_000);
    const r3 = await fetch(server.url + "/pooling", {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({input: "x".repeat(9 * 1024 * 1024)})});
    assert.equal(r3.status, 413);
    assert.equal(((await r3.json()) as any).error.code, 413);
    const r4 = await fetch(server.url + "/v2/nothing");
    assert.equal(r4.status, 404);
    assert.equal(((await r4.json()) as any).error.code, 404);
    for (const [field, value] of [["repetition_penalty", 1.1], ["presence_penalty", 0.5], ["logit_bias", {"5": 10}], ["min_tokens", 3], ["ignore_eos", true]] as const) {
        const r = await post("/v1/completions", {prompt, max_tokens: 2, [field]: value});
        assert.equal(r.status, 400, field);
        assert.equal(r.json.error.param, field);
    }
    // neutral values are accepted (clients that send every field explicitly)
    assert.equal((await post("/v1/completions", {prompt, max_tokens: 2, repetition_penalty: 1, frequency_penalty: 0, presence_penalty: 0, min_p: 0, top_k: -1, logit_bias: {}, min_tokens: 0, ignore_eos: false})).status, 200);
    assert.equal((await fetch(server.url + "/health")).status, 200);
});

test("a client that hangs up stops its generation", async () => {
    const before = engine.stats().generatedTokens;
    const controller = new AbortController();
    const pending = fetch(server.url + "/v1/completions", {
        method: "POST",
        headers: {"content-type": "application/json"},
        body: JSON.stringify({prompt, n: 8, max_tokens: 230, temperature: 1, seed: 1}),
        signal: controller.signal,
    }).catch(() => "aborted");
    while (engine.stats().generatedTokens === before) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    assert.equal(await pending, "aborted");
    // The next request is served, and the abandoned one stopped well short of its 8 × 230 tokens.
    assert.equal((await post("/v1/completions", {prompt, max_tokens: 2})).status, 200);
    const spent = engine.stats().generatedTokens - before;
    assert.ok(spent < 8 * 230, `${spent} tokens generated for a request whose client left`);
});

test("load: 300 concurrent requests on loopback, none fails", async () => {
    const results = await Promise.all(
        Array.from({length: 300}, (_, i) =>
            fetch(server.url + (i % 3 === 2 ? "/tokenize" : "/v1/completions"), {
                method: "POST",
                headers: {"content-type": "application/json"},
                body: JSON.stringify(i % 3 === 2 ? {prompt: `${i} + ${i}`} : {prompt: `${i} + 1 =`, max_tokens: 2, seed: i, logprobs: 1}),
            }).then((r) => r.status),
        ),
    );
    assert.deepEqual([...new Set(results)], [200]);
});

test("non-neutral server defaults leak into requests that omit fields, never into the OpenAI engine's", async () => {
    const {OpenAIEngine} = await import("../../../src/engines/openai/engine.ts");
    const skewed = await startServer({engine, port: 0, modelName: "tiny", samplingDefaults: {top_k: 1, top_p: 0.5, min_p: 0.3}});
    try {
        // A bare request gets the server's defaults: top_k 1 makes T=5 greedy.
        const bare = await fetch(skewed.url + "/v1/completions", {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({prompt, max_tokens: 12, temperature: 5, seed: 3, logprobs: 1})});
        const c = ((await bare.json()) as any).choices[0].logprobs;
        c.tokens.forEach((t: string, j: number) => assert.equal(Object.entries(c.top_logprobs[j] as Record<string, number>).sort((a, b) => b[1] - a[1])[0][0], t));
        // The OpenAI engine sends every field: its samples are the in-process ones.
        const openai = new OpenAIEngine({baseUrls: [skewed.url + "/v1"], model: "tiny"});
        const req = {prompt, n: 3, seed: 5, temperature: 1.5, maxTokens: 12, topLogprobs: 1};
        const got = await openai.generate(req);
        const want = await engine.generate(req);
        assert.deepEqual(got.map((s) => s.text), want.map((s) => s.text));
        assert.ok(got.some((s) => s.tokens.some((t) => t.text !== t.top[0].text)), "unrestricted sampling leaves the top token");
    } finally {
        await skewed.close();
    }
});

test("SSE: an error after the stream began is an error event, then [DONE]; engines without streaming are replayed; stream_options needs stream", async () => {
    const {StepwiseError} = await import("../../../src/engines/types.ts");
    // An engine that sends one token, then fails (a model error in the middle of a generation).
    const failing = wrapEngine(engine, {
        generate: async (r) => {
            r.stream?.token(0, {text: "x", confidence: 0.5, top: []});
            throw new StepwiseError("generate: the model broke");
        },
    });
    // An engine that does not declare streaming: the server streams its finished samples.
    const plain = wrapEngine(engine, {
        capabilities: {...engine.capabilities, streaming: false},
        generate: (r) => {
            assert.equal(r.stream, undefined, "no hook for an engine without streaming");
            return engine.generate(r);
        },
    });
    const a = await startServer({engine: failing, port: 0, modelName: "tiny"});
    const b = await startServer({engine: plain, port: 0, modelName: "tiny"});
    try {
        const sse = async (url: string, body: unknown) => {
            const r = await fetch(url + "/v1/completions", {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(body)});
            assert.equal(r.status, 200);
            assert.match(r.headers.get("content-type")!, /^text\/event-stream/);
            return (await r.text()).split("\n\n").filter(Boolean).map((e) => e.replace(/^data: /, ""));
        };
        const events = await sse(a.url, {prompt, max_tokens: 8, stream: true});
        assert.equal(events.at(-1), "[DONE]");
        const error = JSON.parse(events.at(-2)!);
        assert.deepEqual(error, {error: {message: "generate: the model broke", type: "BadRequestError", param: null, code: 400}});
        // The held-back token was never sent: the token before a failure has no finish_reason to carry.
        assert.equal(events.length, 2);

        const req = {prompt, max_tokens: 8, n: 2, seed: 3, temperature: 1, stream: true, stream_options: {include_usage: true}};
        const replayed = await sse(b.url, req);
        const direct = await sse(server.url, req);
        // Per choice the same chunks in the same order (live, the two choices' chunks interleave).
        const byChoice = (events: string[]) => {
            const out: Record<string, string[]> = {};
            for (const e of events) {
                const key = e === "[DONE]" ? "done" : JSON.parse(e).choices.length ? String(JSON.parse(e).choices[0].index) : "usage";
                (out[key] ??= []).push(e === "[DONE]" ? e : JSON.stringify({...JSON.parse(e), id: "", created: 0}));
            }
            return out;
        };
        assert.deepEqual(byChoice(replayed), byChoice(direct));
        assert.deepEqual(Object.keys(byChoice(direct)).sort(), ["0", "1", "done", "usage"]);
        assert.equal(direct.at(-1), "[DONE]");
        assert.equal(JSON.parse(direct.at(-2)!).usage.completion_tokens, 16);

        // continuous_usage_stats: every chunk carries its choice's usage so far (vLLM).
        const continuous = await sse(server.url, {...req, stream_options: {include_usage: true, continuous_usage_stats: true}});
        const seen: Record<number, number[]> = {};
        for (const e of continuous.slice(0, -2)) {
            const chunk = JSON.parse(e);
            assert.equal(chunk.usage.prompt_tokens, 16);
            (seen[chunk.choices[0].index] ??= []).push(chunk.usage.completion_tokens);
        }
        assert.deepEqual(seen, {0: [1, 2, 3, 4, 5, 6, 7, 8], 1: [1, 2, 3, 4, 5, 6, 7, 8]});
        assert.deepEqual(JSON.parse(continuous.at(-2)!).usage, {prompt_tokens: 16, completion_tokens: 16, total_tokens: 32});

        const bad = await post("/v1/completions", {prompt, max_tokens: 2, stream_options: {include_usage: true}});
        assert.equal(bad.status, 400);
        assert.equal(bad.json.error.param, "stream_options");
    } finally {
        await a.close();
        await b.close();
    }
});
