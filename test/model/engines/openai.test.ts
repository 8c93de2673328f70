/**
 * Unit tests of the OpenAI engine's HTTP client, wire-format mapping, engine spec parsing and
 * fault proxy, against tiny scripted loopback HTTP servers (no model involved).
 */
import {test, describe} from "node:test";
import assert from "node:assert/strict";
import {createServer, type IncomingMessage, type ServerResponse} from "node:http";
import type {Socket} from "node:net";
import {HttpClient, bodyExcerpt, errorText, parseRetryAfter, serverRoot, backoffDelay} from "../../../src/engines/openai/http.ts";
import {OpenAIEngine} from "../../../src/engines/openai/engine.ts";
import {completionTokens, chatTokens, finishReason, orderedChoices, poolRows} from "../../../src/engines/openai/protocol.ts";
import {startFaultProxy, seededRandom} from "../../helpers/fault-proxy.ts";
import {parseEngineSpec, createEngine} from "../../../src/engines/spec.ts";
import {StepwiseError} from "../../../src/util/errors.ts";
import {ContextOverflowError, isContextOverflow} from "../../../src/util/errors.ts";

interface Hit {
    method: string;
    path: string;
    body: Record<string, unknown>;
    headers: IncomingMessage["headers"];
}

type Handler = (hit: Hit, res: ServerResponse, n: number) => void | Promise<void>;

/** A scripted loopback server: `handler` gets each request (parsed JSON body) and its 0-based number. */
async function scripted(handler: Handler) {
    const hits: Hit[] = [];
    let active = 0;
    let maxActive = 0;
    const sockets = new Set<Socket>();
    const server = createServer(async (req, res) => {
        active++;
        maxActive = Math.max(maxActive, active);
        res.on("close", () => active--);
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const text = Buffer.concat(chunks).toString("utf8");
        const hit: Hit = {method: req.method ?? "", path: req.url ?? "", body: text ? JSON.parse(text) : {}, headers: req.headers};
        hits.push(hit);
        try {
            await handler(hit, res, hits.length - 1);
        } catch {
            req.socket.destroy();
        }
    });
    server.on("connection", (s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as {port: number}).port;
    return {
        url: `http://127.0.0.1:${port}`,
        hits,
        maxActive: () => maxActive,
        close: () =>
            new Promise<void>((r) => {
                for (const s of sockets) s.destroy();
                server.close(() => r());
            }),
    };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, {"content-type": "application/json", ...headers});
    res.end(JSON.stringify(body));
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Fast client defaults for tests: tiny backoff, seeded jitter. */
const fast = {backoffBaseMs: 2, backoffMaxMs: 10, random: seededRandom(7)};

/** A completion choice in vLLM's legacy logprobs format, with `tokens` one-char tokens. */
function fakeChoice(index: number, tokens: string[]) {
    return {
        index,
        text: tokens.join(""),
        logprobs: {
            tokens,
            token_logprobs: tokens.map(() => Math.log(0.5)),
            top_logprobs: tokens.map((t) => ({[t]: Math.log(0.5), z: Math.log(0.3), y: Math.log(0.2)})),
            text_offset: tokens.map((_, i) => i),
        },
        finish_reason: "length",
        stop_reason: null,
    };
}

/** A scripted completions endpoint: answers n choices whose text encodes the request's seed and index. */
const completionsHandler: Handler = (hit, res) => {
    if (hit.path === "/v1/models") return json(res, 200, {object: "list", data: [{id: "m"}]});
    const n = Number(hit.body.n ?? 1);
    const seed = String(hit.body.seed ?? "none");
    json(res, 200, {
        choices: Array.from({length: n}, (_, i) => fakeChoice(i, [`s${seed}`, `i${i}`])).reverse(),
        usage: {prompt_tokens: 3, completion_tokens: 2 * n},
    });
};

describe("http client", () => {
    test("helpers: server roots, excerpts, Retry-After, backoff bounds", () => {
        assert.equal(serverRoot("http://h:8000/v1"), "http://h:8000");
        assert.equal(serverRoot("http://h:8000/v1/"), "http://h:8000");
        assert.equal(serverRoot("http://h:8000"), "http://h:8000");
        assert.equal(serverRoot("https://h/prefix/v1"), "https://h/prefix");
        assert.throws(() => serverRoot("ftp://h"), StepwiseError);
        assert.throws(() => serverRoot("not a url"), /invalid server URL/);
        const long = bodyExcerpt("x".repeat(1000));
        assert.equal(long.length, 300);
        assert.equal(bodyExcerpt("a\n  b"), "a b");
        assert.equal(parseRetryAfter("2"), 2000);
        assert.equal(parseRetryAfter(null), undefined);
        assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
        for (let a = 0; a < 10; a++) {
            const d = backoffDelay(a, 100, 1000, Math.random);
            assert.ok(d >= 0 && d <= Math.min(1000, 100 * 2 ** a));
        }
    });

    test("errorText: the server's message from vLLM's error shapes, the field at fault, else an excerpt", () => {
        const msg = "'max_tokens' or 'max_completion_tokens' is too large: 300. This model's maximum context length is 256 tokens and your request has 27 input tokens (300 > 256 - 27).";
        // vLLM today: an OpenAI error object.
        assert.equal(errorText(JSON.stringify({error: {message: msg, type: "BadRequestError", param: "max_tokens", code: 400}})), `${msg} (param max_tokens)`);
        // older vLLM: the flat ErrorResponse; param null is left out.
        assert.equal(errorText(JSON.stringify({object: "error", message: msg, type: "BadRequestError", param: null, code: 400})), msg);
        // a message that already names its field is not told twice.
        assert.equal(errorText(JSON.stringify({error: {message: "n: must be ≥ 1", param: "n"}})), "n: must be ≥ 1");
        assert.equal(errorText(JSON.stringify({detail: "Not Found"})), "Not Found");
        assert.equal(errorText(JSON.stringify({error: "busy"})), "busy");
        assert.equal(errorText("<html>502 Bad Gateway</html>"), "<html>502 Bad Gateway</html>");
        assert.equal(errorText(JSON.stringify({unexpected: 1})), '{"unexpected":1}');
        assert.equal(errorText(JSON.stringify({error: {message: "z".repeat(1000)}})).length, 300);
    });

    test("retries 500 and 503, then succeeds; counts retries", async () => {
        const s = await scripted((_h, res, n) => (n < 2 ? json(res, n === 0 ? 500 : 503, {error: "busy"}) : json(res, 200, {ok: true})));
        try {
            const client = new HttpClient({baseUrls: [s.url + "/v1"], ...fast});
            const r = await client.postJson<{ok: boolean}>("/v1/completions", {a: 1});
            assert.deepEqual(r.data, {ok: true});
            assert.equal(r.url, s.url + "/v1/completions");
            assert.equal(s.hits.length, 3);
            assert.deepEqual(s.hits[2].body, {a: 1});
            const st = client.stats();
            assert.equal(st.requests, 3);
            assert.equal(st.retries, 2);
            assert.equal(st.failures, 0);
        } finally {
            await s.close();
        }
    });

    test("honours Retry-After on 429", async () => {
        const s = await scripted((_h, res, n) => (n === 0 ? json(res, 429, {error: "slow down"}, {"retry-after": "0.25"}) : json(res, 200, {ok: 1})));
        try {
            const client = new HttpClient({baseUrls: [s.url], ...fast});
            const t0 = performance.now();
            await client.getJson("/v1/models");
            assert.ok(performance.now() - t0 >= 240, "waited for Retry-After");
            assert.equal(client.stats().retries, 1);
        } finally {
            await s.close();
        }
    });

    test("4xx fails at once with URL, status and a ≤300-char body excerpt", async () => {
        const s = await scripted((_h, res) => json(res, 400, {error: {message: "bad field max_tokens " + "y".repeat(600)}}));
        try {
            const client = new HttpClient({baseUrls: [s.url + "/v1"], ...fast});
            await assert.rejects(client.postJson("/v1/completions", {}), (e: Error) => {
                assert.ok(e instanceof StepwiseError);
                assert.match(e.message, new RegExp(`^POST ${s.url}/v1/completions: HTTP 400 Bad Request: .*bad field max_tokens`));
                assert.ok(!e.message.includes("\n"));
                const excerpt = e.message.split("Bad Request: ")[1];
                assert.ok(excerpt.length <= 300, `excerpt length ${excerpt.length}`);
                return true;
            });
            assert.equal(s.hits.length, 1, "no retry on 400");
            assert.equal(client.stats().failures, 1);
        } finally {
            await s.close();
        }
    });

    test("a redirect is not followed: one request, an error naming the URL and the Location, nothing sent to the target", async () => {
        const target = await scripted((_h, res) => json(res, 200, {choices: []}));
        const s = await scripted((_h, res) => json(res, 307, {}, {location: `${target.url}/v1/completions`}));
        try {
            const client = new HttpClient({baseUrls: [s.url], retries: 2, ...fast});
            await assert.rejects(client.postJson("/v1/completions", {prompt: "secret"}), (e: Error) => {
                assert.ok(e instanceof StepwiseError);
                assert.equal(e.message.split("\n").length, 1);
                assert.match(e.message, new RegExp(`^POST ${s.url}/v1/completions: HTTP 307 Temporary Redirect: redirects to ${target.url}/v1/completions; stepwise does not follow redirects`));
                return true;
            });
            assert.equal(s.hits.length, 1, "not retried");
            assert.equal(target.hits.length, 0, "the body never reached the redirect target");
        } finally {
            await s.close();
            await target.close();
        }
    });

    test("after the last retry: error names URL, status, body and attempts", async () => {
        const s = await scripted((_h, res) => json(res, 503, {error: "overloaded right now"}));
        try {
            const client = new HttpClient({baseUrls: [s.url], retries: 2, ...fast});
            await assert.rejects(
                client.postJson("/v1/completions", {}),
                new RegExp(`^StepwiseError: POST ${s.url}/v1/completions: HTTP 503 Service Unavailable: overloaded right now \\(gave up after 3 attempts\\)$`),
            );
            assert.equal(s.hits.length, 3);
            assert.equal(client.stats().retries, 2);
        } finally {
            await s.close();
        }
    });

    test("a stalled response times out and is retried", async () => {
        const s = await scripted(async (_h, res, n) => {
            if (n === 0) return; // never answers
            json(res, 200, {ok: true});
        });
        try {
            const client = new HttpClient({baseUrls: [s.url], timeoutMs: 150, ...fast});
            const r = await client.getJson<{ok: boolean}>("/x");
            assert.equal(r.data.ok, true);
            assert.equal(client.stats().retries, 1);
            const s2 = await scripted(() => undefined);
            try {
                await assert.rejects(new HttpClient({baseUrls: [s2.url], timeoutMs: 100, retries: 1, ...fast}).getJson("/y"), /^StepwiseError: GET .*\/y: timed out after 100 ms \(gave up after 2 attempts\)$/);
            } finally {
                await s2.close();
            }
        } finally {
            await s.close();
        }
    });

    test("dropped connections, a body cut mid-way and garbled JSON are retried", async () => {
        const s = await scripted((_h, res, n) => {
            if (n === 0) {
                res.socket!.destroy();
                return;
            }
            if (n === 1) {
                res.writeHead(200, {"content-type": "application/json", "content-length": "100"});
                res.write('{"partial":');
                setTimeout(() => res.socket!.destroy(), 10);
                return;
            }
            if (n === 2) {
                res.writeHead(200, {"content-type": "application/json"});
                res.end("<html>oops</html>");
                return;
            }
            json(res, 200, {ok: true});
        });
        try {
            const client = new HttpClient({baseUrls: [s.url], ...fast});
            const r = await client.postJson<{ok: boolean}>("/v1/completions", {});
            assert.equal(r.data.ok, true);
            assert.equal(client.stats().retries, 3);
        } finally {
            await s.close();
        }
    });

    test("connection refused: one-line error naming the URL", async () => {
        const s = await scripted(() => undefined);
        const url = s.url;
        await s.close(); // now nothing listens there
        const client = new HttpClient({baseUrls: [url + "/v1"], retries: 1, ...fast});
        await assert.rejects(client.postJson("/v1/completions", {}), (e: Error) => {
            assert.match(e.message, new RegExp(`^POST ${url}/v1/completions: connection refused \\(ECONNREFUSED\\); is the server running\\? \\(gave up after 2 attempts\\)$`));
            return true;
        });
    });

    test("a port fetch refuses to use fails at once, without retries", async () => {
        const client = new HttpClient({baseUrls: ["http://127.0.0.1:9/v1"], ...fast});
        await assert.rejects(client.getJson("/v1/models"), /^StepwiseError: GET http:\/\/127\.0\.0\.1:9\/v1\/models: fetch refuses this port/);
        assert.equal(client.stats().retries, 0);
    });

    test("round-robin balances evenly over 2 servers", async () => {
        const a = await scripted((_h, res) => json(res, 200, {from: "a"}));
        const b = await scripted((_h, res) => json(res, 200, {from: "b"}));
        try {
            const client = new HttpClient({baseUrls: [a.url, b.url], balance: "round-robin", concurrency: 4, ...fast});
            await Promise.all(Array.from({length: 20}, () => client.getJson("/v1/models")));
            assert.equal(a.hits.length, 10);
            assert.equal(b.hits.length, 10);
        } finally {
            await a.close();
            await b.close();
        }
    });

    test("least-in-flight sends more work to the faster server", async () => {
        // A wide gap (not a tight timing) so a loaded machine cannot blur which server is faster.
        const slow = await scripted(async (_h, res) => {
            await sleep(400);
            json(res, 200, {});
        });
        const quick = await scripted(async (_h, res) => {
            json(res, 200, {});
        });
        try {
            const client = new HttpClient({baseUrls: [slow.url, quick.url], concurrency: 4, ...fast});
            await Promise.all(Array.from({length: 40}, () => client.getJson("/v1/models")));
            assert.equal(slow.hits.length + quick.hits.length, 40);
            assert.ok(quick.hits.length > 2 * slow.hits.length, `quick ${quick.hits.length} vs slow ${slow.hits.length}`);
            assert.ok(slow.hits.length > 0);
        } finally {
            await slow.close();
            await quick.close();
        }
    });

    test("a retry moves to the other server", async () => {
        const bad = await scripted((_h, res) => json(res, 500, {error: "down"}));
        const good = await scripted((_h, res) => json(res, 200, {ok: true}));
        try {
            const client = new HttpClient({baseUrls: [bad.url, good.url], retries: 1, ...fast});
            const results = await Promise.all(Array.from({length: 10}, () => client.getJson<{ok: boolean}>("/v1/models")));
            assert.ok(results.every((r) => r.data.ok && r.url.startsWith(good.url)));
            assert.ok(bad.hits.length > 0);
        } finally {
            await bad.close();
            await good.close();
        }
    });

    test("the global concurrency limit holds over all servers", async () => {
        let active = 0;
        let peak = 0;
        const mk = () =>
            scripted(async (_h, res) => {
                peak = Math.max(peak, ++active);
                await sleep(20);
                active--;
                json(res, 200, {});
            });
        const a = await mk();
        const b = await mk();
        try {
            const client = new HttpClient({baseUrls: [a.url, b.url], concurrency: 3, ...fast});
            await Promise.all(Array.from({length: 24}, () => client.postJson("/v1/completions", {})));
            assert.equal(client.stats().maxInFlight, 3);
            assert.equal(peak, 3, "the servers never saw more than 3 requests at once");
            assert.equal(a.hits.length + b.hits.length, 24);
            assert.ok(a.hits.length >= 8 && b.hits.length >= 8, `${a.hits.length}/${b.hits.length}`);
        } finally {
            await a.close();
            await b.close();
        }
    });

    test("API key goes in the Authorization header; a caller abort is not retried", async () => {
        const s = await scripted(async (_h, res) => {
            await sleep(200);
            json(res, 200, {});
        });
        try {
            const client = new HttpClient({baseUrls: [s.url], apiKey: "sk-test", ...fast});
            await client.getJson("/v1/models");
            assert.equal(s.hits[0].headers.authorization, "Bearer sk-test");
            const ac = new AbortController();
            setTimeout(() => ac.abort(new Error("caller gave up")), 30);
            await assert.rejects(client.getJson("/v1/models", {signal: ac.signal}), /caller gave up/);
            assert.equal(client.stats().retries, 0);
        } finally {
            await s.close();
        }
    });
});

describe("wire format", () => {
    test("legacy completions logprobs map to confidences and sorted top-k", () => {
        const tokens = completionTokens(
            {tokens: ["a", "token_id:7"], token_logprobs: [Math.log(0.6), Math.log(0.25)], top_logprobs: [{b: Math.log(0.3), a: Math.log(0.6), c: Math.log(0.1)}, null]},
            2,
            "here",
        );
        assert.equal(tokens.length, 2);
        assert.ok(Math.abs(tokens[0].confidence - 0.6) < 1e-12);
        assert.deepEqual(tokens[0].top.map((t) => t.text), ["a", "b"]);
        assert.equal(tokens[1].id, 7);
        assert.deepEqual(tokens[1].top, []);
        assert.throws(() => completionTokens(null, 2, "POST u"), /POST u: the server returned no token log-probabilities/);
        assert.throws(() => completionTokens({tokens: ["a"], token_logprobs: [null], top_logprobs: null}, 1, "w"), /missing logprob/);
    });

    test("chat logprobs map the same way", () => {
        const t = chatTokens([{token: "x", logprob: Math.log(0.9), top_logprobs: [{token: "y", logprob: Math.log(0.05)}, {token: "x", logprob: Math.log(0.9)}]}], 5, "w");
        assert.ok(Math.abs(t[0].confidence - 0.9) < 1e-12);
        assert.deepEqual(t[0].top.map((a) => a.text), ["x", "y"]);
        assert.throws(() => chatTokens(null, 1, "w"), /no token log-probabilities/);
    });

    test("finish reasons, choice ordering and pooling rows", () => {
        assert.equal(finishReason({finish_reason: "length"}, true), "length");
        assert.equal(finishReason({finish_reason: "stop", stop_reason: "\n\n"}, true), "stop");
        assert.equal(finishReason({finish_reason: "stop", stop_reason: null}, true), "eos");
        assert.equal(finishReason({finish_reason: "stop"}, false), "eos");
        assert.equal(finishReason({finish_reason: "stop"}, true), "stop");
        assert.deepEqual(orderedChoices([{index: 1}, {index: 0}], 2, "w").map((c) => c.index), [0, 1]);
        assert.throws(() => orderedChoices([{index: 0}, {index: 0}], 2, "w"), /returned twice/);
        assert.throws(() => orderedChoices([{index: 0}], 2, "w"), /asked for 2 choices, the server returned 1/);
        assert.throws(() => orderedChoices([{index: 5}], 1, "w"), /outside/);
        assert.deepEqual(poolRows([[0.9, 0.1]], 2, "w"), [[0.9, 0.1]]);
        assert.deepEqual(poolRows([0.9, 0.1, 0.2, 0.8], 2, "w"), [[0.9, 0.1], [0.2, 0.8]]);
        assert.throws(() => poolRows([1, 2, 3], 2, "w"), /does not split/);
        assert.throws(() => poolRows("AAAA", 2, "w"), /base64/);
    });
});

describe("engine over scripted responses", () => {
    test("generate splits n, keeps indices 0..n-1 and seeds chunk [a, b) with seed + a (vLLM's child seeds)", async () => {
        const s = await scripted(completionsHandler);
        try {
            const engine = await OpenAIEngine.connect({baseUrls: [s.url + "/v1"], maxNPerRequest: 4, ...fast});
            assert.equal(engine.info.model, "m");
            const samples = await engine.generate({prompt: "hi", n: 10, seed: 42, temperature: 0.7, topK: 5, topLogprobs: 2, maxTokens: 2});
            assert.deepEqual(samples.map((x) => x.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
            const posts = s.hits.filter((h) => h.path === "/v1/completions");
            assert.deepEqual(posts.map((h) => h.body.n), [4, 4, 2]);
            assert.deepEqual(posts.map((h) => h.body.seed), [42, 46, 50]);
            assert.equal(posts[0].body.top_k, 5);
            assert.equal(posts[0].body.logprobs, 2);
            assert.equal(posts[0].body.model, "m");
            // Every sampling field explicit, neutral where unset (server defaults must not leak in).
            assert.equal(posts[0].body.top_p, 1);
            assert.equal(posts[0].body.min_p, 0);
            assert.equal(posts[0].body.repetition_penalty, 1);
            assert.equal(posts[0].body.frequency_penalty, 0);
            assert.equal(posts[0].body.presence_penalty, 0);
            assert.deepEqual(engine.samplingRecord({temperature: 0.7, topK: 5, maxTokens: 2}), {
                temperature: 0.7, max_tokens: 2, top_p: 1, top_k: 5, min_p: 0, repetition_penalty: 1, frequency_penalty: 0, presence_penalty: 0, stop: [],
            });
            // Sample i of chunk c carries the chunk's seed and its own in-chunk index.
            assert.equal(samples[5].text, `s46i1`);
            assert.equal(samples[9].text, `s50i1`);
            // firstIndex offsets indices and seeds: samples 4..5 alone are samples 4..5 of the whole.
            const part = await engine.generate({prompt: "hi", n: 2, firstIndex: 4, seed: 42, temperature: 0.7, topK: 5, topLogprobs: 2, maxTokens: 2});
            assert.deepEqual(part.map((x) => x.index), [4, 5]);
            assert.deepEqual(part.map((x) => x.text), [samples[4].text, samples[5].text]);
            assert.equal(samples[0].tokens[0].confidence, 0.5);
            assert.deepEqual(samples[0].tokens[0].top.map((t) => t.text), ["s42", "z"]);
            assert.equal(samples[0].finishReason, "length");
            const st = engine.stats();
            assert.equal(st.prefixEvaluations, 4);
            assert.equal(st.generatedTokens, 24);
            assert.equal(st.promptTokens, 12);
        } finally {
            await s.close();
        }
    });

    test("a response with a missing sample is an error, not a short result", async () => {
        const s = await scripted((hit, res) => {
            const n = Number(hit.body.n ?? 1);
            json(res, 200, {choices: Array.from({length: n - 1}, (_, i) => fakeChoice(i, ["a"]))});
        });
        try {
            const engine = new OpenAIEngine({baseUrls: [s.url], model: "m", ...fast});
            await assert.rejects(engine.generate({prompt: "x", n: 3}), new RegExp(`POST ${s.url}/v1/completions: asked for 3 choices, the server returned 2`));
        } finally {
            await s.close();
        }
    });

    test("probeTokens: request shape, position mapping, id/text keys, missing candidates error or bound", async () => {
        // Entry j of the prompt log-probabilities (j ≥ 1): P(5) = 0.1·j, P(6) = 0.05, as token-id keys
        // ("echo" with return_tokens_as_token_ids), vLLM's prompt_logprobs, or plain texts.
        const mode = {value: "echo-ids" as "echo-ids" | "prompt" | "echo-text"};
        const text = (id: number) => ({5: "five", 6: "six", 7: "\uFFFD", 8: "\uFFFD"})[id] ?? `t${id}`;
        const s = await scripted((hit, res) => {
            if (hit.path === "/tokenize") return json(res, 200, {tokens: [1, 5, 6, 9, 3]});
            if (hit.path === "/detokenize") return json(res, 200, {prompt: (hit.body.tokens as number[]).map(text).join("")});
            const prompt = hit.body.prompt as number[];
            const entries = prompt.map((_, j) => (j === 0 ? null : {5: Math.log(0.1 * j), 6: Math.log(0.05)}));
            const keyed = (key: (id: number) => string) => entries.map((e) => (e ? Object.fromEntries(Object.entries(e).map(([id, lp]) => [key(+id), lp])) : null));
            const choice: Record<string, unknown> = {index: 0, text: "", finish_reason: "length"};
            if (mode.value === "prompt") choice.prompt_logprobs = entries.map((e) => (e ? Object.fromEntries(Object.entries(e).map(([id, lp]) => [id, {logprob: lp, rank: 1}])) : null));
            const tops = mode.value === "echo-text" ? keyed(text) : keyed((id) => `token_id:${id}`);
            choice.logprobs = {tokens: [...prompt, 5].map((t) => `token_id:${t}`), token_logprobs: [...entries, {}].map(() => -1), top_logprobs: [...tops, {"token_id:5": 0}]};
            json(res, 200, {choices: [choice]});
        });
        try {
            const engine = new OpenAIEngine({baseUrls: [s.url], model: "m", probeTopK: 2, ...fast});
            for (const m of ["echo-ids", "prompt", "echo-text"] as const) {
                mode.value = m;
                const r = await engine.probeTokens({input: "abcd", positions: [0, 2], candidates: [6, 5]});
                const body = s.hits.filter((h) => h.path === "/v1/completions").at(-1)!.body;
                assert.deepEqual(body.prompt, [1, 5, 6, 9], "token prompt cut after the token following the last position");
                assert.equal(body.echo, true);
                assert.equal(body.logprobs, 2);
                assert.equal(body.prompt_logprobs, 2);
                assert.deepEqual(r.probs.map((row) => row.map((p) => +p.toFixed(6))), [[0.05, 0.1], [0.05, 0.3]], m);
                // The last input token: its distribution is read from a filler token appended after it.
                const last = await engine.probeTokens({input: [1, 5, 6, 9], positions: [3], candidates: [5]});
                assert.deepEqual(s.hits.at(-1)!.body.prompt, [1, 5, 6, 9, 9]);
                assert.ok(Math.abs(last.probs[0][0] - 0.4) < 1e-12);
                await assert.rejects(engine.probeTokens({input: [1, 5, 6], positions: [1], candidates: [4]}), /candidate token 4 is not among the top 2 tokens .* at position 1.*pooling API/);
            }
            await assert.rejects(engine.probeTokens({input: [1, 5, 6], positions: [1], candidates: [7]}), /decodes to "\uFFFD", which this server's text-keyed/);
            await assert.rejects(engine.probeTokens({input: [1, 5], positions: [2], candidates: [5]}), /position 2 is outside the 2 input tokens/);
            const bounded = new OpenAIEngine({baseUrls: [s.url], model: "m", probeTopK: 2, probeMissing: "bound", ...fast});
            const b = await bounded.probeTokensDetailed({input: [1, 5, 6, 9, 3], positions: [3], candidates: [4, 5]});
            assert.deepEqual(b.missing, [[true, false]]);
            assert.ok(Math.abs(b.probs[0][0] - 0.05) < 1e-9, "bound = min(k-th prob 0.05, 1 - 0.45)");
        } finally {
            await s.close();
        }
    });

    test("promptLogprobs of a text: one request, the prompt's ids read from the echo (no /tokenize); a server whose echo has no ids is asked the old way, from then on", async () => {
        // The server tokenizes "abc" as [1, 10, 11, 12]; entry j ≥ 1: the prompt token with p = 0.5, token 99 with p = 0.25 (rank 1 when the prompt token ranks 2).
        const ids = [1, 10, 11, 12];
        const withIds = {value: true};
        const s = await scripted((hit, res) => {
            if (hit.path === "/tokenize") return json(res, 200, {tokens: ids});
            const prompt = typeof hit.body.prompt === "string" ? ids : (hit.body.prompt as number[]);
            const prompt_logprobs = prompt.map((id, j) =>
                j === 0 ? null : {[id]: {logprob: Math.log(0.5), rank: 1, decoded_token: `c${id}`}, 99: {logprob: Math.log(0.25), rank: 2, decoded_token: "z"}},
            );
            const choice: Record<string, unknown> = {index: 0, text: "", finish_reason: "length", prompt_logprobs};
            if (hit.body.echo) {
                const shown = (id: number) => (withIds.value && hit.body.return_tokens_as_token_ids ? `token_id:${id}` : `c${id}`);
                choice.logprobs = {tokens: [...prompt, 99].map(shown), token_logprobs: [null, ...prompt.map(() => -1)], top_logprobs: [null, ...prompt.map(() => ({}))]};
            }
            json(res, 200, {choices: [choice], usage: {prompt_tokens: prompt.length, completion_tokens: 1}});
        });
        try {
            const engine = new OpenAIEngine({baseUrls: [s.url], model: "m", ...fast});
            const want = [null, ...ids.slice(1).map((id) => ({id, text: `c${id}`, prob: 0.5, rank: 1, top: [{id, text: `c${id}`, prob: 0.5}]}))];
            assert.deepEqual(await engine.promptLogprobs!("abc", {topK: 1}), want);
            assert.deepEqual(s.hits.map((h) => h.path), ["/v1/completions"], "one request, no /tokenize");
            const body = s.hits[0].body;
            assert.equal(body.prompt, "abc");
            assert.equal(body.prompt_logprobs, 1);
            assert.deepEqual([body.echo, body.logprobs, body.return_tokens_as_token_ids, body.max_tokens], [true, 0, true, 1]);
            // The same entries as the token-id path.
            assert.deepEqual(await engine.promptLogprobs!(ids, {topK: 1}), want);
            // addBos false: the server's completions may not honour add_special_tokens, so the text is tokenized first.
            s.hits.length = 0;
            await engine.promptLogprobs!("abc", {topK: 1, addBos: false});
            assert.deepEqual(s.hits.map((h) => h.path), ["/tokenize", "/v1/completions"]);
            assert.equal(s.hits[0].body.add_special_tokens, false);

            withIds.value = false;
            const old = new OpenAIEngine({baseUrls: [s.url], model: "m", ...fast});
            s.hits.length = 0;
            assert.deepEqual(await old.promptLogprobs!("abc", {topK: 1}), want);
            assert.deepEqual(s.hits.map((h) => h.path), ["/v1/completions", "/tokenize", "/v1/completions"], "echo without ids: asked again the old way");
            assert.deepEqual(s.hits[2].body.prompt, ids);
            s.hits.length = 0;
            assert.deepEqual(await old.promptLogprobs!("abc", {topK: 1}), want);
            assert.deepEqual(s.hits.map((h) => h.path), ["/tokenize", "/v1/completions"], "and the old way from then on");
        } finally {
            await s.close();
        }
    });

    test("pool reads /pooling rows and cuts flat /v1/embeddings vectors", async () => {
        const s = await scripted((hit, res) => {
            if (hit.path === "/pooling") return json(res, 200, {data: [{index: 0, object: "pooling", data: [[0.8, 0.2], [0.3, 0.7]]}]});
            return json(res, 200, {data: [{index: 0, object: "embedding", embedding: [0.8, 0.2, 0.3, 0.7]}]});
        });
        try {
            const engine = new OpenAIEngine({baseUrls: [s.url], model: "prm", ...fast});
            assert.ok(engine.pool, "dialect vllm (the default) has pool");
            assert.deepEqual(await engine.pool({input: "a ки b ки"}), [[0.8, 0.2], [0.3, 0.7]]);
            assert.deepEqual(s.hits[0].body, {model: "prm", input: "a ки b ки"});
            assert.deepEqual(await engine.pool({input: [1, 2, 3], endpoint: "embeddings"}), [[0.8, 0.2], [0.3, 0.7]]);
            assert.equal(s.hits[1].path, "/v1/embeddings");
        } finally {
            await s.close();
        }
    });
});

describe("engine specs", () => {
    test("parses llama and openai specs", () => {
        assert.deepEqual(parseEngineSpec("llama:./m.gguf"), {kind: "llama", path: "./m.gguf", options: {}});
        assert.deepEqual(parseEngineSpec("llama:/a/b.gguf?threads=2&contextSize=1024&sequences=4"), {
            kind: "llama",
            path: "/a/b.gguf",
            options: {threads: 2, contextSize: 1024, sequences: 4},
        });
        assert.deepEqual(parseEngineSpec("openai:http://127.0.0.1:8000/v1,http://127.0.0.1:8001/v1?model=org/name&concurrency=8&timeout=2.5&retries=0&key=sk&balance=round-robin&maxN=4"), {
            kind: "openai",
            urls: ["http://127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1"],
            options: {model: "org/name", concurrency: 8, timeoutMs: 2500, retries: 0, apiKey: "sk", balance: "round-robin", maxNPerRequest: 4},
        });
        assert.equal((parseEngineSpec("openai:http://h/v1?model=a%2Fb") as {options: {model: string}}).options.model, "a/b");
    });

    test("bad specs give one-line errors listing the valid forms", () => {
        assert.throws(() => parseEngineSpec("gpt4"), /^StepwiseError: unknown engine spec "gpt4": expected llama:PATH.* or openai:URL/);
        assert.throws(() => parseEngineSpec("vllm:http://h"), /unknown engine spec/);
        assert.throws(() => parseEngineSpec("llama:"), /no model path/);
        assert.throws(() => parseEngineSpec("llama:m.gguf?threads=0"), /threads must be an integer from 1 to 1024, got "0"/);
        assert.throws(() => parseEngineSpec("llama:m.gguf?gpu=1"), /gpu must be one of false, auto, cuda/);
        assert.deepEqual(parseEngineSpec("llama:m.gguf?gpu=false").options, {gpu: false});
        assert.deepEqual(parseEngineSpec("llama:m.gguf?gpu=vulkan").options, {gpu: "vulkan"});
        assert.throws(() => parseEngineSpec("llama:m.gguf?color=1"), /unknown parameter "color" \(known: threads/);
        assert.equal((parseEngineSpec("openai:http://h?dialect=llama.cpp") as any).options.dialect, "llama.cpp");
        assert.throws(() => parseEngineSpec("openai:http://h?dialect=tgi"), /dialect must be/);
        assert.throws(() => parseEngineSpec("openai:"), /no server URL/);
        assert.throws(() => parseEngineSpec("openai:ftp://h"), /not an http\(s\) URL/);
        assert.throws(() => parseEngineSpec("openai:http://h?timeout=-1"), /timeout must be a positive number/);
        assert.throws(() => parseEngineSpec("openai:http://h?model=a&model=b"), /given twice/);
        assert.equal((parseEngineSpec("openai:http://h?maxModelLen=4096") as any).options.maxModelLen, 4096);
        assert.throws(() => parseEngineSpec("openai:http://h?maxModelLen=0"), /maxModelLen must be an integer from 1 to 16777216, got "0"/);
        assert.throws(() => parseEngineSpec("openai:http://h?maxModelLen=4k"), /maxModelLen must be an integer/);
    });

    test("createEngine: server down fails fast with the URL; a live server connects", async () => {
        const dead = await scripted(() => undefined);
        const deadUrl = dead.url;
        await dead.close();
        const t0 = performance.now();
        await assert.rejects(createEngine(`openai:${deadUrl}/v1`), (e: Error) => {
            assert.ok(e instanceof StepwiseError);
            assert.match(e.message, new RegExp(`^GET ${deadUrl}/v1/models: connection refused`));
            return true;
        });
        assert.ok(performance.now() - t0 < 5000);
        const live = await scripted(completionsHandler);
        try {
            const engine = await createEngine(`openai:${live.url}/v1?key=abc`);
            assert.equal(engine.info.kind, "openai");
            assert.equal(engine.info.model, "m");
            assert.equal(live.hits[0].headers.authorization, "Bearer abc");
        } finally {
            await live.close();
        }
    });
});

describe("the context length (vLLM's max_model_len)", () => {
    /**
     * A scripted server with a context of `ctx` tokens that, like vLLM, answers 400 when prompt +
     * max_tokens exceeds it, else max_tokens one-character tokens ending with "length". Its
     * tokenizer makes `perChar` tokens per character (a token-id prompt counts its ids). It reports
     * the context at /v1/models (`card`), /tokenize (`tokenize`, else 404) or /props (`props`, else 404).
     */
    function contextServer(o: {ctx: number; card?: boolean; tokenize?: boolean; props?: boolean; perChar?: number}): Handler {
        const perChar = o.perChar ?? 1;
        const count = (p: unknown) => (Array.isArray(p) ? p.length : String(p).length * perChar);
        return (hit, res) => {
            if (hit.path === "/v1/models") return json(res, 200, {object: "list", data: [{id: "m", object: "model", ...(o.card ? {max_model_len: o.ctx} : {})}]});
            if (hit.path === "/props") return o.props ? json(res, 200, {default_generation_settings: {n_ctx: o.ctx}, total_slots: 1}) : json(res, 404, {detail: "Not Found"});
            if (hit.path === "/tokenize") {
                if (!o.tokenize) return json(res, 404, {detail: "Not Found"});
                const n = count(hit.body.prompt ?? hit.body.content);
                return json(res, 200, {tokens: Array(n).fill(7), count: n, max_model_len: o.ctx});
            }
            const p = count(hit.body.prompt);
            const m = Number(hit.body.max_tokens);
            if (p + m > o.ctx)
                return json(res, 400, {
                    error: {
                        message: `This model's maximum context length is ${o.ctx} tokens. However, you requested ${p + m} tokens (${p} in the messages, ${m} in the completion). Please reduce the length of the messages or completion.`,
                        type: "BadRequestError",
                        param: null,
                        code: 400,
                    },
                });
            const n = Number(hit.body.n ?? 1);
            json(res, 200, {choices: Array.from({length: n}, (_, i) => fakeChoice(i, Array(m).fill("x"))), usage: {prompt_tokens: p, completion_tokens: n * m}});
        };
    }
    const posts = (s: {hits: Hit[]}, path = "/v1/completions") => s.hits.filter((h) => h.path === path);

    test("no max_model_len anywhere: the request goes as asked and the 400 quotes the server with a hint", async () => {
        const s = await scripted(contextServer({ctx: 100}));
        try {
            const engine = await OpenAIEngine.connect({baseUrls: [s.url + "/v1"], retries: 3, ...fast});
            assert.equal(engine.context, undefined);
            assert.equal(engine.info.contextSize, undefined);
            await assert.rejects(engine.generate({prompt: "x".repeat(90), maxTokens: 20, n: 2}), (e: Error) => {
                assert.ok(e instanceof StepwiseError);
                assert.match(e.message, new RegExp(`^POST ${s.url}/v1/completions: HTTP 400 Bad Request: This model's maximum context length is 100 tokens\\. However, you requested 110 tokens`));
                assert.match(e.message, /stepwise does not know this server's context length .* add maxModelLen=N, the server's context length, to the engine spec, or lower max_tokens \(--max-tokens\)\)$/);
                assert.ok(!e.message.includes("\n"));
                assert.ok(isContextOverflow(e), "stages see a context overflow (--skip-too-long)");
                return true;
            });
            assert.equal(posts(s).length, 1, "a 400 is not retried");
            assert.deepEqual(posts(s)[0].body.max_tokens, 20);
            // Told the context (spec maxModelLen=N) but with no /tokenize: a text prompt cannot be counted...
            const told = (await createEngine(`openai:${s.url}/v1?maxModelLen=100&retries=0`)) as OpenAIEngine;
            assert.deepEqual(told.context, {tokens: 100, source: "maxModelLen=100 given to the engine"});
            await assert.rejects(told.generate({prompt: "x".repeat(90), maxTokens: 20}), /maximum context length is 100 tokens.*\(this server has no \/tokenize to count the prompt's tokens, so max_tokens was not fitted/);
            // ...a token-id prompt can: cut to the room left, finish "length".
            const [sample] = await told.generate({prompt: Array(90).fill(3), maxTokens: 20});
            assert.equal(posts(s).at(-1)!.body.max_tokens, 10);
            assert.equal(sample.tokens.length, 10);
            assert.equal(sample.finishReason, "length");
        } finally {
            await s.close();
        }
    });

    test("max_model_len from the model card: max_tokens cut to the room the prompt leaves, finish length; counts cached; short prompts not counted", async () => {
        const s = await scripted(contextServer({ctx: 100, card: true, tokenize: true}));
        try {
            const engine = await OpenAIEngine.connect({baseUrls: [s.url + "/v1"], ...fast});
            assert.deepEqual(engine.context, {tokens: 100, source: `max_model_len at GET ${s.url}/v1/models`});
            assert.equal(engine.info.contextSize, 100);
            const samples = await engine.generate({prompt: "x".repeat(90), maxTokens: 20, n: 3, seed: 1});
            assert.deepEqual(samples.map((x) => [x.tokens.length, x.finishReason]), [[10, "length"], [10, "length"], [10, "length"]]);
            assert.equal(posts(s).at(-1)!.body.max_tokens, 10);
            assert.equal(posts(s, "/tokenize").length, 1);
            await engine.generate({prompt: "x".repeat(90), maxTokens: 20, n: 2, firstIndex: 3, seed: 1});
            assert.equal(posts(s, "/tokenize").length, 1, "the prompt's count is remembered");
            // A prompt whose UTF-8 bytes + slack + max_tokens fit is sent as asked, uncounted.
            const [short] = await engine.generate({prompt: "hi", maxTokens: 20});
            assert.equal(short.tokens.length, 20);
            assert.equal(posts(s, "/tokenize").length, 1);
            assert.equal(engine.samplingRecord({maxTokens: 20}).max_tokens, 20, "records keep the max_tokens asked for");
            // A prompt that fills the context alone is an error before any generation, as on the llama engine.
            const before = posts(s).length;
            await assert.rejects(engine.generate({prompt: "x".repeat(100), maxTokens: 5}), (e: Error) => {
                assert.match(e.message, /^generate: the prompt \(100 tokens\) fills the server's context \(100 tokens, max_model_len at GET .*\/v1\/models\)/);
                assert.ok(e instanceof ContextOverflowError && e.tokens === 100 && e.limit === 100 && isContextOverflow(e));
                return true;
            });
            assert.equal(posts(s).length, before);
        } finally {
            await s.close();
        }
    });

    test("a tokenizer with more tokens than bytes: the 400 of a request sent on the byte bound is retried once, counted", async () => {
        const s = await scripted(contextServer({ctx: 100, card: true, tokenize: true, perChar: 3}));
        try {
            const engine = await OpenAIEngine.connect({baseUrls: [s.url + "/v1"], ...fast});
            const [sample] = await engine.generate({prompt: "x".repeat(30), maxTokens: 20});
            assert.deepEqual(posts(s).map((h) => h.body.max_tokens), [20, 10]);
            assert.equal(sample.tokens.length, 10);
        } finally {
            await s.close();
        }
    });

    test("a context larger than the server's (wrong maxModelLen): the server's 400 with what stepwise counted", async () => {
        const s = await scripted(contextServer({ctx: 100, card: true, tokenize: true}));
        try {
            const engine = new OpenAIEngine({baseUrls: [s.url], model: "m", maxModelLen: 200, ...fast});
            await assert.rejects(
                engine.generate({prompt: "x".repeat(90), maxTokens: 20}),
                /HTTP 400 Bad Request: This model's maximum context length is 100 tokens.*\(stepwise counted 90 prompt tokens and sent max_tokens 20 to fit a context of 200 tokens \(maxModelLen=200 given to the engine\), which the server refused.*Correct maxModelLen=N/,
            );
            assert.equal(posts(s).length, 1, "sent on the byte bound; counting then leaves max_tokens as it was, so not sent again");
            assert.equal(posts(s, "/tokenize").length, 1);
        } finally {
            await s.close();
        }
    });

    test("llama.cpp server: n_ctx from /props, prompts counted with its /tokenize shape; SGLang: max_model_len from /tokenize", async () => {
        const cpp = await scripted(contextServer({ctx: 100, props: true, tokenize: true}));
        const sgl = await scripted(contextServer({ctx: 64, tokenize: true}));
        try {
            const engine = await OpenAIEngine.connect({baseUrls: [cpp.url + "/v1"], dialect: "llama.cpp", ...fast});
            assert.deepEqual(engine.context, {tokens: 100, source: `n_ctx at GET ${cpp.url}/props`});
            const [sample] = await engine.generate({prompt: "x".repeat(90), maxTokens: 20});
            assert.equal(sample.tokens.length, 10);
            assert.deepEqual(posts(cpp, "/tokenize")[0].body, {content: "x".repeat(90), add_special: true});
            const other = await OpenAIEngine.connect({baseUrls: [sgl.url + "/v1"], ...fast});
            assert.deepEqual(other.context, {tokens: 64, source: `max_model_len at POST ${sgl.url}/tokenize`});
            // Two servers: the smallest context any of them tells.
            const both = await OpenAIEngine.connect({baseUrls: [cpp.url, sgl.url], model: "m", ...fast});
            assert.equal(both.context?.tokens, 64);
        } finally {
            await cpp.close();
            await sgl.close();
        }
    });
});

describe("fault proxy", () => {
    test("injects drops, 500s and stalls; every sample still arrives exactly once", async () => {
        const upstream = await scripted(completionsHandler);
        const proxy = await startFaultProxy({upstream: upstream.url, seed: 3, dropRate: 0.15, errorRate: 0.15, stallRate: 0.1, stallMs: 5_000});
        try {
            // The timeout only has to cut the injected stalls (5 s); a generous one keeps a loaded machine from adding faults of its own.
            const engine = new OpenAIEngine({baseUrls: [proxy.url + "/v1"], model: "m", timeoutMs: 2500, retries: 12, concurrency: 8, maxNPerRequest: 3, ...fast});
            const results = await Promise.all(Array.from({length: 30}, (_, r) => engine.generate({prompt: `p${r}`, n: 7, seed: r})));
            for (const [r, samples] of results.entries()) {
                assert.deepEqual(samples.map((x) => x.index), [0, 1, 2, 3, 4, 5, 6]);
                // every sample is the one its own chunk produced, none duplicated
                assert.equal(new Set(samples.map((x) => x.text)).size, 7);
                assert.equal(samples[0].text, `s${r}i0`);
            }
            const st = proxy.stats();
            assert.ok(st.droppedBefore + st.droppedAfter > 0 && st.errors > 0 && st.stalls > 0, JSON.stringify(st));
            // Every injected fault cost one retry (a stale keep-alive socket may add one more).
            assert.ok(engine.stats().retries >= st.droppedBefore + st.droppedAfter + st.errors + st.stalls);
            // One answer per chunk at least; a slow relay that hit the timeout adds a forwarded, retried request.
            assert.ok(st.forwarded >= 30 * 3, JSON.stringify(st));
        } finally {
            await proxy.close();
            await upstream.close();
        }
    });

    test("rejects non-loopback upstreams and bad shares", async () => {
        await assert.rejects(startFaultProxy({upstream: "http://10.0.0.1:80"}), /loopback/);
        await assert.rejects(startFaultProxy({upstream: "http://127.0.0.1:1", dropRate: 0.8, errorRate: 0.5}), /more than 1/);
    });
});
