/**
 * The engine contract, one suite for every engine: the same assertions run on the llama engine
 * (in-process) and on the OpenAI engine through `stepwise serve` (HTTP, vLLM dialect), both on
 * the lab policy. A new engine gets its row in ENGINES and must pass the same suite.
 */
import {test, before, after, describe} from "node:test";
import assert from "node:assert/strict";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {OpenAIEngine} from "../../../src/engines/openai/engine.ts";
import {startServer, type RunningServer} from "../../../src/apps/serve/server.ts";
import type {Engine, Sample} from "../../../src/engines/types.ts";

const MODEL = new URL("../../../models/lab-policy.gguf", import.meta.url).pathname;
const prompt = "Compute (12 + 7) * 3 - 5.\n";

let llama: LlamaEngine;
let server: RunningServer;
let openai: OpenAIEngine;
let openaiIds: OpenAIEngine;

before(async () => {
    llama = await LlamaEngine.load(MODEL, {sequences: 4, contextSize: 256});
    server = await startServer({engine: llama, port: 0, modelName: "lab-policy"});
    openai = await OpenAIEngine.connect({baseUrls: [server.url + "/v1"], maxNPerRequest: 3});
    openaiIds = await OpenAIEngine.connect({baseUrls: [server.url + "/v1"], maxNPerRequest: 3, tokenIds: true});
});
after(async () => {
    await server?.close();
    await llama?.close();
});

const joined = (s: Sample) => s.tokens.map((t) => t.text).join("");
const strip = (samples: Sample[]) => samples.map((s) => ({index: s.index, text: s.text, finishReason: s.finishReason, tokens: s.tokens.map((t) => t.text)}));

/**
 * Same samples: indices, texts, tokens and finish reasons equal; confidences equal to 1e-4
 * (a prefix evaluated in another batch shape differs in the last float32 digits).
 */
function assertSame(got: Sample[], want: Sample[]): void {
    assert.deepEqual(strip(got), strip(want));
    got.forEach((s, i) => s.tokens.forEach((t, j) => assert.ok(Math.abs(t.confidence - want[i].tokens[j].confidence) < 1e-4, `sample ${i} token ${j}`)));
}

/** [name, engine, whether its tokens and alternatives carry ids] */
const ENGINES: Array<[string, () => Engine, boolean]> = [
    ["llama engine", () => llama, true],
    ["OpenAI engine via stepwise serve", () => openai, false],
    ["OpenAI engine via stepwise serve, token ids (return_tokens_as_token_ids)", () => openaiIds, true],
];

for (const [name, get, ids] of ENGINES) {
    describe(`engine contract: ${name}`, () => {
        test("firstIndex chunks give exactly the samples of one request", async () => {
            const e = get();
            const req = {prompt, seed: 5, temperature: 1.3, maxTokens: 24, topLogprobs: 1};
            const whole = await e.generate({...req, n: 6});
            const parts = [...(await e.generate({...req, n: 2})), ...(await e.generate({...req, n: 1, firstIndex: 2})), ...(await e.generate({...req, n: 3, firstIndex: 3}))];
            assert.deepEqual(parts.map((s) => s.index), [0, 1, 2, 3, 4, 5]);
            assertSame(parts, whole);
        });

        test("rollouts are distinct samples, and the same seed repeats them", async () => {
            const e = get();
            const req = {prompt, seed: 11, n: 8, temperature: 1.5, maxTokens: 40, topLogprobs: 0};
            const a = await e.generate(req);
            assert.ok(new Set(a.map((s) => s.text)).size >= 4, `only ${new Set(a.map((s) => s.text)).size} distinct of 8`);
            assertSame(await e.generate(req), a);
        });

        test("tokens join to text; a stop string spanning tokens ends the sample and is cut", async () => {
            const e = get();
            const samples = await e.generate({prompt, seed: 1, n: 4, temperature: 1, maxTokens: 80, stop: ["\nThen", "\nNow"], topLogprobs: 2});
            let stopped = 0;
            for (const s of samples) {
                assert.equal(joined(s), s.text);
                assert.ok(!s.text.includes("\nThen") && !s.text.includes("\nNow"));
                if (s.finishReason === "stop") stopped++;
            }
            assert.ok(stopped >= 2, `${stopped} of 4 stopped`);
        });

        test("top-k and top-p restrict sampling (confidences stay raw)", async () => {
            const e = get();
            for (const opts of [{topK: 1}, {topP: 1e-6}]) {
                const [s] = await e.generate({prompt, seed: 3, temperature: 5, maxTokens: 30, topLogprobs: 1, ...opts});
                for (const t of s.tokens) assert.equal(t.text, t.top[0].text, `${JSON.stringify(opts)}: only the most likely token`);
                assert.ok(s.tokens.some((t) => t.confidence < 0.999), "raw confidences, not the filtered distribution");
            }
            const [free] = await e.generate({prompt, seed: 3, temperature: 5, maxTokens: 30, topLogprobs: 1});
            assert.ok(free.tokens.some((t) => t.text !== t.top[0].text), "without the filters T=5 leaves the top token");
        });

        test("nextToken: most likely first; ids where the engine has them", async () => {
            const e = get();
            const {top} = await e.nextToken(prompt + "First, 12 + 7 = 1", {topK: 3});
            assert.equal(top.length, 3);
            assert.equal(top[0].text, "9");
            for (let i = 1; i < top.length; i++) assert.ok(top[i].prob <= top[i - 1].prob);
            if (ids) assert.deepEqual(top.map((a) => a.id), await Promise.all(top.map(async (a) => (await e.tokenize(a.text, {addBos: false}))[0])));
            else assert.ok(top.every((a) => a.id === undefined));
        });

        test("truncated samples: finishReason length at exactly maxTokens", async () => {
            const e = get();
            const samples = await e.generate({prompt, seed: 2, n: 3, temperature: 1, maxTokens: 7, topLogprobs: 0});
            for (const s of samples) {
                assert.equal(s.finishReason, "length");
                assert.equal(s.tokens.length, 7);
            }
        });

        test("stopBelowConfidence ends right after the first token below τ", async () => {
            const e = get();
            const tau = 0.9;
            const samples = await e.generate({prompt, seed: 4, n: 4, temperature: 1, maxTokens: 80, topLogprobs: 1, stopBelowConfidence: tau});
            let cut = 0;
            for (const s of samples) {
                assert.equal(joined(s), s.text);
                const low = s.tokens.findIndex((t) => t.confidence < tau);
                if (s.finishReason === "low-confidence") {
                    cut++;
                    assert.equal(low, s.tokens.length - 1, "the low-confidence token is the last one");
                } else assert.equal(low, -1);
            }
            assert.ok(cut >= 3, `${cut} of 4 cut`);
            // The cut samples are prefixes of the uncut ones (same seed).
            const full = await e.generate({prompt, seed: 4, n: 4, temperature: 1, maxTokens: 80, topLogprobs: 1});
            samples.forEach((s, i) => assert.ok(full[i].text.startsWith(s.text)));
        });

        test("chat: replies through the chat template, tokens join to text", async () => {
            const e = get();
            assert.ok(e.chat, "every engine of the table has chat");
            const replies = await e.chat({messages: [{role: "developer", content: "Be brief."}, {role: "user", content: "Compute 2 + 3."}], n: 2, seed: 1, maxTokens: 12, topLogprobs: 1});
            assert.deepEqual(replies.map((r) => r.index), [0, 1]);
            for (const r of replies) assert.equal(joined(r), r.text);
        });

        test("an aborted signal rejects the call", async () => {
            const e = get();
            const controller = new AbortController();
            controller.abort(new Error("stop now"));
            await assert.rejects(e.generate({prompt, maxTokens: 5, signal: controller.signal}), /stop now/);
        });
    });
}

test("both engines give the same samples for the same seed (cross-engine)", async () => {
    const req = {prompt, seed: 21, n: 5, temperature: 1.2, maxTokens: 40, topLogprobs: 1, stop: ["\nThen"], stopBelowConfidence: 0.5};
    const want = await llama.generate(req);
    assertSame(await openai.generate(req), want);
    const withIds = await openaiIds.generate(req);
    assertSame(withIds, want);
    withIds.forEach((s, i) => assert.deepEqual(s.tokens.map((t) => t.id), want[i].tokens.map((t) => t.id), "token ids over HTTP"));
});
