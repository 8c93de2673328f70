import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {aggregate} from "../../../src/select/aggregate.ts";
import {answerClasses} from "../../../src/select/classes.ts";
import {selectBestOfN} from "../../../src/select/best-of-n.ts";
import {VOTE_NONE, VoteScratch, majorityVote, weightedMajorityVote} from "../../../src/select/vote.ts";
import {bonMarkdown, bonSummary} from "../../../src/eval/bon/report.ts";
import {FastRng} from "../../../src/util/rng.ts";
import {SubsetSampler, defaultSizes} from "../../../src/eval/bon/subsets.ts";
import {type BonQuestion, evaluateBon, prepareQuestion} from "../../../src/eval/bon/evaluate.ts";
import {buildQuestions, readCandidates} from "../../../src/eval/bon/load.ts";
import {defaultGrader} from "../../../src/grade/grader.ts";

const numericEqual = (a: string, b: string): boolean => Number(a) === Number(b);

test("aggregate: min, max, mean, product, last; no steps → 0", () => {
    const s = [0.9, 0.5, 0.8];
    assert.equal(aggregate(s, "min"), 0.5);
    assert.equal(aggregate(s, "max"), 0.9);
    assert.ok(Math.abs(aggregate(s, "mean") - 2.2 / 3) < 1e-12);
    assert.ok(Math.abs(aggregate(s, "product") - 0.36) < 1e-12);
    assert.equal(aggregate(s, "last"), 0.8);
    for (const a of ["min", "max", "mean", "product", "last"] as const) assert.equal(aggregate([], a), 0);
});

test("answerClasses: union of a non-transitive relation, no-answer class −1, split by verdict", () => {
    // a~b and b~c but not a~c: one class by the union.
    const eq = (x: string, y: string): boolean => Math.abs(Number(x) - Number(y)) <= 1;
    const r = answerClasses(["1", "2", "3", null, "10", " 2 "], [1, 1, 1, 0, 0, 1], eq);
    assert.deepEqual([...r.classOf], [0, 0, 0, -1, 1, 0]);
    assert.deepEqual([...r.classCorrect], [1, 0]);
    assert.equal(r.count, 2);
    // Same answer, different precomputed verdicts: separate classes.
    const s = answerClasses(["5", "5"], [true, false], numericEqual);
    assert.deepEqual([...s.classOf], [0, 1]);
    assert.deepEqual([...s.classCorrect], [1, 0]);
    // Each distinct pair compared at most once.
    let calls = 0;
    answerClasses(["1", "1", "1", "2", "2"], [1, 1, 1, 0, 0], (a, b) => (calls++, a === b));
    assert.equal(calls, 1);
});

test("subsets: draws are permutations' prefixes, uniform, seeded", () => {
    const s = new SubsetSampler(5, new FastRng(1));
    const counts = new Array(5).fill(0);
    for (let r = 0; r < 20000; r++) {
        const o = s.draw(2);
        assert.notEqual(o[0], o[1]);
        counts[o[0]]++;
        counts[o[1]]++;
    }
    for (const c of counts) assert.ok(Math.abs(c / 40000 - 0.2) < 0.01, `${counts}`);
    assert.deepEqual(defaultSizes(64), [1, 2, 4, 8, 16, 32, 64]);
    assert.deepEqual(defaultSizes(6), [1, 2, 4, 6]);
    assert.deepEqual([...new SubsetSampler(8, new FastRng("a")).draw(8)], [...new SubsetSampler(8, new FastRng("a")).draw(8)]);
});

test("majorityVote, weightedMajorityVote and selectBestOfN (random ties, as eval bon runs them): winners, no-answer never votes, ties uniform", () => {
    const classOf = Int32Array.from([0, 1, 1, -1, 2]);
    const rng = new FastRng(3);
    const rules = {ties: "random", rng, scratch: new VoteScratch(3)} as const;
    assert.equal(majorityVote(classOf, rules, [0, 1, 2, 3, 4], 5), 1);
    assert.equal(majorityVote(classOf, rules, [3], 1), VOTE_NONE);
    // Weighted: class 0 has 0.9, class 1 has 0.2 + 0.3.
    assert.equal(weightedMajorityVote(classOf, [0.9, 0.2, 0.3, 0, 0], rules, [0, 1, 2], 3), 0);
    // Scratch is reset between votes: counts and weights of the previous vote never leak into the next.
    const winners = new Set<number>();
    for (let r = 0; r < 300; r++) {
        assert.equal(majorityVote(classOf, rules, [1, 2], 2), 1); // class 1: two votes
        winners.add(majorityVote(classOf, rules, [0, 4, 1], 3)); // a fair three-way tie; a leak makes class 1 win every time
    }
    assert.deepEqual([...winners].sort(), [0, 1, 2]);
    assert.equal(weightedMajorityVote(classOf, [5, 0.1, 0.1, 0, 0], rules, [0, 1, 2], 3), 0); // class 0: weight 5
    assert.equal(weightedMajorityVote(classOf, [0.1, 0.2, 0, 0, 0], rules, [0, 1], 2), 1); // a leaked 5 would make it class 0
    const wins = [0, 0, 0];
    for (let r = 0; r < 9000; r++) wins[majorityVote(classOf, rules, [0, 1, 4], 3)]++;
    for (const w of wins) assert.ok(Math.abs(w / 9000 - 1 / 3) < 0.03, `${wins}`);
    assert.equal(selectBestOfN([0.1, 0.7, 0.3], {ties: "random", rng}, [0, 1, 2], 3), 1);
    const picks = [0, 0, 0];
    for (let r = 0; r < 9000; r++) picks[selectBestOfN([0.5, 0.5, 0.5], {ties: "random", rng}, [0, 1, 2], 3)]++;
    for (const p of picks) assert.ok(Math.abs(p / 9000 - 1 / 3) < 0.03, `${picks}`);
});

test("evaluateBon intervals are 95% Wilson over the questions: never 0 ± 0 when every question is wrong", () => {
    const wrong = Array.from({length: 20}, (_, k) => question(`w${k}`, ["1", "2"], "3", [[0.5], [0.4]]));
    const right = Array.from({length: 20}, (_, k) => question(`r${k}`, ["3", "3"], "3", [[0.5], [0.4]]));
    const half = [...wrong.slice(0, 10), ...right.slice(0, 10)];
    const at = (qs: BonQuestion[], id: string) => evaluateBon(qs, {sizes: [2], subsets: 20}).methods.find((m) => m.id === id)!.points[0];
    const close = (got: [number, number] | null, want: [number, number]) => assert.ok(got && Math.abs(got[0] - want[0]) < 1e-4 && Math.abs(got[1] - want[1]) < 1e-4, `${got} vs ${want}`);
    for (const id of ["first", "pass", "maj", "bon-min", "vote-product"]) {
        assert.equal(at(wrong, id).accuracy, 0);
        close(at(wrong, id).ci, [0, 0.1611]);
        close(at(right, id).ci, [0.8389, 1]);
        close(at(half, id).ci, [0.2993, 0.7007]);
    }
    const md = bonMarkdown(bonSummary(evaluateBon(wrong, {sizes: [1, 2], subsets: 5})));
    assert.match(md, /\| maj@N \| 0\.00 \(0\.00–16\.11\) \| 0\.00 \(0\.00–16\.11\) \|/);
    assert.doesNotMatch(md, /±/);
    assert.equal(bonSummary(evaluateBon(wrong, {sizes: [1], subsets: 5})).ci, "wilson-95");
});

/** A question with candidates given by answer and score. */
function question(id: string, answers: string[], gold: string, scores: number[][]): BonQuestion {
    const correct = answers.map((a) => a === gold);
    return prepareQuestion({id, correct, classes: answerClasses(answers, correct, (a, b) => a === b), stepScores: scores});
}

test("evaluateBon: hand-checkable accuracies and pass@N against its closed form", () => {
    // q1: 4 candidates, answers A(correct) B B C; the correct one has the best min score.
    const q1 = question("q1", ["A", "B", "B", "C"], "A", [[0.9, 0.8], [0.7, 0.2], [0.6], [0.1]]);
    // q2: every candidate correct.
    const q2 = question("q2", ["X", "X", "X", "X"], "X", [[0.5], [0.5], [0.5], [0.5]]);
    const r = evaluateBon([q1, q2], {subsets: 4000, seed: 7});
    assert.deepEqual(r.sizes, [1, 2, 4]);
    const at = (id: string, n: number): number => r.methods.find((m) => m.id === id)!.points.find((p) => p.n === n)!.accuracy;
    // N=1: every method picks the single candidate: (1/4 + 1)/2.
    for (const m of r.methods) assert.ok(Math.abs(m.points[0].accuracy - 0.625) < 0.02, `${m.id} ${m.points[0].accuracy}`);
    // N=4: q1 maj picks B (wrong); BoN(min) picks A; pass = 1.
    assert.equal(at("maj", 4), 0.5);
    assert.equal(at("bon-min", 4), 1);
    assert.equal(at("bon-product", 4), 1);
    assert.equal(at("pass", 4), 1);
    // Weighted vote (product): A 0.72, B 0.14 + 0.6 = 0.74 → B.
    assert.equal(at("vote-product", 4), 0.5);
    // pass@2 on q1 = 1 − C(3,2)/C(4,2) = 0.5.
    assert.ok(Math.abs(at("pass", 2) - (0.5 + 1) / 2) < 0.015);
    // Determinism, and a method's numbers do not depend on which other methods run.
    const again = evaluateBon([q1, q2], {subsets: 4000, seed: 7, bonAggregations: ["last"], voteAggregations: []});
    assert.equal(again.methods.find((m) => m.id === "maj")!.points[1].accuracy, at("maj", 2));
    assert.equal(again.methods.find((m) => m.id === "first")!.points[1].accuracy, at("first", 2));
    const other = evaluateBon([q1, q2], {subsets: 4000, seed: 8});
    assert.notEqual(other.methods.find((m) => m.id === "first")!.points[1].accuracy, at("first", 2));
    assert.throws(() => evaluateBon([q1], {sizes: [8]}), /subset size 8 is not in 1\.\.4/);
    assert.throws(() => evaluateBon([q1], {voteAggregations: ["median" as never]}), /not available/);
});

test("readCandidates + buildQuestions: grading with the project's grader, precomputed verdicts, errors with file:line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-bon-"));
    const file = join(dir, "c.jsonl");
    const rows = [
        {question_id: "a", text: "So the answer is \\boxed{\\frac12}.", gold: "0.5", step_scores: [0.9]},
        {question_id: "a", text: "The answer is $1/2$", gold: "0.5", step_scores: [0.8]},
        {question_id: "a", text: "\\boxed{3}", gold: "0.5", step_scores: [0.4]},
        {question_id: "a", text: "", gold: "0.5", step_scores: []},
        {question_id: 7, answer: "12", correct: true, step_scores: [0.2, 0.3]},
        {question_id: 7, answer: "13", correct: false, step_scores: [0.6]},
    ];
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const cands = await readCandidates(file);
    assert.equal(cands[4].questionId, "7");
    assert.equal(cands[5].id, "7#1");
    const {questions, stats} = buildQuestions(cands, defaultGrader());
    assert.equal(stats.graded, 4);
    assert.equal(stats.precomputed, 2);
    assert.equal(stats.noAnswer, 1);
    const [a, b] = questions;
    assert.deepEqual([...a.correct], [1, 1, 0, 0]);
    assert.deepEqual([...a.classes.classOf], [0, 0, 1, -1]); // \frac12 and 1/2 share a class
    assert.deepEqual([...b.correct], [1, 0]);
    assert.ok(Math.abs(a.scores.product![0] - 0.9) < 1e-12);

    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, JSON.stringify({question_id: "a", text: "x", gold: "1", step_scores: [0.5, "high"]}) + "\n");
    await assert.rejects(readCandidates(bad), new RegExp(`${bad.replace(/[.]/g, "\\.")}:1: field "step_scores"\\[1\\] must be a finite number`));
    writeFileSync(bad, JSON.stringify({qid: "a"}) + "\n");
    await assert.rejects(readCandidates(bad), /:1: missing question id field "question_id"/);
    writeFileSync(bad, [{question_id: "a", text: "1", gold: "1", step_scores: [1]}, {question_id: "a", text: "1", gold: "1"}].map((r) => JSON.stringify(r)).join("\n"));
    const mixed = await readCandidates(bad);
    assert.throws(() => buildQuestions(mixed, defaultGrader()), /bad\.jsonl:2: candidate has no step scores/);
    writeFileSync(bad, JSON.stringify({question_id: "a", text: "1"}) + "\n");
    const noGold = await readCandidates(bad);
    assert.throws(() => buildQuestions(noGold, defaultGrader()), /:1: no "correct" verdict and no gold answer/);
});
