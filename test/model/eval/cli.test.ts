// stepwise-test: long (starts first: scripts/test.mjs)
import {test} from "node:test";
import assert from "node:assert/strict";
import {spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";

const root = new URL("../../..", import.meta.url).pathname;
const driver = join(root, "test/helpers/cli-driver.ts");

function stepwise(...args: string[]): {status: number | null; stdout: string; stderr: string} {
    const r = spawnSync(process.execPath, ["--import", "tsx", driver, ...args], {cwd: root, encoding: "utf8"});
    return {status: r.status, stdout: r.stdout, stderr: r.stderr};
}

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

test("eval processbench --json prints exactly one object; --out writes the report folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-cli-pb-"));
    writeFileSync(
        join(dir, "tiny.json"),
        JSON.stringify([
            {id: "t0", problem: "p", steps: ["a", "b"], label: 1},
            {id: "t1", problem: "p", steps: ["a", "b"], label: -1},
            {id: "t2", problem: "p", steps: ["a"], label: 0},
        ]),
    );
    writeFileSync(join(dir, "scores.jsonl"), jsonl([{id: "t0", step_scores: [0.9, 0.1]}, {id: "t1", step_scores: [0.8, 0.7]}, {id: "t2", step_scores: [0.6]}]));
    const out = join(dir, "report");
    const r = stepwise("eval", "processbench", "--data", join(dir, "tiny.json"), "--scores", join(dir, "scores.jsonl"), "--json", "--out", out);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 1);
    // t0 → 1 hit, t1 → −1 hit, t2 → −1 miss: acc_err 50, acc_cor 100, F1 66.67.
    const j = JSON.parse(lines[0]);
    const {acc_error_ci, acc_correct_ci, f1_ci, ...figures} = j.splits.tiny;
    assert.deepEqual(figures, {acc_error: 50, acc_correct: 100, f1: 66.67, n: 3});
    assert.equal(j.average_f1, 66.67);
    // Wilson 95% in percent: 1 of 2 erroneous, 1 of 1 correct; F1 and its average: bootstrap over the 3 samples.
    assert.deepEqual(acc_error_ci, {value: 50, low: 9.45, high: 90.55, n: 2, method: "wilson", level: 0.95});
    assert.deepEqual(acc_correct_ci, {value: 100, low: 20.65, high: 100, n: 1, method: "wilson", level: 0.95});
    assert.deepEqual([f1_ci.value, f1_ci.n, f1_ci.method], [66.67, 3, "bootstrap-percentile"]);
    assert.ok(f1_ci.low <= 66.67 && f1_ci.high >= 66.67 && f1_ci.low >= 0 && f1_ci.high <= 100, JSON.stringify(f1_ci));
    assert.deepEqual([j.average_f1_ci.value, j.average_f1_ci.n, j.average_f1_ci.method], [66.67, 3, "bootstrap-percentile"]);
    assert.equal(j.calibration_warning, undefined); // a fixed threshold: nothing calibrated
    for (const f of ["summary.json", "report.md", "predictions.jsonl", "processbench-metrics.svg", "processbench-metrics.png", "f1-vs-threshold.svg", "f1-vs-threshold.png"]) assert.ok(existsSync(join(out, f)), f);
    assert.equal(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).threshold, 0.5);

    // Calibrated on 3 rows: a warning on stderr and in the Markdown on stdout, a field in --json.
    const cal = stepwise("eval", "processbench", "--data", join(dir, "tiny.json"), "--scores", join(dir, "scores.jsonl"), "--calibrate", "tiny", "--json");
    assert.equal(cal.status, 0, cal.stderr);
    const cj = JSON.parse(cal.stdout);
    assert.equal(cj.calibration_rows, 3);
    assert.match(cj.calibration_warning, /calibrated on only 3 samples of tiny \(fewer than 50\)/);
    const calMd = stepwise("eval", "processbench", "--data", join(dir, "tiny.json"), "--scores", join(dir, "scores.jsonl"), "--calibrate", "tiny");
    assert.match(calMd.stdout, /\*\*Warning:\*\* threshold calibrated on only 3 samples/);
    assert.match(calMd.stdout, /\| tiny \| 3 \| 2 \/ 1 \| [\d.]+ \([\d.]+–[\d.]+\) \|/);
    assert.match(calMd.stderr, /warning: threshold calibrated on only 3 samples/);

    const both = stepwise("eval", "processbench", "--data", join(dir, "tiny.json"), "--scores", join(dir, "scores.jsonl"), "--predictions", join(dir, "scores.jsonl"));
    assert.equal(both.status, 1);
    assert.match(both.stderr, /exactly one of --prm SPEC, --judge SPEC, --scores FILE or --predictions FILE/);
    const help = stepwise("eval", "processbench", "--help");
    assert.match(help.stdout, /Examples:/);
});

test("eval bon --json and --out on a small candidates file", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-cli-bon-"));
    const rows = [];
    for (let q = 0; q < 6; q++)
        for (let k = 0; k < 4; k++) rows.push({question_id: `q${q}`, text: `The answer is \\boxed{${k === 0 ? "\\frac{1}{2}" : k === 1 ? "0.5" : String(k)}}`, gold: "1/2", step_scores: [0.5 + 0.1 * (k % 2), 0.9 - 0.2 * k]});
    writeFileSync(join(dir, "c.jsonl"), jsonl(rows));
    const out = join(dir, "report");
    const r = stepwise("eval", "bon", "--data", join(dir, "c.jsonl"), "--subsets", "50", "--json", "--out", out, "--quiet");
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.deepEqual(summary.sizes, [1, 2, 4]);
    const maj = summary.methods.find((m: {id: string}) => m.id === "maj");
    assert.equal(maj.points[2].accuracy, 100); // \frac{1}{2} and 0.5 are one class: 2 votes vs 1 and 1
    assert.equal(summary.methods.find((m: {id: string}) => m.id === "bon-last").points[2].accuracy, 100);
    // every point carries its interval (percent, n = questions); maj@4 is right on all 6 questions: Wilson 6/6.
    assert.deepEqual(maj.points[2].accuracy_ci, {value: 100, low: 60.97, high: 100, n: 6, method: "wilson", level: 0.95});
    // Best-of-N vs maj@N, paired over the same questions, with its sentence.
    const p = summary.paired.find((x: {b: string; size: number}) => x.b === "bon-last" && x.size === 4);
    assert.deepEqual([p.a, p.diff.value, p.diff.low, p.diff.high, p.diff.n, p.diff.method], ["maj", 0, 0, 0, 6, "paired-bootstrap-percentile"]);
    assert.equal(p.sentence, "PRM BoN (last) − maj@N at N = 4: 0.0 points; the difference is not significant at 95%: interval 0.0 to 0.0 points, n 6");
    const md = stepwise("eval", "bon", "--data", join(dir, "c.jsonl"), "--subsets", "50", "--quiet");
    assert.match(md.stdout, /Paired against maj@N on the same 6 questions[^\n]*\n\n- PRM BoN \(min\) − maj@N at N = 4: /);
    for (const f of ["summary.json", "report.md", "accuracy-vs-n.svg", "accuracy-vs-n.png"]) assert.ok(existsSync(join(out, f)), f);
    const bad = stepwise("eval", "bon", "--data", join(dir, "c.jsonl"), "--n", "1,8", "--quiet");
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /subset size 8 is not in 1\.\.4/);
});

test("eval processbench --judge --out keeps the verdicts as they come: a run stopped by a too-long solution resumes without judging again", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-cli-pb-"));
    const rows = [
        {id: "a", problem: "Compute 2 + 3.", steps: ["So 2 + 3 = 5.", "The answer is 5."], label: -1},
        {id: "b", problem: "Compute 2 * 4.", steps: ["So 2 * 4 = 9.", "The answer is 9."], label: 0},
        {id: "long", problem: "Compute 1 + 1.", steps: Array(200).fill("So 1 + 1 = 2."), label: -1}, // longer than the judge's 512-token context
        {id: "c", problem: "Compute 6 - 1.", steps: ["So 6 - 1 = 5.", "The answer is 5."], label: -1},
    ];
    writeFileSync(join(dir, "pb.jsonl"), jsonl(rows));
    const out = join(dir, "report");
    const args = ["eval", "processbench", "--data", join(dir, "pb.jsonl"), "--judge", `llama:${root}models/lab-judge.gguf?sequences=2`, "--judge-n", "1", "--judge-max-tokens", "12", "--concurrency", "1", "--out", out];
    const first = stepwise(...args);
    assert.equal(first.status, 1);
    assert.match(first.stderr, /pb\.jsonl:3.*context/);
    const kept = readFileSync(join(out, "verdicts.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).id);
    assert.deepEqual(kept, ["pb/a", "pb/b"], "the verdicts before the failure are kept");
    const again = stepwise(...args, "--skip-too-long", "--json");
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /2 samples' verdicts read from \S*report\/verdicts\.jsonl \(an earlier run's; resumed\)/);
    assert.equal(JSON.parse(again.stdout).splits.pb.n, 3);
    assert.deepEqual(readFileSync(join(out, "verdicts.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).id).sort(), ["pb/a", "pb/b", "pb/c"]);

    // The same with a PRM: its step scores are kept in OUT/scores.jsonl.
    const prmOut = join(dir, "prm-report");
    const prmArgs = ["eval", "processbench", "--data", join(dir, "pb.jsonl"), "--prm", `llama:${root}models/lab-prm.gguf`, "--concurrency", "1", "--out", prmOut];
    const prmFirst = stepwise(...prmArgs);
    assert.equal(prmFirst.status, 1);
    assert.deepEqual(readFileSync(join(prmOut, "scores.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).id), ["a", "b"]);
    const prmAgain = stepwise(...prmArgs, "--skip-too-long", "--json");
    assert.equal(prmAgain.status, 0, prmAgain.stderr);
    assert.match(prmAgain.stderr, /2 samples' step scores read from \S*prm-report\/scores\.jsonl/);
    assert.equal(JSON.parse(prmAgain.stdout).splits.pb.n, 3);
});
