/**
 * `stepwise serve` against a client nobody here wrote: the npm `openai` SDK (devDependency).
 * Completions with logprobs, echo, chat with logprobs, streaming (SSE), embeddings with the SDK's
 * default base64 encoding, and the SDK's error classes.
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import {tinyModel, type TinyModel} from "../../helpers/tiny-model.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {startServer, type RunningServer} from "../../../src/apps/serve/server.ts";
import type {GenerateRequest, Sample} from "../../../src/engines/types.ts";
import {wrapEngine} from "../../helpers/wrap-engine.ts";

const POLICY = new URL("../../../models/lab-policy.gguf", import.meta.url).pathname;
const prompt = "Compute (12 + 7) * 3 - 5.\n";

let policy: LlamaEngine;
let prmEngine: LlamaEngine;
let m: TinyModel;
let server: RunningServer;
let prmServer: RunningServer;
let client: OpenAI;
/** The policy behind a proxy that keeps the promise of its latest generate() (to see when an aborted one settles). */
let spied: RunningServer;
let lastGenerate: Promise<Sample[]> | undefined;

before(async () => {
    policy = await LlamaEngine.load(POLICY, {sequences: 4, contextSize: 256});
    server = await startServer({engine: policy, port: 0, modelName: "lab-policy"});
    m = tinyModel(1, 40);
    prmEngine = await LlamaEngine.load(m.path, {sequences: 2, contextSize: 256});
    prmServer = await startServer({engine: prmEngine, port: 0, modelName: "tiny-prm", pooling: {stepTagId: m.vocab.stepTagId, returnedTokenIds: [m.vocab.goodId, m.vocab.badId]}});
    client = new OpenAI({baseURL: server.url + "/v1", apiKey: "unused", maxRetries: 0});
    const proxy = wrapEngine(policy, {generate: (r: GenerateRequest) => (lastGenerate = policy.generate(r))});
    spied = await startServer({engine: proxy, port: 0, modelName: "lab-policy"});
});
after(async () => {
    await server?.close();
    await prmServer?.close();
    await spied?.close();
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

test("SDK: prompt + max_tokens beyond the context is a 400 with the context and the total; a prompt alone too long is a 400; no silent clamping", async () => {
    const n = (await policy.tokenize(prompt)).length;
    const tooMany = 256 - n + 1;
    const before = policy.stats().generatedTokens;
    const isContextError = (param: string, ...patterns: RegExp[]) => (e: unknown) => {
        assert.ok(e instanceof OpenAI.BadRequestError, String(e));
        assert.equal(e.status, 400);
        assert.equal(e.param, param);
        for (const p of patterns) assert.match(e.message, p);
        return true;
    };
    await assert.rejects(
        client.completions.create({model: "lab-policy", prompt, max_tokens: tooMany}),
        isContextError("max_tokens", /maximum context length is 256 tokens/, new RegExp(`${n} \\+ ${tooMany} = 257 tokens`), new RegExp(`at most ${256 - n} can be generated`)),
    );
    // Every prompt of a batch is checked before any work: the long second one fails the request at once.
    await assert.rejects(
        client.completions.create({model: "lab-policy", prompt: [prompt, "1 + ".repeat(100)], max_tokens: 4}),
        isContextError("prompt", /maximum context length is 256 tokens, but the input has \d+ tokens/),
    );
    // Token-id prompts: exactly the context with max_tokens null (the rest of the context) leaves nothing to generate.
    const full = Array.from({length: 256}, (_, i) => (i % 10) + 20);
    await assert.rejects(client.completions.create({model: "lab-policy", prompt: full, max_tokens: null}), isContextError("prompt", /no room to generate/));
    await assert.rejects(client.completions.create({model: "lab-policy", prompt: [...full, 20], max_tokens: 1}), isContextError("prompt", /the input has 257 tokens/));
    // Chat: max_completion_tokens is named when it is the field sent; a message longer than the context → messages.
    const messages = [{role: "user" as const, content: "Compute 2 + 3."}];
    await assert.rejects(client.chat.completions.create({model: "lab-policy", messages, max_completion_tokens: 256}), isContextError("max_completion_tokens", /max_completion_tokens: 256 is too large/, /maximum context length is 256 tokens/));
    await assert.rejects(client.chat.completions.create({model: "lab-policy", messages, max_tokens: 300}), isContextError("max_tokens", /max_tokens: 300 is too large/));
    await assert.rejects(client.chat.completions.create({model: "lab-policy", messages: [{role: "user", content: "1 + ".repeat(100)}]}), isContextError("messages", /maximum context length is 256 tokens/));
    assert.equal(policy.stats().generatedTokens, before, "no refused request generated anything");
    // Exactly the room left is accepted; absent max_tokens on chat is the rest of the context (vLLM), not an error.
    const ok = await client.completions.create({model: "lab-policy", prompt, max_tokens: 256 - n, temperature: 0, stop: ["\n"]});
    assert.equal(ok.choices[0].finish_reason, "stop");
    const open = await client.chat.completions.create({model: "lab-policy", messages, temperature: 0, stop: ["\n"]});
    assert.ok(["stop", "length"].includes(open.choices[0].finish_reason));
});

test("SDK streaming is incremental: chunks arrive while the tokens are generated, and join to the greedy answer", async () => {
    // Greedy, this prompt runs past 60 tokens, so the generation ends at max_tokens.
    const req = {model: "lab-policy", prompt, max_tokens: 60, temperature: 0, logprobs: 1};
    const whole = await client.completions.create(req);
    assert.equal(whole.usage!.completion_tokens, 60);
    assert.equal(whole.choices[0].finish_reason, "length");
    const before = policy.stats().generatedTokens;
    let atFirst: number | undefined;
    let text = "";
    let chunks = 0;
    let usage: number | undefined;
    const tokens: string[] = [];
    for await (const chunk of await client.completions.create({...req, stream: true, stream_options: {include_usage: true}})) {
        if (chunk.usage) usage = chunk.usage.completion_tokens;
        for (const c of chunk.choices) {
            atFirst ??= policy.stats().generatedTokens - before;
            chunks++;
            text += c.text;
            tokens.push(...(c.logprobs?.tokens ?? []));
        }
    }
    const total = policy.stats().generatedTokens - before;
    assert.equal(total, 60);
    assert.ok(atFirst !== undefined && atFirst < total, `first chunk received after ${atFirst} of ${total} tokens were generated`);
    assert.equal(chunks, 60, "one chunk per token");
    assert.equal(text, whole.choices[0].text);
    assert.deepEqual(tokens, whole.choices[0].logprobs!.tokens);
    assert.equal(usage, 60, "usage in the last chunk (include_usage)");

    // Chat, and a stop string held back while it may still match: streamed text = the whole answer.
    const chatReq = {model: "lab-policy", messages: [{role: "user" as const, content: prompt}], max_tokens: 60, temperature: 0, stop: ["zzz", " + 5)"]};
    const chatWhole = await client.chat.completions.create(chatReq);
    const chatBefore = policy.stats().generatedTokens;
    let chatFirst: number | undefined;
    let chatText = "";
    let finish: string | null = null;
    for await (const chunk of await client.chat.completions.create({...chatReq, stream: true})) {
        for (const c of chunk.choices) {
            if (c.delta.content) chatFirst ??= policy.stats().generatedTokens - chatBefore;
            chatText += c.delta.content ?? "";
            finish = c.finish_reason ?? finish;
        }
    }
    const chatTotal = policy.stats().generatedTokens - chatBefore;
    assert.ok(chatFirst !== undefined && chatFirst < chatTotal, `first content after ${chatFirst} of ${chatTotal} tokens`);
    assert.equal(chatText, chatWhole.choices[0].message.content);
    assert.equal(finish, "stop", "the stop string ended the reply");
    assert.equal(chatWhole.choices[0].finish_reason, "stop");
});

test("SDK streaming: aborting the stream stops the generation", async () => {
    const req = {model: "lab-policy", prompt, max_tokens: 100, temperature: 0};
    // Without the abort this request generates all 100 tokens (greedy runs past them).
    const whole = await new OpenAI({baseURL: spied.url + "/v1", apiKey: "unused", maxRetries: 0}).completions.create(req);
    assert.equal(whole.usage!.completion_tokens, 100);
    const sdk = new OpenAI({baseURL: spied.url + "/v1", apiKey: "unused", maxRetries: 0});
    const before = policy.stats().generatedTokens;
    const stream = await sdk.completions.create({...req, stream: true});
    let received = "";
    for await (const chunk of stream) {
        received += chunk.choices[0]?.text ?? "";
        if (received.length > 0) {
            stream.controller.abort();
            break;
        }
    }
    // The server's generate() rejects (aborted) rather than running to its 100 tokens.
    await assert.rejects(lastGenerate!);
    const spent = policy.stats().generatedTokens - before;
    assert.ok(spent < 100, `${spent} tokens generated for an aborted stream`);
    assert.ok(whole.choices[0].text.startsWith(received));
    // The server lives on.
    const next = await sdk.completions.create({...req, max_tokens: 3});
    assert.equal(next.usage!.completion_tokens, 3);
});
