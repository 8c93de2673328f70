/**
 * `npm run bench -- decode`: the cost of Token-level Value-guided Decoding.
 *
 * 1. Wall time of TVD relative to greedy decoding on the same held-out lab problems, through the
 *    llama engine (shipped policy and tag PRM, models/lab-tag-prm.gguf: the step scores of the
 *    shipped pair models/lab-prm.gguf, read raw as a tag PRM here), problems interleaved (greedy then TVD on each) so
 *    both see the same machine load. Target ≤ 2×.
 * 2. HTTP requests per solution when the policy and the PRM are served by `stepwise serve`
 *    (OpenAI engine + STEP pooling), relative to one request per generated token (the released
 *    TVD code's policy traffic; it also sends one PRM request per candidate). Target ≤ 1/5.
 *
 * Also reported: the same through serve with --min-prob 0.01 (candidates below p = 0.01 unscored).
 *
 * 3. The same two measures with each implicit PRM: the shipped pair's token values
 *    (models/lab-prm.gguf) and the outcome-trained models/lab-implicit-prm.gguf, when present (or
 *    --implicit=FILE only), one `decode-implicit` line each: every candidate of a decision read from one pass of the PRM and one of its
 *    reference (the policy) — or, as `stepwise decode` does when `--policy` is the PRM's
 *    reference, from the PRM's pass alone with the policy's own probabilities as πref
 *    (src/prm/implicit.ts). Both measured, interleaved per problem. Targets: TVD ≤ 1.5× greedy's
 *    wall time in-process; ≤ 0.1 requests per generated token through `stepwise serve` (policy
 *    server = reference server, PRM server answering prompt_logprobs).
 *
 * Flags: --problems=N (default 30), --implicit=FILE, --only-implicit (skip 1 and 2).
 */
import {existsSync} from "node:fs";
import {createScorer, ImplicitPrmScorer} from "../src/prm/index.ts";
import {LlamaEngine} from "../src/engines/llama/engine.ts";
import {OpenAIEngine} from "../src/engines/openai/engine.ts";
import {startServer} from "../src/apps/serve/server.ts";
import {generateProblems} from "../src/domains/lab/index.ts";
import {PoolingPrmScorer, TagPrmScorer, resolveFormat} from "../src/prm/index.ts";
import {buildCharVocab} from "../src/model/vocab.ts";
import {LAB_MAX_TOKENS, labPrompt} from "../src/apps/lab/eval/policy.ts";
import {greedy, tvd, SearchPrm, type SearchProblem, type TvdIntervention} from "../src/search/index.ts";

export default async function run(flags: string[]): Promise<void> {
    const n = Number(flags.find((f) => f.startsWith("--problems="))?.split("=")[1] ?? 30);
    const policyPath = new URL("../models/lab-policy.gguf", import.meta.url).pathname;
    const prmPath = new URL("../models/lab-tag-prm.gguf", import.meta.url).pathname; // the pair lab-prm.gguf holds implicit weights: its own tags are untrained
    const problems: SearchProblem[] = generateProblems(n, {seed: 5000, split: "heldout"}).map((p) => ({id: p.id, question: p.question, prompt: labPrompt(p), gold: p.answer}));
    const config = {maxTokens: LAB_MAX_TOKENS};
    const format = resolveFormat("stepwise-lab");
    const given = flags.find((f) => f.startsWith("--implicit="))?.split("=")[1];
    const implicitPaths = given ? [given] : ["../models/lab-prm.gguf", "../models/lab-implicit-prm.gguf"].map((f) => new URL(f, import.meta.url).pathname);
    for (const implicitPath of implicitPaths) if (existsSync(implicitPath)) await implicitRun(problems, policyPath, implicitPath);
    if (flags.includes("--only-implicit")) return;

    // 1. llama engine, in-process
    const policy = await LlamaEngine.load(policyPath, {sequences: 4});
    const prmEngine = await LlamaEngine.load(prmPath, {sequences: 8});
    const prm = new SearchPrm(new TagPrmScorer(prmEngine, format));
    await greedy(problems[0], {policy, config}); // warm-up
    await tvd(problems[0], {policy, prm, config});
    let greedyMs = 0;
    let tvdMs = 0;
    let greedyTokens = 0;
    let tvdTokens = 0;
    let interventions = 0;
    let changed = 0;
    for (const p of problems) {
        let t0 = performance.now();
        const g = await greedy(p, {policy, config});
        greedyMs += performance.now() - t0;
        t0 = performance.now();
        const t = await tvd(p, {policy, prm, config});
        tvdMs += performance.now() - t0;
        greedyTokens += g.tokens;
        tvdTokens += t.tokens;
        const ivs = t.trace.filter((x): x is TvdIntervention => x.type === "tvd");
        interventions += ivs.length;
        changed += ivs.filter((x) => x.chosen !== 0).length;
    }

    // 2. through stepwise serve: policy server + PRM server, OpenAI engine clients
    const vocab = buildCharVocab();
    const policyServer = await startServer({engine: policy, port: 0, modelName: "policy"});
    const prmServer = await startServer({engine: prmEngine, port: 0, modelName: "prm", pooling: {stepTagId: vocab.stepTagId, returnedTokenIds: [vocab.goodId, vocab.badId]}});
    const policyClient = await OpenAIEngine.connect({baseUrls: [policyServer.url + "/v1"], model: "policy"});
    const prmClient = await OpenAIEngine.connect({baseUrls: [prmServer.url + "/v1"], model: "prm"});
    const remotePrm = new SearchPrm(new PoolingPrmScorer(prmClient, format), {concurrency: 8});
    let responseTokens = 0;
    let candidates = 0;
    let sameAsLlama = 0;
    for (const p of problems) {
        const t = await tvd(p, {policy: policyClient, prm: remotePrm, config});
        responseTokens += t.response_tokens?.length ?? 0;
        candidates += t.trace.reduce((a, x) => a + (x.type === "tvd" ? x.candidates.length : 0), 0);
        const local = await tvd(p, {policy, prm, config});
        if (local.text === t.text) sameAsLlama++;
    }
    const policyRequests = policyClient.stats().requests;
    const prmRequests = prmClient.stats().requests;
    // the same through serve with candidates below p = 0.01 left unscored (--min-prob 0.01)
    let lean = 0;
    let leanTokens = 0;
    for (const p of problems) {
        const before = policyClient.stats().requests + prmClient.stats().requests;
        const t = await tvd(p, {policy: policyClient, prm: remotePrm, config: {...config, minCandidateProb: 0.01}});
        lean += policyClient.stats().requests + prmClient.stats().requests - before;
        leanTokens += t.response_tokens?.length ?? 0;
    }
    await policyClient.close();
    await prmClient.close();
    await policyServer.close();
    await prmServer.close();
    await policy.close();
    await prmEngine.close();

    const r = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
    console.log(
        JSON.stringify({
            name: "decode",
            problems: n,
            llama_greedy_s_per_problem: r(greedyMs / 1000 / n),
            llama_tvd_s_per_problem: r(tvdMs / 1000 / n),
            llama_tvd_over_greedy_wall: r(tvdMs / greedyMs),
            wall_ratio_target: 2,
            greedy_policy_tokens_per_problem: r(greedyTokens / n, 1),
            tvd_policy_tokens_per_problem: r(tvdTokens / n, 1),
            tvd_interventions_per_problem: r(interventions / n, 2),
            tvd_changed_tokens_per_problem: r(changed / n, 2),
            serve_response_tokens_per_solution: r(responseTokens / n, 1),
            serve_policy_requests_per_solution: r(policyRequests / n, 2),
            serve_prm_requests_per_solution: r(prmRequests / n, 2),
            serve_requests_per_generated_token: r((policyRequests + prmRequests) / responseTokens, 4),
            requests_ratio_target: 0.2,
            serve_min_prob_001_requests_per_generated_token: r(lean / leanTokens, 4),
            released_code_requests_per_solution: r((responseTokens + candidates) / n, 1),
            serve_same_text_as_llama: `${sameAsLlama}/${n}`,
        }),
    );
}

/** Section 3: TVD with the implicit PRM, in-process and through `stepwise serve`. */
async function implicitRun(problems: SearchProblem[], policyPath: string, prmPath: string): Promise<void> {
    const n = problems.length;
    const config = {maxTokens: LAB_MAX_TOKENS};
    const policy = await LlamaEngine.load(policyPath, {sequences: 4});
    // `format=implicit`: the token values alone (a pair's tag PRM is not TVD's and is not loaded).
    const scorer = (await createScorer(`llama:${prmPath}?format=implicit`)) as ImplicitPrmScorer;
    const prm = new SearchPrm(scorer);
    const reusing = (await createScorer(`llama:${prmPath}?format=implicit`, {policySpec: `llama:${policyPath}`})) as ImplicitPrmScorer;
    if (!reusing.policyIsReference) throw new Error(`${prmPath}: its reference is not ${policyPath}`);
    const prmReusing = new SearchPrm(reusing);
    await greedy(problems[0], {policy, config}); // warm-up
    await tvd(problems[0], {policy, prm, config});
    await tvd(problems[0], {policy, prm: prmReusing, config});
    let greedyMs = 0;
    let tvdMs = 0;
    let tvdReusingMs = 0;
    let interventions = 0;
    let sameReusing = 0;
    for (const p of problems) {
        let t0 = performance.now();
        await greedy(p, {policy, config});
        greedyMs += performance.now() - t0;
        t0 = performance.now();
        const t = await tvd(p, {policy, prm, config});
        tvdMs += performance.now() - t0;
        t0 = performance.now();
        const u = await tvd(p, {policy, prm: prmReusing, config});
        tvdReusingMs += performance.now() - t0;
        if (u.text === t.text) sameReusing++;
        interventions += t.trace.filter((x) => x.type === "tvd").length;
    }
    await prmReusing.close();
    // Through serve: the policy's server is also the reference's; the PRM's answers prompt_logprobs.
    const policyServer = await startServer({engine: policy, port: 0, modelName: "policy"});
    const prmServer = await startServer({engine: scorer.model, port: 0, modelName: "prm"});
    const policyClient = await OpenAIEngine.connect({baseUrls: [policyServer.url + "/v1"], model: "policy"});
    const refClient = await OpenAIEngine.connect({baseUrls: [policyServer.url + "/v1"], model: "policy"});
    const prmClient = await OpenAIEngine.connect({baseUrls: [prmServer.url + "/v1"], model: "prm"});
    const remote = new SearchPrm(new ImplicitPrmScorer(prmClient, refClient, {beta: scorer.beta, template: scorer.template}), {concurrency: 8});
    let responseTokens = 0;
    let same = 0;
    for (const p of problems) {
        const t = await tvd(p, {policy: policyClient, prm: remote, config});
        responseTokens += t.response_tokens?.length ?? 0;
        if ((await tvd(p, {policy, prm, config})).text === t.text) same++;
    }
    const policyRequests = policyClient.stats().requests;
    const prmRequests = prmClient.stats().requests + refClient.stats().requests;
    // The same with the policy's reading as πref: the reference is not asked at decisions.
    const before = {policy: policyClient.stats().requests, prm: prmClient.stats().requests, ref: refClient.stats().requests};
    const remoteReusing = new SearchPrm(new ImplicitPrmScorer(prmClient, refClient, {beta: scorer.beta, template: scorer.template, policyIsReference: true}), {concurrency: 8});
    let responseTokensReusing = 0;
    let sameReusingServe = 0;
    for (const p of problems) {
        const t = await tvd(p, {policy: policyClient, prm: remoteReusing, config});
        responseTokensReusing += t.response_tokens?.length ?? 0;
        if ((await tvd(p, {policy, prm, config})).text === t.text) sameReusingServe++;
    }
    const reusingRequests = policyClient.stats().requests - before.policy + prmClient.stats().requests - before.prm + refClient.stats().requests - before.ref;
    for (const c of [policyClient, refClient, prmClient]) await c.close();
    await policyServer.close();
    await prmServer.close();
    await prm.close();
    await policy.close();
    const r = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
    console.log(
        JSON.stringify({
            name: "decode-implicit",
            prm: prmPath.split("/").pop(),
            problems: n,
            llama_greedy_s_per_problem: r(greedyMs / 1000 / n),
            llama_tvd_s_per_problem: r(tvdMs / 1000 / n),
            llama_tvd_over_greedy_wall: r(tvdMs / greedyMs),
            llama_tvd_policy_as_reference_s_per_problem: r(tvdReusingMs / 1000 / n),
            llama_tvd_policy_as_reference_over_greedy_wall: r(tvdReusingMs / greedyMs),
            llama_policy_as_reference_same_text: `${sameReusing}/${n}`,
            wall_ratio_target: 1.5,
            tvd_interventions_per_problem: r(interventions / n, 2),
            serve_response_tokens_per_solution: r(responseTokens / n, 1),
            serve_policy_requests_per_solution: r(policyRequests / n, 2),
            serve_prm_and_reference_requests_per_solution: r(prmRequests / n, 2),
            serve_requests_per_generated_token: r((policyRequests + prmRequests) / responseTokens, 4),
            serve_policy_as_reference_requests_per_generated_token: r(reusingRequests / responseTokensReusing, 4),
            serve_policy_as_reference_same_text_as_llama: `${sameReusingServe}/${n}`,
            requests_ratio_target: 0.1,
            serve_same_text_as_llama: `${same}/${n}`,
        }),
    );
}
