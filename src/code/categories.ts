/**
 * Statement categories of code tokens, for comparing where decision tokens sit in code with where
 * tokens are (AdaptiveStep, Tables 9–10: in code, decision tokens sit in comments ~80% of the
 * time, and in control flow more than in whitespace).
 *
 * Each token of a Python program (or of a model answer holding one) gets one category:
 * - `comment`: most of its non-blank characters are in a `#` comment or a docstring (a statement
 *   made of a string literal alone);
 * - `line-break` (contains "\n") and `whitespace` (other blanks only);
 * - `text`: prose outside the code blocks of an answer with Markdown fences (fence lines included);
 * - otherwise the kind of the statement its first non-blank character belongs to (continuation
 *   lines inside brackets belong to the statement that opened them):
 *   `import` (import, from), `definition` (def, class, async def, decorators), `control-flow`
 *   (if, elif, else, for, while, try, except, finally, with, match, case, break, continue, pass,
 *   raise, assert), `return` (return, yield), `assignment` (`=` or an augmented assignment at
 *   bracket depth 0), `expression` (anything else, e.g. a call).
 */
import {codeContext} from "../pipeline/stats/categories.ts";
import {codeSpans} from "./extract.ts";

export const CODE_STATEMENT_CATEGORIES = ["comment", "control-flow", "definition", "import", "return", "assignment", "expression", "whitespace", "line-break", "text"] as const;
export type CodeStatementCategory = (typeof CODE_STATEMENT_CATEGORIES)[number];

const CONTROL = new Set(["if", "elif", "else", "for", "while", "try", "except", "finally", "with", "match", "case", "break", "continue", "pass", "raise", "assert", "async"]);

/** Kind of a logical line from its code text (comments and strings already blanked). */
function statementKind(code: string): CodeStatementCategory {
    const t = code.trim();
    const word = /^[A-Za-z_]\w*/.exec(t)?.[0] ?? "";
    if (word === "import" || word === "from") return "import";
    if (word === "def" || word === "class" || t.startsWith("@") || /^async\s+def\b/.test(t)) return "definition";
    if (word === "return" || word === "yield") return "return";
    if (CONTROL.has(word)) return "control-flow";
    let depth = 0;
    for (let i = 0; i < t.length; i++) {
        const c = t[i];
        if ("([{".includes(c)) depth++;
        else if (")]}".includes(c)) depth--;
        else if (c === "=" && depth === 0 && t[i + 1] !== "=" && !"=!<>".includes(t[i - 1] ?? "")) return "assignment";
    }
    return "expression";
}

/** Per-character statement kind of a Python program (code characters only; others get `comment`). */
function statementMap(code: string): CodeStatementCategory[] {
    const ctx = codeContext(code, "python");
    const kinds = new Array<CodeStatementCategory>(code.length).fill("expression");
    // Logical lines: physical lines joined while brackets are open or a line ends with "\".
    let start = 0;
    let depth = 0;
    let blanked = "";
    const flush = (end: number): void => {
        const stripped = blanked.trim();
        // A statement made only of a string literal is a docstring: its characters are comments.
        const isDocstring = stripped === "" && code.slice(start, end).trim() !== "" && [...code.slice(start, end)].some((_, k) => ctx[start + k] === 2);
        const kind = isDocstring ? "comment" : statementKind(blanked);
        for (let p = start; p < end; p++) kinds[p] = ctx[p] === 1 ? "comment" : isDocstring ? "comment" : kind;
        blanked = "";
    };
    for (let p = 0; p < code.length; p++) {
        const c = code[p];
        const inCode = ctx[p] === 0;
        blanked += inCode ? c : ctx[p] === 2 ? "" : " ";
        if (inCode && "([{".includes(c)) depth++;
        else if (inCode && ")]}".includes(c)) depth = Math.max(0, depth - 1);
        if (c === "\n" && depth === 0 && !/\\\s*$/.test(blanked.slice(0, -1))) {
            flush(p + 1);
            start = p + 1;
        }
    }
    flush(code.length);
    return kinds;
}

/**
 * Categories of the tokens of `text`; `offsets` are the token boundaries (length = tokens + 1,
 * `offsets[0] = 0`, as from the split stage's tokenOffsets). A text with Markdown fences is an
 * answer: only the fenced blocks are code and the rest is `text`; a text without fences is code.
 */
export function codeStatementCategories(text: string, offsets: readonly number[]): CodeStatementCategory[] {
    const perChar = new Array<CodeStatementCategory>(text.length);
    const spans = codeSpans(text);
    if (spans.length === 0) statementMap(text).forEach((k, i) => (perChar[i] = k));
    else {
        perChar.fill("text");
        for (const s of spans) statementMap(text.slice(s.start, s.end)).forEach((k, i) => (perChar[s.start + i] = k));
    }
    const out: CodeStatementCategory[] = [];
    for (let k = 0; k + 1 < offsets.length; k++) {
        const tok = text.slice(offsets[k], offsets[k + 1]);
        if (tok.trim() === "") {
            out.push(tok.includes("\n") ? "line-break" : "whitespace");
            continue;
        }
        let comment = 0;
        let blank = 0;
        let first: CodeStatementCategory | undefined;
        for (let p = offsets[k]; p < offsets[k + 1]; p++) {
            if (/\s/.test(text[p])) continue;
            blank++;
            if (perChar[p] === "comment") comment++;
            first ??= perChar[p];
        }
        out.push(comment * 2 > blank ? "comment" : first === "comment" ? "expression" : first!);
    }
    return out;
}

/** Token and decision-token counts per category (a Table 10–style row set). */
export interface CategoryRow {
    category: CodeStatementCategory;
    tokens: number;
    token_share: number;
    decision: number;
    decision_share: number;
}

/**
 * Count categories over samples: every token, and the decision tokens (confidence < τ).
 * `samples` are records with the generated `tokens` (`{text, confidence}`), as written by `sample`.
 */
export function codeCategoryTable(samples: Iterable<{tokens: ReadonlyArray<{text: string; confidence: number}>}>, tau: number): CategoryRow[] {
    const all = new Map<CodeStatementCategory, number>(CODE_STATEMENT_CATEGORIES.map((c) => [c, 0]));
    const dec = new Map<CodeStatementCategory, number>(CODE_STATEMENT_CATEGORIES.map((c) => [c, 0]));
    for (const s of samples) {
        const offsets = [0];
        for (const t of s.tokens) offsets.push(offsets.at(-1)! + t.text.length);
        const text = s.tokens.map((t) => t.text).join("");
        codeStatementCategories(text, offsets).forEach((c, i) => {
            all.set(c, all.get(c)! + 1);
            if (s.tokens[i].confidence < tau) dec.set(c, dec.get(c)! + 1);
        });
    }
    const nAll = [...all.values()].reduce((a, b) => a + b, 0);
    const nDec = [...dec.values()].reduce((a, b) => a + b, 0);
    return CODE_STATEMENT_CATEGORIES.map((category) => ({
        category,
        tokens: all.get(category)!,
        token_share: nAll ? all.get(category)! / nAll : 0,
        decision: dec.get(category)!,
        decision_share: nDec ? dec.get(category)! / nDec : 0,
    }));
}
