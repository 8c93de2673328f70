/**
 * Issue 15: the answer forms real model outputs take. Each test is one kind of fault: the issue's
 * examples first, then more cases of the same kind (many from public bug reports against
 * Math-Verify: huggingface/Math-Verify#14, #41, #48, #76).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {answersEqual, extractAnswer, grade, hasFinalAnswer, isFinished, type GradeOptions} from "../../../src/grade/index.ts";

const lenient: GradeOptions = {policy: "lenient"};
const strict: GradeOptions = {policy: "strict"};

function same(gold: string, pred: string, options: GradeOptions = lenient) {
    const r = grade(gold, pred, options);
    assert.equal(r.equal, true, `${JSON.stringify(gold)} should equal ${JSON.stringify(pred)} (${options.policy}): ${r.gold.answer} | ${r.pred.answer} ${r.reason ?? ""}`);
}
function differ(gold: string, pred: string, options: GradeOptions = lenient) {
    const r = grade(gold, pred, options);
    assert.equal(r.equal, false, `${JSON.stringify(gold)} should differ from ${JSON.stringify(pred)} (${options.policy}): ${r.gold.answer} | ${r.pred.answer}`);
}
const both = (f: (g: string, p: string, o?: GradeOptions) => void, g: string, p: string) => {
    f(g, p, lenient);
    f(g, p, strict);
};

test("values beyond float64 are compared exactly (rationals) or in arbitrary precision", () => {
    both(differ, "\\frac{1}{2004!}", "\\frac{1}{2006!}");
    both(differ, "171!", "172!");
    // Math-Verify#14
    both(differ, "\\frac{1}{2^{99}}", "\\frac{1}{2^{98}}");
    both(differ, "\\frac{2^{2005}+1}{3 \\cdot 2^{2006}}", "\\frac{1}{3 \\cdot 2^{2006}}");
    both(differ, "2^{100}", "2^{100}+1");
    both(differ, "2^{64}", "18446744073709551615");
    // (strict, as PRM800K, wants an integer literal for an integer answer: 10^6 ≠ 1000000)
    same("2^{64}-1", "18446744073709551615");
    same("25!", "15511210043330985984000000");
    both(differ, "25!", "15511210043330985984000001");
    same("\\binom{100}{50}", "100891344545564193334812497256");
    both(differ, "\\binom{100}{50}", "100891344545564193334812497257");
    both(differ, "10^{-20}", "10^{-21}");
    same("\\frac{200!}{198!}", "39800");
    // not rational: arbitrary precision where float64 overflows or underflows
    differ("e^{1000}", "e^{1001}");
    differ("e^{-1000}", "e^{-1001}");
    differ("\\sqrt{2}\\cdot 200!", "\\sqrt{3}\\cdot 200!");
    same("\\sqrt{2}\\cdot 200!", "200!\\sqrt{2}");
    same("e^{1000}", "\\frac{1}{e^{-1000}}");
    // decimal literals keep their tolerance and rounding
    same("0.1+0.2", "0.3");
    same("\\frac{1}{3}", "0.3333333333333333333333");
    // too large to compute exactly: never "equal" on 40 digits alone
    const huge = grade("10^{10^{10}}", "10^{10^{10}}+1");
    assert.equal(huge.equal, false);
    assert.match(huge.reason ?? "", /too large/);
    const fact = grade("99999999!", "99999998!");
    assert.equal(fact.equal, false);
    assert.match(fact.reason ?? "", /too large/);
});

test("a division by zero is never a value; times of day are their own answer kind", () => {
    differ("12:00", "1:00");
    both(differ, "12:00", "1:00");
    const r = grade("\\frac{1}{0}", "\\frac{2}{0}");
    assert.equal(r.equal, false);
    assert.match(r.reason ?? "", /division by zero/);
    assert.equal(r.symbolic, false, "a division by zero never reaches the symbolic path");
    differ("\\frac{5}{0}", "\\infty");
    differ("12", "12:00");
    differ("1:00", "1");
    // times
    both(same, "12:00", "12:00");
    both(same, "\\text{4:30 p.m.}", "4:30 p.m.");
    both(same, "9:05 AM", "9:05 a.m.");
    both(differ, "9:05 AM", "9:05 PM");
    both(same, "12:30 a.m.", "12:30 AM");
    same("4:30 p.m.", "4:30");
    differ("4:30 p.m.", "4:30", strict);
    same("1:00 PM", "13:00");
    differ("9:05 AM", "21:05");
    same("12:30 a.m.", "0:30");
    same("12:00", "12:00:00");
    differ("12:00", "12:00:30");
    // a bare H:MM against a number is still a ratio
    same("7:32", "\\frac{7}{32}");
    differ("4:30 p.m.", "\\frac{4}{30}");
});

test("plain-text function calls are functions; the fallback never takes a number out of a call", () => {
    both(differ, "2", "sqrt(2)");
    both(same, "\\sqrt{2}", "sqrt(2)");
    both(differ, "16", "-1 + exp(16)");
    // Math-Verify#41: \sqrt(2) is \sqrt{2} too
    both(differ, "4", "4\\sqrt(2)");
    same("4\\sqrt{2}", "4\\sqrt(2)");
    same("3\\sqrt{2}", "sqrt(18)");
    same("\\frac{\\pi}{4}", "atan(1)");
    same("5", "abs(-5)");
    same("2", "log(100)/log(10)");
    same("e", "exp(1)");
    same("3", "ln(e^3)");
    same("\\sqrt{2}", "sqrt 2");
    same("\\frac{\\pi}{6}", "asin(1/2)");
    same("\\sin x", "sin(x)");
    differ("\\sin x", "sin(2x)");
    // extraction from prose
    differ("2", "The value is sqrt(2).");
    same("\\sqrt{2}", "The value is sqrt(2).");
    same("2\\sqrt{3}", "We get 2 sqrt(3) in the end");
    differ("3", "We get 2 sqrt(3) in the end");
    differ("16", "so it is -1 + exp(16)");
    assert.deepEqual(extractAnswer("The value is sqrt(2)."), {answer: "sqrt(2)", extractor: "last-call"});
    // nor out of LaTeX the fast parser leaves to the symbolic path
    differ("3", "\\sum_{k=1}^{3} k");
    same("\\prod_{k=1}^{4} k", "24");
    assert.equal(extractAnswer("\\sum_{k=1}^{3} k")?.extractor, "whole");
    // Math-Verify#48: a decimal approximation of a root
    same("\\sqrt{17}", "4.123105625617661");
});

test("unbraced multi-digit exponents are read whole: 2^10 = 2^{10}", () => {
    both(differ, "0", "2^10");
    same("1024", "2^10");
    same("2^{10}", "2^10", strict);
    same("10^{-12}", "10^-12");
    same("x^{12}", "x^12");
    differ("x^{12}", "x^2");
    same("1024", "so there are 2^10 subsets");
    differ("10", "so there are 2^10 subsets");
    // TeX arguments still take one digit: \frac94 = 9/4
    same("\\frac94", "\\frac{9}{4}");
});

test("strict takes the last box; lenient joins the final group of boxes", () => {
    same("5", "It is \\boxed{5} or \\boxed{5}.", strict);
    same("5", "It is \\boxed{5} or \\boxed{5}.", lenient);
    same("6", "First \\boxed{5}, or rather \\boxed{6}.", strict);
    same("\\frac{639}{40}", "d = \\boxed{15\\frac{39}{40}},$ or $\\boxed{\\frac{639}{40}}$ inches.", strict);
    same("\\frac{639}{40}", "d = \\boxed{15\\frac{39}{40}},$ or $\\boxed{\\frac{639}{40}}$ inches.", lenient);
    assert.equal(extractAnswer("\\boxed{-2} \\text{ and } \\boxed{1}", {policy: "strict"})?.answer, "1");
    assert.equal(extractAnswer("\\boxed{-2} \\text{ and } \\boxed{1}")?.answer, "-2, 1");
});

test("lenient: two-element comma lists are lists, not decimals", () => {
    same("19,22", "19, 22");
    differ("19,22", "19.22");
    same("27,93", "27 and 93");
    differ("27,93", "27.93");
    differ("0,1", "0.1");
    same("0,1", "\\{0, 1\\}");
    same("10,5", "10, 5");
    differ("10,5", "10.5");
    // a decimal comma where a list reading is implausible (Math-Verify's own tests)
    same("1,22", "1.22");
    same("0,111", "0.111");
    same("1000.99", "1000,99");
    // and the list reading still holds against a list
    same("1,22", "22, 1");
    differ("1,22", "1.22", strict);
});

test("expressions with variables: negative and large points, each side's domain, identities", () => {
    both(differ, "|x|", "x");
    both(differ, "\\sqrt{x^2}", "x");
    same("\\sin^2 x + \\cos^2 x", "1");
    same("1", "\\sin^2 x + \\cos^2 x");
    same("|x|", "\\sqrt{x^2}");
    differ("x|x|", "x^2");
    differ("\\frac{|x|}{x}", "1");
    same("\\cos 2x", "\\cos^2 x - \\sin^2 x");
    differ("\\cos 2x", "1-\\sin^2 x");
    same("\\cos 2x", "1-2\\sin^2 x");
    same("\\tan x", "\\frac{\\sin x}{\\cos x}");
    same("\\frac{x^2-1}{x-1}", "x+1");
    // on each side's domain: \sqrt{x}^2 = x where \sqrt{x} is defined
    same("\\sqrt{x}^2", "x");
    same("e^{\\ln x}", "x");
    same("x^{1/3}", "\\sqrt[3]{x}");
    // large values: a difference only visible away from [0.4, 2.4)
    differ("x^2", "\\frac{x^3}{x+10^{-9}x^4}");
    // integer-only expressions are compared at integers
    same("\\frac{n!}{(n-1)!}", "n");
    differ("\\frac{n!}{(n-2)!}", "n^2");
    same("\\binom{n}{2}", "\\frac{n(n-1)}{2}");
    // a variable one side does not have
    differ("2x", "2y");
    differ("x+2n+1", "x+1");
    same("y - y + x", "x");
});

test("where Math-Verify was right: units, relations against values, several boxes", () => {
    // a one-letter unit after a number
    both(same, "448", "448 m");
    same("448", "The total distance is 448 m");
    same("12", "12 s");
    same("3.5", "3.5 h");
    same("25", "25 m^2");
    differ("3n", "3");
    differ("2x", "2");
    // relation or assignment golds against values
    both(same, "|AB|=1", "1");
    same("p=5,q=2;p=7,q=2", "(5,2),(7,2)");
    differ("p=5,q=2;p=7,q=2", "(5,2),(7,3)");
    same("(1, 2), (3, 4)", "x=1,y=2;x=3,y=4");
    same("x=1,y=2", "(1,2)");
    // Math-Verify#14: the right-hand sides decide
    differ("n=2, 3, 4", "n=1, 2, 3");
    differ("D = (0, 1)", "D = (0, 1.5)");
    same("D = (0, 1)", "D = (0,1)");
    differ("\\pm 2021", "2021");
    differ("1 - \\frac{1}{\\mathrm{e}}", "1 + \\frac{1}{\\mathrm{e}}");
    // several boxes separated by prose
    same("(3, 3), (1, 1)", "\\boxed{(3, 3)} for part (a) and \\boxed{(1, 1)}");
    same("1, 2", "\\boxed{1} papers and \\boxed{2} bins");
    differ("\\boxed{1} papers and \\boxed{2} bins", "2");
    same("\\boxed{1} papers and \\boxed{2} bins", "1, 2");
    // not joined: a correction, or another sentence
    same("2", "first \\boxed{1} then \\boxed{2}");
    same("255", "Interest: \\boxed{200}. Then the second CD gives \\boxed{255}");
    // Math-Verify#76: a bold final answer
    same("73", "Thus the number is **73**.\n\n---\n\n✅ Final Answer: **73**");
    assert.equal(answersEqual("x = 5", "x = 5"), true);
});

test("finished candidates: an answer, and never a cut-off output", () => {
    assert.equal(hasFinalAnswer("So the answer is \\boxed{7}."), true);
    assert.equal(hasFinalAnswer("Let me compute 3 + 4 = 7 and then"), false);
    assert.equal(hasFinalAnswer("#### 72"), true);
    assert.equal(isFinished({text: "Let me compute 3 + 4 = 7 and then", finishReason: "length"}), false);
    assert.equal(isFinished({text: "Let me compute 3 + 4 = 7 and then"}), true);
    assert.equal(isFinished({text: "no numbers at all here, just words and more words"}), false);
    // truncation is never a finished answer, whatever the cut text ends with
    assert.equal(isFinished({text: "… so \\boxed{7} and some rambling that was cut", finishReason: "length"}), false);
    assert.equal(isFinished({text: "3 + 4 is", finishReason: "length"}), false, "a cut short expression is not a 'whole' answer");
    assert.equal(isFinished({text: "3 + 4 is"}), true, "the same text ended by the model reads as a whole answer");
    for (const text of ["7", "The answer is 1", "#### 1", "Final Answer: The final answer is $7$", "\\boxed{12}"])
        assert.equal(isFinished({text, finishReason: "length"}), false, text);
    assert.equal(isFinished({answer: "7", finishReason: "length"}), false, "an answer extracted from a cut-off output does not count either");
    assert.equal(isFinished({text: "The answer is 12", finishReason: "eos"}), true);
    assert.equal(isFinished({text: "The answer is 12", finishReason: "stop"}), true);
    assert.equal(isFinished({answer: "7"}), true);
    assert.equal(isFinished({answer: null, text: null}), false);
});
