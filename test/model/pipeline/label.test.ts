import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, writeFileSync, truncateSync, statSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {generateProblems} from "../../../src/domains/lab/index.ts";
import {labelFile, labelSample, makeVerifier} from "../../../src/pipeline/label/index.ts";
import {labTruth} from "../../../src/domains/lab/verifier.ts";
import "../../../src/apps/domains.ts";
import type {StepsRecord} from "../../../src/core/records.ts";
import {ScriptedLabEngine} from "../../helpers/scripted-lab-engine.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {tinyModel} from "../../helpers/tiny-model.ts";

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

/** The scripted policy, except that odd rollouts hit the token limit before an answer. */
class TruncatingEngine extends ScriptedLabEngine {
    override async generate(r: Parameters<ScriptedLabEngine["generate"]>[0]) {
        const out = await super.generate(r);
        return out.map((s) => (s.index % 2 === 1 ? {...s, text: "\nThe answ", tokens: s.tokens.slice(0, 9), finishReason: "length" as const} : s));
    }
}

test("truncated rollouts are recorded per step, reported, and count as chosen (--truncated fail|skip)", async () => {
    const verify = await makeVerifier("lab");
    const [rec] = fixtures(1);
    const failed = await labelSample(rec, {engine: new TruncatingEngine(1, 0), verifier: "lab", verify, k: 4, stopAfterNegative: false});
    for (const r of failed.rollouts) assert.deepEqual(r, {n: 4, correct: 2, truncated: 2});
    assert.ok(failed.soft.every((s) => s === 0.5), "fail: a truncated rollout is a wrong one");
    const skipped = await labelSample(rec, {engine: new TruncatingEngine(1, 0), verifier: "lab", verify, k: 4, stopAfterNegative: false, truncated: "skip"});
    for (const r of skipped.rollouts) assert.deepEqual(r, {n: 2, correct: 2, truncated: 2});
    assert.ok(skipped.soft.every((s) => s === 1), "skip: the estimate is over the finished rollouts");
    assert.match(skipped.method, /truncated=skip/);
    assert.doesNotMatch(failed.method, /truncated/);
    const dir = mkdtempSync(join(tmpdir(), "stepwise-label-trunc-"));
    writeFileSync(join(dir, "in.jsonl"), fixtures(3).map((r) => JSON.stringify(r)).join("\n") + "\n");
    const summary = await labelFile({engine: new TruncatingEngine(1, 0), verifier: "lab", k: 4, input: join(dir, "in.jsonl"), out: join(dir, "out.jsonl")});
    assert.equal(summary.truncated_share, 0.5);
    assert.equal(summary.truncated_rollouts, summary.rollouts / 2);
});

test("a fatal engine error stops the run promptly and keeps every finished record", async () => {
    const recs = fixtures(8);
    const failId = recs[2].id;
    const dir = mkdtempSync(join(tmpdir(), "stepwise-label-fatal-"));
    const out = join(dir, "out.jsonl");
    const lines = () => {
        try {
            return readFileSync(out, "utf8").split("\n").filter(Boolean).length;
        } catch {
            return 0;
        }
    };
    let aborted = 0;
    let started = 0;
    class FailingEngine extends ScriptedLabEngine {
        override async generate(r: Parameters<ScriptedLabEngine["generate"]>[0]) {
            started++;
            if ((r.prompt as string).startsWith(recs[2].question)) {
                // fail once records 0 and 1 are written (others are then in flight)
                for (let t = 0; t < 2000 && lines() < 2; t++) await new Promise((res) => setTimeout(res, 5));
                throw new Error(`server down for ${failId}`);
            }
            // slow samples, so some are in flight when the error comes; they must see the abort
            for (let i = 0; i < 20; i++) {
                if (r.signal?.aborted) {
                    aborted++;
                    throw r.signal.reason;
                }
                await new Promise((res) => setTimeout(res, 2));
            }
            return super.generate(r);
        }
    }
    writeFileSync(join(dir, "in.jsonl"), recs.map((r) => JSON.stringify(r)).join("\n") + "\n");
    await assert.rejects(labelFile({engine: new FailingEngine(1, 0), verifier: "lab", k: 2, concurrency: 3, input: join(dir, "in.jsonl"), out}), /server down/);
    const written = readFileSync(out, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l).id);
    assert.ok(written.includes(recs[0].id) && written.includes(recs[1].id), `finished records kept: ${written}`);
    assert.ok(!written.includes(failId));
    assert.ok(written.length < recs.length);
    const before = started;
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(started, before, "no request starts after the failure");
    // resuming labels only what is missing
    const summary = await labelFile({engine: new ScriptedLabEngine(1, 0), verifier: "lab", k: 2, input: join(dir, "in.jsonl"), out});
    assert.equal(summary.skipped, written.length);
    assert.equal(summary.samples, recs.length);
    void aborted;
});
