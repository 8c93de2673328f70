/**
 * `stepwise label --verifier code` on data other than the code lab, through the real CLI: a
 * LeetCodeDataset-shaped problems file given as `--verifier-arg problems=FILE`, rollouts from a
 * scripted OpenAI-compatible server on loopback, programs run in the bubblewrap sandbox.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {spawn} from "node:child_process";
import {createServer, type Server} from "node:http";
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {cliArgs} from "../../helpers/cli.ts";
import {detectSandbox} from "../../../src/domains/code/sandbox.ts";

const info = detectSandbox();
const skip = info.kind !== "bwrap" && process.getuid?.() !== 0 ? `no sandbox here: ${info.reason}` : false;
if (skip) console.log(`# skipping sandboxed label tests: ${skip}`);

const dir = mkdtempSync(join(tmpdir(), "stepwise-code-label-"));
test.after(() => rmSync(dir, {recursive: true, force: true}));
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
};

/** Two problems in the LeetCodeDataset shape (task_id, question, prompt preamble, test, entry_point, completion). */
const PROBLEMS = [
    {
        task_id: "add-two-integers",
        question: "Given two integers a and b, return their sum.",
        prompt: "from typing import *\n",
        entry_point: "Solution().add",
        test: "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-4, 4) == 0\n    assert candidate(10, 5) == 15\n",
        completion: "class Solution:\n    def add(self, a: int, b: int) -> int:\n        return a + b\n",
    },
    {
        task_id: "largest-element",
        question: "Given a non-empty list of integers nums, return its largest element.",
        prompt: "from typing import *\n",
        entry_point: "Solution().largest",
        test: "def check(candidate):\n    assert candidate([3, 1, 2]) == 3\n    assert candidate([-5, -2, -9]) == -2\n",
        completion: "class Solution:\n    def largest(self, nums: List[int]) -> int:\n        return max(nums)\n",
    },
];

/** A split record whose text is a fenced program, one step per two lines. */
function record(id: string, problem: (typeof PROBLEMS)[number], program: string, gold: string | undefined, intro = "Here is the solution.") {
    const text = `${intro}\n\`\`\`python\n${program}\`\`\`\n`;
    const prompt = `${problem.question}\n`;
    const lines = text.split(/(?<=\n)/);
    const steps = [];
    let start = 0;
    for (let i = 0; i < lines.length; i += 2) {
        const t = lines.slice(i, i + 2).join("");
        steps.push({text: t, start, end: start + t.length, token_start: start, token_end: start + t.length});
        start += t.length;
    }
    return {id, question_id: id.split("#")[0], sample_index: 0, question: problem.question, prompt, text, ...(gold !== undefined ? {gold} : {}), strategy: "newline", steps};
}

const [add, largest] = PROBLEMS;
const RECORDS = [
    record("add#0", add, add.completion, add.task_id), // passes
    record("largest#0", largest, largest.completion.replace("max(nums)", "min(nums)"), largest.task_id), // fails its tests
    record("largest#1", largest, largest.completion, undefined, "A solution:"), // no gold: found by its question; passes
];

/**
 * A policy on loopback that continues every prompt with the rest of the record it is a prefix of
 * (one token per line), so a step's rollouts rewrite that record's own program. (Records must
 * differ in their first step for that.)
 */
async function rewritingServer(records: Array<{prompt: string; text: string}>): Promise<{url: string; server: Server}> {
    const server = createServer(async (req, res) => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const send = (status: number, body: unknown) => {
            res.writeHead(status, {"content-type": "application/json"});
            res.end(JSON.stringify(body));
        };
        if (req.url === "/v1/models") return send(200, {object: "list", data: [{id: "rewriter"}]});
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {prompt: string; n?: number};
        const full = records.map((r) => r.prompt + r.text).find((t) => t.startsWith(body.prompt));
        if (full === undefined) return send(400, {error: {message: "unknown prompt"}});
        const tokens = full.slice(body.prompt.length).split(/(?<=\n)/).filter(Boolean);
        const choice = (index: number) => ({
            index,
            text: tokens.join(""),
            logprobs: {tokens, token_logprobs: tokens.map(() => 0), top_logprobs: tokens.map((t) => ({[t]: 0})), text_offset: tokens.map(() => 0)},
            finish_reason: "stop",
            stop_reason: null,
        });
        send(200, {id: "x", object: "text_completion", model: "rewriter", choices: Array.from({length: body.n ?? 1}, (_, i) => choice(i))});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    return {url: `http://127.0.0.1:${(server.address() as {port: number}).port}/v1`, server};
}

/** `stepwise ARGS…` as a child process (asynchronously: the scripted server answers from this process). */
function stepwise(args: string[]): Promise<{status: number | null; stdout: string; stderr: string}> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, cliArgs(...args), {stdio: ["ignore", "pipe", "pipe"]});
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (status) => resolve({status, stdout, stderr}));
    });
}

const lines = (f: string) => readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as {id: string; hard: Array<number | null>; first_negative: number});

test("label --verifier code --verifier-arg problems=FILE: passing programs label positive, failing ones negative; resumes; settings checked", {skip}, async () => {
    const problems = file("problems.jsonl", jsonl(PROBLEMS));
    const steps = file("steps.jsonl", jsonl(RECORDS));
    const {url, server} = await rewritingServer(RECORDS);
    try {
        const out = join(dir, "labels.jsonl");
        const args = ["label", "--engine", `openai:${url}?retries=1`, "--verifier", "code", "--verifier-arg", `problems=${problems}`, "--verifier-arg", "timeout=60", "--in", steps, "--out", out, "--k", "2", "--json"];
        const r = await stepwise(args);
        assert.equal(r.status, 0, r.stderr);
        const byId = Object.fromEntries(lines(out).map((x) => [x.id, x]));
        assert.deepEqual(Object.keys(byId).sort(), ["add#0", "largest#0", "largest#1"]);
        assert.deepEqual(byId["add#0"].hard, [1, 1, 1]);
        assert.deepEqual(byId["largest#1"].hard, [1, 1, 1]);
        // the wrong program fails the tests from its first step on; labelling stops there (Qwen recipe)
        assert.equal(byId["largest#0"].first_negative, 0);
        assert.equal(byId["largest#0"].hard[0], 0);
        const summary = JSON.parse(r.stdout) as {written: number; positive_steps: number; negative_steps: number};
        assert.equal(summary.written, 3);
        assert.equal(summary.positive_steps, 6);
        assert.equal(summary.negative_steps, 1);
        // the same command resumes (nothing left); another verifier argument is refused by the settings check
        const again = await stepwise(args);
        assert.equal(again.status, 0, again.stderr);
        assert.equal((JSON.parse(again.stdout) as {written: number; skipped: number}).skipped, 3);
        const changed = await stepwise(args.map((a) => (a === "timeout=60" ? "timeout=30" : a)));
        assert.equal(changed.status, 1);
        assert.match(changed.stderr, /verifier_args: .*"timeout":"60".* → .*"timeout":"30"/);
    } finally {
        server.close();
    }
});

test("label --verifier code: an unknown task_id, an unmatched question, a missing or absent problems file and bad arguments are one-line errors", {skip}, async () => {
    const problems = file("problems2.jsonl", jsonl(PROBLEMS));
    const unknown = record("x#0", add, add.completion, "no-such-task");
    const orphan = {...record("y#0", add, add.completion, undefined), question: "A question no problem has.", prompt: "A question no problem has.\n"};
    const {url, server} = await rewritingServer([unknown, orphan]);
    const run = (name: string, rows: unknown[], ...extra: string[]) =>
        stepwise(["label", "--engine", `openai:${url}?retries=1`, "--verifier", "code", "--in", file(`${name}.jsonl`, jsonl(rows)), "--out", join(dir, `${name}-out.jsonl`), "--k", "1", ...extra]);
    const oneLine = (r: {status: number | null; stderr: string}, pattern: RegExp) => {
        assert.equal(r.status, 1, r.stderr);
        const msg = r.stderr.split("\n").filter((l) => l.startsWith("stepwise:"));
        assert.equal(msg.length, 1, r.stderr);
        assert.match(msg[0], pattern);
    };
    try {
        oneLine(await run("unknown", [unknown], "--verifier-arg", `problems=${problems}`), /problems2\.jsonl has no problem with task_id "no-such-task"/);
        oneLine(await run("orphan", [orphan], "--verifier-arg", `problems=${problems}`), /no gold .*problems2\.jsonl has no problem with its question "A question no problem has\."/);
        oneLine(await run("nofile", [unknown], "--verifier-arg", `problems=${join(dir, "missing.jsonl")}`), /verifier "code": argument problems=.*missing\.jsonl: no such file/);
        oneLine(await run("noarg", [unknown]), /not a code-lab task; give the problems file \(label: --verifier-arg problems=FILE/);
        oneLine(await run("typo", [unknown], "--verifier-arg", `problem=${problems}`), /verifier "code" takes no argument "problem" \(its arguments: problems, timeout, cpu\)/);
        oneLine(await run("badtime", [unknown], "--verifier-arg", `problems=${problems}`, "--verifier-arg", "timeout=soon"), /argument timeout=soon: expected a positive number of seconds/);
        oneLine(await run("noeq", [unknown], "--verifier-arg", "problems"), /--verifier-arg: expected KEY=VALUE, got "problems"/);
        oneLine(await run("twice", [unknown], "--verifier-arg", "cpu=1", "--verifier-arg", "cpu=2"), /--verifier-arg: "cpu" given twice/);
        oneLine(await run("math", [unknown], "--verifier", "math", "--verifier-arg", `problems=${problems}`), /verifier "math" takes no arguments \(got "problems"\)/);
    } finally {
        server.close();
    }
});
