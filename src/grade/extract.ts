/**
 * Final-answer extraction from a whole model output (or a gold solution).
 *
 * Strong markers are tried first and the one that occurs last in the text wins:
 * - `boxed`: the last `\boxed{…}` / `\fbox{…}` (nested braces). Under the `lenient` policy the
 *   boxes of the final group are joined into one list: boxes joined only by connectors
 *   (`\boxed{-2} \text{ and } \boxed{1}`) and boxes separated by a short "and" phrase in the same
 *   sentence (`\boxed{(3, 3)} for part (a) and \boxed{(1, 1)}`, `\boxed{1} papers and \boxed{2} bins`),
 *   as Math-Verify reads them. Under `strict` only the last box counts, as PRM800K's
 *   `last_boxed_only_string` (`It is \boxed{5} or \boxed{5}.` is 5);
 * - `final-answer`: "Final Answer: The final answer is $…$" (and "Final Answer: …");
 * - `answer-is`: "The answer is: …", "The answer is …" (the lab's answer line), "Answer: …";
 * - `gsm8k`: `#### N`.
 * Without a marker: `whole` when the text itself is a bare answer (`\frac{1}{2}`, `x \geq 5`,
 * `Evelyn`), otherwise whichever comes last of `math-end` (the last `$…$`, `\(…\)`, `\[…\]`) and
 * `last-number` (the last number, with thousands separators, decimals, a simple fraction, a power
 * such as `2^10`, or `%`). A number inside a plain-text function call (`sqrt(2)`, `-1 + exp(16)`) is
 * never taken out of it: the call, with the arithmetic just before it, is the answer (`last-call`).
 */
import {findBoxes, findMathSpans, type MathSpan} from "./latex.ts";
import {parseAnswer} from "./parse.ts";
import {normalizeAnswer} from "./normalize.ts";
import type {Policy} from "./policy.ts";
import {PLAIN_FUNCTIONS} from "./tokenize.ts";

/** Names of the extractors, reported with every extracted answer. */
export type ExtractorName = "boxed" | "final-answer" | "answer-is" | "gsm8k" | "whole" | "math-end" | "last-number" | "last-call";

/** An extracted answer and the extractor that found it. */
export interface Extraction {
    answer: string;
    extractor: ExtractorName;
}

/** Texts longer than this are searched only in their last part (answers sit at the end). */
const MAX_SCAN = 60_000;

interface Candidate extends Extraction {
    /** Position of the marker in the text: the latest strong marker wins. */
    at: number;
}

/** Options of {@link extractAnswer}. */
export interface ExtractOptions {
    /** `lenient` (default) joins the final group of boxes; `strict` takes the last box only. */
    policy?: Policy;
}

/**
 * Extract the final answer of a model output or solution; null when there is none.
 * Linear in the input; never throws on malformed LaTeX.
 */
export function extractAnswer(input: string, options: ExtractOptions = {}): Extraction | null {
    const text = input.length > MAX_SCAN ? input.slice(-MAX_SCAN) : input;
    if (text.trim() === "") return null;
    const strong = [boxedCandidate(text, options.policy === "strict"), phraseCandidate(text, FINAL_ANSWER, "final-answer"), phraseCandidate(text, ANSWER_IS, "answer-is"), gsm8kCandidate(text)]
        .filter((c): c is Candidate => c !== null && c.answer.trim() !== "")
        .sort((a, b) => b.at - a.at);
    // "…so our answer is correct." must not beat an earlier \boxed{44}: prose loses to math.
    const best = strong.find((c) => !isProse(c.answer)) ?? strong[0];
    if (best) return {answer: best.answer.trim(), extractor: best.extractor};
    const spans = findMathSpans(text);
    if (spans.length === 0 && isBareAnswer(text)) return {answer: text.trim(), extractor: "whole"};
    return weakCandidate(text, spans);
}

/** A few plain words with no digit or LaTeX: a textual answer, or prose caught by an answer phrase. */
function isProse(answer: string): boolean {
    return /^[A-Za-z\s.,!']+$/.test(answer.trim());
}

function boxedCandidate(text: string, lastOnly: boolean): Candidate | null {
    const boxes = findBoxes(text);
    if (!boxes.length) return null;
    let first = boxes.length - 1;
    if (!lastOnly)
        while (first > 0) {
            const gap = text.slice(boxes[first - 1].end, boxes[first].start);
            if (!isConnector(gap) && !isAndPhrase(gap)) break;
            first--;
        }
    const group = boxes.slice(first);
    const answer = group.map((b) => stripInnerDollars(b.content)).join(", ");
    return {answer, extractor: "boxed", at: group[0].start};
}

/** Text between two boxes that only joins them ("and", commas, spacing, math delimiters). */
function isConnector(gap: string): boolean {
    const rest = gap
        .replace(/\\(?:text|mbox|textnormal|mathrm)\s*\{\s*(?:and|or|,)?\s*\}/g, " ")
        .replace(/\\(?:quad|qquad|[,;: ]|\[|\]|\(|\))|\$|\\\\/g, " ")
        .replace(/\b(?:and|or)\b|[,;.&\s]/g, "");
    return rest === "" && gap.length < 200;
}

/**
 * A short phrase in the same sentence that adds one more answer: " for part (a) and ",
 * " papers and ". Not across a sentence end or a blank line, and not a correction
 * (" but ", " not ", " then ", " instead ").
 */
function isAndPhrase(gap: string): boolean {
    if (gap.length > 80 || /[.!?](?:\s|$)|\n\s*\n/.test(gap)) return false;
    const words = gap.replace(/\\[a-zA-Z]+|[{}$]/g, " ");
    return /\band\b/i.test(words) && !/\b(?:but|not|then|instead|rather|wrong|incorrect|correct(?:ed)?|actually)\b/i.test(words);
}

function stripInnerDollars(s: string): string {
    return s.replace(/(?<!\\)\$/g, " ").trim();
}

const FINAL_ANSWER = /final answer(?:\s*:)?(?:\s*is)?\s*:?/gi;
const ANSWER_IS = /(?<!final\s*)\banswer(?:\s+is\s*:?|\s*:)/gi;

/** The answer after the last occurrence of a phrase, up to the end of its sentence. */
function phraseCandidate(text: string, re: RegExp, extractor: ExtractorName): Candidate | null {
    let last: RegExpExecArray | null = null;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) last = m;
    if (!last) return null;
    const segment = sentenceAfter(text, last.index + last[0].length);
    const answer = answerFromSegment(segment);
    return answer === null ? null : {answer, extractor, at: last.index};
}

/** The text from `from` to the end of the sentence (a period followed by space or end, or a line break). */
function sentenceAfter(text: string, from: number): string {
    let i = from;
    while (i < text.length && /[\s*"'`]/.test(text[i])) i++;
    const start = i;
    // a display-math answer may span lines
    if (text.startsWith("$$", i) || text.startsWith("\\[", i)) {
        const spans = findMathSpans(text.slice(i, i + 4000));
        if (spans.length && spans[0].start === 0) return text.slice(i, i + spans[0].end);
    }
    let inMath = false;
    for (; i < text.length && i < start + 2000; i++) {
        const c = text[i];
        if (c === "\\" && text[i + 1] === "$") {
            i++;
            continue;
        }
        if (c === "$") inMath = !inMath;
        if (c === "\n") break;
        if (!inMath && c === "." && (i + 1 >= text.length || /\s/.test(text[i + 1]))) break;
    }
    return text.slice(start, i);
}

/** Reduce a sentence fragment after an answer phrase to the answer itself. */
function answerFromSegment(segment: string): string | null {
    let s = segment.trim().replace(/^\\?["']+|\\?["']+$/g, "").replace(/\\"/g, "").trim();
    if (s === "") return null;
    const boxes = findBoxes(s);
    if (boxes.length) return boxes[boxes.length - 1].content;
    const spans = findMathSpans(s);
    if (spans.length) {
        let between = s.slice(0, spans[0].start);
        for (let k = 1; k < spans.length; k++) between += s.slice(spans[k - 1].end, spans[k].start);
        between += s.slice(spans[spans.length - 1].end);
        if (isConnector(between)) return spans.map((sp) => sp.content.trim()).join(", ");
        return weakCandidate(s, spans)?.answer ?? null;
    }
    s = s.replace(/[.\s]+$/, "");
    if (isBareAnswer(s)) return s;
    return weakCandidate(s, [])?.answer ?? (s.length <= 40 ? s : null);
}

function gsm8kCandidate(text: string): Candidate | null {
    const at = text.lastIndexOf("####");
    if (at < 0) return null;
    const line = text.slice(at + 4).split("\n")[0].trim();
    return line ? {answer: line.replace(/\.$/, ""), extractor: "gsm8k", at} : null;
}

const NUMBER = /(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:[.,]\d+)?(?:\s*\^\s*(?:\{-?\d+\}|-?\d+))?(?:\s*\/\s*\d+(?![.,]\d))?(?:\s*%)?/g;

const CALL = new RegExp(`(?<![A-Za-z\\\\])(?:${[...PLAIN_FUNCTIONS.keys()].sort((a, b) => b.length - a.length).join("|")})\\s*\\(`, "g");

/**
 * Plain-text function calls (`sqrt(2)`, `exp(16)`) outside math spans, each extended to the left
 * over the arithmetic that leads to it (`-1 + exp(16)`, `2 sqrt(3)`), as spans of answer text.
 */
function callSpans(text: string): MathSpan[] {
    if (!/\(/.test(text)) return [];
    const out: MathSpan[] = [];
    CALL.lastIndex = 0;
    for (let m = CALL.exec(text); m; m = CALL.exec(text)) {
        let depth = 0;
        let end = -1;
        for (let i = m.index + m[0].length - 1; i < text.length && i < m.index + 300; i++) {
            if (text[i] === "(") depth++;
            else if (text[i] === ")" && --depth === 0) {
                end = i + 1;
                break;
            }
        }
        if (end < 0) continue;
        let start = m.index;
        const lead = /(?:[-−]?\s*(?:\d+(?:\.\d+)?\s*[-+*/×·^]?\s*)+|[-−]\s*)$/.exec(text.slice(Math.max(0, start - 40), start));
        if (lead) start -= lead[0].length;
        while (start < m.index && /\s/.test(text[start])) start++;
        if (out.length && start < out[out.length - 1].end) {
            out[out.length - 1] = {content: text.slice(out[out.length - 1].start, end), start: out[out.length - 1].start, end};
        } else out.push({content: text.slice(start, end), start, end});
        CALL.lastIndex = end;
    }
    return out;
}

/** The later of the last math span and the last number outside math spans. */
function weakCandidate(text: string, spans: MathSpan[]): Extraction | null {
    const span = spans.length ? spans[spans.length - 1] : null;
    let best: {answer: string; end: number} | null = null;
    NUMBER.lastIndex = 0;
    let spanIdx = 0;
    // plain-text calls outside math spans: numbers inside them are never taken out
    const calls = callSpans(text).filter((c) => !spans.some((sp) => sp.start <= c.start && c.start < sp.end));
    let callIdx = 0;
    for (let m = NUMBER.exec(text); m; m = NUMBER.exec(text)) {
        const start = m.index;
        while (spanIdx < spans.length && spans[spanIdx].end <= start) spanIdx++;
        if (spanIdx < spans.length && spans[spanIdx].start <= start) continue; // inside a math span
        while (callIdx < calls.length && calls[callIdx].end <= start) callIdx++;
        if (callIdx < calls.length && calls[callIdx].start <= start) continue; // inside a function call
        best = {answer: m[0], end: start + m[0].length};
    }
    const call = calls.length ? calls[calls.length - 1] : null;
    if (call && (!best || call.end >= best.end) && (!span || call.end > span.end)) return {answer: call.content.trim(), extractor: "last-call"};
    if (span && (!best || span.end >= best.end) && span.content.trim() !== "") {
        // "$1$ and $2$ and $3$": trailing spans joined only by connectors form one list
        let first = spans.length - 1;
        while (first > 0 && isConnector(text.slice(spans[first - 1].end, spans[first].start)) && /\S/.test(text.slice(spans[first - 1].end, spans[first].start))) first--;
        const answer = spans
            .slice(first)
            .map((sp) => sp.content.trim())
            .filter((c) => c !== "")
            .join(", ");
        return {answer, extractor: "math-end"};
    }
    return best ? {answer: best.answer.replace(/\s+/g, ""), extractor: "last-number"} : null;
}

/** Whether every `{` of a text is closed (a truncated output is not one answer). */
function balancedBraces(t: string): boolean {
    let depth = 0;
    for (let i = 0; i < t.length; i++) {
        if (t[i] === "\\") i++;
        else if (t[i] === "{") depth++;
        else if (t[i] === "}" && --depth < 0) return false;
    }
    return depth === 0;
}

/**
 * Whether a whole text is itself an answer: a short math expression without prose (it parses and
 * has no word of three letters outside commands), or a short plain text of a few words.
 */
function isBareAnswer(text: string): boolean {
    const t = text.trim();
    if (t.length === 0 || t.length > 300) return false;
    if (/^[\p{L}\d](?:[\p{L}\d .'-]|(?<=\d):(?=\d))*$/u.test(t) && t.split(/\s+/).length <= 4) return true;
    const prose = t
        .replace(/\\[a-zA-Z]+\s*(?:\{[^{}]*\})?/g, " ")
        .replace(/\b(?:and|or|percent|percentage|pct)\b/g, " ")
        .replace(CALL, " (");
    const words = prose.match(/[a-zA-Z]{3,}/g) ?? [];
    if (words.length > 2) return false;
    try {
        const norm = normalizeAnswer(t, {decimalComma: true});
        if (norm.wrappedText) return true;
        parseAnswer(norm.text);
        return words.length === 0 || /^\s*-?[\d.,]+\s*[a-zA-Z ]+$/.test(prose);
    } catch {
        // LaTeX the fast parser does not read (`\sum_{k=1}^{3} k`) with no prose word is still one
        // expression: taking its last number out of it would be wrong; the symbolic path reads it
        return words.length === 0 && /\\[a-zA-Z]{2,}/.test(t) && !/\$|\\[([]|\\boxed/.test(t) && balancedBraces(t);
    }
}
