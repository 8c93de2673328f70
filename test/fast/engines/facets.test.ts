/**
 * Engine facets: chat, probeTokens, promptLogprobs and pool are optional methods of Engine, present
 * exactly on the engines that can do them. Compile time: calling one without narrowing is a type
 * error (the `@ts-expect-error` lines below fail the typecheck, `npx tsc -p tsconfig.check.json`,
 * the day a facet becomes required again). Run time: engines without a facet have no such
 * property, wrappers keep the facets of what they wrap, and the callers that need a facet fail
 * with a StepwiseError naming the engine and what needed it.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {hasFacet, requireFacet, type Engine, type EngineWith} from "../../../src/engines/types.ts";
import {StepwiseError} from "../../../src/util/errors.ts";
import {OpenAIEngine} from "../../../src/engines/openai/engine.ts";
import {PoolingPrmScorer, TagPrmScorer, resolveFormat} from "../../../src/prm/index.ts";
import {createApp} from "../../../src/apps/serve/server.ts";
import {ScriptedPolicy} from "../../helpers/scripted-policy.ts";
import {ScriptedJudge} from "../../helpers/scripted-judge.ts";
import {ScriptedLabEngine} from "../../helpers/scripted-lab-engine.ts";
import {wrapEngine} from "../../helpers/wrap-engine.ts";

const FACETS = ["chat", "probeTokens", "promptLogprobs", "pool"] as const;
const openai = (dialect: "vllm" | "llama.cpp" | "openai") => new OpenAIEngine({baseUrls: ["http://127.0.0.1:9/v1"], model: "m", dialect});
const facetsOf = (e: Engine) => FACETS.filter((f) => f in e && typeof e[f] === "function");
const plainPolicy = () => new ScriptedPolicy(() => [["a", 1]]);

/** Type-level checks only (never called): each @ts-expect-error must be an error. */
export function typeChecks(engine: Engine, vllm: OpenAIEngine): void {
    // @ts-expect-error pool is optional: an unnarrowed call does not compile
    void engine.pool({input: "x"});
    // @ts-expect-error chat is optional
    void engine.chat({messages: []});
    // @ts-expect-error promptLogprobs is optional
    void engine.promptLogprobs("x");
    // @ts-expect-error probeTokens is optional
    void engine.probeTokens({input: "x", positions: [], candidates: []});
    // @ts-expect-error the OpenAI engine has pool only on dialect vllm, so its type says maybe
    void vllm.pool({input: "x"});
    // @ts-expect-error the method-presence flags are gone from capabilities
    void engine.capabilities.pooling;
    // @ts-expect-error the unread flags are gone too
    void engine.capabilities.seeded;
    // Narrowed, the same calls compile: by the method, by hasFacet, by requireFacet.
    if (engine.pool) void engine.pool({input: "x"});
    if (hasFacet(engine, "chat")) void engine.chat({messages: []});
    const probing: EngineWith<"probeTokens" | "promptLogprobs"> = requireFacet(requireFacet(engine, "probeTokens", "t"), "promptLogprobs", "t");
    void probing.probeTokens({input: "x", positions: [], candidates: []});
    void probing.promptLogprobs("x");
}

test("an engine without a facet has no such property; calling it unnarrowed is a TypeError", async () => {
    const engine: Engine = plainPolicy();
    assert.deepEqual(facetsOf(engine), []);
    for (const f of FACETS) assert.equal(f in engine, false, f);
    // @ts-expect-error unnarrowed (see typeChecks)
    assert.throws(() => engine.pool({input: "x"}), TypeError);
    assert.equal(engine.pool ? "narrowed" : "absent", "absent");
});

test("the OpenAI engine has promptLogprobs and pool on dialect vllm only; chat and probeTokens always", () => {
    assert.deepEqual(facetsOf(openai("vllm")), ["chat", "probeTokens", "promptLogprobs", "pool"]);
    for (const d of ["llama.cpp", "openai"] as const) {
        const e = openai(d);
        assert.deepEqual(facetsOf(e), ["chat", "probeTokens"], d);
        assert.equal("pool" in e, false);
        assert.equal("promptLogprobs" in e, false);
    }
    // What remains in capabilities: numbers and behaviours, no method flags.
    assert.deepEqual(openai("llama.cpp").capabilities, {maxTopLogprobs: 20, exactProbes: false, stopBelowConfidence: "emulated"});
});

test("the scripted test engines: no facet unless scripted (ScriptedJudge chat on and off)", () => {
    assert.deepEqual(facetsOf(new ScriptedLabEngine()), []);
    assert.deepEqual(facetsOf(plainPolicy()), []);
    assert.deepEqual(facetsOf(new ScriptedJudge(() => "")), ["chat"]);
    assert.deepEqual(facetsOf(new ScriptedJudge(() => "", {chat: false})), []);
    // ScriptedPolicy without native stops is a third-party engine: no stopBelowConfidence at all.
    assert.equal("stopBelowConfidence" in new ScriptedPolicy(() => [], false).capabilities, false);
});

test("wrapEngine keeps exactly the wrapped engine's facets and forwards to it", async () => {
    for (const target of [openai("vllm"), openai("llama.cpp"), plainPolicy(), new ScriptedJudge(() => "", {chat: false}), new ScriptedJudge(() => "")]) {
        const w = wrapEngine(target, {close: async () => {}});
        assert.deepEqual(facetsOf(w), facetsOf(target), target.info.model);
        for (const f of FACETS) assert.equal(f in w, f in target, f);
    }
    const judge = new ScriptedJudge((steps) => `steps ${steps}`);
    let calls = 0;
    const spy = wrapEngine(judge, {generate: (r) => (calls++, judge.generate(r))});
    const [viaChat] = await requireFacet(spy, "chat", "this test").chat({messages: [{role: "user", content: "Check:\nStep 1: a\nStep 2: b\n"}]});
    assert.equal(viaChat.text, "steps 2", "chat() is the target's, bound to it");
    assert.equal(calls, 0);
    await spy.generate({prompt: "Step 1: a"});
    assert.equal(calls, 1, "the override is used");
    // A wrapper must not add a facet the target lacks.
    assert.throws(() => wrapEngine(plainPolicy(), {pool: async () => []}), /wrapped engine has no pool; a wrapper must not add it/);
});

test("requireFacet: the engine typed as having the facet, or a StepwiseError naming the engine and the need", () => {
    const vllm = openai("vllm");
    assert.equal(requireFacet(vllm, "pool", "x"), vllm);
    const cpp = openai("llama.cpp");
    assert.throws(
        () => requireFacet(cpp, "promptLogprobs", "echo / prompt_logprobs"),
        (e: unknown) =>
            e instanceof StepwiseError &&
            e.message === "echo / prompt_logprobs needs promptLogprobs() (log-probabilities of the input's own tokens, vLLM's prompt_logprobs); the openai engine (model m) has none",
    );
});

test("PRM scorers check their facet at construction", () => {
    const ms = resolveFormat("math-shepherd");
    assert.throws(() => new PoolingPrmScorer(openai("llama.cpp"), ms), /^StepwiseError: pooling PRM scoring \(format math-shepherd\) needs pool\(\) .*; the openai engine \(model m\) has none$/);
    assert.throws(() => new TagPrmScorer(plainPolicy(), ms), /^StepwiseError: tag PRM scoring \(format math-shepherd\) needs probeTokens\(\) .*; the scripted engine \(model scripted-policy\) has none$/);
    assert.ok(new PoolingPrmScorer(openai("vllm"), ms));
    assert.ok(new TagPrmScorer(openai("llama.cpp"), ms), "probeTokens is there on every dialect");
});

test("stepwise serve over an engine without pool / promptLogprobs: refused at start, and 400 for echo", async () => {
    const policy = plainPolicy();
    assert.throws(() => createApp({engine: policy, pooling: {stepTagId: 1, returnedTokenIds: [2, 3]}}), /^StepwiseError: serving a PRM \(ServerOptions.pooling, stepwise serve --prm\) needs pool\(\) .*the scripted engine \(model scripted-policy\) has none$/);
    const app = createApp({engine: policy});
    const r = await app.request("/v1/completions", {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({prompt: "ab", echo: true, max_tokens: 0})});
    assert.equal(r.status, 400);
    const body = (await r.json()) as {error: {message: string}};
    assert.match(body.error.message, /^echo \/ prompt_logprobs needs promptLogprobs\(\) .*; the scripted engine \(model scripted-policy\) has none$/);
});
