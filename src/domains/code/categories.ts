/**
 * Statement categories of code tokens, for comparing where decision tokens sit in code with where
 * tokens are (AdaptiveStep, Tables 9–10: in code, decision tokens sit in comments ~80% of the
 * time, and in control flow more than in whitespace).
 *
 * Each token of a Python program (or of a model answer holding one) gets one category:
 * - `comment`: in a `#` comment or a docstring (a statement made of a string literal alone);
 * - `line break` (a token whose first character is a newline) and `whitespace` (other blanks);
 * - `split word`: a token that starts inside an identifier, keyword or number;
 * - `text`: prose outside the code blocks of an answer with Markdown fences (fence lines included);
 * - otherwise the kind of the statement its first non-blank character belongs to (continuation
 *   lines inside brackets belong to the statement that opened them):
 *   `import` (import, from), `definition` (def, class, async def, decorators), `control flow`
 *   (if, elif, else, for, while, try, except, finally, with, match, case, break, continue, pass,
 *   raise, assert), `return` (return, yield), `assignment` (`=` or an augmented assignment at
 *   bracket depth 0), `expression` (anything else, e.g. a call).
 */
import {classifyTokens, codeContext, type CategoryScheme, type CategorySpan} from "../categories.ts";
import {codeBlockSpans} from "./extract.ts";

export const CODE_STATEMENT_CATEGORIES = ["comment", "control flow", "definition", "import", "return", "assignment", "expression", "whitespace", "line break", "text", "split word", "other"] as const;
export type CodeStatementCategory = (typeof CODE_STATEMENT_CATEGORIES)[number];

const CONTROL = new Set(["if", "elif", "else", "for", "while", "try", "except", "finally", "with", "match", "case", "break", "continue", "pass", "raise", "assert", "async"]);

/** Kind of a logical line from its code text (comments and strings already blanked). */
function statementKind(code: string): CodeStatementCategory {
    const t = code.trim();
    const word = /^[A-Za-z_]\w*/.exec(t)?.[0] ?? "";
    if (word === "import" || word === "from") return "import";
    if (word === "def" || word === "class" || t.startsWith("@") || /^async\s+def\b/.test(t)) return "definition";
    if (word === "return" || word === "yield") return "return";
    if (CONTROL.has(word)) return "control flow";
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

/** Per-character category of `text` (before whitespace and word handling). */
function charCategories(text: string): CodeStatementCategory[] {
    const perChar = new Array<CodeStatementCategory>(text.length);
    const spans = codeBlockSpans(text);
    if (spans.length === 0) statementMap(text).forEach((k, i) => (perChar[i] = k));
    else {
        perChar.fill("text");
        for (const s of spans) statementMap(text.slice(s.start, s.end)).forEach((k, i) => (perChar[s.start + i] = k));
    }
    return perChar;
}

/**
 * The spans of `text` for the category table (see {@link classifyTokens}): blank runs are
 * `line break` (when they hold a newline) or `whitespace`; identifiers, keywords and numbers in
 * code are word spans (a token starting inside one is a `split word`); other characters form
 * runs of their statement's category.
 */
export function codeStatementSpans(text: string): CategorySpan[] {
    const perChar = charCategories(text);
    const out: CategorySpan[] = [];
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        let j = i + 1;
        if (c === "\n") {
            while (j < text.length && text[j] === "\n") j++;
            out.push({start: i, end: j, category: "line break"});
        } else if (/\s/.test(c)) {
            while (j < text.length && /\s/.test(text[j]) && text[j] !== "\n") j++;
            out.push({start: i, end: j, category: "whitespace"});
        } else if (/\w/.test(c) && perChar[i] !== "comment" && perChar[i] !== "text") {
            while (j < text.length && /\w/.test(text[j]) && perChar[j] === perChar[i]) j++;
            out.push({start: i, end: j, category: perChar[i], word: true});
        } else {
            while (j < text.length && !/\s/.test(text[j]) && perChar[j] === perChar[i] && (perChar[i] === "comment" || perChar[i] === "text" || !/\w/.test(text[j]))) j++;
            out.push({start: i, end: j, category: perChar[i]});
        }
        i = j;
    }
    return out;
}

/**
 * The code category table (AdaptiveStep Tables 9–10 style), registered by src/apps/domains.ts as the
 * `code` table of `stepwise stats --domain code` (the token-level table stays as `code-tokens`).
 */
export const CODE_STATEMENT_SCHEME: CategoryScheme = {name: "code", categories: CODE_STATEMENT_CATEGORIES, spans: codeStatementSpans};

/**
 * Categories of the tokens of `text`; `offsets` are the token boundaries (length = tokens + 1,
 * `offsets[0] = 0`, as from the split stage's tokenOffsets). A text with Markdown fences is an
 * answer: only the fenced blocks are code and the rest is `text`; a text without fences is code.
 * A token takes the category of the span holding its first non-blank character.
 */
export function codeStatementCategories(text: string, offsets: readonly number[]): CodeStatementCategory[] {
    return classifyTokens(CODE_STATEMENT_SCHEME, text, offsets) as CodeStatementCategory[];
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
