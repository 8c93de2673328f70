// stepwise-test: long (starts first: scripts/test.mjs)
/**
 * Issue 17 at the command line, model tier (the lab's tiny GGUFs): resumes that would mix
 * settings are refused naming the difference, a second writer is refused, inputs longer than a
 * context are named (file:line, id) or skipped and counted with --skip-too-long.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {assertOneLineError, policy, prm, stepwise, stepwiseAsync, tagPrm} from "../../helpers/cli-run.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-cli-stages-"));
test.after(() => rmSync(dir, {recursive: true, force: true}));
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
const records = (f: string) => readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const longQuestion = `Compute ${Array.from({length: 150}, (_, i) => i + 1).join(" + ")}.`; // > 512 tokens for the lab policy

test("sample: a question longer than the context is named (file:line, id) or skipped and counted; a resume with other settings is refused naming them", () => {
    const data = join(dir, "q.jsonl");
    writeFileSync(data, jsonl([{id: "q0", question: "Compute 3 + 4."}, {id: "q1", question: longQuestion}, {id: "q2", question: "Compute 5 + 6."}]));
    const out = join(dir, "samples.jsonl");
    const args = ["sample", "--engine", `llama:${policy}`, "--data", data, "--out", out, "--n", "2", "--max-tokens", "8", "--concurrency", "1", "--quiet"];
    assertOneLineError(stepwise(args), /q\.jsonl:2 id "q1": .*context.*\(--skip-too-long skips such records and counts them\)/);
    assert.deepEqual(records(out).map((r) => r.id), ["q0#0", "q0#1"], "the records before the failing question are kept");
    const skip = stepwise([...args, "--skip-too-long"]);
    assert.equal(skip.status, 0, skip.stderr);
    assert.match(skip.stderr, /1 question skipped: prompt longer than the context/);
    assert.match(skip.stderr, /sample: skipped .*q\.jsonl:2 id "q1"/);
    assert.deepEqual(records(out).map((r) => r.id), ["q0#0", "q0#1", "q2#0", "q2#1"]);
    // resumes that would mix settings: refused before any model loads, naming the difference
    assertOneLineError(stepwise([...args, "--seed", "1"]), /its 4 records were made with other settings \(seed: 0 → 1\)/);
    // every difference named: max_tokens, top_k, and the sampling fields sent (`sent`) that carry them
    assertOneLineError(stepwise([...args, "--max-tokens", "9", "--top-k", "5"]), /\(max_tokens: 8 → 9; sent: \{.*"max_tokens":8.*"top_k":-1.*\} → \{.*"max_tokens":9.*"top_k":5.*\}; top_k: 0 → 5\)/);
    const other = join(dir, "other-policy.gguf");
    copyFileSync(policy, other);
    assertOneLineError(stepwise(["sample", "--engine", `llama:${other}`, ...args.slice(3)]), /engine: \{"kind":"llama","model":"lab-policy\.gguf".*→ \{"kind":"llama","model":"other-policy\.gguf"/);
    // the same settings (other concurrency) resume: nothing to do
    const again = stepwise([...args, "--skip-too-long", "--concurrency", "2"]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /0 samples written, 4 already in/);
});

test("sample: a second writer on the same --out is refused while the first runs; after a kill -9 the next run takes the lock over", async () => {
    const data = join(dir, "q30.jsonl");
    writeFileSync(data, jsonl(Array.from({length: 30}, (_, i) => ({id: `q${i}`, question: `Compute ${i} + ${i + 1}.`}))));
    const out = join(dir, "two-writers.jsonl");
    const args = ["sample", "--engine", `llama:${policy}`, "--data", data, "--out", out, "--n", "4", "--max-tokens", "60", "--concurrency", "1", "--quiet"];
    const first = stepwiseAsync(args);
    try {
        for (let i = 0; i < 1200 && !existsSync(`${out}.lock`); i++) await new Promise((r) => setTimeout(r, 50));
        assert.ok(existsSync(`${out}.lock`), "the first run holds the lock");
        const second = stepwise(args);
        assertOneLineError(second, new RegExp(`two-writers\\.jsonl: another run is writing this file \\(pid ${first.child.pid}, .*\\); two writers would duplicate records`));
    } finally {
        first.child.kill("SIGKILL");
        await first.done;
    }
    assert.ok(existsSync(`${out}.lock`), "a kill -9 leaves the lock behind");
    const resumed = stepwise([...args, "--limit", "1"]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /took over a stale lock of pid \d+/);
    const ids = records(out).map((r) => r.id);
    assert.equal(new Set(ids).size, ids.length, "no duplicate ids");
    assert.ok(!existsSync(`${out}.lock`));
});

/** A steps record as `stepwise split` writes it, from step texts. */
function stepsRecord(id: string, question: string, texts: string[]) {
    let at = 0;
    const steps = texts.map((t) => ({text: t, start: at, end: (at += t.length)}));
    return {id, question_id: id.split("#")[0], sample_index: 0, question, prompt: `${question}\n`, text: texts.join(""), strategy: "newline", steps};
}

test("score: a record longer than the PRM's context is named or skipped and counted; records name their PRM; another PRM is refused", () => {
    const input = join(dir, "steps.jsonl");
    const long = Array.from({length: 70}, (_, i) => `${i} + ${i} = ${2 * i}\n`);
    writeFileSync(input, jsonl([stepsRecord("a#0", "Compute 1 + 2.", ["1 + 2 = 3\n", "The answer is 3."]), stepsRecord("b#0", "Compute 2 + 2.", long)]));
    const out = join(dir, "scores.jsonl");
    const args = ["score", "--prm", `llama:${prm}`, "--in", input, "--out", out, "--concurrency", "1"];
    assertOneLineError(stepwise(args), /steps\.jsonl:2 id "b#0": PRM input is \d+ tokens \(70 steps\), longer than the PRM's context \(512 tokens\).*--skip-too-long/);
    assert.deepEqual(records(out).map((r) => r.id), ["a#0"], "the record before the failing one is kept");
    const skip = stepwise([...args, "--skip-too-long"]);
    assert.equal(skip.status, 0, skip.stderr);
    assert.match(skip.stderr, /0 records scored .*1 already in .*; 1 record skipped: longer than the PRM's context/);
    assert.match(skip.stderr, /score: skipped .*steps\.jsonl:2 id "b#0": PRM input is/);
    const [rec] = records(out);
    assert.equal(rec.prm, `llama:${prm}`);
    assert.equal(rec.step_scores.length, 2);
    const other = join(dir, "other-prm.gguf");
    copyFileSync(tagPrm, other); // another PRM (the pair's tag PRM: a copied pair would lose the tag PRM it names)
    assertOneLineError(stepwise(["score", "--prm", `llama:${other}`, ...args.slice(3)]), /other settings \(prm: .*lab-prm\.gguf.*→ .*other-prm\.gguf/);
});

test("label: a sample whose rollout prompt does not fit is skipped and counted; a resume with another engine is refused", () => {
    const input = join(dir, "label-in.jsonl");
    writeFileSync(input, jsonl([stepsRecord("a#0", "Compute 1 + 2.", ["1 + 2 = 3\n", "The answer is 3."]), stepsRecord("b#0", longQuestion, ["1 + 2 = 3\n"])]));
    const out = join(dir, "labels.jsonl");
    const args = ["label", "--engine", `llama:${policy}`, "--verifier", "lab", "--in", input, "--out", out, "--k", "1", "--max-tokens", "8", "--concurrency", "1"];
    const r = stepwise([...args, "--skip-too-long"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /label: skipped .*label-in\.jsonl:2 id "b#0"/);
    assert.deepEqual(records(out).map((x) => x.id), ["a#0"]);
    assert.equal(records(out)[0].rollout_engine, `llama:${policy}`, "the records name the engine that labelled them");
    const other = join(dir, "policy-copy.gguf");
    copyFileSync(policy, other);
    assertOneLineError(stepwise(["label", "--engine", `llama:${other}`, ...args.slice(3), "--skip-too-long"]), /other settings \(engine: .*lab-policy\.gguf.*→ .*policy-copy\.gguf/);
    assertOneLineError(stepwise([...args, "--skip-too-long", "--k", "2"]), /method: "K=1,.*" → "K=2,/);
});
