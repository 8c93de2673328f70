/**
 * Whether a candidate solution is finished: it states a final answer, and the model ended it (it
 * was not cut off by the token budget). Best-of-N and the decoders never pick an unfinished
 * candidate by default, as PRM800K's evaluation never picks a solution without an answer (a
 * high PRM score on a truncated or answerless chain of thought must not beat a finished
 * solution).
 *
 * A cut-off output (`finishReason: "length"`) is never finished, whatever it ends with: its last
 * words are where the budget ran out, not an answer. "3 + 4 is" would otherwise read as a whole
 * answer, "The answer is 1" may have been "… is 12", and a `\boxed{7}` followed by more text may
 * have been revised in the part that was never written.
 *
 * ```ts
 * hasFinalAnswer("… so the answer is \\boxed{7}.")                 // true
 * hasFinalAnswer("Let me compute 3 + 4 = 7 and then")               // false (only a stray number)
 * isFinished({text: "3 + 4 is", finishReason: "length"})            // false (cut off)
 * isFinished({text: "… \\boxed{7} and", finishReason: "length"})     // false (cut off)
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

/** Whether an engine's finish reason says the output was cut off by the token budget (`length`, as vLLM and OpenAI report it). */
export function isCutOff(finishReason: string | null | undefined): boolean {
    return finishReason === "length";
}

/**
 * Whether a candidate is finished:
 * - cut off (`finishReason: "length"`, {@link isCutOff}): never — truncation is not a finished
 *   answer (see the module docs);
 * - otherwise: when it has an answer (the given `answer`, or one extracted from `text` by any
 *   extractor, fallbacks included, as graders read it).
 */
export function isFinished(candidate: FinishableCandidate): boolean {
    const {text, answer, finishReason} = candidate;
    if (isCutOff(finishReason)) return false;
    if (typeof answer === "string" && answer.trim() !== "") return true;
    return typeof text === "string" && extractAnswer(text) !== null;
}
