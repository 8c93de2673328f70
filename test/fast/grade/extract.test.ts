import {test} from "node:test";
import assert from "node:assert/strict";
import {extractAnswer} from "../../../src/grade/index.ts";

const cases: Array<[string, string, string]> = [
    // [text, answer, extractor]
    ["so $x = \\boxed{\\frac{1}{2}}$ and we are done", "\\frac{1}{2}", "boxed"],
    ["nested \\boxed{\\left\\{ 1, \\frac{2}{3} \\right\\}}.", "\\left\\{ 1, \\frac{2}{3} \\right\\}", "boxed"],
    ["first \\boxed{1} then \\fbox{2}", "2", "boxed"],
    ["\\[ \\boxed{-2} \\quad \\text{and} \\quad \\boxed{1}. \\]", "-2, 1", "boxed"],
    ["$\\boxed{1}\\boxed{2}$", "1, 2", "boxed"],
    ["The answer is: 7x+2", "7x+2", "answer-is"],
    ["Adding them up, 40 + 8 = 48.\nThe answer is 48.", "48", "answer-is"],
    ["Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}", "final-answer"],
    ["Final Answer: The final answer is 12,000,023. I hope it is correct.", "12,000,023", "final-answer"],
    ["Final Answer: The largest $n$ is 34.", "34", "final-answer"],
    ["We had \\boxed{5} but then. Final Answer: The final answer is $7$. I hope it is correct.", "7", "final-answer"],
    ["Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72", "72", "gsm8k"],
    ["#### 1,234", "1,234", "gsm8k"],
    ["the ordered pair that solves the system is $(7, 6)$. <|im_start|>user", "(7, 6)", "math-end"],
    ["Answer \\( (9+1) \\)", "(9+1)", "math-end"],
    ["Therefore there are 12 distinct sequences. I hope it is correct.", "12", "last-number"],
    ["so the number is 10 which is 1,000.99m²", "1,000.99", "last-number"],
    ["Soucis : 2,74 $ a..", "2,74", "last-number"],
    ["the probability is 2/3. <|im_start|>user", "2/3", "last-number"],
    ["$1$ and $2$ and $3$", "1, 2, 3", "math-end"],
    ["$21,16$ or $11$", "21,16, 11", "math-end"],
    ["\\frac{1}{2}", "\\frac{1}{2}", "whole"],
    ["x \\geq 5", "x \\geq 5", "whole"],
    ["\\text{Evelyn}", "\\text{Evelyn}", "whole"],
    ["4:30 p.m.", "4:30 p.m.", "whole"],
    ["100 square units", "100 square units", "whole"],
];

test("extractors find the final answer and name themselves", () => {
    for (const [text, answer, extractor] of cases) {
        const e = extractAnswer(text);
        assert.ok(e, `no answer in ${JSON.stringify(text)}`);
        assert.equal(e.answer, answer, JSON.stringify(text));
        assert.equal(e.extractor, extractor, JSON.stringify(text));
    }
});

test("prose after an answer phrase does not beat a boxed answer", () => {
    const e = extractAnswer("So $17^{-1} \\equiv \\boxed{44} \\pmod{83}$. We check: our answer is correct.");
    assert.deepEqual(e, {answer: "44", extractor: "boxed"});
});

test("inline math does not cross a line break, display math does", () => {
    assert.deepEqual(extractAnswer("Answer $$ \n 9 \n $$"), {answer: "9", extractor: "math-end"});
    assert.equal(extractAnswer("Answer $ \n 9 \n $")?.extractor, "last-number");
});

test("no answer: empty input and text without any candidate", () => {
    assert.equal(extractAnswer(""), null);
    assert.equal(extractAnswer("   \n "), null);
    assert.equal(extractAnswer("{".repeat(1000)), null);
});

test("an unclosed box is skipped, not read to the end", () => {
    assert.deepEqual(extractAnswer("\\boxed{3} and later \\boxed{4"), {answer: "3", extractor: "boxed"});
});
