// The code lab's tasks and the `stepwise code` commands (run, generate, grade) through the real CLI.
import {test} from "node:test";
import assert from "node:assert/strict";
import {runCli} from "../../helpers/cli.ts";
import {mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {generateCodeProblems, isCodeLabQuestion, parseCodeQuestion} from "../../../src/domains/code/lab/tasks.ts";
import {detectSandbox} from "../../../src/domains/code/sandbox.ts";
import {verifyCandidates} from "../../../src/domains/code/verifier.ts";
import {makeCodeVerifier} from "../../../src/domains/code/pipeline.ts";

const info = detectSandbox();
const skip = info.kind !== "bwrap" && process.getuid?.() !== 0 ? `no sandbox here: ${info.reason}` : false;
if (skip) console.log(`# skipping sandboxed code-lab tests: ${skip}`);

const cli = (...args: string[]) => runCli(args);

test("code lab: seeded tasks, disjoint splits, question round trip", () => {
    const a = generateCodeProblems(50, {seed: 3});
    assert.deepEqual(a, generateCodeProblems(50, {seed: 3}));
    const h = generateCodeProblems(30, {seed: 3, split: "heldout"});
    const train = new Set(generateCodeProblems(400, {seed: 9}).map((p) => p.question));
    assert.ok(h.every((p) => !train.has(p.question) && p.split === "heldout"));
    for (const p of a) {
        assert.ok(isCodeLabQuestion(p.question));
        const q = parseCodeQuestion(p.question, p.task_id);
        assert.equal(q.completion, p.completion);
        assert.equal(q.test, p.test);
        assert.equal(p.steps.join(""), p.completion);
        assert.match(p.test, /^def check\(candidate\):\n( {4}assert candidate\(.*\) == -?\d+\n){5}$/);
        // every step is a comment line and its code
        for (const s of p.steps.slice(0, -1)) assert.match(s, /# .+\n.+\n$/);
    }
    assert.ok(a.some((p) => p.family === "loop") && a.some((p) => p.family === "expr"));
    assert.throws(() => parseCodeQuestion("Compute 2 + 3."), /not a lab task/);
});

test("code lab: reference solutions pass and wrong programs fail in the sandbox", {skip}, async () => {
    const tasks = generateCodeProblems(12, {seed: 5});
    const problems = new Map(tasks.map((t) => [t.task_id, t]));
    const good = tasks.map((t) => ({id: `${t.task_id}#ref`, task_id: t.task_id, completion: t.completion}));
    // A wrong step: the last assignment/accumulation uses "-" instead of "+" (or vice versa).
    const bad = tasks.map((t) => ({id: `${t.task_id}#bad`, task_id: t.task_id, completion: t.completion.replace(/return (\w+)\n$/, "return $1 + 1\n")}));
    const verdicts = await verifyCandidates(problems, [...good, ...bad], {concurrency: 2, limits: {wallMs: 60_000}});
    assert.deepEqual(verdicts.filter((v) => v.id.endsWith("#ref") && v.status !== "pass"), []);
    assert.ok(verdicts.filter((v) => v.id.endsWith("#bad")).every((v) => v.status === "fail" && v.detail.startsWith("assert candidate(")));
    const verify = makeCodeVerifier({limits: {wallMs: 60_000}});
    assert.equal(await verify({question: tasks[0].question, gold: undefined, solution: tasks[0].completion}), true);
    assert.equal(await verify({question: tasks[0].question, gold: undefined, solution: "```python\n" + tasks[0].completion + "```\n"}), true);
    assert.equal(await verify({question: tasks[0].question, gold: undefined, solution: "I do not know."}), false);
});

test("code run: verdicts per candidate, resumable, clear errors", {skip}, async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-code-cli-"));
    const problems = join(dir, "problems.jsonl");
    const candidates = join(dir, "candidates.jsonl");
    const out = join(dir, "verdicts.jsonl");
    const r = cli("code", "generate", "--n", "3", "--seed", "2", "--out", problems);
    assert.equal(r.status, 0, r.stderr);
    const tasks = readFileSync(problems, "utf8").trim().split("\n").map((l) => JSON.parse(l) as {task_id: string; completion: string});
    const rows = [
        {id: "a", task_id: tasks[0].task_id, completion: tasks[0].completion},
        {id: "b", task_id: tasks[1].task_id, completion: "def f(*args):\n    return 10**6\n"},
        {id: "c", task_id: tasks[2].task_id, completion: "def f(:\n"},
        {id: "d", task_id: tasks[2].task_id, completion: "def f(*a):\n    while True:\n        pass\n"},
    ];
    writeFileSync(candidates, rows.slice(0, 2).map((x) => JSON.stringify(x)).join("\n") + "\n");
    let run = cli("code", "run", "--problems", problems, "--candidates", candidates, "--out", out, "--timeout", "60", "--cpu", "2", "--quiet");
    assert.equal(run.status, 0, run.stderr);
    // the summary teaches: this run's counts per status and speed, then where the verdicts are and their totals
    assert.match(run.stderr, /^code run: verified 2 candidates in [\d.]+ s \([\d.]+ candidates\/s\): pass 1, fail 1, timeout 0, memory 0, error 0$/m);
    assert.match(run.stderr, /^verdicts: .*verdicts\.jsonl, 2 in all: pass 1, fail 1, timeout 0, memory 0, error 0; pass rate 50\.0%\. Each line is \{id, task_id, status, detail, wall_ms\}/m);
    writeFileSync(candidates, rows.map((x) => JSON.stringify(x)).join("\n") + "\n");
    run = cli("code", "run", "--problems", problems, "--candidates", candidates, "--out", out, "--timeout", "60", "--cpu", "2", "--quiet", "--json");
    assert.equal(run.status, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as {out: string; written: number; skipped: number; counts: Record<string, number>; run_counts: Record<string, number>; pass_rate: number; seconds: number; per_second: number};
    assert.equal(summary.written, 2);
    assert.equal(summary.skipped, 2);
    assert.equal(summary.out, out);
    assert.deepEqual(summary.run_counts, {pass: 0, fail: 0, timeout: 1, memory: 0, error: 1});
    assert.deepEqual(summary.counts, {pass: 1, fail: 1, timeout: 1, memory: 0, error: 1});
    assert.equal(summary.pass_rate, 0.25);
    assert.ok(summary.seconds > 0 && summary.per_second > 0 && Math.abs(summary.per_second - 2 / summary.seconds) < 1e-9);
    const again = cli("code", "run", "--problems", problems, "--candidates", candidates, "--out", out, "--timeout", "60", "--cpu", "2", "--quiet");
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /^code run: nothing to run: all 4 candidates are already in .*verdicts\.jsonl$/m);
    assert.match(again.stderr, /^verdicts: .*, 4 in all \(4 from earlier runs\): pass 1, fail 1, timeout 1, memory 0, error 1; pass rate 25\.0%/m);
    const verdicts = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as {id: string; status: string; detail: string; wall_ms: number; task_id: string});
    assert.deepEqual(verdicts.map((v) => v.id).sort(), ["a", "b", "c", "d"]);
    const by = Object.fromEntries(verdicts.map((v) => [v.id, v]));
    assert.equal(by.a.status, "pass");
    assert.equal(by.b.status, "fail");
    assert.match(by.b.detail, /^assert candidate\(.*\) == -?\d+ \(got 1000000\)$/);
    assert.equal(by.c.status, "error");
    assert.match(by.c.detail, /SyntaxError/);
    assert.equal(by.d.status, "timeout");
    assert.ok(verdicts.every((v) => typeof v.wall_ms === "number" && Object.keys(v).sort().join() === "detail,id,status,task_id,wall_ms"));
    // Bad input: the error names the file, line and field.
    writeFileSync(candidates, JSON.stringify({id: "x", task_id: tasks[0].task_id}) + "\n");
    const bad = cli("code", "run", "--problems", problems, "--candidates", candidates, "--out", join(dir, "x.jsonl"));
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /candidates\.jsonl:1: field `completion` must be a string/);
    // A task_id the problems file lacks is bad input (not an "error" verdict): refused before anything runs.
    writeFileSync(candidates, [{id: "y", task_id: tasks[0].task_id, completion: "x = 1\n"}, {id: "z", task_id: "no-such-task", completion: "x = 1\n"}, {id: "w", task_id: "nor-this", completion: ""}].map((x) => JSON.stringify(x)).join("\n") + "\n");
    const orphan = cli("code", "run", "--problems", problems, "--candidates", candidates, "--out", join(dir, "y.jsonl"));
    assert.equal(orphan.status, 1);
    assert.match(orphan.stderr, /candidates\.jsonl: candidate "z" has task_id "no-such-task", which .*problems\.jsonl does not have \(2 candidates have unknown task_ids\)/);
    assert.equal(readFileSync(join(dir, "y.jsonl"), "utf8"), "", "nothing ran");
});
