/**
 * Finding the code in a model answer.
 *
 * - {@link codeBlockSpans}: the character spans of the code blocks of a text: the contents of Markdown
 *   fences (```` ``` ```` or `~~~`, any info string, the closing fence optional at the end of the
 *   text — a model that stopped mid-block is still inside it).
 * - {@link extractCode}: the program to run: the last fenced block whose language is Python (or
 *   unnamed), else the last fenced block, else — when the answer has no fence and reads as code
 *   (its first non-blank line starts a definition, import, decorator or comment) — the whole text.
 * - {@link insideCode}: whether the end of a text (e.g. a decoding prefix) is inside a code block,
 *   for decoders that intervene only inside code.
 */

/** A code block: its content's offsets (end exclusive) and its info-string language (lower case, "" when none). */
export interface CodeSpan {
    start: number;
    end: number;
    language: string;
    /** False when the text ended before the closing fence. */
    closed: boolean;
}

const FENCE = /^( {0,3})(`{3,}|~{3,})[ \t]*([^\n`]*)$/;

/** The fenced code blocks of `text`, in order. */
export function codeBlockSpans(text: string): CodeSpan[] {
    const spans: CodeSpan[] = [];
    let open: {fence: string; language: string; start: number} | undefined;
    let pos = 0;
    while (pos <= text.length) {
        const nl = text.indexOf("\n", pos);
        const lineEnd = nl === -1 ? text.length : nl;
        const line = text.slice(pos, lineEnd);
        const m = FENCE.exec(line);
        if (!open && m) {
            open = {fence: m[2], language: (m[3].trim().split(/\s+/)[0] ?? "").toLowerCase(), start: nl === -1 ? text.length : nl + 1};
        } else if (open && m && m[2][0] === open.fence[0] && m[2].length >= open.fence.length && m[3].trim() === "") {
            spans.push({start: open.start, end: pos, language: open.language, closed: true});
            open = undefined;
        }
        if (nl === -1) break;
        pos = nl + 1;
    }
    if (open) spans.push({start: Math.min(open.start, text.length), end: text.length, language: open.language, closed: false});
    return spans;
}

const PYTHON = new Set(["python", "py", "python3", "py3", ""]);
const CODE_START = /^\s*(def |class |import |from |@|#|async def )/;

/** The program in a model answer, or undefined when there is none (see the module doc). */
export function extractCode(text: string): string | undefined {
    const spans = codeBlockSpans(text);
    const python = spans.filter((s) => PYTHON.has(s.language));
    const pick = python.at(-1) ?? spans.at(-1);
    if (pick) return text.slice(pick.start, pick.end);
    const first = text.split("\n").find((l) => l.trim() !== "");
    return first !== undefined && CODE_START.test(first) ? text : undefined;
}

/**
 * The part of `prompt` an answer continues inside a code block: from the fence line of its last
 * block when that block is still open at the end of the prompt, else undefined.
 */
function openBlockOf(prompt: string): string | undefined {
    const last = codeBlockSpans(prompt).at(-1);
    if (!last || last.closed) return undefined;
    // the fence line starts after the newline before the content (or the fence ends the prompt)
    const fenceEnd = last.start > 0 && prompt[last.start - 1] === "\n" ? last.start - 1 : last.start;
    return prompt.slice(prompt.lastIndexOf("\n", fenceEnd - 1) + 1);
}

/**
 * Whether position `text.length` is inside a code block: the last fenced block of `text` is still
 * open there. Fences follow CommonMark: a line of 3+ backticks or tildes indented by at most 3
 * spaces, with an optional info string (```` ```python ````); a block is closed by a fence of the
 * same character at least as long with no info string; a ``` inside a prose line is no fence.
 *
 * - A text with no fence counts as inside code when it reads as code from its start (see
 *   {@link extractCode}), so raw-code answers (the code lab policy's) are covered; `rawCode: false`
 *   turns that off. An empty text is not inside code.
 * - `prompt`: the text the answer continues (a decoding prompt). When the prompt ends inside an
 *   open block (e.g. it ends with "```python\n"), the answer starts inside that block.
 *
 * Used by the decoders' "intervene only inside code" option (TVD `codeBlocksOnly`,
 * `stepwise decode --code-blocks-only`).
 */
export function insideCode(text: string, options: {rawCode?: boolean; prompt?: string} = {}): boolean {
    const open = options.prompt === undefined ? undefined : openBlockOf(options.prompt);
    if (open !== undefined) return insideCode(open + text, {rawCode: false});
    const spans = codeBlockSpans(text);
    if (spans.length === 0) {
        if (options.rawCode === false) return false;
        const first = text.split("\n").find((l) => l.trim() !== "");
        return first !== undefined && CODE_START.test(first);
    }
    const last = spans.at(-1)!;
    return !last.closed && text.length >= last.start;
}
