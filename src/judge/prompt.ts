/**
 * The judge prompt: one user message that shows the problem and the solution's steps indexed
 * from 0 and asks for the index of the earliest wrong step, or −1, inside `\boxed{}`. Two
 * templates ({@link JudgeTemplate}):
 *
 * - `"processbench"`: ProcessBench's critique prompt (QwenLM/ProcessBench
 *   `code/templates/critique_template.txt`, filled as `prepare_input_boxed` in `code/run_eval.py`
 *   does): the problem under "[Math Problem]", each step verbatim in a `<paragraph_i>` …
 *   `</paragraph_i>` block, and the request for a paragraph-by-paragraph critique. The text is the
 *   reference's, so verdicts of real models are comparable with ProcessBench's published ones.
 * - `"compact"`: stepwise's own short wording ("Problem: …", one `Step i: …` line per step,
 *   line breaks folded), the prompt the first lab judge was trained on.
 * - `"verify"`: the lab verifier's (src/prm/verifier.ts): the problem and {@link VERIFY_INSTRUCTION};
 *   the steps are quoted one at a time in the verifier's turn, each followed by its check.
 */
import type {ChatMessage} from "../engines/types.ts";
import {VERIFY_INSTRUCTION, numberedSteps, showStep, verifyUserMessage} from "../prm/verifier.ts";

import {JUDGE_TEMPLATES} from "../core/constants.ts";

/** The judge's prompt templates; see the module docs (listed in core/constants.ts, shared with the verdict schema). */
export {JUDGE_TEMPLATES};
export type JudgeTemplate = (typeof JUDGE_TEMPLATES)[number];

/** The instruction line after the numbered steps of the compact template (kept short: tiny lab judges read every character of it). */
export const JUDGE_INSTRUCTION = "Give the number of the earliest wrong step in \\boxed{}, or \\boxed{-1} if every step is correct.";

/**
 * ProcessBench's critique template, character for character as the reference reads it
 * (`open(...).read().strip()`), in Python `str.format` syntax: `{problem}` and
 * `{tagged_response}` are filled, `{{}}` renders as `{}`.
 */
export const PROCESSBENCH_CRITIQUE_TEMPLATE =
    "The following is a math problem and a solution (split into paragraphs, enclosed with tags and indexed from 0):\n\n" +
    "[Math Problem]\n\n{problem}\n\n[Solution]\n\n{tagged_response}\n\n" +
    "Your task is to review and critique the solution paragraph by paragraph. Once you identify an error in a paragraph, " +
    'return the index of the paragraph where the earliest error occurs. Otherwise, return the index of -1 (which typically denotes "not found").\n\n' +
    "Please put your final answer (i.e., the index) in \\boxed{{}}.";

/**
 * Python's `str.strip()` without arguments: removes the characters for which `str.isspace()` is
 * true from both ends (that set differs from JavaScript's `trim()`: it has U+001C–U+001F and U+0085,
 * not U+FEFF). Used where the ProcessBench reference strips.
 */
export function pythonStrip(s: string): string {
    return s.replace(/^[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g, "");
}

export {showStep};

/**
 * The `<paragraph_i>` layout of ProcessBench (`prepare_input_boxed`): each step verbatim between
 * `<paragraph_i>\n` and `\n</paragraph_i>`, blocks separated by a blank line, the whole stripped.
 */
export function processBenchParagraphs(steps: readonly string[]): string {
    return pythonStrip(steps.map((s, i) => `<paragraph_${i}>\n${s}\n</paragraph_${i}>\n\n`).join(""));
}

/** {@link PROCESSBENCH_CRITIQUE_TEMPLATE} filled for a problem (verbatim) and its steps (in order). */
export function processBenchCritiquePrompt(problem: string, steps: readonly string[]): string {
    const fields: Record<string, string> = {problem, tagged_response: processBenchParagraphs(steps)};
    // One pass, as str.format: substituted text is never re-read ("{x}" or "$&" in a problem stay as they are).
    return PROCESSBENCH_CRITIQUE_TEMPLATE.replace(/\{\{|\}\}|\{(problem|tagged_response)\}/g, (m, name: string | undefined) => (name ? fields[name] : m[0]));
}

/** The compact template's user message: "Problem: …", one "Step i: …" line per step, then {@link JUDGE_INSTRUCTION}. */
export function compactJudgePrompt(question: string, steps: readonly string[]): string {
    return `Problem: ${question.trim()}\n\n${numberedSteps(steps)}\n\n${JUDGE_INSTRUCTION}`;
}

/** The user message for a question and its steps (step texts in order) under `template` (default "compact"). */
export function judgeUserMessage(question: string, steps: readonly string[], template: JudgeTemplate = "compact"): string {
    return template === "processbench" ? processBenchCritiquePrompt(question, steps) : template === "verify" ? verifyUserMessage(question) : compactJudgePrompt(question, steps);
}

/**
 * The chat messages sent to a judge: an optional system message (ProcessBench sends none), then
 * the user message of `template` (default "compact").
 */
export function judgeMessages(question: string, steps: readonly string[], options: {system?: string; template?: JudgeTemplate} = {}): ChatMessage[] {
    return [...(options.system ? [{role: "system" as const, content: options.system}] : []), {role: "user", content: judgeUserMessage(question, steps, options.template)}];
}

/** The fixed text of a template (what a prompt hash covers). */
export function judgeTemplateText(template: JudgeTemplate): string {
    return template === "processbench" ? PROCESSBENCH_CRITIQUE_TEMPLATE : template === "verify" ? VERIFY_INSTRUCTION : JUDGE_INSTRUCTION;
}
