// @tier fast
/**
 * Conformance of the OpenAI engine's `llama.cpp` dialect with llama.cpp's own server, on answers
 * recorded from a real llama-server (test/fixtures/llama-server/lab-policy.json: what stepwise
 * sent and what the server answered, trimmed of timings and build strings), replayed by a
 * loopback server that answers only requests equal to the recorded ones. And the same mapping on
 * vLLM's documented shapes (transcribed from vLLM's protocol, not recorded).
 *
 * Re-recording: build llama-server from the llama.cpp that node-llama-cpp ships, run
 *   llama-server -m models/lab-policy.gguf --host 127.0.0.1 --port 8089 -fa off -ctk f32 -ctv f32 --parallel 2 -c 2048
 * and run this file with STEPWISE_RECORD_LLAMA_SERVER=http://127.0.0.1:8089: the requests then go
 * through a recording proxy to that server and the fixture is rewritten.
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {readFileSync, writeFileSync} from "node:fs";
import {OpenAIEngine} from "../../src/engines/openai/engine.ts";
import {chatTokens, completionTokens, detokenizedText, finishReason, type ChatStyleLogprobs, type CompletionResponse} from "../../src/engines/openai/protocol.ts";
import {StepwiseError} from "../../src/util/errors.ts";
import {startRecorder, startReplay, type Exchange} from "../helpers/llama-server-replay.ts";

const FIXTURE = new URL("../fixtures/llama-server/lab-policy.json", import.meta.url).pathname;
const RECORD = process.env.STEPWISE_RECORD_LLAMA_SERVER;

interface Fixture {
    recorded: string;
    exchanges: Exchange[];
}

const fixture: Fixture = RECORD ? {recorded: "", exchanges: []} : JSON.parse(readFileSync(FIXTURE, "utf8"));
let url = "";
let stop: () => Promise<void> = async () => {};
let recorded: Exchange[] | undefined;

before(async () => {
    if (RECORD) {
        const r = await startRecorder(RECORD);
        recorded = r.exchanges;
        url = r.url;
        stop = r.close;
    } else {
        const r = await startReplay(fixture.exchanges);
        url = r.url;
        stop = r.close;
    }
});

after(async () => {
    await stop();
    if (recorded) {
        const unique = recorded.filter((e, i) => recorded!.findIndex((o) => JSON.stringify(o.request) === JSON.stringify(e.request)) === i);
        const out: Fixture = {
            recorded: `llama-server built from the llama.cpp of node-llama-cpp 3.22.1 (llama/gitRelease.bundle), CPU; models/lab-policy.gguf; -fa off -ctk f32 -ctv f32 --parallel 2 -c 2048; ${new Date().toISOString().slice(0, 10)}`,
            exchanges: unique,
        };
        // One exchange per line: compact, and a re-recording diffs by exchange.
        writeFileSync(FIXTURE, `{"recorded": ${JSON.stringify(out.recorded)}, "exchanges": [\n${out.exchanges.map((e) => JSON.stringify(e)).join(",\n")}\n]}\n`);
    }
});

const connect = (extra: Partial<ConstructorParameters<typeof OpenAIEngine>[0]> = {}) =>
    OpenAIEngine.connect({baseUrls: [url + "/v1"], dialect: "llama.cpp", retries: 0, ...extra});

/** The recorded answer to the completions request whose body has these fields. */
function answerTo(fields: Record<string, unknown>): CompletionResponse {
    const list = RECORD ? recorded! : fixture.exchanges;
    const e = list.find((x) => x.request.path === "/v1/completions" && Object.entries(fields).every(([k, v]) => JSON.stringify((x.request.body as Record<string, unknown>)[k]) === JSON.stringify(v)));
    assert.ok(e, `a recorded /v1/completions with ${JSON.stringify(fields)}`);
    return e.answer as CompletionResponse;
}

const PROMPT = "Compute 1 * (11 * 4 + 3).\n";
const joined = (tokens: {text: string}[]) => tokens.map((t) => t.text).join("");

test("connect: the slot context from /props n_ctx, the largest n from total_slots", async () => {
    const engine = await connect();
    assert.deepEqual(engine.context, {tokens: 512, source: `n_ctx at GET ${url}/props`});
    // n = 3 on a server with 2 slots: one request of 2 and one of 1, sample i seeded seed + i.
    const samples = await engine.generate({prompt: PROMPT, n: 3, seed: 11, maxTokens: 200, topLogprobs: 1});
    assert.deepEqual(samples.map((s) => s.index), [0, 1, 2]);
    const a = answerTo({n: 2, seed: 11});
    const b = answerTo({n: 1, seed: 13});
    assert.equal(a.choices.length, 2);
    assert.equal(b.choices.length, 1);
    for (const s of samples) assert.equal(joined(s.tokens), s.text);
});

test("seeds: llama-server seeds choice j of a request seed + j, so sample i depends only on (seed, i) however n is split", async () => {
    const engine = await connect();
    // Temperature 1.5 on a bare prefix: samples that differ with the seed.
    const o = {prompt: "Compute", seed: 11, temperature: 1.5, maxTokens: 20, topLogprobs: 1};
    const both = await engine.generate({...o, n: 2});
    const [second] = await engine.generate({...o, n: 1, firstIndex: 1});
    assert.equal(second.index, 1);
    assert.notEqual(both[0].text, both[1].text);
    assert.equal(second.text, both[1].text);
    assert.deepEqual(second.tokens, both[1].tokens);
});

test("completions log-probabilities in llama-server's chat shape: confidences, token ids, top alternatives, text", async () => {
    const engine = await connect();
    const [s] = await engine.generate({prompt: PROMPT, n: 1, seed: 1, maxTokens: 200, topLogprobs: 2});
    const raw = answerTo({n: 1, seed: 1}).choices[0];
    const content = (raw.logprobs as ChatStyleLogprobs).content!;
    assert.ok(Array.isArray(content) && !("tokens" in raw.logprobs!), "the shape is logprobs.content[], not tokens/token_logprobs");
    assert.equal(s.text, raw.text);
    assert.equal(joined(s.tokens), s.text);
    s.tokens.forEach((t, j) => {
        assert.equal(t.confidence, Math.exp(content[j].logprob));
        assert.equal(t.id, content[j].id);
        assert.equal(t.top.length, 2);
        assert.ok(t.top[0].prob >= t.top[1].prob);
        assert.equal(typeof t.top[0].id, "number");
    });
});

test("a sample that ends at EOS: llama-server's trailing EOS token (text \"\") is dropped, finish reason eos, as in-process", async () => {
    const engine = await connect();
    const [s] = await engine.generate({prompt: PROMPT, n: 1, seed: 1, maxTokens: 200, topLogprobs: 2});
    const raw = answerTo({n: 1, seed: 1}).choices[0];
    const content = (raw.logprobs as ChatStyleLogprobs).content!;
    assert.equal(raw.finish_reason, "stop");
    assert.equal(content.at(-1)!.token, "", "the server lists the EOS token");
    assert.equal(s.finishReason, "eos");
    assert.equal(s.tokens.length, content.length - 1);
    assert.notEqual(s.tokens.at(-1)!.text, "");
});

test("usage with n > 1 is the first choice's alone on llama-server: generated tokens are counted per choice", async () => {
    const engine = await connect();
    await engine.generate({prompt: PROMPT, n: 2, seed: 11, maxTokens: 200, topLogprobs: 1});
    const raw = answerTo({n: 2, seed: 11});
    const counts = raw.choices.map((c) => (c.logprobs as ChatStyleLogprobs).content!.length);
    assert.equal(raw.usage?.completion_tokens, counts[0], "the server's usage counts the first choice only");
    assert.notEqual(raw.usage?.completion_tokens, counts[0] + counts[1]);
    assert.equal(engine.stats().generatedTokens, counts[0] + counts[1]);
});

test("n above the slot count: llama-server's 400, with the maxN hint", async () => {
    const engine = await connect({maxNPerRequest: 3});
    await assert.rejects(engine.generate({prompt: PROMPT, n: 3, seed: 21, maxTokens: 200, topLogprobs: 1}), (e: Error) => {
        assert.ok(e instanceof StepwiseError);
        assert.match(e.message, /HTTP 400.*Field 'n': Value must be between 1 <= value <= 2.*stepwise sent n 3, its most per request \(maxN, maxN=3 given to the engine\); add maxN=N to the engine spec/);
        return true;
    });
});

test("a stop string: finish reason stop, the stop string's tokens left out by the server, tokens join to the text", async () => {
    const engine = await connect();
    const [s] = await engine.generate({prompt: PROMPT, n: 1, seed: 3, maxTokens: 200, topLogprobs: 1, stop: ["\n"]});
    assert.equal(s.finishReason, "stop");
    assert.ok(!s.text.includes("\n") && s.text.length > 0, s.text);
    assert.equal(joined(s.tokens), s.text);
});

test("a possible stop-string start: llama-server lists it with \"\" and sends its text with the next token; stepwise restores each token's own text", async () => {
    const engine = await connect();
    const [s] = await engine.generate({prompt: PROMPT, n: 1, seed: 3, maxTokens: 200, topLogprobs: 1, stop: ["\n\n"]});
    const raw = answerTo({n: 1, seed: 3, stop: ["\n\n"]}).choices[0];
    const listed = (raw.logprobs as ChatStyleLogprobs).content!.map((t) => t.token);
    assert.ok(listed.slice(0, -1).includes("") && listed.some((t) => t.length > 1 && t.startsWith("\n")), "the server shifts the newline's text");
    assert.equal(joined(s.tokens), s.text);
    assert.ok(s.tokens.every((t) => t.text !== ""));
    const newlines = s.tokens.filter((t) => t.text === "\n");
    assert.equal(newlines.length, s.text.split("\n").length - 1, "every newline is its own token again");
    assert.equal(s.finishReason, "eos", "the stop string never came: the sample ended at EOS");
});

test("a token that ends inside a UTF-8 character is left out of llama-server's log-probabilities: an error, not a record without it", async () => {
    const engine = await connect();
    // Temperature 5 on a bare prefix draws byte tokens.
    await assert.rejects(
        engine.generate({prompt: "Compute", n: 2, seed: 11, temperature: 5, maxTokens: 20, topLogprobs: 1}),
        /llama-server's log-probabilities do not cover every generated token \(it leaves out a token that ends inside a UTF-8 character/,
    );
});

test("the token budget: finish reason length, exactly max_tokens tokens", async () => {
    const engine = await connect();
    const [s] = await engine.generate({prompt: PROMPT, n: 1, seed: 3, maxTokens: 5, topLogprobs: 1});
    assert.equal(s.finishReason, "length");
    assert.equal(s.tokens.length, 5);
});

test("/tokenize {content, add_special} and /detokenize's `content`", async () => {
    const engine = await connect();
    const ids = await engine.tokenize(PROMPT, {addBos: false});
    assert.ok(ids.length > 0 && ids.every(Number.isInteger));
    assert.equal(await engine.detokenize(ids), PROMPT);
});

test("nextToken: the top alternatives of llama-server's chat-shaped answer, with token ids", async () => {
    const engine = await connect();
    const d = await engine.nextToken(PROMPT, {topK: 3});
    assert.equal(d.top.length, 3);
    assert.ok(d.top[0].prob >= d.top[1].prob && d.top[1].prob >= d.top[2].prob);
    assert.ok(d.top.every((a) => Number.isInteger(a.id)));
});

test("chat: top_logprobs 0 makes llama-server answer without logprobs, so stepwise asks for at least 1", async () => {
    const messages = [{role: "user" as const, content: PROMPT}];
    const raw = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: {"content-type": "application/json"},
        body: JSON.stringify({messages, max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 0}),
    }).then((r) => r.json());
    assert.equal(raw.choices[0].logprobs ?? null, null, "no log-probabilities at all (the key is left out)");
    const engine = await connect();
    const [s] = await engine.chat({messages, n: 1, temperature: 0, maxTokens: 8, topLogprobs: 0});
    assert.equal(joined(s.tokens), s.text);
    assert.ok(s.tokens.length > 0 && s.tokens.every((t) => t.top.length === 0));
});

test("the context: a chat reply that reaches the slot's context ends with finish reason length; a prompt beyond it is an error", async () => {
    const engine = await connect();
    // 30 lines fill 501 of the slot's 512 tokens: the reply ends at the context end.
    const [s] = await engine.chat({messages: [{role: "user", content: "Compute 1 + 2.\n".repeat(30)}], n: 1, seed: 1, maxTokens: 1000, topLogprobs: 1});
    assert.equal(s.finishReason, "length");
    assert.equal(s.tokens.length, 11);
    // A chat prompt beyond the context: the server's 400, quoted with what to do.
    await assert.rejects(
        engine.chat({messages: [{role: "user", content: "Compute 1 + 2.\n".repeat(36)}], n: 1, seed: 1, maxTokens: 10, topLogprobs: 1}),
        /HTTP 400.*request \(591 tokens\) exceeds the available context size \(512 tokens\).*\(llama-server refuses a prompt longer than one slot's context \(512 tokens, n_ctx at GET .*\/props\): shorten the prompt, or serve with a larger -c or fewer --parallel/,
    );
    // A completion prompt beyond the context: counted with /tokenize, refused before sending.
    await assert.rejects(engine.generate({prompt: "Compute 1 + 2.\n".repeat(40), maxTokens: 10, topLogprobs: 1}), /the prompt \(\d+ tokens\) fills the server's context \(512 tokens, n_ctx at GET/);
});

test("an answer for another prompt (usage.prompt_tokens differs from the prompt's count) is asked again once, then an error", async () => {
    // The recorded answer, with the prompt token count of another prompt.
    const real = fixture.exchanges.length ? fixture.exchanges : recorded!;
    const wrong = real.map((e) => {
        const body = e.request.body as Record<string, unknown>;
        if (e.request.path !== "/v1/completions" || body.seed !== 1) return e;
        const answer = structuredClone(e.answer) as CompletionResponse;
        answer.usage!.prompt_tokens! += 7;
        return {...e, answer};
    });
    const replay = await startReplay(wrong);
    try {
        const engine = await OpenAIEngine.connect({baseUrls: [replay.url], dialect: "llama.cpp", retries: 0});
        let again = 0;
        engine.onMismatch = () => again++;
        await assert.rejects(engine.generate({prompt: PROMPT, n: 1, seed: 1, maxTokens: 200, topLogprobs: 2}), /twice answered for a prompt of \d+ tokens, while this prompt has \d+ \(usage\.prompt_tokens\)/);
        assert.equal(again, 1);
        assert.equal(replay.hits.filter((h) => h.path === "/v1/completions").length, 2);
    } finally {
        await replay.close();
    }
});

// ---------------------------------------------------------------- vLLM's documented shapes

// Transcribed from vLLM's protocol (vllm/entrypoints/openai/completion/protocol.py:
// CompletionResponse, CompletionResponseChoice with stop_reason, CompletionLogProbs with
// text_offset / token_logprobs / tokens / top_logprobs), with illustrative values; not recorded.
const VLLM_COMPLETION: CompletionResponse & Record<string, unknown> = {
    id: "cmpl-1",
    object: "text_completion",
    created: 0,
    model: "m",
    choices: [
        {
            index: 0,
            text: " 4",
            logprobs: {text_offset: [0, 1], token_logprobs: [-0.1, -0.5], tokens: [" ", "4"], top_logprobs: [{" ": -0.1, "\n": -2.4}, {"4": -0.5, "5": -1.2}]},
            finish_reason: "stop",
            stop_reason: "\n\n",
        },
    ],
    usage: {prompt_tokens: 5, completion_tokens: 2},
};

test("vLLM's legacy completions logprobs and stop_reason (documented shape)", () => {
    const c = VLLM_COMPLETION.choices[0];
    const tokens = completionTokens(c.logprobs, 2, "POST x");
    assert.deepEqual(tokens.map((t) => t.text), [" ", "4"]);
    assert.equal(tokens[1].confidence, Math.exp(-0.5));
    assert.deepEqual(tokens[1].top.map((a) => a.text), ["4", "5"]);
    assert.equal(finishReason(c, true), "stop");
    assert.equal(finishReason({finish_reason: "stop", stop_reason: null}, true), "eos", "vLLM: stop_reason null at EOS");
    assert.equal(finishReason({finish_reason: "stop", stop_reason: 2}, false), "eos", "vLLM: a stop token id");
    assert.equal(detokenizedText({prompt: "ab"}), "ab", "vLLM's /detokenize answers {prompt}");
    assert.equal(detokenizedText({content: "ab"}), "ab", "llama-server's answers {content}");
    // Chat: logprobs.content[{token, logprob, bytes, top_logprobs}] (vLLM's ChatCompletionLogProb).
    const chat = chatTokens([{token: "4", logprob: -0.5, bytes: [52], top_logprobs: [{token: "4", logprob: -0.5, bytes: [52]}]}], 1, "POST x");
    assert.deepEqual(chat, [{text: "4", confidence: Math.exp(-0.5), top: [{text: "4", prob: Math.exp(-0.5)}]}]);
});
