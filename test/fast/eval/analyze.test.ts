import {test} from "node:test";
import assert from "node:assert/strict";
import {defaultGrader} from "../../../src/grade/grader.ts";
import type {Candidate} from "../../../src/eval/bon/load.ts";
import {
    type LabelledScores, type PositionSample, bonInputFromCandidates, comparePositions, compareAggregations, falsePositiveStats,
    lowestPosition, lowestStepAnalysis, positionSteps, runAnalyses, scorePositions, analyzeJson, analyzeMarkdown,
} from "../../../src/eval/analyze/index.ts";

// Hand-computed case shared by (a) and (b); threshold 0.5 (strictly below flags).
const SAMPLES: LabelledScores[] = [
    {label: 1, finalAnswerCorrect: true, scores: [0.9, 0.3, 0.8]}, // flagged at 1 = label: exact; min earlier
    {label: 2, finalAnswerCorrect: true, scores: [0.9, 0.8, 0.7]}, // not flagged; min at last
    {label: 2, finalAnswerCorrect: true, scores: [0.4, 0.9, 0.2]}, // flagged at 0: early; min at last
    {label: 0, finalAnswerCorrect: true, scores: [0.6, 0.45]}, // flagged at 1: late; min at last
    {label: 1, finalAnswerCorrect: false, scores: [0.9, 0.1]}, // wrong answer, exact; min at last
    {label: 0, finalAnswerCorrect: false, scores: [0.7]}, // wrong answer, not flagged; single step
    {label: -1, finalAnswerCorrect: true, scores: [0.9, 0.9]}, // fully correct, not flagged; last ties the min
    {label: -1, scores: [0.5, 0.49]}, // fully correct (answer unknown), flagged (0.5 is not below 0.5); min at last
    {label: 1, scores: [0.9, 0.2]}, // error, answer unknown: no group; min at last
];

test("(a) false-positive test: flags per group, exact / early / late, hand-computed", () => {
    const r = falsePositiveStats(SAMPLES, 0.5);
    assert.deepEqual(r.groups["right-answer-wrong-process"], {n: 4, flagged: 3, located: 4, exact: 1, early: 1, late: 1, flaggedShare: 0.75, exactShare: 0.25});
    assert.deepEqual(r.groups["wrong-answer"], {n: 2, flagged: 1, located: 2, exact: 1, early: 0, late: 0, flaggedShare: 0.5, exactShare: 0.5});
    assert.deepEqual(r.groups["fully-correct"], {n: 2, flagged: 1, located: 0, exact: 0, early: 0, late: 0, flaggedShare: 0.5, exactShare: null});
    assert.equal(r.unknown, 1);
    // A higher threshold flags more: 0.85 flags sample 2 at step 1 (0.8), which is before the label 2.
    assert.equal(falsePositiveStats(SAMPLES, 0.85).groups["right-answer-wrong-process"].early, 2);
});

test("(b) lowest step score at the last step: strict, ties and single steps apart, by correctness", () => {
    assert.equal(lowestPosition([0.9, 0.3, 0.8]), "earlier");
    assert.equal(lowestPosition([0.9, 0.8, 0.7]), "last");
    assert.equal(lowestPosition([0.9, 0.9]), "tied-last");
    assert.equal(lowestPosition([0.7]), "single");
    assert.equal(lowestPosition([]), "empty");
    const r = lowestStepAnalysis(
        [...SAMPLES.map((s) => ({scores: s.scores, correct: s.label === -1})), {scores: [], correct: null}],
        "process correct",
    );
    // All: 9 + 1 empty; multi-step 8 (not [0.7], not []); at last: 2, 3, 4, 5, 8, 9 → 6; tied 1.
    assert.deepEqual(r.all, {n: 10, multiStep: 8, atLast: 6, tiedLast: 1, singleStep: 1, empty: 1, share: 0.75});
    assert.deepEqual(r.correct, {n: 2, multiStep: 2, atLast: 1, tiedLast: 1, singleStep: 0, empty: 0, share: 0.5});
    assert.deepEqual(r.incorrect, {n: 7, multiStep: 6, atLast: 5, tiedLast: 0, singleStep: 1, empty: 0, share: 5 / 6});
    assert.equal(r.unknown, 1);
});

/** Three questions of two candidates; BoN at N = 2 per aggregation (worked out in the comments). */
function bonCandidates(): Candidate[] {
    const c = (questionId: string, k: number, correct: boolean, answer: string, stepScores: number[]): Candidate => ({questionId, id: `${questionId}#${k}`, text: null, answer, gold: null, correct, stepScores, where: `test ${questionId}#${k}`});
    return [
        // min .2 vs .5 → B ✗; max .9 vs .95 → B ✗; mean .667 vs .65 → A ✓; product .162 vs .2375 → B ✗; last .9 vs .95 → B ✗
        c("q1", 0, true, "1", [0.9, 0.2, 0.9]),
        c("q1", 1, false, "2", [0.5, 0.5, 0.95]),
        // min A ✓; max .8 vs .9 → B ✗; mean .8 vs .5 ✓; product .64 vs .09 ✓; last .8 vs .1 ✓
        c("q2", 0, true, "1", [0.8, 0.8]),
        c("q2", 1, false, "2", [0.9, 0.1]),
        // A wrong, B right: min .6 vs .5 → A ✗; max .6 vs .75 ✓; mean .6 vs .625 ✓; product .36 vs .375 ✓; last .6 vs .5 → A ✗
        c("q3", 0, false, "1", [0.6, 0.6]),
        c("q3", 1, true, "2", [0.75, 0.5]),
    ];
}

test("(c) Best-of-N by aggregation: table at the largest N, baselines, (b) on the candidates", () => {
    const input = bonInputFromCandidates(bonCandidates(), defaultGrader(), "synthetic");
    const r = compareAggregations(input.questions, {subsets: 5, seed: 1});
    assert.equal(r.n, 2);
    assert.deepEqual(r.bon.sizes, [1, 2]);
    const acc = Object.fromEntries(r.rows.map((x) => [x.id, x.accuracy]));
    assert.deepEqual(acc, {"bon-min": 1 / 3, "bon-max": 1 / 3, "bon-mean": 1, "bon-product": 2 / 3, "bon-last": 1 / 3});
    assert.deepEqual(r.baselines.map((b) => b.id), ["first", "pass", "maj"]);
    assert.equal(r.baselines[1].accuracy, 1);
    // The verdicts are paired with the right candidates for (b): correct ones are q1#0, q2#0, q3#1.
    const low = lowestStepAnalysis(input.solutions!, "final answer correct");
    // correct: [.9,.2,.9] earlier, [.8,.8] tied, [.75,.5] last; incorrect: [.5,.5,.95] earlier, [.9,.1] last, [.6,.6] tied.
    assert.deepEqual([low.correct.atLast, low.correct.tiedLast, low.incorrect.atLast, low.incorrect.tiedLast], [1, 1, 1, 1]);
    const all = runAnalyses({bon: input}, {aggregations: {subsets: 5, seed: 1}});
    assert.equal(all.aggregations!.source, "synthetic");
    assert.equal(all.lowestStep.candidates!.all.atLast, 2);
    assert.equal(all.falsePositive, undefined);
});

// (d) A fake PRM: a step containing "bad" scores 0.2, one containing the right answer \boxed{4} 0.95, others 0.9.
const fakeScorer = {
    calls: 0,
    async scoreSteps(_question: string, steps: string[]): Promise<number[]> {
        this.calls++;
        return steps.map((s) => (s.includes("bad") ? 0.2 : s.includes("\\boxed{4}") ? 0.95 : 0.9));
    },
};

function sample(id: string, gold: string, tokens: Array<[string, number]>): PositionSample {
    const toks = tokens.map(([text, confidence]) => ({text, confidence, top: []}));
    return {id, question_id: id.split("#")[0], question: "q", gold, text: toks.map((t) => t.text).join(""), tokens: toks};
}

const POSITION_SAMPLES = [
    // q1, gold 4. A is right with a "bad" middle line; no decision token (one adaptive step).
    sample("q1#0", "4", [["We ", 0.9], ["add\n", 0.9], ["bad ", 0.9], ["guess\n", 0.9], ["so ", 0.9], ["\\boxed{4}", 0.9]]),
    sample("q1#1", "4", [["We ", 0.9], ["add\n", 0.9], ["then\n", 0.9], ["so ", 0.9], ["\\boxed{5}", 0.9]]),
    // q2, gold 7. C has one decision token ("so " at 0.1), D has "bad" in its only line.
    sample("q2#0", "7", [["so ", 0.1], ["\\boxed{7}", 0.9]]),
    sample("q2#1", "7", [["so ", 0.9], ["bad ", 0.9], ["\\boxed{8}", 0.9]]),
];

test("(d) rating positions: cuts per scheme, random K = adaptive steps − 1, seeded", () => {
    const a = positionSteps(POSITION_SAMPLES[0], {tau: 0.5});
    assert.deepEqual(a.adaptive, ["We add\nbad guess\nso \\boxed{4}"]);
    assert.deepEqual(a.newline, ["We add\n", "bad guess\n", "so \\boxed{4}"]);
    assert.deepEqual(a.random, a.adaptive, "K = 0 random positions: one step");
    const c = positionSteps(POSITION_SAMPLES[2], {tau: 0.5});
    assert.deepEqual(c.adaptive, ["so ", "\\boxed{7}"]);
    assert.deepEqual(c.random, ["so ", "\\boxed{7}"], "K = 1 on the only boundary");
    assert.deepEqual(c.newline, ["so \\boxed{7}"]);
    const fixed = positionSteps(POSITION_SAMPLES[0], {tau: 0.5, randomK: 2, seed: 3});
    assert.equal(fixed.random.length, 3);
    assert.equal(fixed.random.join(""), POSITION_SAMPLES[0].text);
    assert.deepEqual(positionSteps(POSITION_SAMPLES[0], {tau: 0.5, randomK: 2, seed: 3}).random, fixed.random, "seeded: the same cuts again");
});

test("(d) rating positions: BoN at N = all per scheme with min / mean / max, as the released eval (hand-computed)", async () => {
    fakeScorer.calls = 0;
    const candidates = await scorePositions(POSITION_SAMPLES, fakeScorer, {tau: 0.5, concurrency: 2});
    assert.equal(fakeScorer.calls, 12, "every sample scored once per scheme");
    assert.deepEqual(candidates[0].scores, {adaptive: [0.2], random: [0.2], newline: [0.9, 0.2, 0.95]});
    const r = comparePositions(candidates, defaultGrader(), {subsets: 3});
    assert.equal(r.n, 2);
    assert.equal(r.questions, 2);
    const acc = Object.fromEntries(r.schemes.map((s) => [s.scheme, Object.fromEntries(Object.entries(s.accuracy).map(([k, v]) => [k, v!.accuracy]))]));
    // Lux0926/ASPRM evaluation/math/BON/eval.py: per solution min, mean and max of the step scores, argmax (first on ties).
    // q1: adaptive/random A .2 vs B .9 under every aggregation → ✗; newline A [.9 .2 .95] vs B [.9 .9 .9]:
    // min .2 vs .9 ✗, mean .683 vs .9 ✗, max .95 vs .9 ✓. q2: C .9 vs D .2 everywhere → ✓.
    assert.deepEqual(r.aggregations, ["min", "mean", "max"]);
    assert.deepEqual(acc, {
        adaptive: {min: 0.5, mean: 0.5, max: 0.5},
        random: {min: 0.5, mean: 0.5, max: 0.5},
        newline: {min: 0.5, mean: 0.5, max: 1},
    });
    // the Qwen paper's trio on request: last .95 vs .9 ✓ on newline
    const qwen = comparePositions(candidates, defaultGrader(), {subsets: 3, aggregations: ["min", "last", "product"]});
    assert.deepEqual(Object.fromEntries(Object.entries(qwen.schemes[2].accuracy).map(([k, v]) => [k, v!.accuracy])), {min: 0.5, last: 1, product: 0.5});
    assert.deepEqual(r.schemes.map((s) => s.meanSteps), [1.25, 1.25, 2]);
    assert.equal(r.baselines.pass, 1);
    assert.equal(r.grading.graded, 4);
    // runAnalyses: without a Best-of-N file, (b) and (c) run on the adaptive scores.
    const all = runAnalyses({positions: {candidates, grader: defaultGrader()}}, {positions: {subsets: 3}, aggregations: {subsets: 3}});
    assert.match(all.aggregations!.source, /adaptive/);
    assert.equal(all.lowestStep.candidates!.all.n, 4);
    const json = analyzeJson(all) as {positions: {schemes: Record<string, {accuracy: Record<string, {accuracy: number}>}>}};
    assert.equal(json.positions.schemes.newline.accuracy.max.accuracy, 100);
    assert.match(analyzeMarkdown(all), /\(d\) Rating position/);
});

test("reports quote intervals from src/stats: Wilson shares and accuracies, bootstrap mean steps, paired differences; no ± half-widths", async () => {
    const {intervalJson, wilsonInterval} = await import("../../../src/stats/intervals.ts");
    const pct = (k: number, n: number) => intervalJson(wilsonInterval(k, n), 100, 2);
    // (a)(b) on the hand-computed samples, one split.
    const splits = [{name: "s", samples: SAMPLES.map((s, i) => ({...s, id: String(i), where: `t:${i + 1}`}))}];
    const bon = bonInputFromCandidates(bonCandidates(), defaultGrader(), "synthetic");
    const r = runAnalyses({processBench: {splits, threshold: 0.5}, bon}, {aggregations: {subsets: 5, seed: 1}});
    type J = {
        false_positive: {overall: {groups: Record<string, {flagged_ci: unknown; exact_ci: unknown}>}};
        lowest_step: {process_bench: {overall: {all: {at_last_ci: unknown}}}};
        aggregations: {rows: Array<{id: string; accuracy_ci: unknown; ci_low?: unknown}>; paired: Array<{a: string; b: string; diff: {value: number; n: number; method: string}; sentence: string}>};
    };
    const j = analyzeJson(r) as J;
    const g = j.false_positive.overall.groups;
    assert.deepEqual(g["right-answer-wrong-process"].flagged_ci, pct(3, 4));
    assert.deepEqual(g["right-answer-wrong-process"].exact_ci, pct(1, 4));
    assert.equal(g["fully-correct"].exact_ci, null, "no labelled error: no interval");
    assert.deepEqual(j.lowest_step.process_bench.overall.all.at_last_ci, pct(6, 8));
    const min = j.aggregations.rows.find((x) => x.id === "bon-min")!;
    assert.deepEqual(min.accuracy_ci, {value: 33.33, low: pct(1, 3).low, high: pct(1, 3).high, n: 3, method: "wilson", level: 0.95});
    assert.equal(min.ci_low, undefined, "one representation: the interval object");
    // mean (1/3 → 3/3) against last (1/3), paired on the same three questions.
    const meanVsLast = j.aggregations.paired.find((p) => p.a === "bon-last" && p.b === "bon-mean")!;
    assert.equal(meanVsLast.diff.value, 66.67);
    assert.equal(meanVsLast.diff.n, 3);
    assert.equal(meanVsLast.diff.method, "paired-bootstrap-percentile");
    assert.match(meanVsLast.sentence, /^PRM BoN \(mean\) − PRM BoN \(last\): \+66\.7 points; the difference is (not )?significant at 95%/);
    assert.ok(j.aggregations.paired.some((p) => p.a === "maj" && p.b === "bon-min"), "every aggregation against maj@N too");
    const md = analyzeMarkdown(r);
    assert.doesNotMatch(md, /±/);
    assert.match(md, /\| 75\.00 \(\d+\.\d\d–\d+\.\d\d; 3\/4\) \|/, "a share with its Wilson interval and counts");
    assert.match(md, /- PRM BoN \(mean\) − PRM BoN \(last\): \+66\.7 points/);

    // (d): paired schemes per aggregation and a bootstrap interval on the mean steps.
    const candidates = await scorePositions(POSITION_SAMPLES, fakeScorer, {tau: 0.5, concurrency: 2});
    const p = runAnalyses({positions: {candidates, grader: defaultGrader()}}, {positions: {subsets: 3}, aggregations: {subsets: 3}});
    const pj = analyzeJson(p) as {positions: {paired: Array<{a: string; b: string; diff: {value: number}}>; schemes: Record<string, {mean_steps_ci: {value: number; method: string; n: number}}>}};
    assert.deepEqual(pj.positions.paired.map((x) => `${x.b} − ${x.a}: ${x.diff.value}`), [
        "random/min − adaptive/min: 0", "newline/min − adaptive/min: 0",
        "random/mean − adaptive/mean: 0", "newline/mean − adaptive/mean: 0",
        "random/max − adaptive/max: 0", "newline/max − adaptive/max: 50",
    ]);
    assert.deepEqual([pj.positions.schemes.newline.mean_steps_ci.value, pj.positions.schemes.newline.mean_steps_ci.method, pj.positions.schemes.newline.mean_steps_ci.n], [2, "bootstrap-percentile", 4]);
    const pmd = analyzeMarkdown(p);
    assert.match(pmd, /- BoN \(max\): newline − adaptive positions: \+50\.0 points; the difference is not significant at 95%/);
    assert.doesNotMatch(pmd, /±/);
});
