/**
 * The commands that had no CLI test: label, score, train-prm and serve, each run as a user runs
 * it (a child process on the sources, test/helpers/cli.ts) on the shipped lab models, small.
 * The demo's end-to-end test is test/demo/demo.test.ts.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {spawn} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import OpenAI from "openai";
import {generateProblems} from "../../../src/domains/lab/index.ts";
import {labPrompt} from "../../../src/apps/lab/eval/policy.ts";
import type {StepsRecord} from "../../../src/core/records.ts";
import {cliArgs, runCli} from "../../helpers/cli.ts";

const policy = new URL("../../../models/lab-policy.gguf", import.meta.url).pathname;
const prm = new URL("../../../models/lab-prm.gguf", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "stepwise-cli-"));
const lines = (file: string) => readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

/** Six held-out lab problems with their canonical solutions split at line breaks. */
function stepsFile(): string {
    const file = join(dir, "steps.jsonl");
    const records: StepsRecord[] = generateProblems(6, {seed: 7, split: "heldout"}).map((p) => {
        const steps = [];
        let start = 0;
        for (const line of p.solution.split(/(?<=\n)/)) {
            steps.push({text: line, start, end: start + line.length, token_start: start, token_end: start + line.length});
            start += line.length;
        }
        return {id: `${p.id}#0`, question_id: p.id, sample_index: 0, question: p.question, prompt: labPrompt(p), text: p.solution, gold: String(p.answer), strategy: "newline", steps};
    });
    writeFileSync(file, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
    return file;
}

test("stepwise label: MC labels with the lab verifier and exact truth, resumes, names bad verifiers", () => {
    const steps = stepsFile();
    const out = join(dir, "labels.jsonl");
    const args = ["label", "--engine", `llama:${policy}`, "--verifier", "lab", "--truth", "--in", steps, "--out", out, "--k", "2", "--max-tokens", "120", "--json"];
    const r = runCli(args);
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as {written: number; skipped: number; steps: number; truth?: {samples: number}};
    assert.equal(summary.written, 6);
    assert.equal(summary.truth?.samples, 6, "--truth compares with the lab's exact step truth");
    const labels = lines(out);
    assert.equal(labels.length, 6);
    for (const l of labels) {
        const n = (l.steps as unknown[]).length;
        assert.equal((l.hard as unknown[]).length, n);
        assert.equal((l.soft as unknown[]).length, n);
        assert.ok(l.truth && typeof (l.truth as {first_error: number}).first_error === "number");
        assert.match(l.method as string, /^K=2,/);
    }
    const again = runCli(args);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual([JSON.parse(again.stdout).written, JSON.parse(again.stdout).skipped], [0, 6], "a finished file is resumed, not redone");

    const bad = runCli(["label", "--engine", `llama:${policy}`, "--verifier", "nope", "--in", steps, "--out", join(dir, "x.jsonl")]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^stepwise: unknown verifier "nope" \(registered: math, lab/m);
    const noTruth = runCli(["label", "--engine", `llama:${policy}`, "--verifier", "math", "--truth", "--in", steps, "--out", join(dir, "x.jsonl")]);
    assert.equal(noTruth.status, 1);
    assert.match(noTruth.stderr, /verifier "math" knows no exact step truth/);
});

test("stepwise score: one PRM score per step, in [0, 1]", () => {
    const steps = existsSync(join(dir, "steps.jsonl")) ? join(dir, "steps.jsonl") : stepsFile();
    const out = join(dir, "scored.jsonl");
    const r = runCli(["score", "--prm", `llama:${prm}`, "--in", steps, "--out", out]);
    assert.equal(r.status, 0, r.stderr);
    for (const rec of lines(out)) {
        const scores = rec.step_scores as number[];
        assert.equal(scores.length, (rec.steps as unknown[]).length);
        for (const s of scores) assert.ok(s >= 0 && s <= 1, `score ${s}`);
    }
});

test("stepwise train-prm: a few steps on labels write a PRM GGUF and its training report; bad flags are named", () => {
    const labels = join(dir, "labels.jsonl");
    if (!existsSync(labels)) runCli(["label", "--engine", `llama:${policy}`, "--verifier", "lab", "--in", stepsFile(), "--out", labels, "--k", "2", "--max-tokens", "120"]);
    const out = join(dir, "tiny-prm.gguf");
    const r = runCli(["train-prm", "--data", labels, "--out", out, "--steps", "2", "--d-model", "16", "--layers", "1", "--heads", "1", "--batch", "2", "--val-fraction", "0.3"]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(out) && readFileSync(out).subarray(0, 4).toString() === "GGUF");
    const report = JSON.parse(readFileSync(out.replace(/\.gguf$/, ".train.json"), "utf8")) as Record<string, unknown>;
    assert.ok(report.validation, "the training report has a validation section");
    const bad = runCli(["train-prm", "--data", labels, "--out", out, "--labels", "fuzzy", "--steps", "1"]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--labels: expected hard or soft, got "fuzzy"/);

    // With --checkpoint-dir: an earlier run's checkpoint is never continued or dropped unasked, as in the other trainers.
    const ck = join(dir, "tiny-prm-ck");
    const args = ["train-prm", "--data", labels, "--out", out, "--steps", "2", "--d-model", "16", "--layers", "1", "--heads", "1", "--batch", "2", "--val-fraction", "0.3", "--checkpoint-dir", ck];
    assert.equal(runCli(args).status, 0);
    const again = runCli(args);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^stepwise: train-prm: \S*checkpoint\.bin holds an earlier run's checkpoint; --resume continues it, --fresh starts over/m);
    const resumed = runCli([...args.map((a, i) => (args[i - 1] === "--steps" ? "3" : a)), "--resume"]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(readFileSync(join(ck, "train.log"), "utf8"), /resumed from .* at step 2\/3/);
    const other = runCli([...args, "--resume", "--lr", "0.01"]);
    assert.match(other.stderr, /checkpoint of another run \(schedule\.lr: 0\.001 → 0\.01\)/);
    assert.equal(runCli([...args, "--fresh"]).status, 0);
    assert.match(readFileSync(join(ck, "train.log"), "utf8"), /started at step 0 \(a fresh run\)\n(.*\n)*$/);
});

test("stepwise serve: the OpenAI client talks to it; SIGTERM stops it cleanly, a request in flight answered first", async () => {
    // lab:policy: the shipped model by name, resolved to the package's models/ folder.
    const child = spawn(process.execPath, cliArgs("serve", "lab:policy", "--port", "0", "--sequences", "2"), {stdio: ["ignore", "ignore", "pipe"]});
    let stderr = "";
    const url = await new Promise<string>((resolve, reject) => {
        child.stderr!.on("data", (d: Buffer) => {
            stderr += d.toString();
            const m = / at (http:\/\/\S+\/v1)/.exec(stderr);
            if (m) resolve(m[1]);
        });
        child.once("exit", (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
    });
    try {
        const client = new OpenAI({baseURL: url, apiKey: "none"});
        const models = await client.models.list();
        assert.equal(models.data.length, 1);
        assert.match(stderr, /stepwise serve: \/.*models\/lab-policy\.gguf at http/);
        const c = await client.completions.create({model: models.data[0].id, prompt: "Compute 2 + 3.\n", max_tokens: 40, temperature: 0, logprobs: 2});
        assert.equal(c.choices.length, 1);
        assert.match(c.choices[0].text, /5/);
        assert.equal(c.choices[0].logprobs?.tokens?.length, c.usage?.completion_tokens);
        // SIGTERM while a request is in flight: it is answered, then the server exits (it used to be dropped with its socket).
        const inFlight = client.completions.create({model: models.data[0].id, prompt: "Compute 2 + 3.\n", max_tokens: 200, n: 6, temperature: 1, seed: 1});
        await new Promise((r) => setTimeout(r, 150));
        const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        const answered = await inFlight;
        assert.equal(answered.choices.length, 6);
        assert.equal(await exited, 0, stderr);
        assert.match(stderr, /stopping: requests in flight finish first/);
    } finally {
        if (child.exitCode === null && child.signalCode === null) {
            const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
            child.kill("SIGTERM");
            assert.equal(await exited, 0, stderr);
        }
    }
});
