/**
 * Issue 15, kind 9: Best-of-N never picks an unfinished candidate (no final answer, or cut off
 * before one) by default, as PRM800K's evaluation never picks a solution without an answer;
 * `allowUnfinished` (CLI `--allow-unfinished`) restores the old behaviour.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {answerClasses} from "../../../src/select/classes.ts";
import {selectBestOfN} from "../../../src/select/best-of-n.ts";
import {evaluateBon, prepareQuestion} from "../../../src/eval/bon/evaluate.ts";
import {buildQuestions, readCandidates} from "../../../src/eval/bon/load.ts";
import {FastRng} from "../../../src/util/rng.ts";
import {bonSummary} from "../../../src/eval/bon/report.ts";
import {defaultGrader} from "../../../src/grade/grader.ts";

test("selectBestOfN with a finished mask (rule never) skips unfinished candidates, and picks none when all are", () => {
    const rng = new FastRng(1);
    const bestOfN = (sub: number[], size: number, scores: number[], finished: number[] | null = null) => selectBestOfN(scores, {ties: "random", rng, finished, unfinished: "never"}, sub, size);
    assert.equal(bestOfN([0, 1, 2], 3, [0.2, 0.99, 0.5]), 1);
    assert.equal(bestOfN([0, 1, 2], 3, [0.2, 0.99, 0.5], [1, 0, 1]), 2);
    assert.equal(bestOfN([1], 1, [0.2, 0.99, 0.5], [1, 0, 1]), -1);
    // ties stay uniform among finished candidates
    const picks = [0, 0, 0, 0];
    for (let r = 0; r < 6000; r++) picks[bestOfN([0, 1, 2, 3], 4, [0.5, 0.9, 0.5, 0.5], [1, 0, 1, 1])]++;
    assert.equal(picks[1], 0);
    for (const k of [0, 2, 3]) assert.ok(Math.abs(picks[k] / 6000 - 1 / 3) < 0.03, `${picks}`);
});

test("evaluateBon: a high-scored candidate without an answer never beats a finished one (by default)", () => {
    // candidate 0: correct, finished, low score; candidate 1: no answer, top score; candidate 2: cut off with a
    // stray (correct-looking) number, high score.
    const answers = ["7", null, "7"];
    const correct = [true, false, true];
    const classes = answerClasses(answers, correct, (a, b) => a === b);
    const q = prepareQuestion({id: "q", correct, classes, stepScores: [[0.3], [0.99], [0.9]], finished: [true, false, false]});
    const wrongQ = prepareQuestion({id: "w", correct: [false, false], classes: answerClasses(["1", null], [false, false], (a, b) => a === b), stepScores: [[0.1], [0.9]], finished: [true, false]});
    const at = (r: ReturnType<typeof evaluateBon>, id: string, n: number) => r.methods.find((m) => m.id === id)!.points.find((p) => p.n === n)!.accuracy;
    const def = evaluateBon([q], {sizes: [2, 3], subsets: 300});
    assert.equal(def.allowUnfinished, false);
    assert.equal(at(def, "bon-min", 3), 1, "the finished candidate is picked");
    // at N=2 a subset of the two unfinished candidates picks nothing: wrong
    assert.ok(Math.abs(at(def, "bon-min", 2) - 2 / 3) < 0.08, `${at(def, "bon-min", 2)}`);
    // unfinished candidates do not vote: maj@3 is the finished 7
    assert.equal(at(def, "maj", 3), 1);
    const allowed = evaluateBon([q], {sizes: [3], subsets: 300, allowUnfinished: true});
    assert.equal(allowed.allowUnfinished, true);
    // the answerless top-scored candidate wins and is wrong
    assert.equal(at(allowed, "bon-min", 3), 0);
    assert.equal(at(evaluateBon([wrongQ], {sizes: [2], subsets: 50}), "bon-min", 2), 0);
    assert.equal(bonSummary(def).allow_unfinished, false);
});

test("buildQuestions: cut-off candidates are unfinished and have no answer (graded wrong, never vote)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-bon-unfinished-"));
    const file = join(dir, "c.jsonl");
    const rows = [
        {question_id: "a", text: "3 + 4 = 7. The answer is 7", gold: "7", step_scores: [0.2], finish_reason: "stop"},
        {question_id: "a", text: "Let me see, 3 + 4 = 7 and then we", gold: "7", step_scores: [0.99], finish_reason: "length"},
        {question_id: "a", text: "Let me think about this problem step by step first.", gold: "7", step_scores: [0.95]},
        {question_id: "a", text: "We get \\boxed{8} and keep going until", gold: "7", step_scores: [0.1], finish_reason: "length"},
    ];
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const cands = await readCandidates(file);
    assert.equal(cands[1].finishReason, "length");
    const {questions, stats} = buildQuestions(cands, defaultGrader());
    // candidate 2 has no answer; 1 and 3 are cut off (3 even after a \boxed{8}): unfinished and without an answer
    assert.equal(stats.unfinished, 3);
    assert.equal(stats.noAnswer, 3);
    assert.deepEqual([...questions[0].finished!], [1, 0, 0, 0]);
    assert.deepEqual([...questions[0].correct], [1, 0, 0, 0], "the cut-off stray 7 is not graded as an answer");
    const r = evaluateBon(questions, {sizes: [4], subsets: 10});
    assert.equal(r.methods.find((m) => m.id === "bon-last")!.points[0].accuracy, 1);
    const loose = evaluateBon(questions, {sizes: [4], subsets: 10, allowUnfinished: true});
    // the cut-off candidate's stray 7 has the top score: allowed, it is picked, and it is wrong (no answer)
    assert.equal(loose.methods.find((m) => m.id === "bon-last")!.points[0].accuracy, 0);
    // a cut-off \boxed{8} is not a finished answer either: the finished 7 is picked even when the box scores higher
    const boxedFirst = buildQuestions(cands.map((c, i) => (i === 3 ? {...c, stepScores: [0.6]} : c)), defaultGrader()).questions;
    assert.equal(evaluateBon(boxedFirst, {sizes: [4], subsets: 10}).methods.find((m) => m.id === "bon-last")!.points[0].accuracy, 1);
    // a precomputed verdict is the record's own: kept
    const given = buildQuestions([{...cands[1], correct: true}], defaultGrader()).questions;
    assert.deepEqual([[...given[0].correct], [...given[0].finished!]], [[1], [0]]);
});
