import {test} from "node:test";
import assert from "node:assert/strict";
import {Rng, deriveSeed, hashString} from "../../../src/util/rng.ts";
import {
    type LabProblem, PRESETS, checkAnswer, countOps, evaluate, exprEquals, extractAnswer, formatExpr, generateProblems,
    isHeldout, labStream, labelSegments, parseExpr, presetNames, problemExpr, resolveKnobs, segmentEndsFromTexts, solve,
    splitSteps, verifyProcess,
} from "../../../src/domains/lab/index.ts";

const Q = {question: "Compute (12 + 7) * 3 - 45 / 5.", answer: "48"};
const GOOD = [
    "First, 12 + 7 = 19, so 19 * 3 - 45 / 5.",
    "Then 19 * 3 = 57, so 57 - 45 / 5.",
    "Next, 45 / 5 = 9, so 57 - 9.",
    "So 57 - 9 = 48.",
    "The answer is 48.",
];

test("rng: deterministic, in range, independent named streams", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({length: 100}, () => a.nextUint32());
    assert.deepEqual(xs, Array.from({length: 100}, () => b.nextUint32()));
    assert.notDeepEqual(xs, Array.from({length: 100}, () => new Rng(43).nextUint32()));
    const r = new Rng("seed");
    for (let i = 0; i < 2000; i++) {
        const v = r.int(-3, 5);
        assert.ok(Number.isInteger(v) && v >= -3 && v <= 5);
        const f = r.next();
        assert.ok(f >= 0 && f < 1);
    }
    assert.notEqual(deriveSeed(1, 2), deriveSeed(2, 1));
    assert.equal(hashString("abc"), hashString("abc"));
    assert.throws(() => r.int(3, 2), RangeError);
});

test("generator: deterministic, seeded, stable ids and record shape", () => {
    const a = generateProblems(50, {seed: 7});
    const b = generateProblems(50, {seed: 7});
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.map((p) => p.question), generateProblems(50, {seed: 8}).map((p) => p.question));
    assert.equal(a[0].id, "lab-policy-7-0");
    assert.equal(a[49].id, "lab-policy-7-49");
    const h = generateProblems(3, {seed: 7, split: "heldout"});
    assert.equal(h[2].id, "lab-policy-7-h2");
    for (const p of a) {
        assert.equal(typeof p.question, "string");
        assert.equal(typeof p.answer, "string");
        assert.equal(p.solution, p.steps.join("\n"));
        assert.equal(p.steps.length, p.ops + 1);
        assert.equal(p.steps.at(-1), `The answer is ${p.answer}.`);
        assert.equal(String(evaluate(problemExpr(p))), p.answer);
        assert.equal(countOps(problemExpr(p)), p.ops);
    }
    // A stream is an infinite generator; a prefix of it equals generateProblems.
    const it = labStream({seed: 7});
    const first = [it.next().value, it.next().value];
    assert.deepEqual(first, a.slice(0, 2));
});

test("generator: every preset respects its knobs", () => {
    for (const name of presetNames()) {
        const k = PRESETS[name];
        const ps = generateProblems(300, {seed: 1, preset: name});
        const opsSeen = new Set<number>();
        for (const p of ps) {
            const e = problemExpr(p);
            opsSeen.add(p.ops);
            assert.ok(p.ops >= k.minOps && p.ops <= k.maxOps, `${name}: ops ${p.ops}`);
            // Every intermediate value is an exact integer within bounds (and ≥ 0 unless allowed).
            const walk = (n: ReturnType<typeof problemExpr>): void => {
                const v = evaluate(n);
                assert.ok(v !== null && Number.isInteger(v), `${name}: inexact ${formatExpr(n)}`);
                assert.ok(Math.abs(v) <= k.maxValue, `${name}: ${formatExpr(n)} = ${v} > ${k.maxValue}`);
                if (!k.allowNegative) assert.ok(v >= 0, `${name}: negative ${formatExpr(n)}`);
                if (n.kind === "num") assert.ok(n.value >= k.minOperand && n.value <= k.maxOperand);
                else {
                    assert.ok(k.operators.includes(n.op));
                    walk(n.left);
                    walk(n.right);
                }
            };
            walk(e);
        }
        assert.equal(opsSeen.size, k.maxOps - k.minOps + 1, `${name}: all op counts appear`);
    }
    const flat = generateProblems(200, {seed: 2, knobs: {parenProb: 0}});
    assert.ok(flat.every((p) => !p.question.includes("(")));
    const addOnly = generateProblems(100, {seed: 2, knobs: {operators: ["+"], minOps: 3, maxOps: 3}});
    assert.ok(addOnly.every((p) => p.ops === 3 && !/[-*/]/.test(p.question)));
    assert.throws(() => resolveKnobs("nope"), /unknown lab preset/);
    assert.throws(() => resolveKnobs("policy", {minOps: 4, maxOps: 2}), /maxOps/);
});

test("generator: held-out split never overlaps training, whatever the seeds", () => {
    const heldout = generateProblems(300, {seed: 5, preset: "easy", split: "heldout"});
    const heldoutKeys = new Set(heldout.map((p) => p.meta!.expr));
    assert.ok(heldout.every((p) => isHeldout(p.meta!.expr) && p.meta!.split === "heldout"));
    for (const seed of [1, 2, 5]) {
        const train = generateProblems(2000, {seed, preset: "easy"});
        for (const p of train) {
            assert.ok(!heldoutKeys.has(p.meta!.expr), `train problem ${p.id} is held out`);
            assert.ok(!isHeldout(p.meta!.expr));
        }
    }
    // A smaller held-out fraction is a subset of the default one, so it is disjoint from train too.
    assert.ok(generateProblems(50, {seed: 3, split: "heldout", heldoutFraction: 0.05}).every((p) => isHeldout(p.meta!.expr, 0.1)));
    const unique = generateProblems(500, {seed: 1, preset: "easy", unique: true});
    assert.equal(new Set(unique.map((p) => p.meta!.expr)).size, 500);
});

test("format: expressions print and parse back; solutions are short", () => {
    for (const p of generateProblems(300, {seed: 9, preset: "signed"})) {
        const e = problemExpr(p);
        assert.ok(exprEquals(parseExpr(formatExpr(e))!, e));
        assert.ok(exprEquals(parseExpr(formatExpr(e, "compact"))!, e));
    }
    assert.equal(formatExpr(parseExpr("(1 + 2) * 3 - (4 - 5) - 6 / (2 * 3)")!), "(1 + 2) * 3 - (4 - 5) - 6 / (2 * 3)");
    assert.equal(formatExpr(parseExpr("((1)) + ((2 * 3))")!), "1 + 2 * 3");
    assert.equal(formatExpr(parseExpr("-2 * (-3) - -4")!), "-2 * (-3) - (-4)");
    const ps = generateProblems(600, {seed: 4});
    const mean = (xs: LabProblem[]): number => xs.reduce((s, p) => s + p.solution.length, 0) / xs.length;
    assert.ok(mean(ps.filter((p) => p.ops === 3)) < 130);
    assert.ok(ps.every((p) => /^[0-9A-Za-z +\-*/()=,.\n]*$/.test(p.question + p.solution)));
});

test("verify: canonical solutions of every preset and style are correct", () => {
    for (const name of presetNames())
        for (const knobs of [{}, {style: "compact" as const}, {order: "random" as const}]) {
            for (const p of generateProblems(120, {seed: 11, preset: name, knobs})) {
                const v = verifyProcess(p, p.solution);
                assert.equal(v.firstErrorStep, -1, `${p.question}\n${p.solution}\n${JSON.stringify(v.steps)}`);
                assert.ok(v.correct && v.finalAnswerCorrect && v.complete);
                assert.equal(v.steps.length, p.steps.length);
                assert.ok(checkAnswer(p, p.solution).correct);
            }
        }
});

test("verify: any valid reduction order, with or without restatements, is accepted", () => {
    const alt = [
        "First, 45 / 5 = 9, so (12 + 7) * 3 - 9.",
        "Then 7 + 12 = 19, so 19 * 3 - 9.",
        "Next, 3 * 19 = 57.",
        "So 57 - 9 = 48.",
        "The answer is 48.",
    ].join("\n");
    assert.equal(verifyProcess(Q, alt).firstErrorStep, -1);
    assert.equal(verifyProcess(Q, "12+7=19\n19*3=57\n45/5=9\n57-9=48\nanswer: 48").firstErrorStep, -1);
    // Both products of a*b + c*d may go first; equal nodes are tracked as alternatives.
    assert.equal(verifyProcess("Compute 2 * 3 + 4 * 5.", "4 * 5 = 20, so 2 * 3 + 20.\n2 * 3 = 6, so 6 + 20.\n6 + 20 = 26.\nThe answer is 26.").firstErrorStep, -1);
    assert.equal(verifyProcess("Compute 3 * 4 + 3 * 4.", "3 * 4 = 12\n3 * 4 = 12, so 12 + 12.\n12 + 12 = 24\nThe answer is 24.").firstErrorStep, -1);
    assert.equal(verifyProcess("Compute 3 * 4 + 3 * 4.", "3 * 4 = 12, so 3 * 4 + 12.\n3 * 4 = 12, so 12 + 12.\nThe answer is 24.").firstErrorStep, -1);
    // Random valid orders of generated problems.
    const rng = new Rng(3);
    for (const p of generateProblems(200, {seed: 12, preset: "medium"})) {
        const sol = solve(problemExpr(p), rng, {order: "random"});
        assert.equal(verifyProcess(p, sol.lines.join("\n")).firstErrorStep, -1);
        const bare = sol.steps.map((s) => `${s.left} ${s.op} ${s.right} = ${s.value}`).join("\n");
        assert.equal(verifyProcess(p, bare).firstErrorStep, -1, bare);
    }
    // Negative numbers in the text, bare or parenthesized.
    const neg = "Compute 3 - 5 * 2 + 4.";
    assert.equal(verifyProcess(neg, "5 * 2 = 10, so 3 - 10 + 4.\n3 - 10 = -7, so -7 + 4.\n-7 + 4 = -3.\nThe answer is -3.").firstErrorStep, -1);
    assert.equal(verifyProcess("Compute 2 - 3 * (1 - 4).", "1 - 4 = -3, so 2 - 3 * (-3).\n3 * -3 = -9, so 2 - (-9).\n2 - (-9) = 11.\nThe answer is 11.").firstErrorStep, -1);
});

test("verify: each error type is found at the right step", () => {
    const withLine = (i: number, line: string): string => GOOD.map((l, k) => (k === i ? line : l)).join("\n");
    const cases: Array<[string, number, string]> = [
        [withLine(1, "Then 19 * 3 = 56, so 56 - 45 / 5."), 1, "wrong-arithmetic"],
        [withLine(1, "Then 3 - 45 = -42, so 19 * -42 / 5."), 1, "invalid-reduction"],
        [withLine(0, "First, 7 * 3 = 21, so 12 + 21 - 45 / 5."), 0, "invalid-reduction"],
        [withLine(1, "Then 19 * 3 - 45 = 12."), 1, "invalid-reduction"],
        [withLine(2, "Next, 45 / 5 = 9, so 57 + 9."), 2, "wrong-restatement"],
        [withLine(2, "Next, 45 / 5 = 9, so 9 - 57."), 2, "wrong-restatement"],
        [withLine(2, "Next, 45 / 5 = 9, so 57 - 9 banana"), 2, "wrong-restatement"],
        [withLine(4, "The answer is 47."), 4, "wrong-answer"],
        [withLine(4, "The answer is forty-eight."), 4, "malformed"],
        [withLine(3, "So 57 minus 9 is 48."), 3, "malformed"],
        [withLine(3, "So 57 - 9 = 48 48"), 3, "malformed"],
        [GOOD.join("\n") + "\nThe answer is 48.", 5, "after-answer"],
        [GOOD.slice(0, 4).join("\n") + "\n57 - 9 = 48\nThe answer is 48.", 4, "invalid-reduction"],
    ];
    for (const [text, index, reason] of cases) {
        const v = verifyProcess(Q, text);
        assert.equal(v.firstErrorStep, index, `${reason}: ${text}`);
        assert.equal(v.steps[index].reason, reason, `${text}\n${JSON.stringify(v.steps[index])}`);
        assert.equal(v.steps[index].correct, false);
        assert.ok(v.steps.slice(0, index).every((s) => s.correct === true));
        assert.ok(v.steps.slice(index + 1).every((s) => s.correct === null && s.reason === "unchecked"));
        assert.equal(v.correct, false);
    }
    // A wrong step with the right final answer still has its process error.
    const v = verifyProcess(Q, withLine(1, "Then 19 * 3 = 56, so 56 - 45 / 5."));
    assert.equal(v.finalAnswerCorrect, true);
    // A correct but unfinished text has no wrong step and is not complete.
    const cut = verifyProcess(Q, GOOD.slice(0, 2).join("\n"));
    assert.deepEqual([cut.firstErrorStep, cut.complete, cut.finalAnswerCorrect, cut.correct], [-1, false, false, false]);
    // Blank lines are not steps.
    assert.equal(verifyProcess(Q, "\n\n" + GOOD.join("\n\n  \n") + "\n").steps.length, 5);
    assert.throws(() => verifyProcess({question: "Compute 1 + 2.", answer: "4"}, ""), /stored answer/);
});

test("verify: garbage text never throws", () => {
    const rng = new Rng(99);
    const alphabet = "0123456789+-*/()=,.: \nabcTheanswris×÷−-?\u0000\t" + "99999999999999999999";
    const problems = generateProblems(30, {seed: 21, preset: "signed"});
    for (let i = 0; i < 1500; i++) {
        const p = problems[i % problems.length];
        let text: string;
        if (i % 2 === 0) {
            text = Array.from({length: rng.int(0, 120)}, () => rng.pick([...alphabet])).join("");
        } else {
            const chars = [...p.solution];
            for (let m = rng.int(1, 4); m > 0; m--) chars[rng.int(0, chars.length - 1)] = rng.pick([...alphabet]);
            text = chars.join("");
        }
        const v = verifyProcess(p, text);
        assert.ok(v.firstErrorStep >= -1 && v.firstErrorStep < Math.max(1, v.steps.length));
        assert.equal(typeof checkAnswer(p, text).correct, "boolean");
        labelSegments(v, segmentEndsFromTexts([text.slice(0, 7), text.slice(7, 30), text.slice(30)]));
    }
    for (const t of ["((((((((((((((((((((1", "(".repeat(5000) + "1" + ")".repeat(5000) + " = 1", "1".repeat(400) + " + 1 = 2", "= = =", "answer", "-", ""]) {
        const v = verifyProcess(Q, t);
        assert.ok(v.firstErrorStep <= 0);
    }
    assert.equal(verifyProcess(Q, undefined as unknown as string).steps.length, 0);
});

test("segments: first wrong segment holds the character where the error is decided", () => {
    const text = [GOOD[0], "Then 19 * 3 = 56, so 56 - 45 / 5.", GOOD[2]].join("\n");
    const v = verifyProcess(Q, text);
    assert.equal(v.firstErrorStep, 1);
    const wrongDigit = text.indexOf("56"); // "5" matches 57, "6" is where it departs
    assert.equal(v.steps[1].decidedAt, wrongDigit + 1);
    // Cut right after "= 5": that prefix could still be right, so the segment is correct.
    const cut1 = wrongDigit + 1;
    const ends = [GOOD[0].length + 1, cut1, text.length];
    assert.deepEqual(labelSegments(v, ends), {labels: [true, true, false], firstErrorSegment: 2, anchor: wrongDigit + 1});
    // Cut right after the wrong digit: that segment is the wrong one, later ones are not judged.
    const ends2 = [GOOD[0].length + 1, wrongDigit + 2, wrongDigit + 10, text.length];
    assert.deepEqual(labelSegments(v, ends2).labels, [true, false, null, null]);
    // The line-end rule anchors at the last character of the wrong line.
    const lineEnd = text.indexOf("\n", GOOD[0].length + 1) - 1;
    assert.equal(labelSegments(v, ends2, "line-end").anchor, lineEnd);
    assert.deepEqual(labelSegments(v, ends2, "line-end").labels, [true, true, true, false]);
    // Segments covering only a still-correct prefix, and a fully correct text.
    assert.equal(labelSegments(v, [10, 20]).firstErrorSegment, -1);
    const ok = verifyProcess(Q, GOOD.join("\n"));
    assert.deepEqual(labelSegments(ok, segmentEndsFromTexts(["First, 12 + 7 = 1", "9, so 19 * 3 - 45 / 5.\nThen"])).labels, [true, true]);
    assert.throws(() => labelSegments(v, [5, 3]), /non-decreasing/);
    // Other anchors: invalid reduction → end of left side; restatement → first departing token.
    // "7" may still start "7 + 12"; the "*" departs from every valid next operation.
    const inv = verifyProcess(Q, "First, 7 * 3 = 21.");
    assert.equal(inv.steps[0].decidedAt, "First, 7 ".length);
    const rs = verifyProcess(Q, "First, 12 + 7 = 19, so 19 * 3 - 45 / 6.");
    assert.equal(rs.steps[0].decidedAt, "First, 12 + 7 = 19, so 19 * 3 - 45 / ".length);
    const wa = verifyProcess(Q, "The answer is 49.");
    assert.equal(wa.steps[0].decidedAt, "The answer is 4".length);
    // A strict prefix of the exact number is decided by the character that ends it.
    const pre = "First, 12 + 7 = 1, so 1 * 3 - 45 / 5.";
    assert.equal(verifyProcess(Q, pre).steps[0].decidedAt, pre.indexOf(",", 7));
    assert.equal(verifyProcess(Q, "First, 12 + 7 = 1").steps[0].decidedAt, "First, 12 + 7 = 1".length - 1);
    assert.equal(verifyProcess(Q, "First, 12 + 7 = 190").steps[0].decidedAt, "First, 12 + 7 = 19".length);
    assert.equal(verifyProcess(Q, "First, 12 + 7 = - 19").steps[0].decidedAt, "First, 12 + 7 = ".length);
    assert.equal(verifyProcess(Q, "The answer is 4.").steps[0].decidedAt, "The answer is 4".length);
    const rs2 = "First, 12 + 7 = 19, so 19 * 3 - 4 / 5.";
    assert.equal(verifyProcess(Q, rs2).steps[0].decidedAt, rs2.indexOf("4 /") + 1);
});

test("segments: a malformed line is decided at the first token no equation step can continue with", () => {
    // [text, the decided text from decidedAt on]: junk in the middle of a line is wrong where it was written.
    const cases: Array<[string, string]> = [
        ["N+ 20 = 3, so 20 + 3.", "+ 20 = 3, so 20 + 3."], // an operator right after the connective (TVD's junk pick)
        ["So 57 minus 9 is 48.", "minus 9 is 48."],
        ["First, 12 + 7 = so 19", "so 19"], // no result number
        ["First, 12 + 7) = 19", ") = 19"], // unbalanced parenthesis
        ["First, 12 + 7 == 19", "= 19"],
        ["Then, 12 + + 7 = 19", "+ 7 = 19"], // only "-" may sign an operand
        ["First, 12 * (7 $ 3) = 19", "$ 3) = 19"],
        ["First, 12 + 7 = (19 = 19", "= 19"], // "(19" must close before anything else
        // Still completable up to the line's end: decided by its last character, as before.
        ["N.", "."],
        ["First, 12 + 7 =", "="],
        ["First, 12.", "."], // "12." may still become a decimal
        ["First, 12 + 7 = 19 19", "9"], // text after the result is decided at the line's end
    ];
    for (const [text, from] of cases) {
        const s = verifyProcess(Q, text).steps[0];
        assert.equal(s.reason, "malformed", text);
        assert.equal(text.slice(s.decidedAt), from, text);
    }
    // An invalid reduction is decided where its left side departs from every valid next operation
    // (12 + 7, 7 + 12, 45 / 5 here), within a number where its digits depart.
    const reductions: Array<[string, string]> = [
        ["N9 / 3 = 3", "9 / 3 = 3"], // no valid operation starts with 9
        ["First, 7 + 13 = 20", "3 = 20"], // "1" may still be 12
        ["First, 45 / 6 = 7", "6 = 7"],
        ["First, 45 * 5 = 225", "* 5 = 225"], // "/" is not commutative: only 45 / 5
        ["First, 1 + 7 = 8", " + 7 = 8"], // "1" is a strict prefix of 12: decided where the number ends
        ["First, 12 + 7 * 3 = 21", "* 3 = 21"], // not one operation on two numbers: decided where it goes past one
    ];
    for (const [text, from] of reductions) {
        const s = verifyProcess(Q, text).steps[0];
        assert.equal(s.reason, "invalid-reduction", text);
        assert.equal(text.slice(s.decidedAt), from, text);
    }
    const neg = {question: "Compute 3 - 5 - -2 * 4.", answer: "6"};
    assert.equal(verifyProcess(neg, "First, -2 * 4 = -8, so 3 - 5 - -8.").steps[0].reason, "ok");
    // A negative operand in either form, swapped for "*": right; a wrong one departs at its digit.
    assert.equal(verifyProcess(neg, "First, 4 * (-2) = -8").steps[0].reason, "ok");
    const wrongNeg = "First, 4 * -3 = -12";
    const wn = verifyProcess(neg, wrongNeg).steps[0];
    assert.equal(wn.reason, "invalid-reduction");
    assert.equal(wrongNeg.slice(wn.decidedAt), "3 = -12");
    // Valid shapes with signs and parentheses are not malformed.
    assert.equal(verifyProcess(Q, "First, (12 + 7) = 19.").steps[0].reason, "ok");
    assert.equal(verifyProcess(Q, "First, 12 + 7 = (-19)").steps[0].reason, "wrong-arithmetic");
    // On a later line the offset is the text's, not the line's; segments cut before the junk stay correct.
    const text = `${GOOD[0]}\nN+ 20 = 3, so 20 + 3.`;
    const v = verifyProcess(Q, text);
    assert.equal(v.steps[1].decidedAt, GOOD[0].length + 2);
    assert.deepEqual(labelSegments(v, [GOOD[0].length + 2, GOOD[0].length + 3, text.length]).labels, [true, false, null]);
});

test("answer check and step splitting", () => {
    assert.deepEqual(checkAnswer(Q, GOOD.join("\n")), {correct: true, predicted: "48", expected: "48"});
    assert.equal(checkAnswer(Q, "The answer is 47.\nThe answer is 48.").correct, false);
    assert.equal(checkAnswer(Q, "no answer here").predicted, null);
    assert.equal(extractAnswer("So the answer is -12"), "-12");
    assert.equal(extractAnswer("Answer: (7)."), "7");
    const spans = splitSteps("  a b \n\n c\n");
    assert.deepEqual(spans, [{text: "a b", start: 2, end: 5}, {text: "c", start: 9, end: 10}]);
});
