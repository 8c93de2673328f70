/**
 * End to end: the OpenAI engine against `stepwise serve` over a tiny random GGUF model, directly
 * and through the fault-injecting proxy, compared with the llama engine on the same model.
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {tinyModel, type TinyModel} from "../../helpers/tiny-model.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {startServer, type RunningServer} from "../../../src/apps/serve/server.ts";
import {OpenAIEngine} from "../../../src/engines/openai/engine.ts";
import {startFaultProxy, seededRandom} from "../../helpers/fault-proxy.ts";
import {createEngine} from "../../../src/engines/spec.ts";
import type {Sample, TokenAlternative} from "../../../src/engines/types.ts";
import {estimateStep} from "../../../src/pipeline/label/estimate.ts";

let m: TinyModel;
let llama: LlamaEngine;
let server: RunningServer;
let openai: OpenAIEngine;
const prompt = "Compute 12 + 7.\n";
const TOL = 1e-5;

before(async () => {
    m = tinyModel(1, 40);
    llama = await LlamaEngine.load(m.path, {sequences: 4, contextSize: 256});
    server = await startServer({
        engine: llama,
        port: 0,
        modelName: "tiny",
        pooling: {stepTagId: m.vocab.stepTagId, returnedTokenIds: [m.vocab.goodId, m.vocab.badId]},
    });
    openai = await OpenAIEngine.connect({baseUrls: [server.url + "/v1"]});
});
after(async () => {
    await server.close();
    await llama.close();
});

/**
 * A top list as it survives the wire: OpenAI top-logprobs maps are keyed by token text, so tokens
 * with the same text (byte-fallback pieces all decode to "\uFFFD") share one entry, the last
 * written winning, as in vLLM.
 */
function asServed(top: TokenAlternative[]): {text: string; prob: number}[] {
    return Object.entries(Object.fromEntries(top.map((a) => [a.text, a.prob])))
        .map(([text, prob]) => ({text, prob}))
        .sort((a, b) => b.prob - a.prob);
}

function assertTopsAgree(got: TokenAlternative[], want: TokenAlternative[], where: string): void {
    const w = asServed(want);
    assert.deepEqual(got.map((a) => a.text), w.map((a) => a.text), where);
    got.forEach((a, r) => assert.ok(Math.abs(a.prob - w[r].prob) < TOL, `${where}: ${a.prob} vs ${w[r].prob}`));
}

function assertSamplesAgree(got: Sample[], want: Sample[]): void {
    assert.equal(got.length, want.length);
    got.forEach((s, i) => {
        assert.equal(s.index, i);
        assert.equal(s.text, want[i].text);
        assert.equal(s.tokens.length, want[i].tokens.length);
        s.tokens.forEach((t, j) => {
            const w = want[i].tokens[j];
            assert.equal(t.text, w.text);
            assert.ok(Math.abs(t.confidence - w.confidence) < TOL, `sample ${i} token ${j}: ${t.confidence} vs ${w.confidence}`);
            assertTopsAgree(t.top, w.top, `sample ${i} token ${j}`);
        });
    });
}

test("connects and finds the model name", async () => {
    // The context length comes from the model card, as vLLM serves it (ModelCard.max_model_len).
    assert.deepEqual(openai.info, {kind: "openai", model: "tiny", contextSize: 256});
    assert.deepEqual(openai.context, {tokens: 256, source: `max_model_len at GET ${server.url}/v1/models`});
    const viaSpec = await createEngine(`openai:${server.url}/v1?model=tiny&concurrency=2`);
    assert.equal(viaSpec.info.model, "tiny");
});

test("greedy generate: texts and confidences equal the llama engine's to 1e-5", async () => {
    const req = {prompt, temperature: 0, seed: 1, maxTokens: 16, topLogprobs: 3};
    assertSamplesAgree(await openai.generate(req), await llama.generate(req));
});

test("seeded sampling with n: the same samples, in index order", async () => {
    const req = {prompt, n: 5, temperature: 1, seed: 9, maxTokens: 10, topLogprobs: 2};
    assertSamplesAgree(await openai.generate(req), await llama.generate(req));
});

test("nextToken, tokenize, detokenize and formatChat agree with the llama engine", async () => {
    const a = await openai.nextToken(prompt, {topK: 5});
    const b = await llama.nextToken(prompt, {topK: 5});
    assertTopsAgree(a.top, b.top, "nextToken");
    const ids = await openai.tokenize("12 + 7 = 19");
    assert.deepEqual(ids, await llama.tokenize("12 + 7 = 19"));
    assert.equal(await openai.detokenize(ids), await llama.detokenize(ids));
    const messages = [{role: "user" as const, content: "What is 2+2?"}];
    const viaServer = await openai.formatChat(messages);
    const local = await llama.formatChat(messages);
    assert.deepEqual(await llama.tokenize(viaServer, {addBos: false}), await llama.tokenize(local, {addBos: false}));
});

test("chat(): greedy chat samples carry confidences", async () => {
    const samples = await openai.chat({messages: [{role: "user", content: "hi"}], temperature: 0, maxTokens: 6, topLogprobs: 2, n: 2});
    assert.deepEqual(samples.map((s) => s.index), [0, 1]);
    assert.equal(samples[0].text, samples[1].text);
    assert.equal(samples[0].tokens.map((t) => t.text).join(""), samples[0].text);
    for (const t of samples[0].tokens) assert.ok(t.confidence > 0 && t.confidence <= 1);
});

test("probeTokens reads top-k candidates exactly; absent ones error, or bound with a flag", async () => {
    const input = "12 + 7 = 19<|step|>19 * 3 = 57<|step|>";
    const ids = await llama.tokenize(input);
    const positions = ids.flatMap((t, i) => (t === m.vocab.stepTagId ? [i] : []));
    // The second tag is the input's last token: its distribution is read past the input's end.
    assert.equal(positions[1], ids.length - 1);
    // Candidates: for each position, its own top 4 (inside the server's top 20).
    for (const p of positions) {
        const candidates = (await llama.nextToken(ids.slice(0, p + 1), {topK: 4})).top.map((a) => a.id!);
        const want = await llama.probeTokens({input: ids, positions: [p], candidates});
        for (const got of [await openai.probeTokens({input: ids, positions: [p], candidates}), await openai.probeTokens({input, positions: [p], candidates})])
            got.probs[0].forEach((q, c) => assert.ok(Math.abs(q - want.probs[0][c]) < TOL, `pos ${p} cand ${candidates[c]}: ${q} vs ${want.probs[0][c]}`));
    }
    // Several positions in one request, with candidates in the top 20 at all of them (full
    // distributions from the llama engine's probe over the whole vocabulary).
    const vocab = Array.from({length: m.vocab.tokens.length}, (_, i) => i);
    const tags = positions.slice(0, 2);
    const fullDist = (await llama.probeTokens({input: ids, positions: tags, candidates: vocab})).probs;
    const top20 = fullDist.map((row) => new Set(vocab.slice().sort((a, b) => row[b] - row[a]).slice(0, 20)));
    const common = [...top20[0]].filter((id) => top20[1].has(id));
    assert.ok(common.length >= 2, "common candidates");
    const want = await llama.probeTokens({input: ids, positions: tags, candidates: common});
    const got = await openai.probeTokens({input: ids, positions: tags, candidates: common});
    got.probs.forEach((row, j) => row.forEach((q, c) => assert.ok(Math.abs(q - want.probs[j][c]) < TOL)));

    // The least likely token at the first tag is far outside the top 20.
    const rare = vocab.reduce((best, id) => (fullDist[0][id] < fullDist[0][best] ? id : best), 0);
    await assert.rejects(openai.probeTokens({input: ids, positions: [positions[0]], candidates: [rare]}), /not among the top 20 tokens .*pooling API/);
    const bounded = new OpenAIEngine({baseUrls: [server.url], model: "tiny", probeMissing: "bound"});
    const b = await bounded.probeTokensDetailed({input: ids, positions: [positions[0]], candidates: [rare, common[0]]});
    assert.deepEqual(b.missing, [[true, false]]);
    assert.ok(b.probs[0][0] >= fullDist[0][rare] - TOL, "an upper bound");
    assert.ok(b.probs[0][0] <= Math.min(...common.map((id) => fullDist[0][id])) + TOL, "no more than the top-20 tokens");
});

test("pool(): STEP pooling rows over /pooling and /v1/embeddings", async () => {
    const input = "12 + 7 = 19<|step|>19 * 3 = 57<|step|>";
    assert.ok(openai.pool, "dialect vllm has pool");
    const rows = await openai.pool({input});
    assert.equal(rows.length, 2);
    for (const r of rows) assert.ok(Math.abs(r[0] + r[1] - 1) < 1e-9);
    assert.deepEqual(await openai.pool({input, endpoint: "embeddings"}), rows);
});

test("through the fault proxy every sample arrives exactly once, identical to a direct run", async () => {
    const proxy = await startFaultProxy({upstream: server.url, seed: 11, dropRate: 0.1, errorRate: 0.1, stallRate: 0.08, stallMs: 10_000});
    try {
        const faulty = new OpenAIEngine({
            baseUrls: [proxy.url + "/v1"],
            model: "tiny",
            timeoutMs: 5000, // only has to cut the injected 10 s stalls; generous so a loaded machine adds no faults of its own
            retries: 10,
            concurrency: 6,
            maxNPerRequest: 2,
            backoffBaseMs: 5,
            backoffMaxMs: 50,
            random: seededRandom(5),
        });
        const direct = new OpenAIEngine({baseUrls: [server.url + "/v1"], model: "tiny", maxNPerRequest: 2});
        const requests = Array.from({length: 12}, (_, r) => ({prompt: `${r} + ${r} =`, n: 5, seed: 100 + r, temperature: 1, maxTokens: 6, topLogprobs: 1}));
        const got = await Promise.all(requests.map((q) => faulty.generate(q)));
        const want = await Promise.all(requests.map((q) => direct.generate(q)));
        got.forEach((samples, r) => {
            assert.deepEqual(samples.map((s) => s.index), [0, 1, 2, 3, 4]);
            assertSamplesAgree(samples, want[r]);
        });
        const st = proxy.stats();
        assert.ok(st.droppedBefore + st.droppedAfter + st.errors + st.stalls > 0, JSON.stringify(st));
        assert.ok(st.forwarded >= 12 * 3, "at least one answer per chunk (a slow relay that hit the timeout adds one)");
        assert.ok(faulty.stats().retries >= st.droppedBefore + st.droppedAfter + st.errors + st.stalls);
    } finally {
        await proxy.close();
    }
});

test("label-like rollouts from a prefix near the context end: the OpenAI engine ends them at the context as in-process (finish length, same tokens, same estimate), no 400", async () => {
    // `stepwise serve` (like vLLM) answers 400 to prompt + max_tokens beyond the context; the engine
    // knows the context (max_model_len at /v1/models), counts the prompt (/tokenize) and asks for
    // the room left, so samples end where the llama engine ends them.
    assert.equal(openai.context?.tokens, 256);
    const question = "Compute 12 + 7.\n";
    const prefix = "12 + 7 = 19\n".repeat(18);
    const promptTokens = (await llama.tokenize(question + prefix)).length;
    const maxTokens = 64;
    assert.ok(promptTokens + maxTokens > 256 && promptTokens < 240, `prompt of ${promptTokens} tokens`);
    const req = {prompt: question + prefix, n: 4, seed: 3, temperature: 1, maxTokens, topLogprobs: 0};
    const want = await llama.generate(req);
    const got = await openai.generate(req);
    assertSamplesAgree(got, want);
    assert.deepEqual(got.map((x) => x.finishReason), want.map((x) => x.finishReason));
    assert.ok(got.some((x) => x.finishReason === "length" && x.tokens.length === 256 - promptTokens), JSON.stringify(got.map((x) => [x.finishReason, x.tokens.length])));
    // The MC estimate of that step (label's estimateStep): same rollouts, same truncated count.
    const verify = ({solution}: {solution: string}) => /= 19\n$/.test(solution);
    const input = {prompt: question, prefix, question, gold: "19", seed: 5};
    for (const truncated of ["fail", "skip"] as const) {
        const settings = {k: 6, minCorrect: 1, earlyStop: true, chunk: 2, temperature: 1, maxTokens, truncated};
        const inProcess = await estimateStep(llama, verify, input, settings);
        const overHttp = await estimateStep(openai, verify, input, settings);
        assert.deepEqual(overHttp, inProcess, truncated);
        assert.ok(inProcess.truncated > 0, JSON.stringify(inProcess));
    }
    // Chat (judge-like): the rendered prompt is counted with /tokenize {messages}; replies end at the context too.
    const chatReq = {messages: [{role: "user" as const, content: question + prefix}], n: 3, seed: 4, temperature: 1, maxTokens, topLogprobs: 0};
    const chatWant = await llama.chat(chatReq);
    const chatGot = await openai.chat(chatReq);
    assertSamplesAgree(chatGot, chatWant);
    assert.deepEqual(chatGot.map((x) => x.finishReason), chatWant.map((x) => x.finishReason));
    assert.ok(chatGot.some((x) => x.finishReason === "length"), JSON.stringify(chatGot.map((x) => [x.finishReason, x.tokens.length])));
    // Token-id prompts are counted without /tokenize and end the same way.
    const ids = await llama.tokenize(question + prefix);
    assertSamplesAgree(await openai.generate({...req, prompt: ids}), await llama.generate({...req, prompt: ids}));
});

test("a prompt + maxTokens beyond the server's context, context unknown to the engine: a 400 quoting the server with a hint, not retried, naming the endpoint", async () => {
    // vLLM refuses such requests (HTTP 400) instead of shortening them; so does `stepwise serve`.
    // An engine built without connect() (or on a server that does not tell) does not know the context.
    const engine = new OpenAIEngine({baseUrls: [server.url + "/v1"], model: "tiny", retries: 3, backoffBaseMs: 1});
    const promptTokens = (await llama.tokenize(prompt)).length;
    const maxTokens = 256 - promptTokens + 1;
    const before = llama.stats().generatedTokens;
    await assert.rejects(engine.generate({prompt, maxTokens, n: 3}), (e: Error) => {
        assert.equal(e.name, "StepwiseError");
        const url = server.url.replace(/[.[\]]/g, "\\$&");
        assert.match(e.message, new RegExp(`^POST ${url}/v1/completions: HTTP 400 Bad Request: max_tokens: ${maxTokens} is too large`));
        assert.match(e.message, new RegExp(`maximum context length is 256 tokens .* ${promptTokens} \\+ ${maxTokens} = ${promptTokens + maxTokens} tokens`));
        assert.match(e.message, /\(stepwise does not know this server's context length .*add maxModelLen=N.* or lower max_tokens \(--max-tokens\)\)$/);
        assert.ok(!e.message.includes("\n") && !e.message.includes("gave up"), e.message);
        return true;
    });
    assert.equal(engine.stats().retries, 0, "a 400 is not retried");
    assert.equal(engine.stats().requests, 1);
    assert.equal(llama.stats().generatedTokens, before, "nothing generated");
    // Chat: the budget left by the rendered messages; a message longer than the context is named too.
    await assert.rejects(engine.chat({messages: [{role: "user", content: "hi"}], maxTokens: 256}), /v1\/chat\/completions: HTTP 400 Bad Request: max_tokens: 256 is too large/);
    await assert.rejects(engine.chat({messages: [{role: "user", content: "1 + ".repeat(100)}], maxTokens: 4}), /v1\/chat\/completions: HTTP 400 Bad Request: messages: this model's maximum context length is 256 tokens, but the input has \d+ tokens/);
    // Told a context larger than the server's: what stepwise counted is in the error.
    const wrong = new OpenAIEngine({baseUrls: [server.url + "/v1"], model: "tiny", maxModelLen: 1024, retries: 0});
    await assert.rejects(wrong.generate({prompt: "1 + ".repeat(50), maxTokens: 100}), /is too large: .*\(stepwise counted \d+ prompt tokens and sent max_tokens 100 to fit a context of 1024 tokens/);
    // Exactly the room left is fine.
    const [s] = await engine.generate({prompt, maxTokens: maxTokens - 1, temperature: 0, stop: ["\n"]});
    assert.ok(s.finishReason === "stop" || s.finishReason === "length" || s.finishReason === "eos");
});

test("tokenIds=true on a SentencePiece vocabulary (Mistral-7B's): token texts keep their leading spaces, ids and texts equal the llama engine's", async () => {
    const {realVocabModel} = await import("../../helpers/real-vocab.ts");
    const mistral = await realVocabModel("mistral");
    const engine = await LlamaEngine.load(mistral.path, {sequences: 2, contextSize: 256});
    const spm = await startServer({engine, port: 0, modelName: "mistral-vocab"});
    try {
        // The trap: /detokenize of "▁the" (id 272) alone drops its space, as SentencePiece decoding does.
        assert.equal(await engine.detokenize([272]), "the");
        const viaIds = new OpenAIEngine({baseUrls: [spm.url + "/v1"], model: "mistral-vocab", tokenIds: true});
        const req = {prompt: "Hello the world", n: 3, seed: 1, temperature: 1, maxTokens: 24, topLogprobs: 2};
        const got = await viaIds.generate(req);
        const want = await engine.generate(req);
        let spaced = 0;
        got.forEach((s, i) => {
            assert.equal(s.text, want[i].text);
            assert.deepEqual(s.tokens.map((t) => t.id), want[i].tokens.map((t) => t.id));
            assert.deepEqual(s.tokens.map((t) => t.text), want[i].tokens.map((t) => t.text));
            spaced += s.tokens.filter((t) => t.text.startsWith(" ")).length;
            s.tokens.forEach((t, j) => {
                assert.deepEqual(t.top.map((a) => a.id), want[i].tokens[j].top.map((a) => a.id));
                assert.deepEqual(t.top.map((a) => a.text), want[i].tokens[j].top.map((a) => a.text));
            });
        });
        assert.ok(spaced > 0, "some tokens begin with a space");
        // On both engines an alternative's text is the text it would add, as the sampled token's is
        // (decoded alone, "▁the" would read "the" and glue to the word before it when chosen).
        const greedy = {prompt: "Hello the world", temperature: 0, maxTokens: 16, topLogprobs: 3};
        let listed = 0;
        for (const samples of [got, want, await viaIds.generate(greedy), await engine.generate(greedy)])
            for (const t of samples.flatMap((s) => s.tokens)) {
                const self = t.top.find((a) => a.id === t.id);
                if (self) {
                    listed++;
                    assert.equal(self.text, t.text);
                }
            }
        assert.ok(listed >= 32, `${listed}`);
        const next = await engine.nextToken("Hello the", {topK: 5});
        for (const a of next.top) assert.equal(a.text, (await engine.detokenize([...(await engine.tokenize("Hello the", {addBos: false})), a.id!])).slice("Hello the".length));
    } finally {
        await spm.close();
        await engine.close();
    }
});
