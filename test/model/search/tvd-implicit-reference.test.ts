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
    } finally {
        await Promise.all([policy.close(), both.close(), reusing.close()]);
    }
});
