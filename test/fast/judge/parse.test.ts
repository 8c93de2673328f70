import {test} from "node:test";
import assert from "node:assert/strict";
import {boxInteger, extractBoxes, lastBoxProcessBench, parseVerdict, parseVerdictProcessBench, pythonInt} from "../../../src/judge/parse.ts";

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

// ProcessBench's reader (code/run_eval.py extract_answer, then int()): each row is [answer text,
// the reference's stripped last box (None → null), int() of it (exception → null)], from Python 3.11.
const REFERENCE_READINGS: Array<[string, string | null, number | null]> = [
    ["no box here", null, null],
    ["\\boxed{2}", "2", 2],
    ["\\boxed{1} then \\boxed{2}", "2", 2], // several boxes: the last wins
    ["first \\boxed{3} then \\boxed{2", "3", 3], // an unclosed box after a closed one: the closed one
    ["\\boxed{2", null, null], // only an unclosed box
    ["\\boxed{1 and \\boxed{2}", "1 and \\boxed{2", null], // an unclosed box runs on to the next "}"
    ["\\boxed{\\text{2}}", "\\text{2", null], // nested braces: up to the first "}"
    ["\\boxed{{1}}", "{1", null],
    ["\\boxed{2.5}", "2.5", null],
    ["\\boxed{step 3}", "step 3", null],
    ["\\boxed{}", "", null],
    ["\\boxed{2} \\boxed{}", "", null], // an empty last box beats an earlier index
    ["\\boxed {2}", null, null], // no space allowed before the brace
    ["\\boxed{$3$}", "$3$", null],
    ["$\\boxed{3}$", "3", 3],
    ["\\boxed{-1}", "-1", -1],
    ["\\boxed{-2}", "-2", -2],
    ["\\boxed{+2}", "+2", 2],
    ["\\boxed{- 1}", "- 1", null],
    ["\\boxed{\u22121}", "\u22121", null], // Unicode minus: not Python's
    ["\\boxed{ 1 }", "1", 1],
    ["\\boxed{\n 2 \n}", "2", 2],
    ["\\boxed{\u00a02\u00a0}", "2", 2],
    ["\\boxed{02}", "02", 2],
    ["\\boxed{1_0}", "1_0", 10],
    ["\\boxed{\u0663}", "\u0663", 3], // Arabic-Indic three
    ["\\boxed{99999999999999999999}", "99999999999999999999", 99999999999999999999],
];

test("processbench reading = ProcessBench's extract_answer + int(): last box, up to the first '}', Python's int rules", () => {
    for (const [text, box, int] of REFERENCE_READINGS) {
        assert.equal(lastBoxProcessBench(text), box, text);
        assert.equal(box === null ? null : pythonInt(box), int, text);
    }
});

test("pythonInt follows int(): sign, Unicode digits, single underscores between digits, nothing else", () => {
    for (const [s, n] of [["\uff13", 3], ["\uff11\uff12", 12], ["\u{1d7d1}", 3], ["-0", 0], ["007", 7], ["+0", 0]] as const) assert.equal(pythonInt(s), n, s);
    for (const s of ["1__0", "_1", "1_", "+-1", "0x1", "1e2", "١.٥", "two", "\ufeff3"]) assert.equal(pythonInt(s), null, s);
});

test("parseVerdictProcessBench: the last box's text kept for the vote, the index checked against the steps", () => {
    assert.deepEqual(parseVerdictProcessBench("\\boxed{1} then \\boxed{2}", 3), {first_error: 2, box: "2"});
    assert.deepEqual(parseVerdictProcessBench("\\boxed{-1}", 3), {first_error: -1, box: "-1"});
    assert.deepEqual(parseVerdictProcessBench("no box", 3), {first_error: null, reason: "no-box", box: null});
    assert.deepEqual(parseVerdictProcessBench("\\boxed{2", 3), {first_error: null, reason: "no-box", box: null});
    assert.deepEqual(parseVerdictProcessBench("\\boxed{\\text{2}}", 3), {first_error: null, reason: "not-an-integer", box: "\\text{2"});
    assert.deepEqual(parseVerdictProcessBench("\\boxed{-2}", 3), {first_error: null, reason: "out-of-range", box: "-2"});
    assert.deepEqual(parseVerdictProcessBench("\\boxed{3}", 3), {first_error: null, reason: "out-of-range", box: "3"});
    assert.deepEqual(parseVerdictProcessBench("\\boxed{ 02 }", 3), {first_error: 2, box: "02"});
});
