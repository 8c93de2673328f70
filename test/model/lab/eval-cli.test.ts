/**
 * The --json of `lab eval-policy` and `code eval-policy` carries every quoted figure's interval
 * {value, low, high, n, method, level} (runs the shipped lab models on a few problems).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {runCli} from "../../helpers/cli.ts";
import {policyIntervals} from "../../../src/apps/lab/eval/policy.ts";

const isInterval = (iv: {value: number; low: number; high: number; n: number; method: string; level: number}, n: number, what: string) => {
    assert.deepEqual([iv.n, iv.method, iv.level], [n, "wilson", 0.95], what);
    assert.ok(iv.low <= iv.value && iv.value <= iv.high && iv.low >= 0 && iv.high <= 1, `${what}: ${JSON.stringify(iv)}`);
    assert.ok(iv.high > iv.low, `${what}: never zero width`);
};

test("policyIntervals: Wilson over problems, means of per-problem fractions as mean · n", () => {
    // 20 problems: greedy right on 10; 4 samples each, all right → sample accuracy and pass@k 100% but not a zero-width interval
    const rows = Array.from({length: 20}, (_, i) => ({greedy: i < 10, samples: 4, right: 4}));
    const c = policyIntervals(rows, [1, 4]);
    assert.deepEqual([c.greedy.value, c.greedy.low, c.greedy.high, c.greedy.n], [0.5, 0.2993, 0.7007, 20]);
    assert.deepEqual([c.sample!.value, c.sample!.low, c.sample!.high], [1, 0.8389, 1]);
    assert.deepEqual([c.passAtK["4"].value, c.passAtK["4"].low], [1, 0.8389]);
    // none right: 0/20 → [0, 0.1611]
    const none = policyIntervals(rows.map((r) => ({...r, greedy: false, right: 0})), [1]);
    assert.deepEqual([none.greedy.high, none.sample!.high, none.passAtK["1"].high], [0.1611, 0.1611, 0.1611]);
    assert.equal(policyIntervals(rows.map((r) => ({...r, samples: 0, right: 0})), []).sample, null);
});

test("lab eval-policy --json: greedy, sample and pass@k intervals over the problems", () => {
    const out = mkdtempSync(join(tmpdir(), "stepwise-eval-policy-"));
    const r = runCli(["lab", "eval-policy", "--n", "5", "--k", "2", "--json", "--out", out]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout).policy;
    isInterval(j.greedy_accuracy_ci, 5, "greedy");
    assert.equal(j.greedy_accuracy_ci.value, j.greedy_accuracy);
    isInterval(j.sample_accuracy_ci, 5, "sample");
    isInterval(j.pass_at_k_ci["2"], 5, "pass@2");
    for (const v of Object.values(j.accuracy_by_ops) as Array<{n: number; greedy_accuracy_ci: never}>) isInterval(v.greedy_accuracy_ci, v.n, "by ops");
    const text = runCli(["lab", "eval-policy", "--n", "5", "--k", "2", "--out", out]);
    assert.match(text.stdout, /on 5 held-out problems\ngreedy accuracy [\d.]+% \(95% CI [\d.]+–[\d.]+, n 5\)\nsample accuracy /);
});

test("code eval-policy --json: greedy pass@1, sample pass rate and pass@k intervals over the tasks", () => {
    const r = runCli(["code", "eval-policy", "--n", "3", "--k", "2", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    isInterval(j.pass_at_1_greedy_ci, 3, "greedy pass@1");
    isInterval(j.sample_pass_rate_ci, 3, "sample pass rate");
    isInterval(j.pass_at_k_ci["2"], 3, "pass@2");
    assert.equal(j.pass_at_k_ci["2"].value, Math.round(j.pass_at_k["2"] * 1e4) / 1e4);
});
