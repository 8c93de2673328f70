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
