import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdirSync, mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {averageF1, harmonicF1, processIntervals, processMetrics} from "../../../src/eval/processbench/metrics.ts";
import {bootstrapInterval} from "../../../src/stats/intervals.ts";
import {calibrateThreshold, firstBelow} from "../../../src/eval/processbench/threshold.ts";
import {readProcessSplit, readProcessSplits} from "../../../src/eval/processbench/load.ts";
import {type SampleInputs, evaluateProcessBench} from "../../../src/eval/processbench/evaluate.ts";
import {processBenchJson} from "../../../src/eval/processbench/report.ts";
import {FastRng} from "../../../src/util/rng.ts";

const DATA = new URL("../../../../shared/data/processbench/", import.meta.url).pathname;

test("metrics: a hand-computed split", () => {
    // 5 erroneous (labels 0, 2, 1, 3, 0) and 3 correct samples.
    const labels = [0, 2, 1, 3, 0, -1, -1, -1];
    const preds = [0, 2, -1, 1, 0, -1, 4, -1];
    const m = processMetrics(labels, preds);
    // erroneous hits: 0, 2, 0 → 3/5 = 0.6; correct hits: 2/3.
    assert.equal(m.accError, 0.6);
    assert.ok(Math.abs(m.accCorrect! - 2 / 3) < 1e-12);
    // F1 = 2·0.6·(2/3) / (0.6 + 2/3) = 0.8 / (19/15) = 12/19.
    assert.ok(Math.abs(m.f1! - 12 / 19) < 1e-12);
    assert.deepEqual([m.n, m.nError, m.nCorrect], [8, 5, 3]);
});

test("metrics: edge cases (no erroneous samples, no correct samples, both accuracies 0)", () => {
    const noErr = processMetrics([-1, -1], [-1, 0]);
    assert.equal(noErr.accError, null);
    assert.equal(noErr.accCorrect, 0.5);
    assert.equal(noErr.f1, null);
    const noCor = processMetrics([1, 0], [1, 1]);
    assert.equal(noCor.accCorrect, null);
    assert.equal(noCor.f1, null);
    assert.equal(harmonicF1(0, 0), 0);
    assert.equal(averageF1([0.5, null, 0.7]), 0.6);
    assert.equal(averageF1([null]), null);
    const empty = processMetrics([], []);
    assert.deepEqual([empty.accError, empty.accCorrect, empty.f1, empty.n], [null, null, null, 0]);
});

test("intervals: each bootstrap resample's F1 is processMetrics' F1 of the resampled items", () => {
    // The interval counts a resample's items (repeats included) as processMetrics counts a split.
    const labels = [0, 2, 1, 3, 0, -1, -1, -1, 1, -1];
    const preds = [0, 2, -1, 1, 0, -1, 4, -1, 1, 0];
    const pick = (xs: number[], idx: Int32Array) => Array.from(idx, (i) => xs[i]);
    const reference = bootstrapInterval(labels.length, (idx) => processMetrics(pick(labels, idx), pick(preds, idx)).f1 ?? NaN, {resamples: 300});
    const iv = processIntervals(labels, preds, {resamples: 300});
    assert.deepEqual(iv.f1, reference);
    assert.equal(iv.f1!.value, processMetrics(labels, preds).f1);
});

test("threshold: first step below; calibration matches brute force", () => {
    assert.equal(firstBelow([0.9, 0.4, 0.2], 0.5), 1);
    assert.equal(firstBelow([0.9, 0.5], 0.5), -1);
    assert.equal(firstBelow([], 0.5), -1);
    const rng = new FastRng("calibrate");
    const samples = Array.from({length: 60}, () => {
        const n = 1 + rng.below(6);
        const label = rng.below(3) === 0 ? -1 : rng.below(n);
        // Scores on a coarse grid so that ties occur.
        const scores = Array.from({length: n}, (_, i) => (label >= 0 && i >= label && rng.below(2) ? rng.below(5) : 3 + rng.below(8)) / 10);
        return {scores, label};
    });
    const cal = calibrateThreshold(samples, {curve: true});
    let bestBrute = -1;
    for (let t = -0.05; t <= 1.2; t += 0.01) {
        const m = processMetrics(samples.map((s) => s.label), samples.map((s) => firstBelow(s.scores, t)));
        bestBrute = Math.max(bestBrute, m.f1!);
    }
    assert.ok(Math.abs(cal.f1 - bestBrute) < 1e-12, `${cal.f1} vs ${bestBrute}`);
    const at = processMetrics(samples.map((s) => s.label), samples.map((s) => firstBelow(s.scores, cal.threshold)));
    assert.ok(Math.abs(at.f1! - cal.f1) < 1e-12);
    for (const p of cal.curve!) {
        const m = processMetrics(samples.map((s) => s.label), samples.map((s) => firstBelow(s.scores, p.threshold)));
        assert.ok(Math.abs(m.f1! - p.f1!) < 1e-12);
    }
    assert.throws(() => calibrateThreshold([{scores: [0.9], label: -1}]), /no erroneous samples/);
});

/** A tiny made-up split in a temp folder. */
function tinySplits(): {dir: string; a: string; b: string} {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-pb-"));
    const a = join(dir, "alpha.json");
    const b = join(dir, "beta.jsonl");
    writeFileSync(
        a,
        JSON.stringify([
            {id: "a0", problem: "p", steps: ["s0", "s1", "s2"], label: 1, final_answer_correct: false},
            {id: "a1", problem: "p", steps: ["s0", "s1"], label: -1, final_answer_correct: true},
            {id: "a2", problem: "p", steps: ["s0", "s1"], label: 0},
            {id: "a3", problem: "p", steps: ["s0"], label: -1},
        ]),
    );
    writeFileSync(b, [{id: "b0", question: "q", steps: ["x", "y"], label: -1}, {id: "b1", question: "q", steps: ["x"], label: -1}].map((r) => JSON.stringify(r)).join("\n") + "\n");
    return {dir, a, b};
}

function inputs<T>(entries: Array<[string, T]>): SampleInputs<T> {
    return new Map(entries.map(([k, v]) => [k, {value: v, where: `mem:${k}`}]));
}

test("loading: JSON arrays, JSONL, folders, split names, errors naming file and record", () => {
    const {dir, a, b} = tinySplits();
    const splits = readProcessSplits([dir]);
    assert.deepEqual(splits.map((s) => [s.name, s.samples.length]), [["alpha", 4], ["beta", 2]]);
    assert.equal(splits[1].samples[0].problem, "q");
    assert.equal(readProcessSplit(a).samples[0].finalAnswerCorrect, false);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify([{id: "x", problem: "p", steps: ["a"], label: -1}, {id: "y", problem: "p", steps: ["a"], label: 3}]));
    assert.throws(() => readProcessSplit(bad), /bad\.json#1: "label" must be −1 or a step index 0\.\.0, got 3/);
    writeFileSync(bad, JSON.stringify([{id: "x", steps: ["a"], label: -1}]));
    assert.throws(() => readProcessSplit(bad), /bad\.json#0: missing "problem" or "question"/);
    const badl = join(dir, "bad2.jsonl");
    writeFileSync(badl, JSON.stringify({id: "x", problem: "p", steps: ["a"], label: -1}) + "\n{oops\n");
    assert.throws(() => readProcessSplit(badl), /bad2\.jsonl:2: malformed JSON/);
    const sub = join(dir, "sub");
    mkdirSync(sub);
    writeFileSync(join(sub, "alpha.jsonl"), JSON.stringify({id: "z", problem: "p", steps: ["s"], label: -1}) + "\n");
    assert.throws(() => readProcessSplits([a, join(sub, "alpha.jsonl")]), /split name "alpha" is used by both/);
    void b;
});

const figures = (s: {acc_error: number | null; acc_correct: number | null; f1: number | null; n: number}) => ({acc_error: s.acc_error, acc_correct: s.acc_correct, f1: s.f1, n: s.n});

test("evaluate: scores with the 0.5 threshold and calibration; predictions; a split with no erroneous samples", () => {
    const {a, b} = tinySplits();
    const splits = readProcessSplits([a, b]);
    const scores = inputs<number[]>([
        ["a0", [0.9, 0.3, 0.2]], // → 1 (label 1: hit)
        ["a1", [0.8, 0.6]], // → −1 (hit)
        ["a2", [0.7, 0.1]], // → 1 (label 0: miss)
        ["a3", [0.45]], // → 0 (label −1: miss)
        ["b0", [0.9, 0.9]],
        ["b1", [0.2]],
    ]);
    const r = evaluateProcessBench(splits, {kind: "scores", scores});
    assert.equal(r.threshold, 0.5);
    const j = processBenchJson(r);
    assert.deepEqual(figures(j.splits.alpha), {acc_error: 50, acc_correct: 50, f1: 50, n: 4});
    assert.deepEqual(figures(j.splits.beta), {acc_error: null, acc_correct: 50, f1: null, n: 2});
    // Intervals: Wilson(1, 2) on both accuracies of alpha; none where the figure is undefined.
    assert.deepEqual(j.splits.alpha.acc_error_ci, {value: 50, low: 9.45, high: 90.55, n: 2, method: "wilson", level: 0.95});
    assert.deepEqual([j.splits.beta.acc_error_ci, j.splits.beta.f1_ci], [null, null]);
    assert.equal(j.average_f1_ci!.n, 4); // only alpha's F1 is defined
    assert.equal(j.average_f1, 50); // beta's undefined F1 is left out
    // Calibrated on alpha, the best interval is (0.3, 0.45]: a0 → 1 hit, a1 → −1 hit, a2 → 1 miss,
    // a3 → −1 hit: acc_err 50, acc_cor 100, F1 66.67 (no threshold gets a2 right without losing a0 or a1).
    const c = evaluateProcessBench(splits, {kind: "scores", scores, calibrate: "alpha"});
    assert.ok(c.threshold! > 0.3 && c.threshold! <= 0.45, String(c.threshold));
    assert.equal(processBenchJson(c).splits.alpha.f1, 66.67);
    assert.deepEqual([c.calibrationRows, processBenchJson(c).calibration_rows], [4, 4]);
    assert.match(c.calibrationWarning!, /only 4 samples of alpha \(fewer than 50\)/);
    assert.throws(() => evaluateProcessBench(splits, {kind: "scores", scores, calibrate: "beta"}), /--calibrate beta: cannot calibrate .* no erroneous samples/);
    assert.throws(() => evaluateProcessBench(splits, {kind: "scores", scores, calibrate: "gsm8k"}), /no split named "gsm8k"/);
    const short = new Map(scores);
    short.set("a0", {value: [0.9], where: "s.jsonl:1"});
    assert.throws(() => evaluateProcessBench(splits, {kind: "scores", scores: short}), /s\.jsonl:1: 1 step scores for a0, which has 3 steps/);
    short.delete("a0");
    assert.throws(() => evaluateProcessBench(splits, {kind: "scores", scores: short}), /alpha\.json#0: no step scores for id "a0"/);
    const preds = inputs<number>([["a0", 1], ["a1", -1], ["a2", 0], ["a3", -1], ["b0", -1], ["b1", -1]]);
    const p = processBenchJson(evaluateProcessBench(splits, {kind: "predictions", predictions: preds}));
    assert.deepEqual(figures(p.splits.alpha), {acc_error: 100, acc_correct: 100, f1: 100, n: 4});
    // Split-qualified entries win over plain ids.
    preds.set("alpha\u0000a0", {value: 2, where: "p:9"});
    assert.equal(processBenchJson(evaluateProcessBench(splits, {kind: "predictions", predictions: preds})).splits.alpha.acc_error, 50);
});

test("real ProcessBench: split sizes and trivial predictors", (t) => {
    if (!existsSync(DATA)) {
        t.skip(`ProcessBench data not found at ${DATA}`);
        console.log(`# skipped: ProcessBench data not found at ${DATA}`);
        return;
    }
    const splits = readProcessSplits([DATA]);
    const counts = Object.fromEntries(splits.map((s) => [s.name, [s.samples.length, s.samples.filter((x) => x.label !== -1).length, s.samples.filter((x) => x.label === -1).length]]));
    assert.deepEqual(counts, {gsm8k: [400, 207, 193], math: [1000, 594, 406], olympiadbench: [1000, 661, 339], omnimath: [1000, 759, 241]});
    const all = (v: (steps: number) => number): SampleInputs<number> => new Map(splits.flatMap((s) => s.samples.map((x) => [x.id, {value: v(x.steps.length), where: x.where}] as const)));
    const none = processBenchJson(evaluateProcessBench(splits, {kind: "predictions", predictions: all(() => -1)}));
    for (const s of Object.values(none.splits)) assert.deepEqual([s.acc_error, s.acc_correct, s.f1], [0, 100, 0]);
    assert.equal(none.average_f1, 0);
    const zero = processBenchJson(evaluateProcessBench(splits, {kind: "predictions", predictions: all(() => 0)}));
    for (const [name, s] of Object.entries(zero.splits)) {
        const split = splits.find((x) => x.name === name)!;
        const err = split.samples.filter((x) => x.label !== -1);
        assert.equal(s.acc_error, Math.round((10000 * err.filter((x) => x.label === 0).length) / err.length) / 100);
        assert.deepEqual([s.acc_correct, s.f1], [0, 0]);
    }
    console.log(`# always step 0: ${JSON.stringify(Object.fromEntries(Object.entries(zero.splits).map(([k, v]) => [k, v.acc_error])))}`);
});
