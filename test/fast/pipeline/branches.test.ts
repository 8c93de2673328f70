import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, writeFileSync, readFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {ScriptedPolicy, scriptFrom} from "../../helpers/scripted-policy.ts";
import {labelBranches, labelBranchesFile, summarizeBranches} from "../../../src/pipeline/label/branches.ts";
import {StepwiseError} from "../../../src/util/errors.ts";
import type {BranchLabelRecord} from "../../../src/core/records.ts";

// A policy that writes "x = 1, y = 4." with two decisions: the digit after "x = " (1: 0.5, 2: 0.3,
// 7: 0.2) and after "y = " (4: 0.45, 5: 0.4, 6: 0.15). The answer is right when x is 1 and y is 4.
const full = "x = 1, y = 4.";
const policy = () =>
    new ScriptedPolicy(
        scriptFrom(
            (ctx) => {
                const r = ctx.slice(ctx.indexOf("\n") + 1);
                // After a replaced digit the policy carries on as if it had written the right one.
                const at = r.length;
                return at < full.length ? full[at] : null;
            },
            {"x = ": [["1", 0.5], ["2", 0.3], ["7", 0.2]], "y = ": [["4", 0.45], ["5", 0.4], ["6", 0.15]]},
        ),
    );
const verify = async ({solution}: {solution: string}) => /x = 1, y = 4\.$/.test(solution);

async function greedySample() {
    const p = policy();
    const [s] = await p.generate({prompt: "Q\n", temperature: 0, topLogprobs: 8, maxTokens: 50});
    return {id: "q#0", question_id: "q", question: "Q", prompt: "Q\n", text: s.text, tokens: s.tokens, temperature: 0, finish_reason: s.finishReason, gold: "x"};
}

test("branch labels: every decision's top-k candidates rolled out, candidate 0 graded from the greedy sample itself", async () => {
    const sample = await greedySample();
    assert.equal(sample.text, full);
    const p = policy();
    const r = await labelBranches(sample, {engine: p, verify, tau: 0.55, cutoff: "raw"});
    assert.deepEqual(
        r.decisions.map((d) => [d.position, d.offset, d.top_prob, d.candidates.map((c) => [c.text, c.prob, c.correct, c.n])]),
        [
            [4, 4, 0.5, [["1", 0.5, 1, 1], ["2", 0.3, 0, 1], ["7", 0.2, 0, 1]]],
            [11, 11, 0.45, [["4", 0.45, 1, 1], ["5", 0.4, 0, 1], ["6", 0.15, 0, 1]]],
        ],
    );
    // The PRM input of a candidate: steps cut after each earlier decision token, the candidate ending the last.
    assert.deepEqual(r.decisions[1].candidates[1].steps, ["x = 1", ", y = 5"]);
    assert.deepEqual(r.decisions[0].candidates[2].steps, ["x = 7"]);
    // 4 rollouts (2 alternatives × 2 decisions), none for the sample's own tokens.
    assert.equal(r.cost.rollouts, 4);
    assert.equal(p.prompts.length, 4);
    assert.ok(p.prompts.includes("Q\nx = 1, y = 6"));
    const s = summarizeBranches([r as BranchLabelRecord]);
    assert.equal(s.mixed_decisions, 2);
    assert.equal(s.mixed_own_right, 2);
});

test("branch labels: τ and k choose the decisions and candidates; min-prob drops unlikely ones", async () => {
    const sample = await greedySample();
    const r = await labelBranches(sample, {engine: policy(), verify, tau: 0.48, cutoff: "raw", k: 2});
    assert.deepEqual(r.decisions.map((d) => d.candidates.map((c) => c.text)), [["4", "5"]]);
    const m = await labelBranches(sample, {engine: policy(), verify, tau: 0.55, cutoff: "raw", minProb: 0.25});
    assert.deepEqual(m.decisions.map((d) => d.candidates.map((c) => c.text)), [["1", "2"], ["4", "5"]]);
    assert.match(m.method, /min-prob=0.25/);
});

test("branch labels: a sample without alternatives is refused naming the file, line and field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "branches-"));
    const sample = await greedySample();
    const line = {...sample, sample_index: 0, engine: "scripted", seed: 0, tokens: sample.tokens.map(({text, confidence}) => ({text, confidence}))};
    writeFileSync(join(dir, "s.jsonl"), JSON.stringify(line) + "\n");
    await assert.rejects(
        labelBranchesFile({engine: policy(), verifier: verify, input: join(dir, "s.jsonl"), out: join(dir, "b.jsonl")}),
        (e: unknown) => e instanceof StepwiseError && /s\.jsonl:1: field "tokens": no token has "top"/.test(e.message) && /--top-logprobs 8/.test(e.message),
    );
    await assert.rejects(labelBranches({...line}, {engine: policy(), verify, where: "x.jsonl:3"}), /x\.jsonl:3: tokens\[0\] has no "top"/);
});

test("branch labels file: resumes, same records as one uninterrupted run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "branches-"));
    const sample = await greedySample();
    const rows = [0, 1, 2].map((i) => JSON.stringify({...sample, id: `q${i}#0`, question_id: `q${i}`, sample_index: 0, engine: "scripted", seed: 0}));
    writeFileSync(join(dir, "s.jsonl"), rows.join("\n") + "\n");
    const a = await labelBranchesFile({engine: policy(), verifier: verify, input: join(dir, "s.jsonl"), out: join(dir, "a.jsonl"), tau: 0.55, cutoff: "raw"});
    assert.equal(a.written, 3);
    await labelBranchesFile({engine: policy(), verifier: verify, input: join(dir, "s.jsonl"), out: join(dir, "b.jsonl"), tau: 0.55, cutoff: "raw", limit: 1});
    const b = await labelBranchesFile({engine: policy(), verifier: verify, input: join(dir, "s.jsonl"), out: join(dir, "b.jsonl"), tau: 0.55, cutoff: "raw"});
    assert.equal(b.written, 2);
    assert.equal(b.skipped, 1);
    assert.equal(readFileSync(join(dir, "b.jsonl"), "utf8"), readFileSync(join(dir, "a.jsonl"), "utf8"));
});

test("train-prm branch examples: the tag PRM's input layout, one target at the last tag per labelled candidate", async () => {
    const {branchExamples, prmExample} = await import("../../../src/pipeline/train-prm.ts");
    const {CharTokenizer, buildCharVocab} = await import("../../../src/model/vocab.ts");
    const tok = new CharTokenizer(buildCharVocab());
    const r = await labelBranches(await greedySample(), {engine: policy(), verify, tau: 0.55, cutoff: "raw"});
    const hard = branchExamples(r, tok, "hard");
    assert.equal(hard.length, 6);
    assert.deepEqual(hard.map((e) => e.tags.map((t) => t.target)), [[1], [0], [0], [1], [0], [0]]);
    // Same tokens as a labelled sample with those steps (prmExample), tag positions included.
    const ex = hard[4]; // decision 2, candidate "5": steps ["x = 1", ", y = 5"]
    const steps = ["x = 1", ", y = 5"];
    let at = 0;
    const same = prmExample({id: "s", question_id: "q", question: "Q", steps: steps.map((text) => ({text, start: at, end: (at += text.length)})), hard: [1, 0], soft: [null, null]}, tok, "hard")!;
    assert.deepEqual(ex.tokens, same.tokens);
    assert.deepEqual(ex.tags, [same.tags[1]]);
    assert.deepEqual([ex.record, ex.decision, ex.candidate], ["q#0", 1, 1]);
    // Soft targets: the fraction of rollouts right; candidates without rollouts give no example.
    const soft = branchExamples({...r, decisions: [{...r.decisions[0], candidates: [{...r.decisions[0].candidates[0], n: 4, correct: 3}, {...r.decisions[0].candidates[1], n: 0, correct: 0}]}]}, tok, "soft");
    assert.deepEqual(soft.map((e) => e.tags[0].target), [0.75]);
});

/**
 * "Compute 12 + 7." written by a scripted lab policy: `target(response so far)` is the text it
 * follows from there, `branches` its distributions at decision points; the greedy sample of it.
 */
async function labCase(target: (response: string) => string, branches: Record<string, Array<[string, number]>>) {
    const {labVerifier} = await import("../../../src/domains/lab/verifier.ts");
    const q = "Compute 12 + 7.";
    const lab = () =>
        new ScriptedPolicy(
            scriptFrom((ctx) => {
                const r = ctx.slice(ctx.indexOf("\n") + 1);
                const t = target(r);
                return r.length < t.length ? t[r.length] : null;
            }, branches),
        );
    const [s] = await lab().generate({prompt: `${q}\n`, temperature: 0, topLogprobs: 8, maxTokens: 80});
    const sample = {id: "l#0", question_id: "l", question: q, prompt: `${q}\n`, text: s.text, tokens: s.tokens, temperature: 0, finish_reason: s.finishReason, gold: "19"};
    return {q, lab, sample, labVerifier, verify: await labVerifier.create()};
}

test("branch labels from exact step truth (--labels truth): each candidate's line completed greedily and judged by the lab's step truth; junk a rollout forgives is wrong", async () => {
    const solution = "So 12 + 7 = 19.\nThe answer is 19.";
    // One decision, at the first digit of the result: "1" (right), "2" (a wrong digit), a line break (junk that
    // leaves "So 12 + 7 =" unfinished; the policy writes "19." on the next line and still answers 19).
    const {q, lab, sample, labVerifier, verify} = await labCase(() => solution, {"So 12 + 7 = ": [["1", 0.5], ["2", 0.3], ["\n", 0.2]]});
    assert.equal(sample.text, solution);
    const p = lab();
    const truth = await labelBranches(sample, {engine: p, verify, truth: labVerifier.truth, labels: "truth", tau: 0.55, cutoff: "raw"});
    assert.deepEqual(truth.decisions.map((d) => d.candidates.map((c) => [c.text, c.correct])), [[["1", 1], ["2", 0], ["\n", 0]]]);
    // One completion per candidate (the sample's own token too), to the end of its line only.
    assert.deepEqual(p.prompts, ["1", "2", "\n"].map((c) => `${q}\nSo 12 + 7 = ${c}`));
    assert.match(truth.method, /labels=truth/);
    assert.equal(truth.cost.rollouts, 3);
    // Outcome rollouts call the wrong digit and the line break right: this policy writes past both and still answers 19.
    const rolled = await labelBranches(sample, {engine: lab(), verify, tau: 0.55, cutoff: "raw"});
    assert.deepEqual(rolled.decisions[0].candidates.map((c) => [c.text, c.correct]), [["1", 1], ["2", 1], ["\n", 1]]);
    await assert.rejects(labelBranches(sample, {engine: lab(), verify, labels: "truth", tau: 0.55, cutoff: "raw"}), /needs a verifier with exact step truth/);
});

test("branch labels from truth and rollouts (--labels truth+rollouts): right only when the line is right AND the rollout answers right; candidates the truth calls wrong are not rolled out", async () => {
    const solution = "So 12 + 7 = 19.\nThe answer is 19.";
    // Two decisions. At the start: "S" (the sample's own) or "T", which starts a right line ("Then 12 + 7 = 19.")
    // after which this policy answers 91: one line judged alone is right, its cost comes after the line.
    // At the result's first digit: "1", a wrong digit, and a line break the policy writes past (a rollout forgives both).
    const {q, lab, sample, labVerifier, verify} = await labCase((r) => (r.startsWith("T") ? "Then 12 + 7 = 19.\nThe answer is 91." : solution), {
        "Compute 12 + 7.\n": [["S", 0.5], ["T", 0.4]],
        "So 12 + 7 = ": [["1", 0.5], ["2", 0.3], ["\n", 0.2]],
    });
    assert.equal(sample.text, solution);
    const labels = async (how: "rollouts" | "truth" | "truth+rollouts") => {
        const p = lab();
        const r = await labelBranches(sample, {engine: p, verify, truth: labVerifier.truth, labels: how, tau: 0.55, cutoff: "raw"});
        return {r, p, got: r.decisions.map((d) => d.candidates.map((c) => `${c.text}:${c.correct}`).join(" "))};
    };
    const truth = await labels("truth");
    assert.deepEqual(truth.got, ["S:1 T:1", "1:1 2:0 \n:0"]);
    const rolled = await labels("rollouts");
    assert.deepEqual(rolled.got, ["S:1 T:0", "1:1 2:1 \n:1"]);
    const both = await labels("truth+rollouts");
    assert.deepEqual(both.got, ["S:1 T:0", "1:1 2:0 \n:0"]);
    // Five line completions and one rollout, of "T", which goes on after the line its completion wrote (not
    // written twice); the own tokens are graded from the sample; "2" and the break are wrong already.
    assert.deepEqual(both.p.prompts, [...["S", "T"].map((c) => `${q}\n${c}`), `${q}\nThen 12 + 7 = 19.\n`, ...["1", "2", "\n"].map((c) => `${q}\nSo 12 + 7 = ${c}`)]);
    assert.equal(both.r.cost.rollouts, 6);
    // Line completions "o 12 + 7 = 19.", "hen 12 + 7 = 19.", "9." × 3, then T's rollout "The answer is 91." only
    // (a rollout from "T" would write "hen 12 + 7 = 19.\n" again first: 17 more tokens).
    assert.equal(both.r.cost.generated_tokens, 14 + 16 + 2 * 3 + 17);
    // An engine that does not say which stop string ended the line (a server without stop_reason) gets the full rollout.
    const silent = lab();
    const generate = silent.generate.bind(silent);
    silent.generate = async (req) => (await generate(req)).map(({stopString: _s, ...rest}) => rest);
    const full = await labelBranches(sample, {engine: silent, verify, truth: labVerifier.truth, labels: "truth+rollouts", tau: 0.55, cutoff: "raw"});
    assert.deepEqual(full.decisions, both.r.decisions);
    assert.equal(silent.prompts[2], `${q}\nT`);
    assert.equal(full.cost.generated_tokens, 14 + 16 + 2 * 3 + 17 + "hen 12 + 7 = 19.\n".length);
    assert.match(both.r.method, /labels=truth\+rollouts,rollouts=1,T=0/);
    await assert.rejects(labelBranches(sample, {engine: lab(), verify, labels: "truth+rollouts", tau: 0.55, cutoff: "raw"}), /labels "truth\+rollouts" needs a verifier with exact step truth/);
});

test("label-branches --labels truth: refuses rollout settings it would ignore, and a verifier without step truth, before loading a model", async () => {
    const {runCli} = await import("../../helpers/cli.ts");
    const dir = mkdtempSync(join(tmpdir(), "branches-cli-"));
    writeFileSync(join(dir, "s.jsonl"), "");
    const base = ["label-branches", "--engine", "llama:/nonexistent.gguf", "--samples", join(dir, "s.jsonl"), "--out", join(dir, "b.jsonl"), "--labels", "truth"];
    const r = runCli([...base, "--verifier", "lab", "--rollouts", "4", "--temperature", "1"]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--labels truth completes each candidate's line once, greedily: drop --rollouts and --temperature/);
    const m = runCli([...base, "--verifier", "math"]);
    assert.notEqual(m.status, 0);
    assert.match(m.stderr, /--labels truth needs a verifier with exact step truth \("math" has none; the lab's: --verifier lab\)/);
});
