/**
 * Token categories, to compare what kinds of tokens are decision tokens with what kinds of tokens
 * there are (AdaptiveStep, Tables 7–10).
 *
 * Math (by the token's text):
 * - `line-break`: contains "\n"; `whitespace`: only other whitespace;
 * - `number`: digits, possibly with "." or "," (e.g. " 48", "1,000", "3.5");
 * - `formula`: operators, "=", brackets, "$", "^", "_", LaTeX commands (`\frac`), or digits mixed
 *   with those or with letters (`x2`, `3x`);
 * - `connective`: a word that links steps ("so", "then", "first", "therefore", ...);
 * - `word`: any other word; `punctuation`: only punctuation (".", ",", ":", "?", quotes);
 * - `other`: anything else.
 * Leading/trailing spaces do not change a token's category (" so" is a connective).
 *
 * Code (by the token's text and where it sits in the program):
 * - `comment`: most of the token's non-blank characters are inside a comment; `string`: inside a
 *   string literal;
 * - `line-break`, `whitespace`, `keyword` (Python and common C-family keywords), `identifier`,
 *   `number`, `punctuation` (operators and brackets), `other`.
 * Comments: `#` to the end of the line for Python; `//` and `/* *\/` for C-like languages.
 * Strings: '...', "...", and Python's triple quotes. Markdown code fences are not recognised:
 * give the code itself.
 */

export const MATH_CATEGORIES = ["line-break", "whitespace", "number", "formula", "connective", "word", "punctuation", "other"] as const;
export type MathCategory = (typeof MATH_CATEGORIES)[number];
export const CODE_CATEGORIES = ["comment", "string", "line-break", "whitespace", "keyword", "identifier", "number", "punctuation", "other"] as const;
export type CodeCategory = (typeof CODE_CATEGORIES)[number];
export type CodeLanguage = "python" | "c-like";

/** Words that link reasoning steps (lower case). */
export const CONNECTIVES: ReadonlySet<string> = new Set([
    "so", "then", "thus", "hence", "therefore", "because", "since", "and", "but", "or", "if", "when", "while", "which", "where",
    "first", "firstly", "second", "secondly", "third", "next", "finally", "now", "also", "however", "that", "as", "after", "before",
    "otherwise", "instead", "similarly", "consequently", "meanwhile", "although", "whereas", "once",
]);

const FORMULA_CHARS = /[=+\-*/^<>×÷−·√≤≥≠±∑∏∫_$\\{}()[\]|%]/u;
const NUMBER = /^\d+(?:[.,]\d+)*[.,]?$|^[.,]\d+$/;
const LETTERS = /^[\p{L}'’]+$/u;
const PUNCT = /^[\p{P}\p{S}]+$/u;

/** Category of one token of a math solution (see the module docs). */
export function mathCategory(token: string): MathCategory {
    if (token.includes("\n")) return "line-break";
    const t = token.trim();
    if (t === "") return "whitespace";
    if (NUMBER.test(t)) return "number";
    if (/^\\[A-Za-z]+$/.test(t)) return "formula";
    const word = t.replace(/[.,:;!?]+$/, "");
    if (word !== "" && LETTERS.test(word)) return CONNECTIVES.has(word.toLowerCase()) ? "connective" : "word";
    if (/\d/.test(t) || FORMULA_CHARS.test(t)) return "formula";
    if (PUNCT.test(t)) return "punctuation";
    return "other";
}

export const CODE_KEYWORDS: ReadonlySet<string> = new Set([
    // Python
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else",
    "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
    "return", "try", "while", "with", "yield", "self",
    // C family / Java / JavaScript
    "auto", "bool", "case", "catch", "char", "const", "default", "do", "double", "enum", "extern", "float", "function", "goto",
    "int", "let", "long", "new", "null", "private", "protected", "public", "short", "signed", "sizeof", "static", "struct",
    "switch", "this", "throw", "typedef", "union", "unsigned", "var", "void", "volatile", "true", "false", "vector", "string",
]);

/** Per-character context of a program: 0 code, 1 comment, 2 string literal. */
export function codeContext(text: string, language: CodeLanguage = "python"): Uint8Array {
    const ctx = new Uint8Array(text.length);
    let i = 0;
    const n = text.length;
    while (i < n) {
        const c = text[i];
        const lineComment = language === "python" ? c === "#" : c === "/" && text[i + 1] === "/";
        if (lineComment) {
            while (i < n && text[i] !== "\n") ctx[i++] = 1;
            continue;
        }
        if (language === "c-like" && c === "/" && text[i + 1] === "*") {
            const end = text.indexOf("*/", i + 2);
            const stop = end < 0 ? n : end + 2;
            ctx.fill(1, i, stop);
            i = stop;
            continue;
        }
        if (c === '"' || c === "'" || (language === "c-like" && c === "`")) {
            const triple = language === "python" && text.startsWith(c.repeat(3), i);
            const quote = triple ? c.repeat(3) : c;
            let j = i + quote.length;
            while (j < n && !text.startsWith(quote, j)) {
                if (text[j] === "\\") j++;
                else if (!triple && text[j] === "\n") break; // unterminated single-line string
                j++;
            }
            const stop = Math.min(n, j + (text.startsWith(quote, j) ? quote.length : 0));
            ctx.fill(2, i, stop);
            i = stop;
            continue;
        }
        i++;
    }
    return ctx;
}

/** Categories of the tokens of a program; `offsets` are the token boundaries (see tokenOffsets). */
export function codeCategories(text: string, offsets: readonly number[], language: CodeLanguage = "python"): CodeCategory[] {
    const ctx = codeContext(text, language);
    const out: CodeCategory[] = [];
    for (let k = 0; k + 1 < offsets.length; k++) {
        const tok = text.slice(offsets[k], offsets[k + 1]);
        let blank = 0;
        let comment = 0;
        let string = 0;
        for (let p = offsets[k]; p < offsets[k + 1]; p++) {
            if (/\s/.test(text[p])) continue;
            blank++;
            if (ctx[p] === 1) comment++;
            else if (ctx[p] === 2) string++;
        }
        if (blank > 0 && comment * 2 > blank) out.push("comment");
        else if (blank > 0 && string * 2 > blank) out.push("string");
        else out.push(codeTokenCategory(tok));
    }
    return out;
}

/** Category of a code token by its text alone (outside comments and strings). */
export function codeTokenCategory(token: string): CodeCategory {
    if (token.includes("\n")) return "line-break";
    const t = token.trim();
    if (t === "") return "whitespace";
    if (/^[A-Za-z_]\w*$/.test(t)) return CODE_KEYWORDS.has(t) ? "keyword" : "identifier";
    if (/^\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?[a-zA-Z]*$|^0[xob][\da-fA-F_]+$|^\.\d+$/.test(t)) return "number";
    if (/^[^\w\s]+$/.test(t)) return "punctuation";
    return "other";
}
