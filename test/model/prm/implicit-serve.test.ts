/**
 * The implicit PRM over `stepwise serve` (the shipped lab implicit PRM and its reference, the lab
 * policy), as `--prm "openai:URL?format=implicit&ref=…"` reads it: a TVD decision costs one
 * `prompt_logprobs` request per model and nothing else (no `/tokenize` round trip), counted at a
 * recording proxy in front of each server; the scores equal the in-process ones.
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {startServer, type RunningServer} from "../../../src/apps/serve/server.ts";
import {createScorer, ImplicitPrmScorer} from "../../../src/prm/index.ts";
import {OpenAIEngine} from "../../../src/engines/openai/engine.ts";
import {SearchPrm, tvd, type SearchProblem, type TvdIntervention} from "../../../src/search/index.ts";
import {ScriptedPolicy, type Script} from "../../helpers/scripted-policy.ts";
import {startRecorder} from "../../helpers/llama-server-replay.ts";

const prmPath = new URL("../../../models/lab-implicit-prm.gguf", import.meta.url).pathname;
const problem: SearchProblem = {id: "q", question: "Compute 2 + 3.", prompt: "Compute 2 + 3.\n", gold: "5"};

/** "So 2 + 3 = " then a decision (6 .45, 5 .35, 7 .2), ".\nThe answer is " then another (5 .4, 6 .35, 7 .25), then ".". */
const script: Script = (context) => {
    const r = context.slice(problem.prompt.length);
    const head = "So 2 + 3 = ";
    if (r.length < head.length) return [[head[r.length], 1]];
    if (r.length === head.length)
        return [
            ["6", 0.45],
            ["5", 0.35],
            ["7", 0.2],
        ];
    const mid = `${head}${r[head.length]}.\nThe answer is `;
    if (r.length < mid.length) return [[mid[r.length], 1]];
    if (r.length === mid.length)
        return [
            ["5", 0.4],
            ["6", 0.35],
            ["7", 0.25],
        ];
    return r.length === mid.length + 1 ? [[".", 1]] : [["", 1]];
};

let local: ImplicitPrmScorer;
const servers: RunningServer[] = [];

before(async () => {
    local = (await createScorer(`llama:${prmPath}`)) as ImplicitPrmScorer;
    servers.push(await startServer({engine: local.model, port: 0, modelName: "prm"}), await startServer({engine: local.reference, port: 0, modelName: "policy"}));
});
after(async () => {
    for (const s of servers) await s.close();
    await local.close();
});

test("implicit-PRM TVD over stepwise serve: 2 decisions cost 2 prompt_logprobs requests per model and no /tokenize; scores equal in-process", async () => {
    const [prmRec, refRec] = await Promise.all(servers.map((s) => startRecorder(s.url)));
    const ref = encodeURIComponent(`openai:${refRec.url}/v1?model=policy`);
    const remote = (await createScorer(`openai:${prmRec.url}/v1?model=prm&format=implicit&beta=${local.beta}&ref=${ref}`)) as ImplicitPrmScorer;
    try {
        assert.ok(remote instanceof ImplicitPrmScorer);
        for (const rec of [prmRec, refRec]) rec.exchanges.length = 0; // connecting (GET /v1/models) is not scoring
        const r = await tvd(problem, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(remote)});
        const decisions = r.trace.filter((t): t is TvdIntervention => t.type === "tvd");
        assert.equal(decisions.length, 2);
        assert.equal(r.prm_calls, 2);
        for (const [name, rec] of [["PRM", prmRec], ["reference", refRec]] as const) {
            const paths = rec.exchanges.map((e) => e.request.path);
            assert.deepEqual(paths, ["/v1/completions", "/v1/completions"], `${name} server: one prompt_logprobs request per decision, no /tokenize (got ${paths.join(", ")})`);
            for (const e of rec.exchanges) assert.equal(typeof (e.request.body as {prompt: unknown}).prompt, "string", "the text is sent as is");
        }
        // TVD's request meter (requestsPerCall per scoring call) is what went over the wire.
        assert.equal(prmRec.exchanges.length + refRec.exchanges.length, remote.requestsPerCall * r.prm_calls);

        // The same decisions in-process (exact probes over token ids): the same scores.
        const inProcess = await tvd(problem, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(local)});
        assert.equal(r.text, inProcess.text);
        const localDecisions = inProcess.trace.filter((t): t is TvdIntervention => t.type === "tvd");
        decisions.forEach((d, i) =>
            d.candidates.forEach((c, j) => {
                const want = localDecisions[i].candidates[j];
                assert.equal(c.text, want.text);
                assert.ok(Math.abs(c.score! - want.score!) < 1e-4, `decision ${i}, candidate ${c.text}: ${c.score} served vs ${want.score} in-process`);
            }),
        );

        // The echo path's entries equal the token-id path's (what the engine sent before: /tokenize, then the ids).
        const engine = remote.model as OpenAIEngine;
        const text = `${problem.question}\n${r.text}`;
        assert.deepEqual(await engine.promptLogprobs!(text, {topK: 20}), await engine.promptLogprobs!(await engine.tokenize(text), {topK: 20}));
    } finally {
        await remote.close();
        await Promise.all([prmRec.close(), refRec.close()]);
    }
});

test("step_prm=: a served implicit PRM's token values and a served tag PRM's step scores read as one spec (the pair of `stepwise pair-prm`, over servers)", async () => {
    const {HybridPrmScorer} = await import("../../../src/prm/index.ts");
    const {createEngine} = await import("../../../src/engines/spec.ts");
    const {checkGgufHeader} = await import("../../../src/gguf/reader.ts");
    const tagPath = new URL("../../../models/lab-tag-prm.gguf", import.meta.url).pathname;
    const h = checkGgufHeader(tagPath);
    const tagEngine = await createEngine(`llama:${tagPath}`);
    const tagServer = await startServer({engine: tagEngine, port: 0, modelName: "tag", pooling: {stepTagId: h.numbers["stepwise.step_tag_id"], returnedTokenIds: [h.numbers["stepwise.good_token_id"], h.numbers["stepwise.bad_token_id"]]}});
    const ref = encodeURIComponent(`openai:${servers[1].url}/v1?model=policy`);
    const steps = encodeURIComponent(`openai:${tagServer.url}/v1?model=tag&format=stepwise-lab`);
    const base = `openai:${servers[0].url}/v1?model=prm&format=implicit&beta=${local.beta}&ref=${ref}`;
    const pair = await createScorer(`${base}&step_prm=${steps}`);
    const tagLocal = await createScorer(`llama:${tagPath}`);
    const implicitOnly = (await createScorer(base)) as ImplicitPrmScorer;
    try {
        assert.ok(pair instanceof HybridPrmScorer && pair.ownsTag);
        const question = "Compute 12 + 7 * 3.";
        const solution = ["First, 7 * 3 = 21, so 12 + 21.", "So 12 + 21 = 33.", "The answer is 33."].map((s, i, a) => (i < a.length - 1 ? s + "\n" : s));
        const got = await pair.scoreSteps(question, solution);
        const want = await tagLocal.scoreSteps(question, solution);
        assert.equal(got.length, 3);
        got.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-4, `step ${i}: ${x} served pair vs ${want[i]} tag PRM in-process`));
        // Candidates: the served implicit PRM's values (a candidate outside either server's top 20 scores 0 there).
        const cands = [{text: "S"}, {text: "N"}, {text: "T"}, {text: "4"}];
        const c = await pair.scoreContinuations(question, solution.slice(0, 1), cands);
        assert.deepEqual(c, await implicitOnly.scoreContinuations(question, solution.slice(0, 1), cands));
        assert.ok(c.filter((x) => x > 0).length >= 2, `${c}`);
    } finally {
        await Promise.all([pair.close(), tagLocal.close(), implicitOnly.close()]);
        await tagServer.close();
        await tagEngine.close();
    }
    // step_prm= needs an implicit reading; a bad step_prm spec is named, and nothing stays open.
    await assert.rejects(createScorer(`llama:${tagPath}?step_prm=${steps}`), /step_prm= gives step scores beside an implicit PRM's token values; add format=implicit/);
    await assert.rejects(
        createScorer(`llama:models/lab-prm.gguf?step_prm=${steps}`),
        /this file has step scores of its own \(GGUF metadata stepwise\.prm\.objective = "tag\+implicit"\); add format=implicit/,
    );
    await assert.rejects(createScorer(`${base}&step_prm=${encodeURIComponent("llama:/nowhere/prm.gguf")}`), /step_prm=llama:\/nowhere\/prm\.gguf: .*nowhere\/prm\.gguf/);
});
