import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, writeFileSync, truncateSync, statSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {generateProblems} from "../../src/lab/domain/index.ts";
import {labelFile, labelSample, makeVerifier} from "../../src/pipeline/label/index.ts";
import {labTruth} from "../../src/lab/verifier.ts";
import "../../src/domains.ts";
import type {StepsRecord} from "../../src/pipeline/records.ts";
import {ScriptedLabEngine} from "../helpers/scripted-lab-engine.ts";
import {LlamaEngine} from "../../src/engines/llama/engine.ts";
import {tinyModel} from "../helpers/tiny-model.ts";

/** Lab solutions split at line ends; every third one gets a wrong step and a wrong answer. */
function fixtures(n: number): StepsRecord[] {
    return generateProblems(n, {seed: 5, split: "heldout"}).map((p, i) => {
        const lines = [...p.steps];
        if (i % 3 === 1) {
            const w = Math.min(1, lines.length - 2);
            lines[w] = lines[w].replace(/= (\d+)/, (_m, v) => `= ${Number(v) + 1}`);
            lines[lines.length - 1] = `The answer is ${Number(p.answer) + 1}.`; // the error carries to the answer
        }
        const text = lines.join("\n");
        let start = 0;
        const steps = lines.map((l, j) => {
            const end = start + l.length + (j < lines.length - 1 ? 1 : 0);
            const s = {text: text.slice(start, end), start, end, token_start: start, token_end: end};
            start = end;
            return s;
        });
        return {id: p.id, question_id: p.id, sample_index: 0, question: p.question, prompt: p.question + "\n", text, gold: p.answer, strategy: "newline", steps};
    });
}

test("naive labels: K rollouts on every step; labels agree with the lab truth where the policy is informative", async () => {
    const engine = new ScriptedLabEngine(1, 0);
    const verify = await makeVerifier("lab");
    for (const rec of fixtures(6)) {
        const r = await labelSample(rec, {engine, verifier: "lab", verify, k: 4, stopAfterNegative: false, truth: labTruth});
        assert.equal(r.cost.rollouts, 4 * rec.steps.length);
        assert.equal(r.first_negative, r.truth!.first_error, rec.text);
        r.hard.forEach((h, i) => assert.equal(h, r.truth!.correct[i] === true ? 1 : 0)); // after the first error every prefix is wrong
    }
});

test("savers: early stop, stop-after-negative and binary search cut rollouts and keep the first negative", async () => {
    // a wrong prefix never recovers here, so the value falls once and binary search must agree exactly
    const engine = new ScriptedLabEngine(0.8, 0);
    const verify = await makeVerifier("lab");
    const recs = fixtures(12);
    let naive = 0;
    let saved = 0;
    let agree = 0;
    for (const rec of recs) {
        const a = await labelSample(rec, {engine, verifier: "lab", verify, k: 8, stopAfterNegative: false});
        const b = await labelSample(rec, {engine, verifier: "lab", verify, k: 8, earlyStop: true, search: "binary"});
        const c = await labelSample(rec, {engine, verifier: "lab", verify, k: 8, earlyStop: true});
        const h = await labelSample(rec, {engine, verifier: "lab", verify, k: 8, earlyStop: true, chunk: 1, search: "hybrid"});
        assert.equal(h.first_negative, a.first_negative, "hybrid search finds naive's first negative");
        assert.ok(h.cost.rollouts <= a.cost.rollouts);
        naive += a.cost.rollouts;
        saved += b.cost.rollouts;
        if (a.first_negative === b.first_negative) agree++;
        // early stop never changes a hard label: rollout j is the same drawn alone or in a chunk
        c.hard.forEach((h, i) => h !== null && assert.equal(h, a.hard[i]));
        assert.ok(c.cost.rollouts <= a.cost.rollouts);
        assert.match(b.method, /binary/);
    }
    assert.ok(saved < naive * 0.4, `savers ${saved} vs naive ${naive}`);
    assert.equal(agree, recs.length, `first-negative agreement ${agree}/${recs.length}`);
});

test("label file: resumes after a kill into the same file as an uninterrupted run; refuses mixed settings", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-label-"));
    const input = join(dir, "steps.jsonl");
    writeFileSync(input, fixtures(8).map((r) => JSON.stringify(r)).join("\n") + "\n");
    const opts = {engine: new ScriptedLabEngine(0.7, 0.1), verifier: "lab" as const, k: 4, concurrency: 3};
    const full = join(dir, "full.jsonl");
    await labelFile({...opts, input, out: full});
    const part = join(dir, "part.jsonl");
    await labelFile({...opts, input, out: part, limit: 5});
    // simulate a kill in the middle of writing the 5th record
    truncateSync(part, statSync(part).size - 40);
    const s = await labelFile({...opts, input, out: part});
    assert.equal(s.skipped, 4);
    assert.equal(readFileSync(part, "utf8"), readFileSync(full, "utf8"));
    await assert.rejects(labelFile({...opts, k: 2, input, out: part}), /other settings \(method: "K=4,.*" → "K=2,/);
});

test("llama engine: one prefix evaluation per step estimate, rollouts from the real model", async () => {
    const m = tinyModel(1, 40);
    const engine = await LlamaEngine.load(m.path, {sequences: 4, contextSize: 256});
    try {
        const verify = await makeVerifier("lab");
        const [rec] = fixtures(1);
        const before = engine.stats();
        const r = await labelSample(rec, {engine, verifier: "lab", verify, k: 4, stopAfterNegative: false, maxTokens: 24});
        const after = engine.stats();
        assert.equal(r.cost.rollouts, 4 * rec.steps.length);
        assert.equal(after.prefixEvaluations - before.prefixEvaluations, rec.steps.length);
        assert.equal(after.generatedTokens - before.generatedTokens, r.cost.generated_tokens);
        // a random model does not solve arithmetic: every step negative
        assert.equal(r.first_negative, 0);
        assert.deepEqual(labTruth(rec).correct.filter((x) => x === false).length, 0);
    } finally {
        await engine.close();
    }
});
