/**
 * `lab eval-policy --baseline`: the shipped lab policy against itself on 6 held-out problems × 2
 * samples — every paired difference exactly 0 — and the resumable decoded outputs (a cut run
 * continues into the files and figures of an uncut one).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {runCli} from "../../helpers/cli.ts";
import {decodedFolder} from "../../../src/apps/lab/eval/run.ts";

const tmp = mkdtempSync(join(tmpdir(), "stepwise-eval-policy-"));
const out = join(tmp, "ab");
const args = ["lab", "eval-policy", "--policy", "models/lab-policy.gguf", "--baseline", "models/lab-policy.gguf", "--n", "6", "--samples", "2", "--out", out];

test("lab eval-policy --baseline itself: paired differences exactly 0; maj@N, pass@N and wrong-step shares with Wilson intervals; resumable", () => {
    const r = runCli([...args, "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j), ["policy", "baseline", "paired"]);
    assert.deepEqual(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")), j);
    const p = j.policy;
    assert.equal(p.n, 6);
    for (const [iv, n] of [[p.greedy_accuracy_ci, 6], [p.maj_at_k_ci, 6], [p.pass_at_k_ci["2"], 6]] as const) assert.deepEqual([iv.n, iv.method, iv.level], [n, "wilson", 0.95]);
    assert.equal(p.maj_at_k_ci.value, p.maj_at_k);
    const g = p.right_answer_wrong_step.greedy;
    const s = p.right_answer_wrong_step.samples;
    assert.equal(g.right, Math.round(p.greedy_accuracy * 6));
    assert.equal(s.right, Math.round(p.sample_accuracy * 12));
    if (s.right > 0) assert.deepEqual([s.share_ci.n, s.share_ci.method], [s.right, "wilson"]);
    // the same model file: the same decoded folder and the same figures
    assert.deepEqual(j.baseline, p);
    assert.deepEqual(readdirSync(join(out, "decoded")).length, 1);
    for (const f of ["greedy_accuracy", "maj_at_k", "pass_at_k"]) {
        const d = j.paired[f];
        assert.deepEqual([d.difference.value, d.difference.low, d.difference.high, d.difference.n, d.difference.method], [0, 0, 0, 6, "paired-bootstrap-percentile"], f);
        assert.deepEqual([d.mcnemar.a_only, d.mcnemar.b_only, d.mcnemar.value], [0, 0, 1], f);
    }
    assert.match(r.stderr, /eval-policy: greedy \(lab-policy\.gguf\): 6\/6/);
    assert.match(r.stderr, /eval-policy: samples \(lab-policy\.gguf\): 6\/6/);

    // A killed run: the samples file cut mid-record, greedy missing its last records.
    const dir = join(out, "decoded", readdirSync(join(out, "decoded"))[0]);
    const files = {greedy: join(dir, "greedy.jsonl"), samples: join(dir, "samples.jsonl")};
    const whole = {greedy: readFileSync(files.greedy, "utf8"), samples: readFileSync(files.samples, "utf8")};
    assert.equal(whole.samples.trim().split("\n").length, 12);
    const sampleLines = whole.samples.split("\n");
    writeFileSync(files.samples, sampleLines.slice(0, 5).join("\n") + "\n" + sampleLines[5].slice(0, 40));
    writeFileSync(files.greedy, whole.greedy.split("\n").slice(0, 2).join("\n") + "\n");
    const again = runCli([...args, "--json"]);
    assert.equal(again.status, 0, again.stderr);
    // The same records and figures; token confidences redrawn in another llama.cpp batch may differ
    // in the 7th decimal, so the confidence summary is compared to 1e-5.
    const withoutConfidence = (x: {policy: {confidence: unknown}; baseline: {confidence: unknown}}) => ({...x, policy: {...x.policy, confidence: null}, baseline: {...x.baseline, confidence: null}});
    const j2 = JSON.parse(again.stdout);
    assert.deepEqual(withoutConfidence(j2), withoutConfidence(j));
    assert.ok(Math.abs(j2.policy.confidence.mean - p.confidence.mean) < 1e-5);
    for (const kind of ["greedy", "samples"] as const) {
        const [a, b] = [whole[kind], readFileSync(files[kind], "utf8")].map((t) => t.trim().split("\n").map((l) => JSON.parse(l) as {id: string; text: string; tokens: Array<{text: string; confidence: number}>}));
        assert.deepEqual(b.map((x) => [x.id, x.text]), a.map((x) => [x.id, x.text]), kind);
        b.forEach((x, i) => x.tokens.forEach((t, k) => assert.ok(Math.abs(t.confidence - a[i].tokens[k].confidence) < 1e-5, `${x.id} token ${k}`)));
    }
    assert.match(again.stderr, /eval-policy: greedy \(lab-policy\.gguf\): 6\/6/);

    // the text report: one block per policy, then the paired sentences
    const text = runCli(args);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^policy:\nmodels\/lab-policy\.gguf on 6 held-out problems\ngreedy accuracy [\d.]+% \(95% CI [\d.]+–[\d.]+, n 6\)\n/);
    assert.match(text.stdout, /\nmaj@2 [\d.]+% \(95% CI [\d.]+–[\d.]+, n 6\)\n/);
    assert.match(text.stdout, /\nbaseline:\nmodels\/lab-policy\.gguf on 6 held-out problems\n/);
    assert.match(text.stdout, /\npaired over 6 problems \(95% paired-bootstrap intervals\):\n {2}models\/lab-policy\.gguf − models\/lab-policy\.gguf greedy accuracy: 0\.0 points; the difference is not significant at 95%: interval 0\.0 to 0\.0 points, n 6; McNemar exact p = 1\.000 \(0 problems only models\/lab-policy\.gguf got right, 0 only models\/lab-policy\.gguf\)\n/);
    assert.match(text.stdout, /\n {2}.* maj@2: 0\.0 points;.*\n {2}.* pass@2: 0\.0 points;/);
});

test("lab eval-policy: a missing baseline fails in one line before anything is decoded; --policy and --model disagreeing is refused; a PRM as the policy is refused", () => {
    const where = join(tmp, "missing");
    const r = runCli(["lab", "eval-policy", "--baseline", join(tmp, "nope.gguf"), "--n", "2", "--samples", "1", "--out", where]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /nope\.gguf: model file not found/);
    assert.equal(existsSync(join(where, "decoded")), false);
    const both = runCli(["lab", "eval-policy", "--policy", "a.gguf", "--model", "b.gguf", "--n", "2"]);
    assert.equal(both.status, 1);
    assert.match(both.stderr, /eval-policy: --policy and --model name the same setting; give one/);
    // A PRM as the policy (a new-user trial got "greedy accuracy 0.0%" from its garbage): refused, naming the kind.
    const prm = runCli(["lab", "eval-policy", "--policy", "models/lab-tag-prm.gguf", "--n", "2", "--samples", "1", "--out", join(tmp, "prm")]);
    assert.equal(prm.status, 1);
    assert.match(prm.stderr, /lab-tag-prm\.gguf: is a stepwise prm model \(GGUF metadata stepwise\.kind = "prm"\), not a policy/);
    assert.equal(existsSync(join(tmp, "prm", "decoded")), false);
});

test("decodedFolder: named after the model, keyed by its bytes and the settings (a retrained file at the same path gets a new folder)", () => {
    const model = join(tmp, "policy.gguf");
    copyFileSync("models/lab-policy.gguf", model);
    const settings = {seed: 0, preset: "policy", maxTokens: 200};
    const first = decodedFolder("root", model, settings);
    assert.match(first, /^root\/policy-[0-9a-f]{16}$/);
    assert.equal(decodedFolder("root", model, {...settings}), first);
    for (const other of [{...settings, seed: 1}, {...settings, maxTokens: 100}, {...settings, preset: "prm"}]) assert.notEqual(decodedFolder("root", model, other), first, JSON.stringify(other));
    copyFileSync("models/lab-prm.gguf", model); // another model written to the same path
    assert.notEqual(decodedFolder("root", model, settings), first);
});
