import {test} from "node:test";
import assert from "node:assert/strict";
import {boxInteger, extractBoxes, parseVerdict} from "../../src/judge/parse.ts";

test("a clear answer parses: index, −1, spacing, $…$, \\text{}, Unicode minus, reasoning before the box", () => {
    assert.deepEqual(parseVerdict("\\boxed{2}", 4), {first_error: 2});
    assert.deepEqual(parseVerdict("All steps check out, so \\boxed{-1}.", 4), {first_error: -1});
    assert.deepEqual(parseVerdict("Step 1 multiplies wrongly. The answer is \\boxed{ 1 }", 3), {first_error: 1});
    assert.deepEqual(parseVerdict("$\\boxed{3}$", 4), {first_error: 3});
    assert.deepEqual(parseVerdict("\\boxed{$0$}", 1), {first_error: 0});
    assert.deepEqual(parseVerdict("\\boxed{\\text{2}}", 3), {first_error: 2});
    assert.deepEqual(parseVerdict("\\boxed{\u22121}", 3), {first_error: -1});
    assert.deepEqual(parseVerdict("\\boxed {+2}", 3), {first_error: 2});
    assert.deepEqual(parseVerdict("0 ok\n1 bad\n\\boxed{1}", 5), {first_error: 1});
    assert.deepEqual(parseVerdict("\\boxed{-0}", 2), {first_error: 0});
});

test("no box is unparsable, also a bare number, 'boxed{2}' without the backslash, \\fbox and an answer in words", () => {
    for (const text of ["", "The first wrong step is 2.", "boxed{2}", "\\fbox{2}", "-1", "Step 3 is wrong", "\\boxed"]) assert.deepEqual(parseVerdict(text, 5), {first_error: null, reason: "no-box"}, text);
});

test("a box cut by max tokens is unparsable (unclosed), even after a closed one", () => {
    assert.deepEqual(parseVerdict("so the answer is \\boxed{2", 5), {first_error: null, reason: "unclosed-box"});
    assert.deepEqual(parseVerdict("\\boxed{\\text{3}", 5), {first_error: null, reason: "unclosed-box"});
    assert.deepEqual(parseVerdict("\\boxed{2} and \\boxed{3", 5), {first_error: null, reason: "unclosed-box"});
});

test("several boxes with different contents are unparsable; the same integer twice is one answer", () => {
    assert.deepEqual(parseVerdict("\\boxed{1} or maybe \\boxed{2}", 5), {first_error: null, reason: "several-boxes"});
    assert.deepEqual(parseVerdict("Put it in \\boxed{}: \\boxed{2}", 5), {first_error: null, reason: "several-boxes"});
    assert.deepEqual(parseVerdict("\\boxed{-1} ... so \\boxed{-1}", 5), {first_error: -1});
    assert.deepEqual(parseVerdict("\\boxed{2}\\boxed{ 2 }", 5), {first_error: 2});
});

test("non-integers are unparsable, never rounded or read from words", () => {
    for (const box of ["2.5", "2.0", "step 3", "", " ", "x", "1e2", "0x1", "two", "3/1", "[2]", "-1, 2", "2,", "\\frac{4}{2}", "99999999999"])
        assert.deepEqual(parseVerdict(`\\boxed{${box}}`, 100), {first_error: null, reason: "not-an-integer"}, box);
});

test("indices outside −1 … steps−1 are unparsable", () => {
    assert.deepEqual(parseVerdict("\\boxed{3}", 3), {first_error: null, reason: "out-of-range"});
    assert.deepEqual(parseVerdict("\\boxed{-2}", 3), {first_error: null, reason: "out-of-range"});
    assert.deepEqual(parseVerdict("\\boxed{17}", 4), {first_error: null, reason: "out-of-range"});
    assert.deepEqual(parseVerdict("\\boxed{2}", 3), {first_error: 2});
});

test("extractBoxes keeps nested braces and reports unclosed boxes", () => {
    assert.deepEqual(extractBoxes("a \\boxed{\\frac{1}{2}} b \\boxed{3}"), {boxes: ["\\frac{1}{2}", "3"], unclosed: false});
    assert.deepEqual(extractBoxes("\\boxed{{1}"), {boxes: [], unclosed: true});
    assert.equal(boxInteger(" $ \\mathrm{ 4 } $ "), 4);
    assert.equal(boxInteger("4 2"), null);
    assert.equal(boxInteger("- 1"), -1);
});
