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
 */

export type ParseFailure = "no-box" | "unclosed-box" | "several-boxes" | "not-an-integer" | "out-of-range";

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
