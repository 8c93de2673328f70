/**
 * `stepwise serve` under hostile or heavy single requests and browser attacks: it stays
 * responsive (a prompt that cannot fit is refused from its special tags and bytes before it is
 * tokenized; one large n shares the sequences with a small request), answers only its own Host
 * (DNS rebinding) and parses JSON only as application/json (cross-site simple requests).
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {request as httpRequest} from "node:http";
import {tinyModel, type TinyModel} from "../../helpers/tiny-model.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {startServer, type RunningServer} from "../../../src/apps/serve/server.ts";
import {isAllowedHost} from "../../../src/io/host-check.ts";

let m: TinyModel;
let engine: LlamaEngine;
let server: RunningServer;
const prompt = "Compute 3 + 4.\n";

before(async () => {
    m = tinyModel(1, 40);
    engine = await LlamaEngine.load(m.path, {sequences: 4, contextSize: 256});
    server = await startServer({engine, port: 0, modelName: "tiny", pooling: {stepTagId: m.vocab.stepTagId, returnedTokenIds: [m.vocab.goodId, m.vocab.badId]}});
});
after(async () => {
    await server.close();
    await engine.close();
});

const post = (path: string, body: unknown, signal?: AbortSignal) =>
    fetch(server.url + path, {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify(body), signal});

/** Poll /health every 100 ms until `work` settles; the slowest answer in ms. */
async function slowestHealthWhile(work: Promise<unknown>): Promise<number> {
    let done = false;
    void work.finally(() => (done = true));
    let slowest = 0;
    while (!done) {
        const t0 = performance.now();
        const r = await fetch(server.url + "/health", {signal: AbortSignal.timeout(5000)});
        assert.equal(r.status, 200);
        slowest = Math.max(slowest, performance.now() - t0);
        await new Promise((r) => setTimeout(r, 100));
    }
    return slowest;
}

test("hostile prompts (600,000 tags, 80,000 tags, 8 MB of text; also /tokenize) are refused before tokenizing; /health answers within 1 s meanwhile", async () => {
    for (const [path, body, pattern] of [
        ["/pooling", {input: "<|step|>".repeat(600_000)}, /^input: this model's maximum context length is 256 tokens, but the input has at least 600000 tokens \(4800000 bytes\)/],
        ["/v1/completions", {prompt: "1+1=2<|step|>".repeat(80_000), max_tokens: 1}, /^prompt: .*at least 130000 tokens \(1040000 bytes\)/],
        ["/v1/completions", {prompt: "x".repeat(8_000_000), max_tokens: 1}, /^prompt: .*at least 1000000 tokens \(8000000 bytes\)/],
        ["/v1/chat/completions", {messages: [{role: "user", content: "<|step|>".repeat(600_000)}]}, /^messages: .*at least \d+ tokens/],
        ["/tokenize", {prompt: "x".repeat(8_000_000)}, /^prompt: .*at least 1000000 tokens/],
    ] as const) {
        const t0 = performance.now();
        const reply = post(path, body).then(async (r) => ({status: r.status, json: (await r.json()) as {error: {message: string; param: string; code: number}}}));
        const slowest = await slowestHealthWhile(reply);
        const {status, json} = await reply;
        assert.equal(status, 400, path);
        assert.match(json.error.message, pattern);
        assert.equal(json.error.code, 400);
        assert.ok(slowest < 1000, `${path}: /health took ${slowest.toFixed(0)} ms`);
        assert.ok(performance.now() - t0 < 5000, `${path}: refused after ${(performance.now() - t0).toFixed(0)} ms`);
    }
    // Under the bytes' bound (1960 bytes, at most 8 per token: 245) the tags are counted: 280 tags, 280 tokens.
    const tags = await post("/pooling", {input: "<|bad|>".repeat(280)});
    assert.match(((await tags.json()) as {error: {message: string}}).error.message, /at least 280 tokens \(280 special tags in 1960 bytes\)/);
    // An input within the bound but over the context is still refused after tokenizing.
    const r = await post("/pooling", {input: "1+1=2<|step|>".repeat(60)});
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as {error: {message: string}}).error.message, /but the input has 361 tokens/);
    // /tokenize still counts a text over the context when it might fit the bound.
    const counted = await post("/tokenize", {prompt: "1+1=2<|step|>".repeat(60)});
    assert.equal(((await counted.json()) as {count: number}).count, 361);
});

test("a small request is served while an n: 256, max_tokens: null request runs (fair sequence sharing)", async () => {
    const before = engine.stats().generatedTokens;
    const controller = new AbortController();
    let bigDone = false;
    const big = post("/v1/completions", {prompt, n: 256, max_tokens: null, temperature: 1, seed: 1}, controller.signal)
        .then(() => (bigDone = true))
        .catch(() => "aborted");
    while (engine.stats().generatedTokens === before) await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    const small = await post("/v1/completions", {prompt: "1+1=", max_tokens: 4, seed: 2});
    const ms = performance.now() - t0;
    assert.equal(small.status, 200);
    assert.equal(((await small.json()) as {choices: unknown[]}).choices.length, 1);
    assert.equal(bigDone, false, `the small request waited for all 256 samples of the large one (${ms.toFixed(0)} ms)`);
    assert.ok(ms < 10_000, `${ms.toFixed(0)} ms for 4 tokens`);
    controller.abort();
    assert.equal(await big, "aborted");
});

/** A raw request with a chosen Host header (fetch cannot set it). */
function withHost(host: string | undefined, path: string): Promise<{status: number; body: string}> {
    const url = new URL(server.url);
    return new Promise((resolve, reject) => {
        const headers: Record<string, string> = {};
        if (host !== undefined) headers.host = host;
        const req = httpRequest({host: url.hostname, port: url.port, path, headers, setHost: host === undefined ? false : undefined}, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({status: res.statusCode!, body}));
        });
        req.on("error", reject);
        req.end();
    });
}

test("DNS rebinding: a Host that does not name the bound address gets a 403 error object", async () => {
    const port = new URL(server.url).port;
    for (const host of [`evil.example:${port}`, "evil.example", `127.0.0.1.evil.example:${port}`, `127.0.0.1:${Number(port) + 1}`]) {
        const r = await withHost(host, "/v1/models");
        assert.equal(r.status, 403, host);
        const e = JSON.parse(r.body).error;
        assert.equal(e.code, 403);
        assert.match(e.message, /not this server's address/);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) assert.equal((await withHost(host, "/v1/models")).status, 200, host);
    // The rules, for the other binds.
    assert.equal(isAllowedHost("192.168.1.5:8000", "192.168.1.5", 8000), true);
    assert.equal(isAllowedHost("evil.example:8000", "192.168.1.5", 8000), false);
    assert.equal(isAllowedHost("10.0.0.7:8000", "0.0.0.0", 8000), true);
    assert.equal(isAllowedHost("evil.example:8000", "0.0.0.0", 8000), false);
    assert.equal(isAllowedHost("192.168.1.5:8000", "127.0.0.1", 8000), false);
    assert.equal(isAllowedHost(undefined, "127.0.0.1", 8000), false); // HTTP/1.1 requires Host; one rule with the viewer (src/io/host-check.ts)
    assert.equal((await withHost("localhost", "/v1/models")).status, 403, "no port in Host means 80");
});

test("a body that is not labelled application/json is a 415 error object; the label with a charset is fine", async () => {
    const body = JSON.stringify({prompt, max_tokens: 2});
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", undefined]) {
        const r = await fetch(server.url + "/v1/completions", {method: "POST", headers: type ? {"content-type": type} : {}, body: type ? body : new Blob([body])});
        assert.equal(r.status, 415, String(type));
        const e = ((await r.json()) as {error: {message: string; type: string; param: null; code: number}}).error;
        assert.deepEqual(Object.keys(e).sort(), ["code", "message", "param", "type"]);
        assert.equal(e.code, 415);
        assert.match(e.message, /^Content-Type must be application\/json, got/);
    }
    const ok = await fetch(server.url + "/v1/completions", {method: "POST", headers: {"content-type": "application/json; charset=utf-8"}, body});
    assert.equal(ok.status, 200);
});
