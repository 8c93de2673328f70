import {test} from "node:test";
import assert from "node:assert/strict";
import {answersEqual, grade, type GradeOptions} from "../../../src/grade/index.ts";

const lenient: GradeOptions = {policy: "lenient"};
const strict: GradeOptions = {policy: "strict"};

function same(a: string, b: string, options: GradeOptions = lenient) {
    assert.equal(answersEqual(a, b, options), true, `${JSON.stringify(a)} should equal ${JSON.stringify(b)} (${options.policy})`);
}
function differ(a: string, b: string, options: GradeOptions = lenient) {
    assert.equal(answersEqual(a, b, options), false, `${JSON.stringify(a)} should differ from ${JSON.stringify(b)} (${options.policy})`);
}

test("numbers: separators, decimals, percent, scientific, units, degrees, currency", () => {
    for (const p of [lenient, strict]) {
        for (const v of ["1,000", "1\\,000", "1{,}000", "1,\\!000", "1000.0", "\\$1,000", "1000\\text{ dollars}", "1000 cm", "1e3"]) same("1000", v, p);
        same("48", "48^\\circ", p);
        same("48", "48^{\\circ}", p);
        same("10", "10\\%", p);
        same("0.5", ".5", p);
        same("7425000", "7,425,000", p);
        differ("40000", "320,000", p);
        differ("32349", "32, 349", p);
    }
    same("0.5", "50\\%");
    differ("0.5", "50\\%", strict);
    same("1.22", "1,22");
    same("1500", "1.5\\times 10^{3}");
    same("-5", "-5");
    differ("10^{10}", "10000000001");
    differ("0.0000672", "0.0000671");
    differ("1e-15", "2e-15");
    differ("5", "-5");
});

test("fractions: \\frac, \\dfrac, \\tfrac, a/b, mixed numbers; strict keeps unreduced fractions apart", () => {
    for (const p of [lenient, strict]) {
        for (const v of ["\\frac{1}{2}", "\\dfrac{1}{2}", "\\tfrac12", "1/2", "0.5", "\\frac12"]) same("\\frac{1}{2}", v, p);
        same("\\frac{31}{4}", "7 3/4", p);
        same("1\\frac{4}{5}", "\\frac{9}{5}", p);
        same("3.5", "\\frac{7}{2}", p);
    }
    same("\\frac{2}{4}", "\\frac{1}{2}");
    differ("\\frac{1}{2}", "\\frac{2}{4}", strict);
    differ("\\frac{1}{2}", "2/4", strict);
    same("\\frac{1}{3}", "0.333333");
    differ("\\frac{1}{3}", "0.333");
    differ("\\frac{1}{3}", "0.333333", strict);
});

test("strict: an integer answer needs an integer literal", () => {
    differ("1000000", "10^6", strict);
    differ("10", "9+1", strict);
    same("1000000", "10^6");
    same("10", "9+1");
    same("3", "3.0", strict);
});

test("roots, pi and constants", () => {
    same("\\sqrt{8}", "2\\sqrt{2}");
    same("\\sqrt8", "2\\sqrt2", strict);
    same("\\frac{9}{4}\\pi", "\\frac94\\pi");
    same("\\frac{\\sqrt{3}}{2}", "\\sin 60^\\circ");
    same("\\sqrt[3]{-8}", "-2");
    differ("4", "4\\sqrt{2}");
    differ("\\pi", "3.14");
    same("\\infty", "\\infty");
    differ("-\\infty", "\\infty");
});

test("tuples keep order and bracket kind; sets and unions ignore order", () => {
    same("(3, \\frac{\\pi}{2})", "\\left( 3, \\frac{\\pi}{2} \\right)", strict);
    same("(3, \\frac{\\pi}{2})", "(3, pi/2)", strict);
    differ("(1,2)", "(2,1)");
    differ("(-2,7)", "[-2,7]");
    differ("[0,1)", "(0,1)");
    same("(0.6, 2.6667]", "(\\frac35, \\frac83]", {precision: 2});
    same("\\{1, 2, 3\\}", "\\{3, 1, 2\\}");
    same("\\{1\\pm\\sqrt{5},-2\\}", "\\{-2, 1-\\sqrt5, 1+\\sqrt5\\}");
    same("(-\\infty, 0) \\cup (1, \\infty)", "(1,\\infty)\\cup(-\\infty,0)");
    differ("(-\\infty, 0] \\cup (1, \\infty)", "(-\\infty,0)\\cup(1,\\infty)");
    same("(1,3)", "{1,3}");
    differ("(3,1)", "{1,3}");
    same("(2, 12) \\cup (12, 102)", "(2,12) \\cup (12,102)");
});

test("bare lists: unordered when lenient, ordered when strict", () => {
    same("12, 10, 6", "12,10,6", strict);
    differ("12, 10, 6", "6, 10, 12", strict);
    same("12, 10, 6", "6, 10, 12");
    same("1 \\pm \\sqrt{19}", "1-\\sqrt{19}, 1+\\sqrt{19}");
    same("12\\text{ and }13", "12, 13");
});

test("matrices: kinds, entries, products and sums", () => {
    same("\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}", "\\begin{bmatrix}1&0\\\\0&1\\end{bmatrix}");
    same("\\begin{pmatrix}1 & 2 \\\\3 & 4\\end{pmatrix}", "\\left[\\begin{array}{cc}1 & 2 \\\\3 & 4\\end{array}\\right]");
    same("\\begin{pmatrix}6 & 8 \\\\ 10 & 12\\end{pmatrix}", "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}");
    same("\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}", "\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}\\begin{pmatrix}1 & 0 \\\\ 0 & 1\\end{pmatrix}");
    differ("\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}", "\\begin{pmatrix}1 & 2 \\\\ 3 & 5\\end{pmatrix}");
    same("\\begin{pmatrix}\\frac13 \\\\ \\frac15\\end{pmatrix}", "\\begin{pmatrix}0.33 \\\\ 0.2\\end{pmatrix}", {precision: 2});
});

test("equations and inequalities", () => {
    same("x \\geq 5", "5 \\leq x");
    same("x \\leq 5", "5 \\geq x");
    differ("x \\geq 5", "x \\leq 5");
    same("x < 1", "-x > -1");
    differ("x < 1", "x > -1");
    same("x \\neq 3", "x != 3");
    same("34x+45y-20z+100=0", "-34x-45y+20z-100=0");
    same("2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}");
    same("x^2/4 + y^2/3 = 1", "x^2/16 + y^2/12 = 1/4");
    same("4", "x=4", strict);
    same("5", "k = 5", strict);
    same("k=1", "1");
    same("11", "x = 5+5+1 = 11");
    same("\\frac13", "x=1/3\\approx0.33");
    differ("2x + z = 1", "1");
    differ("7 = 11a+c", "11a+c");
    same("-2 \\le x \\le 7", "x \\in [-2,7]");
    differ("x \\in [-2,7]", "-2 \\le x \\le 7");
    same("x \\in [-2,7]", "-2 \\le x \\le 7", {allowSetRelation: true});
});

test("assignments name their value: tuples, ratios and products of symbols on the left", () => {
    same("(p,q)=(3,2)", "(3,2)");
    same("(p,q,r)=(3,2,7)", "\\boxed{(3,2,7)}");
    same("\\frac{NO}{BO}=\\frac{1}{\\sqrt{6}}", "\\frac{\\sqrt6}{6}");
    same("V_{1}:V_{2}=11:21", "11:21");
    same("0<f(x)<1", "(0,1)");
    differ("a^2 + b = 0", "0");
});

test("symbolic expressions: identities, sampled at random points or through the compute engine", () => {
    same("p - q", "-q+p");
    same("x^2+2x+1", "(x+1)^2");
    same("x^2+2x+1", "(x+1)^2", strict);
    same("\\frac{x+2}{7}", "\\frac{x}{7}+\\frac{2}{7}");
    same("\\tan^2(y)+1", "\\sec^2(y)");
    same("\\binom{5}{2}", "10");
    same("\\log_2 8", "3");
    differ("x+2n+1", "x+1");
    differ("(a+5)(b+2)", "(+5)(b+2)");
    differ("2x", "2y");
});

test("text answers: case-insensitive, \\text{} and choice letters", () => {
    same("\\text{Evelyn}", "Evelyn");
    same("\\text{Evelyn}", "evelyn", strict);
    same("\\text{4:30 p.m.}", "4:30 p.m.", strict);
    same("\\text{(C)}", "C");
    same("\\text{E}", "E");
    differ("\\text{east}", "west");
});

test("grade() reports extracted answers, extractors and the path taken", () => {
    const r = grade("\\frac{1}{2}", "We compute ... so the answer is $0.5$.");
    assert.equal(r.equal, true);
    assert.deepEqual(r.gold, {answer: "\\frac{1}{2}", extractor: "whole"});
    assert.deepEqual(r.pred, {answer: "0.5", extractor: "answer-is"});
    assert.equal(r.path, "structural");
    const none = grade("5", "");
    assert.equal(none.equal, false);
    assert.match(none.reason ?? "", /no answer/);
});

test("options are validated", () => {
    assert.throws(() => grade("1", "1", {policy: "loose" as never}), /policy/);
    assert.throws(() => grade("1", "1", {precision: -1}), /precision/);
});

test("numeric tolerance is an option", () => {
    differ("3.14159", "3.1416", strict);
    same("3.14159", "3.1416", {policy: "strict", tolerance: 1e-4});
});
