/**
 * What the llama engine and its spec check before and while using a model: spec values inside
 * their ranges, the model's stepwise kind for the role it is used in (one check for sample,
 * score and serve --prm), and model outputs that are numbers (NaN weights are an error naming
 * the file, never samples, scores or logprobs).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {nanModel} from "../../helpers/tiny-model.ts";
import {assertOneLineError, policy, prm, stepwise} from "../../helpers/cli-run.ts";
import {parseEngineSpec, checkModelKind} from "../../../src/engines/spec.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {ModelOutputError, StepwiseError} from "../../../src/util/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-model-checks-"));
const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
};
const questions = () => file(`q-${Math.random().toString(36).slice(2)}.jsonl`, JSON.stringify({id: "a", question: "Compute 1 + 2."}) + "\n");

test("engine spec integers outside their range name the parameter and the allowed range", () => {
    for (const [spec, pattern] of [
        ["llama:m.gguf?sequences=100000", /sequences must be an integer from 1 to 256, got "100000"/],
        ["llama:m.gguf?sequences=0", /sequences must be an integer from 1 to 256, got "0"/],
        ["llama:m.gguf?threads=0", /threads must be an integer from 1 to 1024, got "0"/],
        ["llama:m.gguf?contextSize=99999999999", /contextSize must be an integer from 16 to 1048576/],
        ["llama:m.gguf?batchSize=1e9", /batchSize must be an integer from 1 to 65536, got "1e9"/],
        ["openai:http://h/v1?concurrency=1000000", /concurrency must be an integer from 1 to 4096/],
        ["openai:http://h/v1?retries=1000", /retries must be an integer from 0 to 100/],
    ] as const)
        assert.throws(() => parseEngineSpec(spec), (e: unknown) => e instanceof StepwiseError && pattern.test(e.message), spec);
    assert.deepEqual(parseEngineSpec("llama:m.gguf?sequences=256&threads=2").options, {sequences: 256, threads: 2});
    // The CLI: one line, no "internal error" from a failed allocation inside llama.cpp.
    assertOneLineError(
        stepwise(["sample", "--engine", `llama:${policy}?sequences=100000`, "--data", questions(), "--out", join(dir, "s-seq.jsonl")]),
        /sequences must be an integer from 1 to 256, got "100000"/,
    );
});

test("one model-kind check: sample refuses a PRM as its policy, serve --prm refuses a policy, as score does", () => {
    assert.throws(() => checkModelKind(prm, "policy"), /lab-prm\.gguf: is a stepwise prm model \(GGUF metadata stepwise\.kind = "prm"\), not a policy; .*Give a policy GGUF \(e\.g\. models\/lab-policy\.gguf\)$/);
    assert.throws(() => checkModelKind(prm, "policy", {example: false}), /Give a policy GGUF$/);
    assert.equal(checkModelKind(policy, "policy").strings["stepwise.kind"], "policy");
    const out = join(dir, "s-prm.jsonl");
    assertOneLineError(
        stepwise(["sample", "--engine", `llama:${prm}`, "--data", questions(), "--out", out]),
        /lab-prm\.gguf: is a stepwise prm model \(GGUF metadata stepwise\.kind = "prm"\), not a policy/,
    );
    assert.ok(!existsSync(out) || readFileSync(out, "utf8") === "", "no sample written");
    assertOneLineError(
        stepwise(["serve", "--prm", policy, "--port", "0"]),
        /lab-policy\.gguf: is a stepwise policy model \(GGUF metadata stepwise\.kind = "policy"\), not a PRM/,
    );
});

test("NaN weights: generate, prompt logprobs, probes and PRM scores are errors naming the model file", async () => {
    const m = nanModel("prm");
    const engine = await LlamaEngine.load(m.path, {sequences: 2, contextSize: 64});
    try {
        const broken = (e: unknown) => {
            assert.ok(e instanceof ModelOutputError, String(e));
            assert.ok(e.message.startsWith(`${m.path}: the model computed a non-finite output`), e.message);
            return true;
        };
        await assert.rejects(engine.generate({prompt: "1+1=", n: 2, maxTokens: 4, seed: 1}), broken);
        await assert.rejects(engine.promptLogprobs("1+1=2"), broken);
        await assert.rejects(engine.probeTokens({input: "1+1=2", positions: [2], candidates: [m.vocab.goodId, m.vocab.badId]}), broken);
        await assert.rejects(engine.pool({input: "1+1=2<|step|>", step: {tagId: m.vocab.stepTagId, returnedTokenIds: [m.vocab.goodId, m.vocab.badId]}}), broken);
        const {createScorer} = await import("../../../src/prm/index.ts");
        const scorer = await createScorer(`llama:${m.path}`);
        try {
            await assert.rejects(scorer.scoreSteps("Compute 1 + 1.", ["1 + 1 = 2"]), broken);
        } finally {
            await scorer.close();
        }
    } finally {
        await engine.close();
    }
    // The CLI exits 1 naming the file instead of writing empty confidences.
    const policyNan = nanModel("policy");
    const out = join(dir, "s-nan.jsonl");
    assertOneLineError(
        stepwise(["sample", "--engine", `llama:${policyNan.path}`, "--data", questions(), "--out", out, "--n", "1", "--max-tokens", "4"]),
        /nan-policy\.gguf: the model computed a non-finite output/,
    );
});

test("NaN weights: serve answers 500 naming the model file, never logprob -9999", async () => {
    const {startServer} = await import("../../../src/apps/serve/server.ts");
    const m = nanModel("policy");
    const engine = await LlamaEngine.load(m.path, {sequences: 1, contextSize: 64});
    const server = await startServer({engine, port: 0, modelName: "nan"});
    try {
        const r = await fetch(server.url + "/v1/completions", {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({prompt: "1+1=", max_tokens: 3, logprobs: 1})});
        const json = (await r.json()) as {error: {message: string; code: number}};
        assert.equal(r.status, 500);
        assert.match(json.error.message, /nan-policy\.gguf: the model computed a non-finite output/);
    } finally {
        await server.close();
        await engine.close();
    }
});
