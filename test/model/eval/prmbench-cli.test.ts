// stepwise-test: long (starts first: scripts/test.mjs)
import {test} from "node:test";
import assert from "node:assert/strict";
import {spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";

const root = new URL("../../..", import.meta.url).pathname;
const driver = join(root, "test/helpers/cli-driver.ts");
const SUBSET = new URL("../../../../shared/data/prmbench/subset400.jsonl", import.meta.url).pathname;

function stepwise(...args: string[]): {status: number | null; stdout: string; stderr: string} {
    const r = spawnSync(process.execPath, ["--import", "tsx", driver, ...args], {cwd: root, encoding: "utf8"});
    return {status: r.status, stdout: r.stdout, stderr: r.stderr};
}

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

/** Short lab-style rows (they fit the lab PRM's context). */
function rows(): unknown[] {
    return [
        {idx: "p0", classification: "redundency", question: "3 + 4 * 2 = ?", original_process: ["4 * 2 = 8", "3 + 8 = 11"], modified_process: ["4 * 2 = 8", "8 = 8", "3 + 8 = 11"], error_steps: [2]},
        {idx: "p0", classification: "counterfactual", question: "3 + 4 * 2 = ?", modified_process: ["4 * 2 = 9", "3 + 9 = 12"], error_steps: [1, 2]},
        {idx: "p1", classification: "multi_solutions", question: "5 - 2 = ?", modified_process: ["5 - 2 = 3"], error_steps: []},
    ];
}

test("eval prmbench --predictions --json prints exactly one object with the totals and categories; --out writes the report; errors are one line", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-cli-prmbench-"));
    const data = join(dir, "mini.jsonl");
    writeFileSync(data, jsonl(rows()));
    const preds = join(dir, "preds.jsonl");
    writeFileSync(
        preds,
        jsonl([
            {idx: "correct_p0", step_scores: [0.9, 0.8]}, // TP TP
            {idx: "redundency_p0", step_scores: [0.9, 0.2, 0.7]}, // TP TN TP
            {idx: "counterfactual_p0", step_scores: [0.6, 0.1]}, // FP TN
            {idx: "multi_solutions_p1", step_scores: [0.5]}, // 0.5 is not > 0.5: FN
        ]),
    );
    const out = join(dir, "report");
    const r = stepwise("eval", "prmbench", "--data", data, "--predictions", preds, "--json", "--out", out);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /past their last step|none of PRMBench's/);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 1);
    const j = JSON.parse(lines[0]);
    // Totals (not correct_p0): TP 2, FP 1, TN 2, FN 1 → precision 2/3, recall 2/3, F1 2/3; neg. precision 2/3, neg. recall 2/3 → PRMScore 2/3.
    assert.deepEqual([j.total.tp, j.total.fp, j.total.tn, j.total.fn], [2, 1, 2, 1]);
    assert.ok(Math.abs(j.total.prmscore - 2 / 3) < 1e-12);
    assert.deepEqual(Object.keys(j.categories), ["redundency", "counterfactual", "multi_solutions", "correct"]);
    // multi_solutions: TP 0, FN 1 → precision −1 (null), recall 0 → F1 = 2·(−1)·0/(−1) = 0; PRMScore = F1 = 0.
    assert.deepEqual([j.categories.multi_solutions.precision, j.categories.multi_solutions.f1, j.categories.multi_solutions.prmscore], [null, 0, 0]);
    // similarity: |2/3 − 1| for redundency_p0, |1/2 − 1| for counterfactual_p0.
    assert.ok(Math.abs(j.total.similarity - (1 / 3 + 1 / 2) / 2) < 1e-12);
    assert.equal(j.threshold, 0.5);
    for (const f of ["summary.json", "report.md", "items.jsonl", "prmbench-categories.svg", "prmbench-categories.png"]) assert.ok(existsSync(join(out, f)), f);
    assert.equal(readFileSync(join(out, "items.jsonl"), "utf8").trim().split("\n").length, 4);

    const md = stepwise("eval", "prmbench", "--data", data, "--predictions", preds);
    assert.equal(md.status, 0, md.stderr);
    assert.match(md.stdout, /\| \*\*total\*\* \| 3 \| 66\.7 \|/);

    const both = stepwise("eval", "prmbench", "--data", data, "--predictions", preds, "--prm", "llama:models/lab-prm.gguf");
    assert.equal(both.status, 1);
    assert.equal(both.stderr.trim(), "stepwise: give exactly one of --prm SPEC, --judge SPEC or --predictions FILE");
    writeFileSync(preds, jsonl([{idx: "p0", step_scores: [1]}]));
    const unknown = stepwise("eval", "prmbench", "--data", data, "--predictions", preds);
    assert.equal(unknown.status, 1);
    assert.equal(unknown.stderr.trim().split("\n").length, 1);
    assert.match(unknown.stderr, /preds\.jsonl:1: idx "p0" is not an item of the data/);
});

test("eval prmbench --prm llama:models/lab-prm.gguf: scores every step, keeps and resumes the scores", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-cli-prmbench-"));
    const data = join(dir, "mini.jsonl");
    writeFileSync(data, jsonl(rows()));
    const scores = join(dir, "scores.jsonl");
    const a = stepwise("eval", "prmbench", "--data", data, "--prm", "llama:models/lab-prm.gguf", "--scores-out", scores, "--json");
    assert.equal(a.status, 0, a.stderr);
    const cached = readFileSync(scores, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(cached.map((r) => [r.id, r.step_scores.length]), [["correct_p0", 2], ["redundency_p0", 3], ["counterfactual_p0", 2], ["multi_solutions_p1", 1]]);
    const j = JSON.parse(a.stdout);
    assert.equal(j.total.steps, 6);
    assert.equal(j.n_items, 4);
    // The same numbers from the kept scores given as predictions (the file's `id` is the item id).
    const b = stepwise("eval", "prmbench", "--data", data, "--predictions", scores, "--json");
    assert.equal(b.status, 0, b.stderr);
    assert.deepEqual(JSON.parse(b.stdout), j);
    // A re-run reads the cache: same output, nothing appended.
    const c = stepwise("eval", "prmbench", "--data", data, "--prm", "llama:models/lab-prm.gguf", "--scores-out", scores, "--json");
    assert.equal(c.status, 0, c.stderr);
    assert.deepEqual(JSON.parse(c.stdout), j);
    assert.equal(readFileSync(scores, "utf8").trim().split("\n").length, 4);
});

test("eval prmbench --prm on the shared subset (--limit 2 --skip-too-long) finishes", (t) => {
    if (!existsSync(SUBSET)) {
        t.skip(`${SUBSET} is absent (the shared data folder is not on this machine)`);
        return;
    }
    const r = stepwise("eval", "prmbench", "--data", SUBSET, "--prm", "llama:models/lab-prm.gguf", "--limit", "2", "--skip-too-long", "--json");
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.match(r.stderr, /items left out: longer than the PRM's context/);
    assert.ok(j.n_items > 0 && j.n_items <= 20, String(j.n_items));
    assert.equal(typeof j.total.prmscore, "number");
});

test("eval prmbench says what the reference accepts silently: wrong steps past the last step, an unknown classification", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-cli-prmbench-"));
    const data = join(dir, "odd.jsonl");
    const [redundant, counterfactual, multi] = rows() as Array<Record<string, unknown>>;
    writeFileSync(data, jsonl([redundant, {...counterfactual, error_steps: [1, 99]}, {...multi, classification: "circularr"}]));
    const preds = join(dir, "preds.jsonl");
    writeFileSync(preds, jsonl([{idx: "correct_p0", step_scores: [0.9, 0.8]}, {idx: "redundency_p0", step_scores: [0.9, 0.2, 0.7]}, {idx: "counterfactual_p0", step_scores: [0.6, 0.1]}, {idx: "circularr_p1", step_scores: [0.5]}]));
    const r = stepwise("eval", "prmbench", "--data", data, "--predictions", preds, "--json");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /1 item name wrong steps past their last step, e\.g\. .*odd\.jsonl:2 \(counterfactual_p0: error step 99 of 2\); the reference's metric counts those steps nowhere/);
    assert.match(r.stderr, /classification "circularr" \(e\.g\. .*odd\.jsonl:3\) is none of PRMBench's/);
});

test("eval prmbench --judge --out keeps the verdicts as they come: a run stopped by a too-long item resumes with --skip-too-long", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-cli-prmbench-"));
    const data = join(dir, "mini.jsonl");
    const long = {idx: "p2", classification: "confidence", question: "1 + 1 = ?", modified_process: Array(200).fill("1 + 1 = 2 for sure"), error_steps: [2]};
    writeFileSync(data, jsonl([...rows(), long]));
    const out = join(dir, "report");
    const args = ["eval", "prmbench", "--data", data, "--judge", `llama:${root}models/lab-judge.gguf?sequences=2`, "--judge-n", "1", "--judge-max-tokens", "12", "--concurrency", "1", "--out", out];
    const first = stepwise(...args);
    assert.equal(first.status, 1);
    assert.match(first.stderr, /mini\.jsonl:4.*context/);
    assert.equal(readFileSync(join(out, "verdicts.jsonl"), "utf8").trim().split("\n").length, 4, "the four short items' verdicts are kept");
    const again = stepwise(...args, "--skip-too-long", "--json");
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /4 items' verdicts read from \S*report\/verdicts\.jsonl \(an earlier run's; resumed\)/);
    assert.match(again.stderr, /1 item left out: longer than the judge's context/);
});
