// stepwise-test: long (starts first: scripts/test.mjs)
/**
 * `stepwise decode` end to end in a child process (bin/stepwise.mjs): lab problems from
 * `stepwise lab generate` with the shipped models in-process, and GSM8K rows (skipped without
 * ../shared/data) with the policy and PRM behind `stepwise serve` (OpenAI engine).
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {spawn} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {startServer, type RunningServer} from "../../../src/apps/serve/server.ts";
import {buildCharVocab} from "../../../src/model/vocab.ts";

const root = new URL("../../../", import.meta.url).pathname;
const POLICY = join(root, "models/lab-policy.gguf");
const PRM = join(root, "models/lab-prm.gguf");
const GSM8K = new URL("../../../../shared/data/gsm8k/test.jsonl", import.meta.url).pathname;

function cli(args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
    return new Promise((resolve) => {
        const p = spawn(process.execPath, [join(root, "bin/stepwise.mjs"), ...args], {cwd: root});
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d) => (stdout += d));
        p.stderr.on("data", (d) => (stderr += d));
        p.on("close", (code) => resolve({code: code ?? 1, stdout, stderr}));
    });
}

let dir: string;
before(() => {
    dir = mkdtempSync(join(tmpdir(), "stepwise-decode-cli-"));
});

test("decode on lab problems: greedy and TVD records, --json summary, resume, clear errors", async () => {
    const data = join(dir, "lab.jsonl");
    assert.equal((await cli(["lab", "generate", "--n", "3", "--split", "heldout", "--seed", "7", "--out", data])).code, 0);
    const greedy = await cli(["decode", "--strategy", "greedy", "--policy", `llama:${POLICY}`, "--data", data, "--out", join(dir, "g.jsonl"), "--json", "--max-tokens", "200"]);
    assert.equal(greedy.code, 0, greedy.stderr);
    const gs = JSON.parse(greedy.stdout);
    assert.deepEqual(Object.keys(gs).slice(0, 9), ["strategy", "n", "accuracy", "ci95", "accuracy_ci", "policy_tokens_per_question", "prm_calls_per_question", "requests_per_question", "wall_s"]);
    assert.equal(gs.n, 3);
    assert.match(greedy.stderr, /decode greedy: 3 questions decoded/);
    // the accuracy as an interval: Wilson over the 3 graded questions, quoted with n on stderr
    assert.deepEqual([gs.accuracy_ci.value, gs.accuracy_ci.low, gs.accuracy_ci.high, gs.accuracy_ci.n, gs.accuracy_ci.method], [gs.accuracy, gs.ci95[0], gs.ci95[1], 3, "wilson"].map((x) => (typeof x === "number" && x < 1 ? Math.round(x * 1e4) / 1e4 : x)));
    assert.match(greedy.stderr, /accuracy [\d.]+% \(95% CI [\d.]+–[\d.]+, n 3\)/);
    const out = join(dir, "t.jsonl");
    const args = ["decode", "--strategy", "tvd", "--policy", `llama:${POLICY}`, "--prm", `llama:${PRM}`, "--data", data, "--out", out, "--json", "--max-tokens", "200"];
    const tvd = await cli([...args, "--paired-with", join(dir, "g.jsonl")]);
    assert.equal(tvd.code, 0, tvd.stderr);
    // TVD − greedy, paired by question: the difference of the two accuracies, its interval and the sentence
    const ts = JSON.parse(tvd.stdout);
    assert.equal(ts.paired.n, 3);
    assert.equal(ts.paired.interval.value, Math.round((ts.accuracy - gs.accuracy) * 1e4) / 1e4);
    assert.equal(ts.paired.interval.method, "paired-bootstrap-percentile");
    assert.ok(ts.paired.interval.low <= ts.paired.interval.value && ts.paired.interval.value <= ts.paired.interval.high);
    assert.match(ts.paired.sentence, /^tvd − greedy: .* points; the difference is (not )?significant at 95%: interval .* points, n 3$/);
    assert.ok(tvd.stderr.includes(`paired with ${join(dir, "g.jsonl")}: ${ts.paired.sentence}`), tvd.stderr);
    const missing = await cli([...args, "--paired-with", join(dir, "nope.jsonl")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--paired-with .*nope\.jsonl: no such file/);
    const records = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(records.length, 3);
    for (const r of records) {
        for (const f of ["id", "strategy", "text", "answer", "correct", "tokens", "prm_calls", "requests", "trace"]) assert.ok(f in r, `record has ${f}`);
        assert.equal(typeof r.correct, "boolean");
        for (const t of r.trace) assert.ok(t.type === "tvd" || t.type === "tvd-skip");
    }
    const again = await cli(args);
    assert.equal(JSON.parse(again.stdout).skipped, 3);
    // a PRM strategy without --prm, and a changed setting on resume, fail with one line
    const noPrm = await cli(["decode", "--strategy", "beam", "--policy", `llama:${POLICY}`, "--data", data, "--out", join(dir, "b.jsonl")]);
    assert.equal(noPrm.code, 1);
    assert.match(noPrm.stderr, /decode --strategy beam needs --prm SPEC/);
    const changed = await cli([...args.slice(0, -2), "--max-tokens", "100"]);
    assert.equal(changed.code, 1);
    assert.match(changed.stderr, /method: "tvd tau=0.55 .*max_tokens=200" → ".*max_tokens=100"/);
});

let policyServer: RunningServer | undefined;
let prmServer: RunningServer | undefined;
let engines: LlamaEngine[] = [];
after(async () => {
    await policyServer?.close();
    await prmServer?.close();
    for (const e of engines) await e.close();
});

test("decode GSM8K rows through stepwise serve (OpenAI engine): gold read from '#### N', every strategy runs", {skip: existsSync(GSM8K) ? false : `no GSM8K file at ${GSM8K}`}, async () => {
    const policy = await LlamaEngine.load(POLICY, {sequences: 4});
    const prm = await LlamaEngine.load(join(root, "models/lab-tag-prm.gguf"), {sequences: 4}); // served raw as a tag PRM: the tag PRM, not the pair
    engines = [policy, prm];
    const vocab = buildCharVocab();
    policyServer = await startServer({engine: policy, port: 0, modelName: "policy"});
    prmServer = await startServer({engine: prm, port: 0, modelName: "prm", pooling: {stepTagId: vocab.stepTagId, returnedTokenIds: [vocab.goodId, vocab.badId]}});
    for (const strategy of ["greedy", "tvd", "best-of-n", "weighted-vote", "beam", "dvts"]) {
        const out = join(dir, `gsm8k-${strategy}.jsonl`);
        const r = await cli([
            "decode", "--strategy", strategy,
            "--policy", `openai:${policyServer.url}/v1?model=policy`,
            "--prm", `openai:${prmServer.url}/v1?model=prm&format=stepwise-lab`,
            "--data", GSM8K, "--limit", "1", "--out", out, "--json",
            "--max-tokens", "16", "--n", "2", "--beam-width", "2", "--max-steps", "2", "--template", "Question: {question}\\nAnswer:",
        ]);
        assert.equal(r.code, 0, `${strategy}: ${r.stderr}`);
        const records = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
        assert.equal(records.length, 1, strategy);
        assert.equal(records[0].gold, "18", "Janet's ducks: #### 18");
        for (const rec of records) assert.equal(typeof rec.correct, "boolean");
        assert.equal(JSON.parse(r.stdout).n, 1);
    }
});
