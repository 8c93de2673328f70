/**
 * TVD with an implicit PRM whose reference is the decoding policy (the shipped lab policy and lab
 * implicit PRM): `createScorer(spec, {policySpec})` recognises the policy as the reference, TVD
 * hands over the policy's own probabilities, and only the PRM is run at a decision — the same
 * decisions, picks and texts as running the reference model, one request fewer per decision.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {createEngine} from "../../../src/engines/spec.ts";
import {createScorer, ImplicitPrmScorer} from "../../../src/prm/index.ts";
import {SearchPrm, tvd, type SearchProblem, type TvdIntervention} from "../../../src/search/index.ts";
import {generateProblems, policyPrompt} from "../../../src/domains/lab/index.ts";
import {mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {runCli} from "../../helpers/cli.ts";

const models = new URL("../../../models/", import.meta.url).pathname;
const policySpec = `llama:${models}lab-policy.gguf`;
const prmSpec = `llama:${models}lab-implicit-prm.gguf`;

test("implicit-PRM TVD with the policy as its reference: same decisions and picks, only the PRM run at each decision", async () => {
    const policy = await createEngine(policySpec, {role: "policy"});
    const both = (await createScorer(prmSpec)) as ImplicitPrmScorer;
    const reusing = (await createScorer(prmSpec, {policySpec})) as ImplicitPrmScorer;
    const other = (await createScorer(prmSpec, {policySpec: `llama:${models}lab-policy-rl.gguf`})) as ImplicitPrmScorer;
    try {
        assert.equal(both.policyIsReference, false, "no policy named");
        assert.equal(reusing.policyIsReference, true, "the GGUF's reference is the policy's file");
        assert.equal(other.policyIsReference, false, "another policy is not the reference");
        await other.close();
        const problems: SearchProblem[] = generateProblems(8, {seed: 7, split: "heldout"}).map((p) => ({id: p.id, question: p.question, prompt: policyPrompt(p.question), gold: p.answer}));
        let decisions = 0;
        for (const problem of problems) {
            const a = await tvd(problem, {policy, prm: new SearchPrm(both)});
            const b = await tvd(problem, {policy, prm: new SearchPrm(reusing)});
            assert.equal(b.text, a.text, problem.id);
            const da = a.trace.filter((t): t is TvdIntervention => t.type === "tvd");
            const db = b.trace.filter((t): t is TvdIntervention => t.type === "tvd");
            assert.equal(db.length, da.length);
            da.forEach((d, i) => {
                assert.equal(db[i].chosen, d.chosen, `${problem.id} decision ${i}`);
                d.candidates.forEach((c, j) => assert.ok(Math.abs(db[i].candidates[j].score! - c.score!) < 1e-4, `${problem.id} decision ${i} ${JSON.stringify(c.text)}: ${db[i].candidates[j].score} vs ${c.score}`));
            });
            // One request fewer per decision: the reference model is not run.
            assert.equal(b.requests, a.requests - da.length, problem.id);
            decisions += da.length;
        }
        assert.ok(decisions >= 5, `only ${decisions} decisions: the check needs some`);
        assert.deepEqual(reusing.referenceReadings, {reused: decisions, run: 0});
        assert.deepEqual(both.referenceReadings, {reused: 0, run: decisions});

        // A reading that lines up is taken as given (here deliberately off: every p = 0.5); it must not
        // leak into a later reading that runs the reference model (scoreSteps) on the same prefix,
        // and a reading that does not line up (another prompt) falls back to the reference model.
        const problem = problems[0];
        const resp = (await tvd(problem, {policy, config: {}, prm: new SearchPrm(both)})).text.slice(0, 40);
        const all = await policy.tokenize(problem.prompt + resp);
        const head = (await policy.tokenize(problem.prompt)).length;
        const texts: string[] = [];
        let prev = "";
        for (let i = head; i < all.length; i++) {
            const t = await policy.detokenize(all.slice(head, i + 1));
            texts.push(t.slice(prev.length));
            prev = t;
        }
        assert.equal(texts.join(""), resp);
        const off = {prompt: problem.prompt, tokens: texts.map((text) => ({text, prob: 0.5})), candidates: [0.5]};
        await reusing.scoreContinuations(problem.question, [resp], [{text: "1"}], {reference: off});
        assert.deepEqual(reusing.referenceReadings, {reused: decisions + 1, run: 0});
        const [want] = await both.scoreSteps(problem.question, [resp]);
        const [after] = await reusing.scoreSteps(problem.question, [resp]);
        assert.ok(Math.abs(after - want) < 1e-4, `after a policy reading: ${after} vs ${want}`);
        const usage = {requests: 0};
        const [fallback] = await reusing.scoreContinuations(problem.question, [resp], [{text: "1"}], {reference: {...off, prompt: problem.prompt + " "}, usage});
        const [plain] = await both.scoreContinuations(problem.question, [resp], [{text: "1"}]);
        assert.equal(usage.requests, 2);
        assert.equal(reusing.referenceReadings.run, 1);
        assert.ok(Math.abs(fallback - plain) < 1e-4, `fallback: ${fallback} vs ${plain}`);
    } finally {
        await Promise.all([policy.close(), both.close(), reusing.close()]);
    }
});

test("stepwise decode --strategy tvd with the shipped implicit PRM and its reference as --policy says how often the policy's probabilities stood in", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-tvd-ref-"));
    const data = join(dir, "p.jsonl");
    writeFileSync(data, generateProblems(3, {seed: 9, split: "heldout"}).map((p) => JSON.stringify(p)).join("\n") + "\n");
    const r = runCli(["decode", "--strategy", "tvd", "--policy", policySpec, "--prm", prmSpec, "--data", data, "--out", join(dir, "o.jsonl"), "--quiet"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /decode tvd: πref from the policy's own probabilities at (\d+) of \1 decisions\n/);
    // Another policy: the reference model runs, and nothing is said.
    const other = runCli(["decode", "--strategy", "tvd", "--policy", `llama:${models}lab-policy-rl.gguf`, "--prm", prmSpec, "--data", data, "--out", join(dir, "o2.jsonl"), "--quiet"]);
    assert.equal(other.status, 0, other.stderr);
    assert.doesNotMatch(other.stderr, /πref from the policy/);
});
