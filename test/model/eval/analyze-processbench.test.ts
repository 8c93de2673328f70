/**
 * (a) and (b) on the real ProcessBench files (../shared/data/processbench; skipped with a reason
 * when absent), with trivial score files written here, checked against counts computed from the data,
 * through the library and through `stepwise eval analyze --json` (CLI, also (c) on a candidates file).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {readScoresFile} from "../../../src/eval/processbench/evaluate.ts";
import {readProcessSplits} from "../../../src/eval/processbench/load.ts";
import {attachProcessScores, runAnalyses} from "../../../src/eval/analyze/index.ts";

const root = new URL("../../..", import.meta.url).pathname;
const dataDir = join(root, "../shared/data/processbench");
const driver = join(root, "test/helpers/cli-driver.ts");
const skip = existsSync(dataDir) ? false : `no ProcessBench data at ${dataDir}`;
if (skip) console.log(`skipping the real-data analyze tests: ${skip}`);

interface Raw {
    id: string;
    steps: string[];
    label: number;
    final_answer_correct: boolean;
}

function readRaw(): Map<string, Raw[]> {
    const out = new Map<string, Raw[]>();
    for (const f of readdirSync(dataDir).filter((f) => f.endsWith(".json")).sort()) out.set(f.replace(/\.json$/, ""), JSON.parse(readFileSync(join(dataDir, f), "utf8")) as Raw[]);
    return out;
}

/** Write a scores file: `score(sample, step index)` for every step of every sample. */
function writeScores(raw: Map<string, Raw[]>, file: string, score: (r: Raw, i: number) => number): void {
    const lines: string[] = [];
    for (const [split, rows] of raw) for (const r of rows) lines.push(JSON.stringify({id: r.id, split, step_scores: r.steps.map((_, i) => score(r, i))}));
    writeFileSync(file, lines.join("\n") + "\n");
}

test("(a)(b) on ProcessBench: a perfect step scorer and an outcome-only scorer, counts from the data", {skip}, async () => {
    const raw = readRaw();
    const dir = mkdtempSync(join(tmpdir(), "stepwise-analyze-pb-"));
    const splits = readProcessSplits([dataDir]);
    // Counts computed from the raw JSON, independently of the library.
    const expect = [...raw].map(([name, rows]) => ({
        name,
        rawp: rows.filter((r) => r.final_answer_correct && r.label !== -1).length,
        wrong: rows.filter((r) => !r.final_answer_correct).length,
        correct: rows.filter((r) => r.label === -1 && r.final_answer_correct).length,
        wrongAtLast: rows.filter((r) => !r.final_answer_correct && r.label === r.steps.length - 1).length,
        errLastMulti: rows.filter((r) => r.label !== -1 && r.label === r.steps.length - 1 && r.steps.length >= 2).length,
        wrongMulti: rows.filter((r) => !r.final_answer_correct && r.steps.length >= 2).length,
        multi: rows.filter((r) => r.steps.length >= 2).length,
    }));

    // 1. A perfect PRM: 0.1 at the labelled first error, 0.9 elsewhere.
    const perfect = join(dir, "perfect.jsonl");
    writeScores(raw, perfect, (r, i) => (i === r.label ? 0.1 : 0.9));
    const p = runAnalyses({processBench: {splits: attachProcessScores(splits, await readScoresFile(perfect)), threshold: 0.5}});
    for (const e of expect) {
        const s = p.falsePositive!.splits.find((x) => x.name === e.name)!;
        assert.equal(s.groups["right-answer-wrong-process"].n, e.rawp, `${e.name}: right answer, wrong process`);
        assert.equal(s.groups["wrong-answer"].n, e.wrong, `${e.name}: wrong answer`);
        assert.equal(s.groups["fully-correct"].n, e.correct, `${e.name}: fully correct`);
        assert.equal(s.groups["right-answer-wrong-process"].flagged, e.rawp);
        assert.equal(s.groups["right-answer-wrong-process"].exact, e.rawp);
        assert.equal(s.groups["fully-correct"].flagged, 0);
        assert.equal(s.unknown, 0);
        // (b): the minimum is strictly last exactly when the error is the last step (correct samples tie).
        const low = p.lowestStep.processBench!.splits.find((x) => x.name === e.name)!;
        assert.equal(low.all.atLast, e.errLastMulti, `${e.name}: lowest at last`);
        assert.equal(low.correct.atLast, 0);
        assert.equal(low.all.multiStep, e.multi);
    }

    // 2. An outcome-only PRM (what BoN tuning rewards): 0.1 on the last step of wrong-answer solutions only.
    const outcome = join(dir, "outcome.jsonl");
    writeScores(raw, outcome, (r, i) => (!r.final_answer_correct && i === r.steps.length - 1 ? 0.1 : 0.9));
    const o = runAnalyses({processBench: {splits: attachProcessScores(splits, await readScoresFile(outcome))}});
    const total = (f: (e: (typeof expect)[number]) => number) => expect.reduce((t, e) => t + f(e), 0);
    const g = o.falsePositive!.overall.groups;
    assert.equal(g["right-answer-wrong-process"].n, total((e) => e.rawp));
    assert.equal(g["right-answer-wrong-process"].flagged, 0, "an outcome model never flags a right answer");
    assert.equal(g["wrong-answer"].flagged, total((e) => e.wrong));
    assert.equal(g["wrong-answer"].exact, total((e) => e.wrongAtLast));
    assert.equal(o.lowestStep.processBench!.overall.all.atLast, total((e) => e.wrongMulti));

    const fmt = (x: number | null) => (x === null ? "—" : (100 * x).toFixed(2));
    for (const e of expect)
        console.log(`${e.name}: ${e.rawp} right-answer-wrong-process, ${e.wrong} wrong-answer, ${e.correct} fully correct; ` +
            `perfect PRM lowest-at-last ${fmt(p.lowestStep.processBench!.splits.find((x) => x.name === e.name)!.all.share)}%`);
    console.log(`outcome-only PRM: flags ${fmt(g["right-answer-wrong-process"].flaggedShare)}% of right-answer-wrong-process, ${fmt(g["wrong-answer"].flaggedShare)}% of wrong-answer ` +
        `(at the error ${fmt(g["wrong-answer"].exactShare)}%); lowest at last ${fmt(o.lowestStep.processBench!.overall.all.share)}% ` +
        `(incorrect ${fmt(o.lowestStep.processBench!.overall.incorrect.share)}%, correct ${fmt(o.lowestStep.processBench!.overall.correct.share)}%)`);

    // The CLI: the same numbers in --json, the report folder with charts; and (c) on a small candidates file.
    const cands = join(dir, "cands.jsonl");
    writeFileSync(cands, [
        {question_id: "a", answer: "1", correct: true, step_scores: [0.9, 0.8]},
        {question_id: "a", answer: "2", correct: false, step_scores: [0.95, 0.1]},
        {question_id: "b", answer: "3", correct: false, step_scores: [0.9, 0.9]},
        {question_id: "b", answer: "4", correct: true, step_scores: [0.7, 0.95]},
    ].map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(dir, "report");
    const r = spawnSync(process.execPath, ["--import", "tsx", driver, "eval", "analyze", "--data", dataDir, "--scores", outcome, "--bon", cands, "--subsets", "4", "--json", "--out", out, "--quiet"], {cwd: root, encoding: "utf8"});
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.length, 1);
    const j = JSON.parse(lines[0]);
    assert.equal(j.false_positive.overall.groups["right-answer-wrong-process"].n, total((e) => e.rawp));
    assert.equal(j.false_positive.overall.groups["right-answer-wrong-process"].flagged_pct, 0);
    assert.equal(j.lowest_step.process_bench.overall.all.at_last, total((e) => e.wrongMulti));
    // (c) at N = 2: min .8 vs .1 → a ✓, .9 vs .7 → b ✗ (50); last .8 vs .1 ✓, .9 vs .95 ✓ (100).
    const acc = Object.fromEntries(j.aggregations.rows.map((x: {id: string; accuracy: number}) => [x.id, x.accuracy]));
    assert.equal(acc["bon-min"], 50);
    assert.equal(acc["bon-last"], 100);
    for (const f of ["summary.json", "report.md", "false-positive.svg", "false-positive.png", "lowest-step.svg", "lowest-step.png", "bon-aggregations.svg", "bon-aggregations.png"]) assert.ok(existsSync(join(out, f)), f);
    assert.match(readFileSync(join(out, "report.md"), "utf8"), /right answer, wrong process/);

    const bad = spawnSync(process.execPath, ["--import", "tsx", driver, "eval", "analyze", "--data", dataDir], {cwd: root, encoding: "utf8"});
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--data needs --scores FILE or --prm SPEC/);
});
