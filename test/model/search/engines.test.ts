/**
 * The decoders on real engines: the shipped lab policy and PRM (models/) through the llama engine
 * in-process and through `stepwise serve` + the OpenAI engine (the HTTP path users take with vLLM).
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {buildCharVocab} from "../../../src/model/vocab.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {OpenAIEngine} from "../../../src/engines/openai/engine.ts";
import {startServer, type RunningServer} from "../../../src/apps/serve/server.ts";
import {PoolingPrmScorer, TagPrmScorer, resolveFormat} from "../../../src/prm/index.ts";
import {usableCandidate, beamSearch, bestOfNDecode, decisionCutoff, DEFAULT_SEARCH_CONFIG, greedy, SearchPrm, tvd, type SearchProblem, type TvdIntervention} from "../../../src/search/index.ts";

let policy: LlamaEngine;
let prmEngine: LlamaEngine;
let policyServer: RunningServer;
let prmServer: RunningServer;
const format = resolveFormat("stepwise-lab");
// 5 operations: the lab policy hesitates several times here
const problem: SearchProblem = {id: "t", question: "Compute 19 + 9 + 5 - 19 * 2 + 14.", prompt: "Compute 19 + 9 + 5 - 19 * 2 + 14.\n", gold: "9"};
const config = {maxTokens: 200};

before(async () => {
    const vocab = buildCharVocab();
    policy = await LlamaEngine.load(new URL("../../../models/lab-policy.gguf", import.meta.url).pathname, {sequences: 4, contextSize: 512});
    prmEngine = await LlamaEngine.load(new URL("../../../models/lab-tag-prm.gguf", import.meta.url).pathname, {sequences: 4, contextSize: 512}); // the tag PRM, read raw (lab-prm.gguf is a pair holding implicit weights)
    policyServer = await startServer({engine: policy, port: 0, modelName: "policy"});
    prmServer = await startServer({engine: prmEngine, port: 0, modelName: "prm", pooling: {stepTagId: vocab.stepTagId, returnedTokenIds: [vocab.goodId, vocab.badId]}});
});
after(async () => {
    await policyServer.close();
    await prmServer.close();
    await policy.close();
    await prmEngine.close();
});

test("TVD on the llama engine: every decision token is traced with the engine's own top-k and the PRM's scores", async () => {
    const scorer = new TagPrmScorer(prmEngine, format);
    const r = await tvd(problem, {policy, prm: new SearchPrm(scorer), config});
    const cutoff = decisionCutoff({...DEFAULT_SEARCH_CONFIG, ...config});
    const ivs = r.trace as TvdIntervention[];
    assert.ok(ivs.length >= 2, `the policy hesitates (${ivs.length} decisions)`);
    // decisions are exactly the response tokens below the cutoff
    const below = r.response_tokens!.flatMap((t, i) => (t.confidence < cutoff ? [i] : []));
    assert.deepEqual(ivs.map((t) => t.position), below);
    const steps: string[] = [];
    let start = 0;
    for (const t of ivs) {
        // candidates = the raw top-k after the text so far, as the engine reports it on its own
        const prefix = r.text.slice(0, t.offset);
        const raw = (await policy.nextToken(problem.prompt + prefix, {topK: 20})).top;
        // usable texts, plus end-of-sequence (empty text) once: the released TVD's candidates (eosCandidate)
        const candidate = (c: {text: string}, k: number, all: ReadonlyArray<{text: string}>) => k === 0 || usableCandidate(c.text) || (c.text === "" && all.findIndex((a) => a.text === "") === k);
        const top = raw.filter(candidate);
        assert.equal(t.candidates.length, raw.slice(0, 8).filter(candidate).length);
        // the likely ones in the same order; the near-zero tail may order differently between batch sizes
        assert.deepEqual(t.candidates.filter((c) => c.prob > 1e-3).map((c) => c.text), top.filter((c) => c.prob > 1e-3).map((c) => c.text));
        for (const c of t.candidates) {
            const ref = top.find((x) => x.text === c.text);
            assert.ok(ref && Math.abs(c.prob - ref.prob) < 1e-4, `candidate ${JSON.stringify(c.text)}`);
        }
        // scores = the PRM's last-tag score of "steps so far + candidate", read independently
        for (const c of t.candidates.slice(0, 3)) {
            const ref = await scorer.scoreSteps(problem.question, [...steps, r.text.slice(start, t.offset) + c.text]);
            assert.ok(Math.abs(c.score! - ref.at(-1)!) < 1e-6);
        }
        const best = Math.max(...t.candidates.map((c) => c.score ?? NaN));
        assert.equal(t.candidates[t.chosen].score, best);
        assert.equal(r.text.slice(t.offset, t.offset + t.candidates[t.chosen].text.length), t.candidates[t.chosen].text);
        steps.push(r.text.slice(start, t.offset + t.candidates[t.chosen].text.length));
        start = t.offset + t.candidates[t.chosen].text.length;
    }
    assert.equal(r.prm_calls, ivs.reduce((a, t) => a + t.candidates.length, 0));
});

test("through stepwise serve (OpenAI engine + STEP pooling) TVD makes the same choices as in-process", async () => {
    const local = await tvd(problem, {policy, prm: new SearchPrm(new TagPrmScorer(prmEngine, format)), config});
    const policyClient = await OpenAIEngine.connect({baseUrls: [policyServer.url + "/v1"], model: "policy"});
    const prmClient = await OpenAIEngine.connect({baseUrls: [prmServer.url + "/v1"], model: "prm"});
    const remote = await tvd(problem, {policy: policyClient, prm: new SearchPrm(new PoolingPrmScorer(prmClient, format), {concurrency: 8}), config});
    assert.equal(remote.text, local.text);
    const a = local.trace as TvdIntervention[];
    const b = remote.trace as TvdIntervention[];
    const chosen = (t: TvdIntervention) => [t.position, t.candidates[t.chosen].text];
    assert.deepEqual(b.map(chosen), a.map(chosen));
    b.forEach((t, i) =>
        t.candidates.forEach((c) => {
            const same = a[i].candidates.find((x) => x.text === c.text);
            if (same) assert.ok(Math.abs(c.score! - same.score!) < 1e-5);
        }),
    );
    // HTTP requests: policy calls plus one pooling request per candidate, far fewer than one per token
    const http = policyClient.stats().requests + prmClient.stats().requests;
    assert.equal(prmClient.stats().requests, remote.prm_calls);
    assert.ok(http < remote.response_tokens!.length + remote.prm_calls, `${http} requests`);
    const g = await greedy(problem, {policy: policyClient, config});
    assert.equal(g.requests, 1);
});

test("Best-of-N and beam search run on both engines with the same PRM scores", async () => {
    const cfg = {...config, n: 4, beamWidth: 2, temperature: 1, maxSteps: 4, seed: 5};
    const local = new SearchPrm(new TagPrmScorer(prmEngine, format));
    const b = await bestOfNDecode(problem, {policy, prm: local, config: cfg});
    assert.equal(b.trace.length, 4);
    assert.equal(b.prm_calls, 4);
    const beam = await beamSearch(problem, {policy, prm: local, config: cfg});
    assert.ok(beam.trace.length >= 1);
    assert.ok(beam.tokens > 0);
    const prmClient = await OpenAIEngine.connect({baseUrls: [prmServer.url + "/v1"], model: "prm"});
    const remote = await bestOfNDecode(problem, {policy, prm: new SearchPrm(new PoolingPrmScorer(prmClient, format)), config: cfg});
    assert.equal(remote.text, b.text);
});

test("the first generated token of a call lists as many alternatives as asked (TVD's candidates right after an intervention)", async () => {
    const [s] = await policy.generate({prompt: problem.prompt, temperature: 0, maxTokens: 3, topLogprobs: 8});
    assert.deepEqual(s.tokens.map((t) => t.top.length), [8, 8, 8]);
});
