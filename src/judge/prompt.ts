/**
 * The judge prompt: one user message that shows the problem and the solution's steps numbered
 * from 0, and asks for the index of the earliest wrong step, or −1 when every step is correct,
 * inside `\boxed{}` (the answer format of ProcessBench's critique prompt, Qwen arXiv 2501.07301
 * §3; the wording here is stepwise's own).
 *
 * Step texts are shown trimmed, with every whitespace run that contains a line break replaced by
 * one space, so each step sits on its own `Step i:` line whatever the splitter produced (adaptive
 * steps can start or end mid-line).
 */
import type {ChatMessage} from "../engines/types.ts";

/** The instruction line after the numbered steps (kept short: tiny lab judges read every character of it). */
export const JUDGE_INSTRUCTION = "Give the number of the earliest wrong step in \\boxed{}, or \\boxed{-1} if every step is correct.";

/** How one step is shown: trimmed, line breaks (with the whitespace around them) folded into one space. */
export function showStep(text: string): string {
    return text.trim().replace(/\s*[\r\n]+\s*/g, " ");
}

/** The user message for a question and its steps (step texts in order). */
export function judgeUserMessage(question: string, steps: readonly string[]): string {
    const numbered = steps.map((s, i) => `Step ${i}: ${showStep(s)}`).join("\n");
    return `Problem: ${question.trim()}\n\n${numbered}\n\n${JUDGE_INSTRUCTION}`;
}

/** The chat messages sent to a judge: an optional system message, then the user message. */
export function judgeMessages(question: string, steps: readonly string[], options: {system?: string} = {}): ChatMessage[] {
    return [...(options.system ? [{role: "system" as const, content: options.system}] : []), {role: "user", content: judgeUserMessage(question, steps)}];
}
