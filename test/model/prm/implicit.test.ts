/**
 * Implicit PRMs end to end on a tiny model: `train-prm --objective implicit` on graded samples
 * (outcome labels only; the samples' confidences are πref), the GGUF's self-description, and the
 * scorer behind `llama:FILE`: step scores σ(β·Σ log πθ/πref) at step ends, candidate scores from
 * one pass equal to scoring each continuation alone, and the errors for bad inputs.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {copyFileSync, mkdirSync, mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {dirname, join} from "node:path";
import {generateProblems} from "../../../src/domains/lab/index.ts";
import {trainPrm, implicitExample} from "../../../src/pipeline/train-prm.ts";
import {CharTokenizer} from "../../../src/model/vocab.ts";
import {nextTokenProbs} from "../../../src/model/forward.ts";
import {readLlamaGguf} from "../../../src/gguf/llama.ts";
import {createScorer, ImplicitPrmScorer} from "../../../src/prm/index.ts";
import {StepwiseError} from "../../../src/util/errors.ts";
import {tinyModel} from "../../helpers/tiny-model.ts";
import {runCli} from "../../helpers/cli.ts";

const ref = tinyModel(5, 4);
const tok = new CharTokenizer(ref.vocab);

/** Lab solutions as samples of the tiny model: every other one states a wrong final answer; confidences from the model itself. */
function samples(n: number, engine = `llama:${ref.path}`) {
    return generateProblems(n, {seed: 4, split: "train", knobs: {minOps: 2, maxOps: 2}}).map((p, i) => {
        const wrong = i % 2 === 1;
        const text = wrong ? p.solution.replace(/The answer is (-?\d+)\.$/, (_m, v) => `The answer is ${Number(v) + 7}.`) : p.solution;
        const prompt = p.question + "\n";
        const ids = tok.encode(text);
        const input = [...tok.encode(prompt, {addBos: true}), ...ids];
        const probs = nextTokenProbs(ref.config, ref.weights, input);
        const from = input.length - ids.length;
        const tokens = ids.map((id, j) => ({text: ref.vocab.tokens[id].replace("▁", " "), id, confidence: probs[from + j - 1][id]}));
        return {id: `${p.id}#0`, question_id: p.id, sample_index: 0, question: p.question, prompt, text, tokens, finish_reason: "eos", gold: p.answer, engine, seed: 0, temperature: 1};
    });
}

function logp(weights: typeof ref.weights, input: number[], j: number): number {
    return Math.log(nextTokenProbs(ref.config, weights, input)[j - 1][input[j]]);
}

test("train-prm --objective implicit: outcome loss falls; the GGUF names its objective, β, reference and template; llama:FILE scores σ(β·Σ log πθ/πref)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-implicit-"));
    const data = join(dir, "samples.jsonl");
    writeFileSync(data, samples(48).map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(dir, "prm", "implicit.gguf");
    const r = await trainPrm({objective: "implicit", data: [data], out, init: ref.path, beta: 0.5, steps: 40, lr: 3e-3, batchSize: 8, valFraction: 0.2, quiet: true});
    const head = r.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
    const tail = r.losses.slice(-5).reduce((a, b) => a + b) / 5;
    assert.ok(tail < head, `loss ${head} → ${tail}`);
    const m = await readLlamaGguf(out);
    const meta = m.metadata as Record<string, unknown>;
    assert.equal(meta["stepwise.kind"], "prm");
    assert.equal(meta["stepwise.prm.objective"], "implicit");
    assert.ok(Math.abs((meta["stepwise.prm.beta"] as number) - 0.5) < 1e-7);
    assert.equal(meta["stepwise.prm.reference"], join("..", "..", ref.path.split("/").slice(-2).join("/")));
    assert.equal(meta["stepwise.prm.template"], "{question}\n");

    const scorer = await createScorer(`llama:${out}?sequences=2`);
    try {
        assert.ok(scorer instanceof ImplicitPrmScorer);
        const [s] = samples(1);
        const steps = ["First, ", s.text.slice(7, 20), s.text.slice(20)];
        const scores = await scorer.scoreSteps(s.question, steps);
        // The same from the JS forward passes of both models.
        const prompt = tok.encode(s.prompt, {addBos: true});
        const input = [...prompt, ...tok.encode(steps.join(""))];
        let q = 0;
        let end = prompt.length;
        steps.forEach((st, i) => {
            const stop = end + st.length;
            for (let j = end; j < stop; j++) q += 0.5 * (logp(m.weights, input, j) - logp(ref.weights, input, j));
            end = stop;
            assert.ok(Math.abs(scores[i] - 1 / (1 + Math.exp(-q))) < 1e-3, `step ${i}: ${scores[i]} vs ${1 / (1 + Math.exp(-q))}`);
        });
        // Candidates from one pass = each continuation scored alone.
        const cands = [{text: "9"}, {text: "1", id: tok.encode("1")[0]}, {text: " "}];
        const one = await (scorer as ImplicitPrmScorer).scoreContinuations(s.question, steps, cands);
        for (const [c, cand] of cands.entries()) {
            const alone = await scorer.scoreSteps(s.question, [...steps.slice(0, -1), steps[2] + cand.text]);
            assert.ok(Math.abs(one[c] - alone[2]) < 1e-4, `${cand.text}: ${one[c]} vs ${alone[2]}`);
        }
    } finally {
        await scorer.close();
    }

    // Served, an implicit PRM is a plain model: `serve --prm` (STEP pooling at tags) refuses it, naming the file.
    const served = runCli(["serve", "--prm", out, "--port", "0"]);
    assert.equal(served.status, 1);
    assert.ok(served.stderr.includes(`serve --prm ${out}: an implicit PRM has no step tag to pool`), served.stderr);

    // The reference travels with the PRM: moved without it, the spec names what is missing.
    const lonely = join(mkdtempSync(join(tmpdir(), "stepwise-implicit-")), "implicit.gguf");
    copyFileSync(out, lonely);
    await assert.rejects(createScorer(`llama:${lonely}`), (e: Error) => e instanceof StepwiseError && e.message.includes(lonely) && e.message.includes("reference model") && e.message.includes("missing"));
});

test("train-prm --objective implicit refuses samples drawn by another model, tokens without ids, one-sided labels", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-implicit-"));
    const other = join(dir, "other.jsonl");
    writeFileSync(other, samples(4, "llama:/elsewhere/policy.gguf").map((r) => JSON.stringify(r)).join("\n") + "\n");
    await assert.rejects(trainPrm({objective: "implicit", data: [other], out: join(dir, "a.gguf"), init: ref.path, steps: 1, quiet: true}), (e: Error) => e instanceof StepwiseError && e.message.startsWith(`${other}:1: sampled with llama:/elsewhere/policy.gguf`));
    const [s] = samples(1);
    assert.throws(() => implicitExample({...s, tokens: [{text: "F", confidence: 0.5}]}, tok, 1, "f.jsonl:3"), /^StepwiseError: f\.jsonl:3: tokens\[0\] has no token id/);
    const right = join(dir, "right.jsonl");
    writeFileSync(right, samples(8).filter((_, i) => i % 2 === 0).map((r) => JSON.stringify(r)).join("\n") + "\n");
    await assert.rejects(trainPrm({objective: "implicit", data: [right], out: join(dir, "b.gguf"), init: ref.path, steps: 1, quiet: true, valFraction: 0}), /all 4 training samples are right/);
    await assert.rejects(trainPrm({objective: "implicit", data: [right], out: join(dir, "c.gguf"), steps: 1, quiet: true}), /needs --init/);
});

test("train-prm: a resume with other data (by content), β or schedule is refused, naming them; the same options resume", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-implicit-"));
    const a = join(dir, "a.jsonl");
    writeFileSync(a, samples(8).map((r) => JSON.stringify(r)).join("\n") + "\n");
    const base = {objective: "implicit" as const, out: join(dir, "p.gguf"), init: ref.path, steps: 2, batchSize: 2, valFraction: 0, quiet: true, checkpointDir: join(dir, "ck")};
    await trainPrm({...base, data: [a]});
    await assert.rejects(trainPrm({...base, data: [a], beta: 0.25}), /another run \(settings\.beta: 0\.05 → 0\.25\)/);
    await assert.rejects(trainPrm({...base, data: [a], lr: 1e-3}), /another run \(schedule\.lr: 0\.0001 → 0\.001\)/);
    // The same file changed in place is other data; a copy of it elsewhere is the same data; β 0.05 given is the default.
    const copy = join(dir, "copy", "a.jsonl");
    mkdirSync(dirname(copy));
    copyFileSync(a, copy);
    writeFileSync(a, samples(6).map((r) => JSON.stringify(r)).join("\n") + "\n");
    await assert.rejects(trainPrm({...base, data: [a]}), /another run \(settings\.data: "a\.jsonl sha256:[0-9a-f]{16}" → "a\.jsonl sha256:[0-9a-f]{16}"\)/);
    assert.equal((await trainPrm({...base, data: [copy], beta: 0.05, steps: 3})).steps, 3);
});
