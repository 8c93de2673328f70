/**
 * Low-level LaTeX scanning helpers shared by the extractors and the normaliser: balanced-brace
 * groups, command arguments and math-span delimiters. Every function is linear in the input and
 * tolerates malformed LaTeX (an unbalanced group is reported as `-1`, never thrown).
 */

/**
 * Index just past the `}` that closes the `{` at `open`, or -1 when the group never closes.
 * Escaped braces (`\{`, `\}`) do not count.
 */
export function matchBrace(s: string, open: number): number {
    let depth = 0;
    for (let i = open; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c === 92 /* \ */) {
            i++;
            continue;
        }
        if (c === 123 /* { */) depth++;
        else if (c === 125 /* } */) {
            depth--;
            if (depth === 0) return i + 1;
        }
    }
    return -1;
}

/** Whether a UTF-16 code unit is an ASCII letter. */
export function isLetter(c: number): boolean {
    return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Whether a UTF-16 code unit is an ASCII digit. */
export function isDigit(c: number): boolean {
    return c >= 48 && c <= 57;
}

/**
 * For every `{` that is closed, the index just past its `}` (one linear pass, so that scanning many
 * unclosed groups in a huge output stays linear).
 */
export function braceMatches(s: string): Map<number, number> {
    const out = new Map<number, number>();
    const stack: number[] = [];
    for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c === 92 /* \ */) {
            i++;
            continue;
        }
        if (c === 123) stack.push(i);
        else if (c === 125 && stack.length) out.set(stack.pop()!, i + 1);
    }
    return out;
}

/** A `\boxed{…}` / `\fbox{…}` occurrence: its content and where the command starts and ends. */
export interface BoxMatch {
    content: string;
    start: number;
    end: number;
}

const BOX_COMMANDS = ["\\boxed", "\\fbox"];

/**
 * All well-formed `\boxed{…}` and `\fbox{…}` occurrences in order (nested braces allowed; also
 * `\boxed 5`). A box that never closes (a truncated output) is skipped.
 */
export function findBoxes(s: string): BoxMatch[] {
    const out: BoxMatch[] = [];
    const closing = braceMatches(s);
    let from = 0;
    // next occurrence of each command at or after `from` (-1: none left), kept to stay linear
    const nextAt = BOX_COMMANDS.map(() => -2);
    for (;;) {
        let best = -1;
        let cmd = "";
        BOX_COMMANDS.forEach((c, k) => {
            if (nextAt[k] !== -1 && nextAt[k] < from) nextAt[k] = s.indexOf(c, from);
            const at = nextAt[k];
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
                cmd = c;
            }
        });
        if (best < 0) break;
        let i = best + cmd.length;
        if (i < s.length && isLetter(s.charCodeAt(i))) {
            from = i; // e.g. \boxedsomething: not a box
            continue;
        }
        while (i < s.length && s[i] === " ") i++;
        if (s[i] === "{") {
            const end = closing.get(i) ?? -1;
            if (end < 0) {
                from = i + 1;
                continue;
            }
            out.push({content: s.slice(i + 1, end - 1), start: best, end});
            from = end;
        } else if (best + cmd.length < s.length && s[best + cmd.length] === " ") {
            // \boxed 5: the argument runs to the next space or `$`
            let j = i;
            while (j < s.length && !/[\s$]/.test(s[j])) j++;
            if (j > i) out.push({content: s.slice(i, j), start: best, end: j});
            from = Math.max(j, i + 1);
        } else from = i;
    }
    return out;
}

/** One math span (`$…$`, `$$…$$`, `\(…\)`, `\[…\]`) with the position of its delimiters. */
export interface MathSpan {
    content: string;
    start: number;
    end: number;
}

/**
 * Math spans of a text in order. Inline spans (`$…$`, `\(…\)`) may not cross a line break (as in
 * Markdown renderers); display spans (`$$…$$`, `\[…\]`) may. An escaped dollar (`\$`) is not a
 * delimiter.
 */
export function findMathSpans(s: string): MathSpan[] {
    const out: MathSpan[] = [];
    let i = 0;
    const n = s.length;
    // once a closing delimiter is known to be absent, later openers are not searched again
    const absent = {"(": false, "[": false};
    while (i < n) {
        const c = s[i];
        if (c === "\\" && i + 1 < n) {
            const d = s[i + 1];
            if ((d === "(" || d === "[") && !absent[d]) {
                const close = d === "(" ? "\\)" : "\\]";
                const j = s.indexOf(close, i + 2);
                if (j < 0) absent[d] = true;
                if (j >= 0 && (d === "[" || s.lastIndexOf("\n", j) < i)) {
                    out.push({content: s.slice(i + 2, j), start: i, end: j + 2});
                    i = j + 2;
                    continue;
                }
            }
            i += 2; // skip escaped char (covers \$)
            continue;
        }
        if (c === "$") {
            const display = s[i + 1] === "$";
            const open = display ? 2 : 1;
            const j = findClosingDollar(s, i + open, display);
            if (j >= 0) {
                out.push({content: s.slice(i + open, j), start: i, end: j + open});
                i = j + open;
                continue;
            }
            i += open;
            continue;
        }
        i++;
    }
    return out;
}

function findClosingDollar(s: string, from: number, display: boolean): number {
    for (let j = from; j < s.length; j++) {
        const c = s[j];
        if (c === "\\") {
            j++;
            continue;
        }
        if (!display && c === "\n") return -1;
        if (c === "$") {
            if (display) return s[j + 1] === "$" ? j : -1;
            return j;
        }
    }
    return -1;
}
