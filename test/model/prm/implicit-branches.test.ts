/**
 * The implicit PRM's branch objective (`train-prm --objective implicit --branches`): one example per
 * decision, a softmax over the candidates' rewards log πθ(c)/πref(c) (β 1) towards the right ones.
 * Before training every reward is 0 (πθ = πref, the recorded probabilities); after it the right
 * candidates outrank the wrong ones at the trained decisions; the GGUF says β 1; bad inputs are
 * errors naming file, line and field.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync} from "node:fs";
import {spawn} from "node:child_process";
import {cliArgs, serveCli} from "../../helpers/cli.ts";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {generateProblems} from "../../../src/domains/lab/index.ts";
import {trainPrm, implicitDecisions, decisionRewards, validateImplicitDecisions} from "../../../src/pipeline/train-prm.ts";
import {CharTokenizer} from "../../../src/model/vocab.ts";
import {nextTokenProbs} from "../../../src/model/forward.ts";
import {readLlamaGguf} from "../../../src/gguf/llama.ts";
import {StepwiseError} from "../../../src/util/errors.ts";
import {tinyModel} from "../../helpers/tiny-model.ts";

const ref = tinyModel(5, 4);
const tok = new CharTokenizer(ref.vocab);

/**
 * Branch records of lab solutions: one decision at the first digit of the first step's result,
 * candidates the right digit (label 1, first: the sample's own token), two wrong digits and a "+"
 * (label 0), each with the tiny model's own probability there (πref).
 */
function records(n: number, engine = `llama:${ref.path}`) {
    return generateProblems(n, {seed: 9, split: "train", knobs: {minOps: 2, maxOps: 2}}).map((p) => {
        const prompt = p.question + "\n";
        const at = p.solution.indexOf("= ") + 2;
        const prefix = p.solution.slice(0, at);
        const right = p.solution[at];
        const wrong = ["1", "2", "3", "4"].filter((d) => d !== right).slice(0, 2);
        const probs = nextTokenProbs(ref.config, ref.weights, [...tok.encode(prompt, {addBos: true}), ...tok.encode(prefix)]);
        const last = probs[probs.length - 1];
        const cand = (text: string, correct: number) => ({text, prob: last[tok.encode(text)[0]], steps: [prefix + text], n: 1, correct, truncated: 0});
        return {
            id: `${p.id}#0`,
            question_id: p.id,
            question: p.question,
            prompt,
            gold: p.answer,
            tau: 0.55,
            cutoff: "percent2",
            decisions: [{position: at, offset: at, top_prob: 0.5, candidates: [cand(right, 1), ...wrong.map((w) => cand(w, 0)), cand("+", 0)]}],
            cost: {rollouts: 0, generated_tokens: 0, prefix_evaluations: 0},
            method: "test",
            rollout_engine: engine,
        };
    });
}

test("train-prm --objective implicit --branches: rewards start at 0, the right candidates come to outrank the wrong ones; the GGUF says β 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-implicit-branches-"));
    const recs = records(12);
    const file = join(dir, "branches.jsonl");
    writeFileSync(file, recs.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const decisions = recs.flatMap((r, i) => implicitDecisions(r as never, tok, `${file}:${i + 1}`));
    assert.equal(decisions.length, 12);
    assert.equal(decisions[0].ids.length, 4);
    assert.deepEqual(decisions[0].labels, [1, 0, 0, 0]);
    // πθ = πref before training: every reward is 0 (up to float error).
    for (const d of decisions) for (const r of decisionRewards(ref.config, ref.weights, d)) assert.ok(Math.abs(r) < 1e-4, `reward ${r} at init`);
    const before = validateImplicitDecisions(ref.config, ref.weights, decisions);
    assert.equal(before.mixed, 12);
    assert.equal(before.ownRight, 12);
    assert.equal(before.fixes, 0);

    const out = join(dir, "prm.gguf");
    const res = await trainPrm({objective: "implicit", data: [], branches: [file], out, init: ref.path, steps: 40, lr: 3e-3, batchSize: 6, valFraction: 0, quiet: true});
    assert.equal(res.trainExamples, 12);
    const head = res.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const tail = res.losses.slice(-5).reduce((a, b) => a + b) / 5;
    assert.ok(head > 1.2 && tail < head / 2, `loss ${head} → ${tail} (starts at log 4 = 1.386)`);
    const m = await readLlamaGguf(out);
    const meta = m.metadata as Record<string, unknown>;
    assert.equal(meta["stepwise.prm.objective"], "implicit");
    assert.equal(meta["stepwise.prm.beta"], 1);
    assert.equal(meta["stepwise.prm.template"], "{question}\n");
    let outranked = 0;
    for (const d of decisions) {
        const r = decisionRewards(m.config, m.weights, d);
        if (r.slice(1).every((x) => x < r[0])) outranked++;
    }
    assert.ok(outranked >= 11, `right candidate first at ${outranked} of 12 trained decisions`);
    // The own token (the right one here) made wrong: what the trained PRM picks instead are fixes.
    const flipped = decisions.map((d) => ({...d, labels: d.labels.map((l) => 1 - l)}));
    const v = validateImplicitDecisions(m.config, m.weights, flipped);
    assert.deepEqual([v.mixed, v.ownRight, v.breaks], [12, 0, 0]);
    assert.equal(v.fixes, v.prmRight);
    assert.ok(v.fixes <= 1, `picks another candidate than the one it learned at ${v.fixes}`);
});

test("train-prm --objective implicit --branches refuses another β, branches labelled by another model, and candidates off the response so far", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-implicit-branches-"));
    const file = join(dir, "b.jsonl");
    writeFileSync(file, records(3).map((r) => JSON.stringify(r)).join("\n") + "\n");
    await assert.rejects(trainPrm({objective: "implicit", data: [], branches: [file], out: join(dir, "a.gguf"), init: ref.path, beta: 0.05, steps: 1, quiet: true}), /--beta 0\.05 with --branches: .* β must be 1/);
    const other = join(dir, "other.jsonl");
    writeFileSync(other, records(2, "llama:/elsewhere/policy.gguf").map((r) => JSON.stringify(r)).join("\n") + "\n");
    await assert.rejects(trainPrm({objective: "implicit", data: [], branches: [other], out: join(dir, "b.gguf"), init: ref.path, steps: 1, quiet: true}), (e: Error) => e instanceof StepwiseError && e.message.startsWith(`${other}:1: labelled with llama:/elsewhere/policy.gguf, but the reference (--init) is`));
    const [r] = records(1);
    const bad = structuredClone(r);
    bad.decisions[0].candidates[2].steps = ["something else" + bad.decisions[0].candidates[2].text];
    assert.throws(() => implicitDecisions(bad as never, tok, "f.jsonl:7"), /^StepwiseError: f\.jsonl:7: decision at token \d+, candidate 2 \("\d"\): its steps do not continue the response so far of candidate 0/);
    // All candidates wrong: nothing to contrast; a candidate of two tokens is left out.
    const allWrong = structuredClone(r);
    allWrong.decisions[0].candidates[0].correct = 0;
    assert.deepEqual(implicitDecisions(allWrong as never, tok, "x"), []);
    const two = structuredClone(r);
    two.decisions[0].candidates[1] = {...two.decisions[0].candidates[1], text: "12", steps: [two.decisions[0].candidates[0].steps[0].slice(0, -1) + "12"]};
    assert.equal(implicitDecisions(two as never, tok, "x")[0].ids.length, 3);
    await assert.rejects(trainPrm({objective: "implicit", data: [], branches: [], out: join(dir, "c.gguf"), init: ref.path, steps: 1, quiet: true}), /needs --data \(graded samples\) or --branches/);
});

test("train-prm --branches (implicit): a decision without its own token is left out; lab: engines are checked against the reference; --labels soft is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-implicit-branches-"));
    const [r] = records(1);
    // The own token (candidate 0) two tokens long, another candidate right: TVD would rank the own token
    // against the others, so without it this is not TVD's decision (index 0 would be read as the own token).
    const noOwn = structuredClone(r);
    const c = noOwn.decisions[0].candidates;
    const prefix = c[0].steps[0].slice(0, -c[0].text.length);
    c[0] = {...c[0], text: "12", steps: [prefix + "12"]};
    c[1].correct = 1;
    assert.deepEqual(implicitDecisions(noOwn as never, tok, "x"), []);
    // lab:NAME is the llama: spec of a shipped model: another model than --init is refused, an unknown name named.
    for (const [engine, message] of [
        ["lab:code-policy", /^.*b\.jsonl:1: labelled with lab:code-policy, but the reference \(--init\) is /],
        ["lab:nope", /^.*b\.jsonl:1: engine spec "lab:nope": lab model "nope": unknown/],
    ] as const) {
        const file = join(dir, "b.jsonl");
        writeFileSync(file, records(2, engine).map((x) => JSON.stringify(x)).join("\n") + "\n");
        await assert.rejects(trainPrm({objective: "implicit", data: [], branches: [file], out: join(dir, "a.gguf"), init: ref.path, steps: 1, quiet: true}), (e: Error) => e instanceof StepwiseError && message.test(e.message));
    }
    const file = join(dir, "ok.jsonl");
    writeFileSync(file, records(2).map((x) => JSON.stringify(x)).join("\n") + "\n");
    await assert.rejects(trainPrm({objective: "implicit", labels: "soft", data: [], branches: [file], out: join(dir, "s.gguf"), init: ref.path, steps: 1, quiet: true}), /--labels soft with --objective implicit: .* hard/);
});

test("train-prm --objective tag+implicit: one model with step labels at its tags and branch decisions as token values; llama:FILE reads steps as the tag PRM and TVD's candidates as the implicit PRM", async () => {
    const {labelled} = await import("../../helpers/lab-labels.ts");
    const {createScorer, HybridPrmScorer, TagPrmScorer, ImplicitPrmScorer} = await import("../../../src/prm/index.ts");
    const dir = mkdtempSync(join(tmpdir(), "stepwise-hybrid-"));
    const labels = join(dir, "labels.jsonl");
    writeFileSync(labels, labelled(24).map((r) => JSON.stringify(r)).join("\n") + "\n");
    const branches = join(dir, "branches.jsonl");
    const recs = records(12);
    writeFileSync(branches, recs.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(dir, "hybrid.gguf");
    const res = await trainPrm({objective: "tag+implicit", data: [labels], branches: [branches], out, init: ref.path, steps: 80, lr: 3e-3, batchSize: 6, valFraction: 0, quiet: true});
    assert.equal(res.trainExamples, 24 + 12);
    const m = await readLlamaGguf(out);
    const meta = m.metadata as Record<string, unknown>;
    assert.equal(meta["stepwise.prm.objective"], "tag+implicit");
    assert.equal(meta["stepwise.prm.beta"], 1);
    assert.equal(meta["stepwise.kind"], "prm");
    // Token values learnt: the right candidate first at (nearly) every trained decision.
    const decisions = recs.flatMap((r, i) => implicitDecisions(r as never, tok, `${branches}:${i + 1}`));
    const first = decisions.filter((d) => {
        const r = decisionRewards(m.config, m.weights, d);
        return r.slice(1).every((x) => x < r[0]);
    }).length;
    assert.ok(first >= 11, `right candidate first at ${first} of 12`);

    const both = await createScorer(`llama:${out}`);
    const tagOnly = await createScorer(`llama:${out}?format=stepwise-lab`);
    const implicitOnly = await createScorer(`llama:${out}?format=implicit`);
    try {
        assert.ok(both instanceof HybridPrmScorer && tagOnly instanceof TagPrmScorer && implicitOnly instanceof ImplicitPrmScorer);
        const [rec] = labelled(1);
        const steps = rec.steps.map((s) => s.text);
        // Steps: the tag reading (P(good) at the tags), not σ(Σ log-ratio).
        const close = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-6);
        const s = await both.scoreSteps(rec.question, steps);
        assert.ok(close(s, await tagOnly.scoreSteps(rec.question, steps)), `${s}`);
        assert.ok(!close(s, await implicitOnly.scoreSteps(rec.question, steps)));
        // Candidates: the implicit reading.
        const cands = [{text: "1"}, {text: "2"}, {text: "+"}];
        const c = await (both as InstanceType<typeof HybridPrmScorer>).scoreContinuations(rec.question, steps.slice(0, 1), cands);
        assert.ok(close(c, await (implicitOnly as InstanceType<typeof ImplicitPrmScorer>).scoreContinuations(rec.question, steps.slice(0, 1), cands)), `${c}`);
        assert.equal((both as InstanceType<typeof HybridPrmScorer>).requestsPerCall, 2);
    } finally {
        await Promise.all([both.close(), tagOnly.close(), implicitOnly.close()]);
    }
    // Moved away from its reference: the tag reading needs none (format=stepwise-lab, and `serve --prm`
    // for /get_reward's step scores); the implicit reading names the missing reference.
    const movedDir = join(mkdtempSync(join(tmpdir(), "stepwise-hybrid-moved-")), "deeper");
    mkdirSync(movedDir);
    const moved = join(movedDir, "hybrid.gguf"); // its reference path, relative to the folder, leads nowhere here
    copyFileSync(out, moved);
    await assert.rejects(createScorer(`llama:${moved}`), /hybrid\.gguf: its reference model .* is missing/);
    const movedTag = await createScorer(`llama:${moved}?format=stepwise-lab`);
    try {
        assert.ok(movedTag instanceof TagPrmScorer);
    } finally {
        await movedTag.close();
    }
    const served = await serveCli(["--prm", moved, "--steps", "newline", "--port", "0", "--context-size", "256"], /get_reward: /);
    try {
        const started = served.stderr;
        assert.match(started, /get_reward: stepwise-lab PRM, steps end at "\\n"/);
    } finally {
        await served.stop();
    }
    await assert.rejects(trainPrm({objective: "tag+implicit", data: [labels], out: join(dir, "x.gguf"), init: ref.path, steps: 1, quiet: true}), /needs --branches/);
    await assert.rejects(trainPrm({objective: "tag+implicit", data: [labels], branches: [branches], out: join(dir, "y.gguf"), steps: 1, quiet: true}), /needs --init/);
    // Both readings must be trained: no step labels, or no usable decisions (here every candidate wrong), is refused, nothing written.
    await assert.rejects(trainPrm({objective: "tag+implicit", data: [], branches: [branches], out: join(dir, "z.gguf"), init: ref.path, steps: 1, quiet: true}), /needs --data \(the step labels/);
    const wrong = join(dir, "wrong.jsonl");
    writeFileSync(wrong, recs.map((r) => JSON.stringify({...r, decisions: r.decisions.map((d) => ({...d, candidates: d.candidates.map((c) => ({...c, correct: 0}))}))})).join("\n") + "\n");
    await assert.rejects(trainPrm({objective: "tag+implicit", data: [labels], branches: [wrong], out: join(dir, "w.gguf"), init: ref.path, steps: 1, quiet: true}), new RegExp(`no branch decisions to train its token values on in .*wrong\\.jsonl`));
    assert.ok(!existsSync(join(dir, "w.gguf")) && !existsSync(join(dir, "z.gguf")));
    // A tag PRM has no β: --beta is refused there, not ignored (as 1 is the only β of tag+implicit).
    await assert.rejects(trainPrm({data: [labels], beta: 0.1, out: join(dir, "t.gguf"), steps: 1, quiet: true}), /--beta 0\.1 with --objective tag: a tag PRM has no β/);
    await assert.rejects(trainPrm({objective: "tag+implicit", data: [labels], branches: [branches], beta: 0.05, out: join(dir, "u.gguf"), init: ref.path, steps: 1, quiet: true}), /β must be 1/);
});
