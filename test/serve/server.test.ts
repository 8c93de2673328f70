import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {tinyModel, type TinyModel} from "../helpers/tiny-model.ts";
import {LlamaEngine} from "../../src/engines/llama/engine.ts";
import {startServer, type RunningServer} from "../../src/serve/server.ts";

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
    const c = await fetch(server.url + "/v1/completions", {method: "POST", body: "{not json"});
    assert.equal(c.status, 400);
});
