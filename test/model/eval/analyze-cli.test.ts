/**
 * `stepwise eval analyze --candidates ... --prm ...` end to end: lab solutions as SampleRecords
 * (one token per character), scored by a tiny random-weight tag PRM under every position scheme.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {tinyModel} from "../../helpers/tiny-model.ts";
import {generateProblems} from "../../../src/domains/lab/index.ts";

const root = new URL("../../..", import.meta.url).pathname;
const driver = join(root, "test/helpers/cli-driver.ts");

function record(questionId: string, index: number, question: string, gold: string, text: string) {
    // Decision tokens: every "=" (confidence 0.1); everything else is confident.
    const tokens = [...text].map((ch) => ({text: ch, confidence: ch === "=" ? 0.1 : 0.95, top: []}));
    return {id: `${questionId}#${index}`, question_id: questionId, sample_index: index, question, prompt: question, text, tokens, finish_reason: "stop", gold, engine: "test", seed: 0, temperature: 1};
}

test("eval analyze --candidates --prm: rating positions end to end, report folder, errors", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-analyze-cli-"));
    const rows = generateProblems(3, {seed: 4, split: "heldout"}).flatMap((p) => {
        const wrong = p.solution.replace(/The answer is (-?\d+)\.$/, (_, a: string) => `The answer is ${Number(a) + 1}.`);
        assert.notEqual(wrong, p.solution);
        return [record(p.id, 0, p.question, p.answer, p.solution), record(p.id, 1, p.question, p.answer, wrong), record(p.id, 2, p.question, p.answer, wrong)];
    });
    const samples = join(dir, "samples.jsonl");
    writeFileSync(samples, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(dir, "report");
    const prm = `llama:${tinyModel(3, 20, "prm").path}?sequences=2&contextSize=512`;
    const r = spawnSync(process.execPath, ["--import", "tsx", driver, "eval", "analyze", "--candidates", samples, "--prm", prm, "--tau", "0.5", "--subsets", "4", "--concurrency", "2", "--json", "--out", out, "--quiet"], {cwd: root, encoding: "utf8"});
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout.trim());
    assert.equal(j.positions.n, 3);
    assert.equal(j.positions.questions, 3);
    assert.deepEqual(Object.keys(j.positions.schemes), ["adaptive", "random", "newline"]);
    assert.deepEqual(Object.keys(j.positions.schemes.adaptive.accuracy), ["min", "mean", "max"]);
    assert.equal(j.positions.baselines.pass, 100);
    // Random positions (K = adaptive steps − 1) give every sample as many steps as the adaptive cut.
    assert.equal(j.positions.schemes.random.mean_steps, j.positions.schemes.adaptive.mean_steps);
    const lines = rows.map((x) => x.text.split("\n").length);
    assert.equal(j.positions.schemes.newline.mean_steps, Math.round((100 * lines.reduce((a, b) => a + b, 0)) / lines.length) / 100, "one step per line");
    assert.match(j.aggregations.source, /adaptive/);
    const scores = readFileSync(join(out, "position-scores.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(scores.length, 9);
    scores.forEach((s, i) => assert.equal(s.newline_scores.length, lines[i]));
    for (const f of ["summary.json", "report.md", "rating-positions.svg", "rating-positions.png", "bon-aggregations.png", "lowest-step.png"]) assert.ok(existsSync(join(out, f)), f);

    const noTau = spawnSync(process.execPath, ["--import", "tsx", driver, "eval", "analyze", "--candidates", samples, "--prm", prm], {cwd: root, encoding: "utf8"});
    assert.equal(noTau.status, 1);
    assert.match(noTau.stderr, /--tau T or --threshold-file F/);
    const noGold = join(dir, "nogold.jsonl");
    writeFileSync(noGold, JSON.stringify({...rows[0], gold: undefined}) + "\n");
    const bad = spawnSync(process.execPath, ["--import", "tsx", driver, "eval", "analyze", "--candidates", noGold, "--prm", prm, "--tau", "0.5"], {cwd: root, encoding: "utf8"});
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /nogold\.jsonl:1: field "gold"/);
});
