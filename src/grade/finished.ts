/**
 * Whether a candidate solution is finished: it states a final answer. Best-of-N and the decoders
 * never pick an unfinished candidate by default, as PRM800K's evaluation never picks a solution
 * without an answer (a high PRM score on a truncated or answerless chain of thought must not beat
 * a finished solution).
 *
 * ```ts
 * hasFinalAnswer("… so the answer is \\boxed{7}.")                 // true
 * hasFinalAnswer("Let me compute 3 + 4 = 7 and then")               // false (only a stray number)
 * isFinished({text: "… = 7 and then", finishReason: "length"})      // false
 * isFinished({text: "3 + 4 = 7. The answer is 7"})                  // true
 * ```
 */
import {extractAnswer, type ExtractorName} from "./extract.ts";

/** Extractors that mark a declared final answer (not a fallback guess from the last number or formula). */
export const FINAL_ANSWER_EXTRACTORS: ReadonlySet<ExtractorName> = new Set(["boxed", "final-answer", "answer-is", "gsm8k", "whole"]);

/**
 * Whether a text declares a final answer: a `\boxed{}`, "The final answer is …", "The answer is …",
 * "Answer: …", `#### N`, or the whole text is itself an answer. A number or formula merely found
 * at the end of the text does not count.
 */
export function hasFinalAnswer(text: string): boolean {
    const e = extractAnswer(text);
    return e !== null && FINAL_ANSWER_EXTRACTORS.has(e.extractor);
}

/** What {@link isFinished} looks at; every field is optional. */
export interface FinishableCandidate {
    /** The candidate's text (its final answer is extracted from it). */
    text?: string | null;
    /** An already extracted answer, when the caller has one. */
    answer?: string | null;
    /** The engine's finish reason (`stop`, `eos`, `length`, …); `length` means the output was cut off. */
    finishReason?: string | null;
}

/**
 * Whether a candidate is finished:
 * - cut off (`finishReason: "length"`): only when its text declares a final answer
 *   ({@link hasFinalAnswer}) — a last number of a truncated chain of thought is not an answer;
 * - otherwise: when it has an answer (the given `answer`, or one extracted from `text` by any
 *   extractor, fallbacks included, as graders read it).
 */
export function isFinished(candidate: FinishableCandidate): boolean {
    const {text, answer, finishReason} = candidate;
    if (finishReason === "length") return typeof text === "string" ? hasFinalAnswer(text) : typeof answer === "string" && answer.trim() !== "";
    if (typeof answer === "string" && answer.trim() !== "") return true;
    return typeof text === "string" && extractAnswer(text) !== null;
}
