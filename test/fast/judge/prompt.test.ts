import {test} from "node:test";
import assert from "node:assert/strict";
import {judgeMessages, judgeUserMessage, processBenchCritiquePrompt, pythonStrip} from "../../../src/judge/prompt.ts";

// QwenLM/ProcessBench code/templates/critique_template.txt, read().strip() and .format(problem=…, tagged_response=…)
// as code/run_eval.py prepare_input_boxed does, rendered with Python 3.11 for these inputs.
const REFERENCE_3_STEPS =
    "The following is a math problem and a solution (split into paragraphs, enclosed with tags and indexed from 0):\n\n[Math Problem]\n\nCompute 2 * 14 + 11.\n\n[Solution]\n\n<paragraph_0>\nFirst, 2 * 14 = 32.\n</paragraph_0>\n\n<paragraph_1>\nThen 32 + 11 = 43.\n\nSo far so good.\n</paragraph_1>\n\n<paragraph_2>\nThe answer is $\\boxed{43}$.\n</paragraph_2>\n\nYour task is to review and critique the solution paragraph by paragraph. Once you identify an error in a paragraph, return the index of the paragraph where the earliest error occurs. Otherwise, return the index of -1 (which typically denotes \"not found\").\n\nPlease put your final answer (i.e., the index) in \\boxed{}.";

test("the processbench template renders ProcessBench's critique prompt exactly (3 steps, a step with a blank line, a box in a step)", () => {
    const steps = ["First, 2 * 14 = 32.", "Then 32 + 11 = 43.\n\nSo far so good.", "The answer is $\\boxed{43}$."];
    assert.equal(processBenchCritiquePrompt("Compute 2 * 14 + 11.", steps), REFERENCE_3_STEPS);
    assert.equal(judgeUserMessage("Compute 2 * 14 + 11.", steps, "processbench"), REFERENCE_3_STEPS);
    assert.deepEqual(judgeMessages("Compute 2 * 14 + 11.", steps, {template: "processbench"}), [{role: "user", content: REFERENCE_3_STEPS}]);
});

test("processbench template: problem and steps verbatim (braces and $& stay), only the paragraph block's ends stripped", () => {
    // Python: T.format(problem="  {x} and $& {problem}  ", tagged_response=...) for steps ["  lead", "trail  \n\n"]
    const m = processBenchCritiquePrompt("  {x} and $& {problem}  ", ["  lead", "trail  \n\n"]);
    assert.ok(m.includes("[Math Problem]\n\n  {x} and $& {problem}  \n\n[Solution]\n\n<paragraph_0>\n  lead\n</paragraph_0>\n\n<paragraph_1>\ntrail  \n\n\n</paragraph_1>\n\nYour task"), m);
    assert.ok(m.endsWith("in \\boxed{}."));
});

test("pythonStrip strips what Python's str.strip() strips (not U+FEFF; U+001C and U+0085 too)", () => {
    assert.equal(pythonStrip("\u00a0\u3000\x1c\x85 2 \t\n\u2028"), "2");
    assert.equal(pythonStrip("\ufeff2"), "\ufeff2");
    assert.equal(pythonStrip(""), "");
});

test("the compact template is stepwise's short prompt, the default of judgeUserMessage", () => {
    assert.equal(judgeUserMessage("Q", ["a\nb", "c"]), "Problem: Q\n\nStep 0: a b\nStep 1: c\n\nGive the number of the earliest wrong step in \\boxed{}, or \\boxed{-1} if every step is correct.");
    assert.equal(judgeUserMessage("Q", ["a\nb", "c"], "compact"), judgeUserMessage("Q", ["a\nb", "c"]));
});
