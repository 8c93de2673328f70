/**
 * Reading a judge's answer: the index of the earliest wrong step inside `\boxed{}`, or −1.
 *
 * Robust and never guessing — anything but one clear integer in range is unparsable, kept with
 * the raw text and a reason:
 * - `no-box`: no `\boxed{…}` in the text;
 * - `unclosed-box`: a `\boxed{` whose braces never close (e.g. the answer was cut by max tokens),
 *   even after a closed box (the cut answer might have differed);
 * - `several-boxes`: more than one box with different contents (several boxes that all hold the
 *   same integer are one answer written twice);
 * - `not-an-integer`: the box holds something else ("2.5", "step 3", "", "x");
 * - `out-of-range`: an integer below −1 or ≥ the number of steps.
 * Accepted inside the box: optional spaces, `$…$` around it, a sign (ASCII "-", "+" or the
 * Unicode minus "−"), and `\text{…}`/`\mathrm{…}`/`\textbf{…}` wrapping the integer.
 * Step indices are 0-based, as in ProcessBench's `label` (Qwen arXiv 2501.07301, §3).
 *
 * That is the compact template's parser ({@link parseVerdict}). The ProcessBench template reads
 * answers as ProcessBench's reference does ({@link parseVerdictProcessBench}): the last box wins.
 */
import {pythonStrip} from "./prompt.ts";
import type {PARSE_FAILURES} from "../core/schemas.ts";

export type ParseFailure = (typeof PARSE_FAILURES)[number];

export interface ParsedVerdict {
    /** Index of the first wrong step, −1 for none, null when unparsable. */
    first_error: number | null;
    /** Why it is unparsable (absent when parsed). */
    reason?: ParseFailure;
}

/** Contents of every `\boxed{…}` (balanced braces), and whether a box was left unclosed. */
export function extractBoxes(text: string): {boxes: string[]; unclosed: boolean} {
    const boxes: string[] = [];
    const re = /\\boxed\s*\{/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) {
        let depth = 1;
        let i = m.index + m[0].length;
        const start = i;
        for (; i < text.length && depth > 0; i++) {
            if (text[i] === "{") depth++;
            else if (text[i] === "}") depth--;
        }
        if (depth > 0) return {boxes, unclosed: true};
        boxes.push(text.slice(start, i - 1));
        re.lastIndex = i;
    }
    return {boxes, unclosed: false};
}

/** The integer a box holds, or null. */
export function boxInteger(content: string): number | null {
    let s = content.trim();
    for (;;) {
        const before = s;
        s = s.replace(/^\$+|\$+$/g, "").trim();
        const wrapped = /^\\(?:text|mathrm|textbf|mathbf)\s*\{(.*)\}$/s.exec(s);
        if (wrapped) s = wrapped[1].trim();
        if (s === before) break;
    }
    s = s.replace(/^[\u2212\u2013]/, "-");
    const m = /^([+-]?)\s*(\d{1,9})$/.exec(s);
    if (!m) return null;
    const n = Number(m[1] + m[2]);
    return Object.is(n, -0) ? 0 : n;
}

/** Parse one judge answer for a solution of `steps` steps. */
export function parseVerdict(text: string, steps: number): ParsedVerdict {
    const {boxes, unclosed} = extractBoxes(text);
    if (unclosed) return {first_error: null, reason: "unclosed-box"};
    if (boxes.length === 0) return {first_error: null, reason: "no-box"};
    const distinct = new Set(boxes.map((b) => b.trim()));
    if (distinct.size > 1) return {first_error: null, reason: "several-boxes"};
    const n = boxInteger(boxes[0]);
    if (n === null) return {first_error: null, reason: "not-an-integer"};
    if (n < -1 || n >= steps) return {first_error: null, reason: "out-of-range"};
    return {first_error: n};
}

/**
 * ProcessBench's reading of an answer (QwenLM/ProcessBench `code/run_eval.py`, `extract_answer`):
 * the content of the LAST `\boxed{…}` that closes, where the content is everything up to the
 * first `}` (nested braces are not balanced: `\boxed{\text{2}}` holds `\text{2`), stripped as
 * Python strips; null when no box closes (no box, `\boxed {2}` with a space, or only an unclosed
 * `\boxed{2`). An unclosed box runs on to the next `}`: in `\boxed{1 and \boxed{2}` the one
 * box holds `1 and \boxed{2`.
 */
export function lastBoxProcessBench(text: string): string | null {
    let last: string | null = null;
    for (const m of text.matchAll(/\\boxed\{([^}]*)\}/g)) last = m[1];
    return last === null ? null : pythonStrip(last);
}

/**
 * Python's `int(s)` on a string, or null where it raises (ProcessBench's `int(pred)` in a
 * `try`): an optional sign `+`/`-` right before the digits, decimal digits of any script
 * (Unicode Nd: "٣" is 3, "３" is 3), single underscores between digits ("1_0" is 10), leading
 * zeros allowed ("02" is 2); surrounding whitespace is ignored. Not accepted: "2.5", "- 1",
 * "−1" (Unicode minus), "$2$", "". Integers past 2^53 come back rounded (never in range anyway).
 */
export function pythonInt(s: string): number | null {
    const m = /^([+-]?)(\p{Nd}(?:_?\p{Nd})*)$/u.exec(pythonStrip(s));
    if (!m) return null;
    let digits = "";
    for (const ch of m[2].replace(/_/g, "")) digits += String(ndValue(ch.codePointAt(0)!));
    if (digits.length > 4300) return null; // CPython's int() digit limit (ValueError)
    const n = Number(m[1] + digits);
    return Object.is(n, -0) ? 0 : n;
}

/** A Unicode decimal digit's value: Nd digits come in runs of ten that start at zero (0–9, ٠–٩, …). */
function ndValue(cp: number): number {
    let start = cp;
    while (start > 0 && /\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
    return (cp - start) % 10;
}

/** One answer read by ProcessBench's rules: the last box's text (what the vote counts) and its index. */
export interface ParsedVerdictProcessBench extends ParsedVerdict {
    /** The last closed box's content, stripped (null: no box). ProcessBench votes over these strings. */
    box: string | null;
}

/**
 * Parse one judge answer for a solution of `steps` steps by ProcessBench's rules
 * ({@link lastBoxProcessBench}, then {@link pythonInt}); reasons: `no-box`, `not-an-integer`,
 * and `out-of-range` for an integer outside −1…steps−1 (the reference keeps it as a prediction
 * that can never match a label; stepwise records no index).
 */
export function parseVerdictProcessBench(text: string, steps: number): ParsedVerdictProcessBench {
    const box = lastBoxProcessBench(text);
    if (box === null) return {first_error: null, reason: "no-box", box};
    const n = pythonInt(box);
    if (n === null) return {first_error: null, reason: "not-an-integer", box};
    if (n < -1 || n >= steps) return {first_error: null, reason: "out-of-range", box};
    return {first_error: n, box};
}
