/**
 * `stepwise serve` against a client nobody here wrote: the npm `openai` SDK (devDependency).
 * Completions with logprobs, echo, chat with logprobs, streaming (SSE), embeddings with the SDK's
 * default base64 encoding, and the SDK's error classes.
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import {tinyModel, type TinyModel} from "../helpers/tiny-model.ts";
import {LlamaEngine} from "../../src/engines/llama/engine.ts";
import {startServer, type RunningServer} from "../../src/serve/server.ts";

const POLICY = new URL("../../models/lab-policy.gguf", import.meta.url).pathname;
const prompt = "Compute (12 + 7) * 3 - 5.\n";

let policy: LlamaEngine;
let prmEngine: LlamaEngine;
let m: TinyModel;
let server: RunningServer;
let prmServer: RunningServer;
let client: OpenAI;

before(async () => {
    policy = await LlamaEngine.load(POLICY, {sequences: 4, contextSize: 256});
    server = await startServer({engine: policy, port: 0, modelName: "lab-policy"});
    m = tinyModel(1, 40);
    prmEngine = await LlamaEngine.load(m.path, {sequences: 2, contextSize: 256});
    prmServer = await startServer({engine: prmEngine, port: 0, modelName: "tiny-prm", pooling: {stepTagId: m.vocab.stepTagId, returnedTokenIds: [m.vocab.goodId, m.vocab.badId]}});
    client = new OpenAI({baseURL: server.url + "/v1", apiKey: "unused", maxRetries: 0});
});
after(async () => {
    await server?.close();
    await prmServer?.close();
    await policy?.close();
    await prmEngine?.close();
});

test("SDK completions with logprobs: the sampled token is always in its top_logprobs entry", async () => {
    const r = await client.completions.create({model: "lab-policy", prompt, max_tokens: 30, logprobs: 2, n: 3, seed: 4, temperature: 1.5});
    assert.equal(r.choices.length, 3);
    for (const c of r.choices) {
        const lp = c.logprobs!;
        assert.equal(lp.tokens!.join(""), c.text);
        lp.tokens!.forEach((t, j) => {
            const top = lp.top_logprobs![j]!;
            assert.ok(t in top, `token ${j} ${JSON.stringify(t)} missing from its top_logprobs`);
            assert.ok(Object.keys(top).length <= 3);
            assert.ok(Math.abs(top[t] - lp.token_logprobs![j]) < 1e-9);
        });
    }
    const zero = await client.completions.create({model: "lab-policy", prompt, max_tokens: 3, logprobs: 0, seed: 1});
    zero.choices[0].logprobs!.top_logprobs!.forEach((top, j) => assert.deepEqual(Object.keys(top!), [zero.choices[0].logprobs!.tokens![j]]));
});

test("SDK completions with echo score the prompt; prompt_logprobs carry true ranks", async () => {
    const r = await client.completions.create({model: "lab-policy", prompt, max_tokens: 1, logprobs: 1, echo: true, temperature: 0});
    const c = r.choices[0];
    assert.ok(c.text.startsWith(prompt));
    assert.equal(c.logprobs!.token_logprobs![0], null);
    assert.equal(c.logprobs!.tokens!.join(""), c.text);
    // vLLM's extra field, through the SDK's body passthrough.
    const raw = (await client.completions.create({model: "lab-policy", prompt, max_tokens: 1, temperature: 0, prompt_logprobs: 1} as never)) as unknown as {
        choices: Array<{prompt_logprobs: Array<Record<string, {logprob: number; rank: number; decoded_token: string}> | null>}>;
    };
    const ids = await policy.tokenize(prompt);
    const entries = raw.choices[0].prompt_logprobs;
    assert.equal(entries.length, ids.length);
    const mine = await policy.promptLogprobs(ids, {topK: 1});
    for (let i = 1; i < ids.length; i++) {
        const own = entries[i]![String(ids[i])];
        assert.equal(own.rank, mine[i]!.rank);
        assert.equal(own.decoded_token, mine[i]!.text);
        assert.notEqual(own.decoded_token, "");
    }
});

test("SDK chat with logprobs: developer role and text parts; top_logprobs default none", async () => {
    const r = await client.chat.completions.create({
        model: "lab-policy",
        messages: [
            {role: "developer", content: "Answer briefly."},
            {role: "user", content: [{type: "text", text: "Compute 2 + 3."}]},
        ],
        max_tokens: 10,
        logprobs: true,
        top_logprobs: 2,
        seed: 1,
    });
    const content = r.choices[0].logprobs!.content!;
    assert.equal(content.map((t) => t.token).join(""), r.choices[0].message.content);
    for (const t of content) assert.equal(t.top_logprobs.length, 2);
    const plain = await client.chat.completions.create({model: "lab-policy", messages: [{role: "user", content: "hi"}], max_tokens: 4, logprobs: true, seed: 1});
    for (const t of plain.choices[0].logprobs!.content!) assert.equal(t.top_logprobs.length, 0);
    // max_tokens null: vLLM's default (the rest of the context)
    const open = await client.chat.completions.create({model: "lab-policy", messages: [{role: "user", content: "hi"}], max_tokens: null, seed: 1, stop: ["\n"]});
    assert.ok(open.choices[0].finish_reason === "stop" || open.choices[0].finish_reason === "length");
});

test("SDK streaming: completions and chat chunks join to the non-streamed answer, logprobs in the chunks", async () => {
    const req = {model: "lab-policy", prompt, max_tokens: 20, logprobs: 1, seed: 7, temperature: 1};
    const whole = await client.completions.create(req);
    let text = "";
    const tokens: string[] = [];
    let finish: string | null = null;
    let usage = 0;
    for await (const chunk of await client.completions.create({...req, stream: true, stream_options: {include_usage: true}})) {
        if (chunk.usage) usage = chunk.usage.completion_tokens;
        for (const c of chunk.choices) {
            text += c.text;
            tokens.push(...(c.logprobs?.tokens ?? []));
            if (c.finish_reason) finish = c.finish_reason;
        }
    }
    assert.equal(text, whole.choices[0].text);
    assert.deepEqual(tokens, whole.choices[0].logprobs!.tokens);
    assert.equal(finish, whole.choices[0].finish_reason);
    assert.equal(usage, whole.usage!.completion_tokens);

    const chatReq = {model: "lab-policy", messages: [{role: "user" as const, content: "Compute 4 + 4."}], max_tokens: 12, seed: 3, logprobs: true, top_logprobs: 1};
    const chatWhole = await client.chat.completions.create(chatReq);
    let chatText = "";
    const chatTokens: string[] = [];
    for await (const chunk of await client.chat.completions.create({...chatReq, stream: true})) {
        for (const c of chunk.choices) {
            chatText += c.delta.content ?? "";
            chatTokens.push(...(c.logprobs?.content ?? []).map((t) => t.token));
        }
    }
    assert.equal(chatText, chatWhole.choices[0].message.content);
    assert.deepEqual(chatTokens, chatWhole.choices[0].logprobs!.content!.map((t) => t.token));
});

test("SDK embeddings: the default base64 encoding decodes to the float rows", async () => {
    const prm = new OpenAI({baseURL: prmServer.url + "/v1", apiKey: "unused", maxRetries: 0});
    const input = "12 + 7 = 19<|step|>19 * 3 = 57<|step|>";
    const viaSdk = await prm.embeddings.create({model: "tiny-prm", input});
    const floats = (await (await fetch(prmServer.url + "/v1/embeddings", {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({input, encoding_format: "float"})})).json()) as {
        data: Array<{embedding: number[]}>;
    };
    const want = floats.data[0].embedding;
    assert.equal(want.length, 4);
    assert.equal(viaSdk.data[0].embedding.length, 4);
    viaSdk.data[0].embedding.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6, `${v} vs ${want[i]}`));
});

test("SDK error classes: 400 with param, 404 model, 404 route", async () => {
    await assert.rejects(client.completions.create({model: "lab-policy", prompt, n: 0}), (e: unknown) => {
        assert.ok(e instanceof OpenAI.BadRequestError);
        assert.equal(e.status, 400);
        assert.equal(e.param, "n");
        return true;
    });
    await assert.rejects(client.completions.create({model: "lab-policy", prompt, max_tokens: 4, frequency_penalty: 0.5}), (e: unknown) => {
        assert.ok(e instanceof OpenAI.BadRequestError);
        assert.equal(e.param, "frequency_penalty");
        return true;
    });
    await assert.rejects(client.chat.completions.create({model: "lab-policy", messages: [{role: "user", content: "x"}], top_logprobs: 2}), (e: unknown) => {
        assert.ok(e instanceof OpenAI.BadRequestError);
        assert.equal(e.param, "top_logprobs");
        return true;
    });
    await assert.rejects(client.completions.create({model: "gpt-4", prompt}), (e: unknown) => e instanceof OpenAI.NotFoundError && e.param === "model");
    await assert.rejects(client.get("/no/such/route"), (e: unknown) => e instanceof OpenAI.NotFoundError);
});
