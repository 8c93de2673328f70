/** Malformed input gets a verdict or a clear reason, never a crash or a hang. */
import {test} from "node:test";
import assert from "node:assert/strict";
import {grade, extractAnswer} from "../../../src/grade/index.ts";

const N = 100_000;
const malformed = [
    "\\boxed{".repeat(N / 7),
    "\\(".repeat(N / 2),
    "$".repeat(N),
    "{".repeat(N),
    "}".repeat(5000) + "\\boxed{1}",
    "(".repeat(5000) + "1" + ")".repeat(5000),
    "\\frac{".repeat(N / 6),
    "word ".repeat(N / 5) + "\\boxed{42}",
    "\u0000\u0001\u0002\\boxed{3}\u0007\u001b[31m",
    "\\boxed{" + "1+".repeat(N / 2) + "1}",
    "9".repeat(N),
    "#### " + "1".repeat(N),
    "\\left(\\right.",
    "\\text{",
    "\\boxed{}",
    "10^{10^{10^{10^{10}}}}",
    "99999999!",
    "\\binom{100000}{50000}",
    "1 \\pm 2 \\pm 3 \\pm 4 \\pm 5 \\pm 6 \\pm 7",
    "\\begin{pmatrix}" + "1&".repeat(2000) + "1\\end{pmatrix}",
    "x^{" + "2^".repeat(2000) + "2}",
    "\\sqrt[0]{5}",
    "0/0",
    "\\int_0^1 x\\,dx",
    "\ud800\udfff\ufffe",
    // values beyond float64 (issue 15): exact and arbitrary-precision paths stay bounded
    "\\binom{100000}{19999}",
    "(\\frac{3}{7})^{20000}",
    "5900!",
    "\\frac{1}{2004!}+\\frac{1}{2005!}",
    "\\sin(10^{10^{5}})",
    "e^{10^{16}}",
    "\\sqrt{2}^{10^{9}}",
    "12345678901234567890123456789!",
    "\\gcd(2^{60000},3^{30000})",
    "sqrt(" .repeat(3000) + "2" + ")".repeat(3000),
    "12:00:00 p.m.",
];

test("malformed and huge inputs never throw and stay fast", () => {
    let worst = 0;
    for (const a of malformed)
        for (const b of ["42", "x", a.slice(0, 200), a])
            for (const policy of ["lenient", "strict"] as const) {
                const t0 = performance.now();
                const r = grade(a, b, {policy});
                const dt = performance.now() - t0;
                worst = Math.max(worst, dt);
                assert.equal(typeof r.equal, "boolean");
                if (!r.equal && r.path === "none") assert.ok(r.reason, `a reason for ${JSON.stringify(a.slice(0, 30))}`);
                assert.ok(dt < 2500, `${dt.toFixed(0)} ms for ${JSON.stringify(a.slice(0, 30))}`);
            }
    assert.ok(worst < 2500);
});

test("a 100 KB output with the answer at its end is graded", () => {
    const text = "Let me think about this carefully. ".repeat(3000) + "Therefore the answer is $\\boxed{\\dfrac{3}{4}}$.";
    assert.ok(text.length > 100_000);
    const r = grade("0.75", text);
    assert.equal(r.equal, true);
    assert.equal(r.pred.extractor, "boxed");
});

test("the time budget bounds a grade", () => {
    const r = grade("x^2+2x+1", "(x+1)^2", {timeoutMs: 0});
    assert.equal(typeof r.equal, "boolean");
});

test("extraction of unbalanced braces is linear", () => {
    const t0 = performance.now();
    assert.equal(extractAnswer("\\boxed{" + "{".repeat(N)), null);
    assert.ok(performance.now() - t0 < 1000);
});
