/**
 * `/get_reward` on real (tiny) GGUF models over loopback: a tag PRM scored in-process
 * (createScorer), steps cut adaptively by a policy's token probabilities, 100 concurrent
 * requests in the reference client's shape with 0 failures and the same answers as one at a
 * time; and `stepwise serve --prm … --policy … --tau …` answering a request.
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {spawn} from "node:child_process";
import {tinyModel, type TinyModel} from "../../helpers/tiny-model.ts";
import {cliArgs, runCli} from "../../helpers/cli.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {startServer, type RunningServer} from "../../../src/apps/serve/server.ts";
import {scoreQuery, type QueryReward, type RewardConfig} from "../../../src/apps/serve/reward.ts";
import {createScorer, type StepScorer} from "../../../src/prm/index.ts";

let prm: TinyModel;
let policyModel: TinyModel;
let served: LlamaEngine;
let policy: LlamaEngine;
let scorer: StepScorer;
let server: RunningServer;
let config: RewardConfig;

before(async () => {
    prm = tinyModel(3, 40, "prm");
    policyModel = tinyModel(1, 8, "policy");
    served = await LlamaEngine.load(prm.path, {sequences: 2, contextSize: 256});
    policy = await LlamaEngine.load(policyModel.path, {sequences: 4, contextSize: 256});
    scorer = await createScorer(`llama:${prm.path}?sequences=4&contextSize=256`);
    config = {scorer, aggregation: "product", steps: {kind: "adaptive", tau: 0.5, policy}};
    server = await startServer({engine: served, port: 0, reward: config});
});
after(async () => {
    await server.close();
    await scorer.close();
    await policy.close();
    await served.close();
});

const problem = (i: number) => {
    const a = (i * 7) % 50;
    const b = (i * 13) % 40;
    const prompt = `Compute ${a} + ${b} * 2.\n`;
    const response = `First, ${b} * 2 = ${b * 2}, so ${a} + ${b * 2}.\nSo ${a} + ${b * 2} = ${a + b * 2 + (i % 3 === 0 ? 1 : 0)}.\nThe answer is ${a + b * 2}.</s>`;
    return {prompt, response};
};

test("100 concurrent OpenRLHF requests on loopback: 0 failures, each answer equal to the same query scored alone", async () => {
    const n = 100;
    const problems = Array.from({length: n}, (_, i) => problem(i));
    const expected: QueryReward[] = [];
    for (let i = 0; i < n; i++) expected.push(await scoreQuery(config, problems[i].prompt + problems[i].response, problems[i].prompt, 0));
    assert.ok(expected.every((e) => e.steps.length > 1), "adaptive steps: several per response");
    const t0 = performance.now();
    const answers = await Promise.allSettled(
        problems.map(async ({prompt, response}) => {
            // The reference client's body: one query (prompt + response decoded with special tokens), its prompt, its label.
            const r = await fetch(`${server.url}/get_reward`, {
                method: "POST",
                headers: {"content-type": "application/json"},
                body: JSON.stringify({query: [prompt + response], prompts: [prompt], labels: [null]}),
                signal: AbortSignal.timeout(120_000),
            });
            return {status: r.status, json: (await r.json()) as {rewards: number[]; scores: number[]; extra_logs: Record<string, number[]>; step_scores: number[][]}};
        }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const failures = answers.filter((a) => a.status === "rejected" || a.value.status !== 200);
    assert.equal(failures.length, 0, JSON.stringify(failures.slice(0, 3)));
    answers.forEach((a, i) => {
        const {json} = (a as PromiseFulfilledResult<{json: {rewards: number[]; scores: number[]; extra_logs: Record<string, number[]>; step_scores: number[][]}}>).value;
        // Equal up to float rounding: llama.cpp batches concurrent sequences, which changes summation order (≈1e-9 here).
        const close = (a: number[], b: number[]) => a.length === b.length && a.every((x, k) => Math.abs(x - b[k]) < 1e-6);
        assert.ok(close(json.step_scores[0], expected[i].stepScores), `query ${i}: ${json.step_scores[0]} vs ${expected[i].stepScores}`);
        assert.ok(close(json.rewards, [expected[i].reward]), `query ${i}: reward ${json.rewards} vs ${expected[i].reward}`);
        assert.deepEqual(json.scores, json.rewards);
        assert.deepEqual(json.extra_logs.prm_steps, [expected[i].steps.length]);
    });
    console.log(`# 100 concurrent /get_reward requests: 0 failures in ${seconds.toFixed(1)} s`);
});

test("stepwise serve --prm FILE --policy SPEC --tau: /get_reward answers; --steps adaptive without --policy is a one-line error", async () => {
    // (without --steps, a format that cuts adaptively serves pooling with /get_reward off, saying so)
    const refused = runCli(["serve", "--prm", prm.path, "--steps", "adaptive", "--port", "0"]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^stepwise: serve --prm: --steps adaptive: give --policy SPEC/);
    assert.equal(refused.stderr.trim().split("\n").length, 1);

    const child = spawn(process.execPath, cliArgs("serve", "--prm", prm.path, "--policy", `llama:${policyModel.path}`, "--tau", "0.5", "--aggregation", "min", "--port", "0", "--context-size", "256"), {stdio: ["ignore", "ignore", "pipe"]});
    try {
        let err = "";
        const url = await new Promise<string>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 60_000);
            child.stderr.on("data", (d: Buffer) => {
                err += d.toString();
                const m = /at (http:\/\/[^\s]+)\/v1/.exec(err);
                if (m && /get_reward/.test(err)) {
                    clearTimeout(timer);
                    resolve(m[1]);
                }
            });
            child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
        });
        assert.match(err, /POST http:\/\/127\.0\.0\.1:\d+\/get_reward: stepwise-lab PRM, adaptive steps \(τ = 0\.5\), min of the step scores/);
        const {prompt, response} = problem(4);
        const r = await fetch(`${url}/get_reward`, {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({query: [prompt + response], prompts: [prompt], labels: [null]}), signal: AbortSignal.timeout(60_000)});
        assert.equal(r.status, 200);
        const json = (await r.json()) as {rewards: number[]; step_scores: number[][]};
        const alone = await scoreQuery({...config, aggregation: "min"}, prompt + response, prompt, 0);
        assert.equal(json.step_scores[0].length, alone.stepScores.length);
        json.step_scores[0].forEach((x, k) => assert.ok(Math.abs(x - alone.stepScores[k]) < 1e-6));
        assert.ok(Math.abs(json.rewards[0] - Math.min(...json.step_scores[0])) < 1e-12);
        // Without prompts the lab's prompt ends at the first line break.
        const bare = await fetch(`${url}/get_reward`, {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({query: [prompt + response]}), signal: AbortSignal.timeout(60_000)});
        assert.deepEqual(((await bare.json()) as {rewards: number[]}).rewards, json.rewards);
    } finally {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
    }
});

test("the lab policy's own samples: /get_reward's adaptive steps are `stepwise split`'s (from the sampled tokens' confidences) and the scores the PRM's on them", async () => {
    const {createEngine} = await import("../../../src/engines/spec.ts");
    const {splitStepTexts} = await import("../../../src/steps/index.ts");
    const labPolicy = await createEngine("llama:models/lab-policy.gguf?sequences=4");
    const labPrm = await createScorer("llama:models/lab-prm.gguf?sequences=2");
    try {
        const prompt = "Compute (12 + 7) * 3 - 45 / 5.\n";
        const lab: RewardConfig = {scorer: labPrm, aggregation: "min", steps: {kind: "adaptive", tau: 0.52, policy: labPolicy}};
        const samples = await labPolicy.generate({prompt, n: 4, temperature: 1, seed: 3, maxTokens: 200});
        for (const s of samples) {
            const steps = splitStepTexts({text: s.text, tokens: s.tokens}, {kind: "adaptive", tau: 0.52});
            const served = await scoreQuery(lab, prompt + s.text + "</s>", prompt, 0);
            assert.deepEqual(served.steps, steps);
            assert.deepEqual(served.stepScores, await labPrm.scoreSteps(prompt.trim(), steps));
        }
    } finally {
        await labPrm.close();
        await labPolicy.close();
    }
});
