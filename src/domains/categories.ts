/**
 * Token categories, to compare what kinds of tokens are decision tokens with what kinds of tokens
 * there are (AdaptiveStep, Tables 7–10).
 *
 * Categories are given to SPANS of the text (a word, a number, a formula, a comment, a run of
 * whitespace…), not to token texts: on sub-word or character vocabularies a token is often a
 * piece of a word, and only the containing span says what it is. A token takes the category of
 * the span that holds its first non-blank character (a blank token: the span at its start), with
 * one exception that the paper counts separately: a token that starts strictly INSIDE a word
 * (the character before it belongs to the same word) is a `split word` — a step boundary there
 * cuts the word in two. So " Then" (one token), or "T" of a character-level "Then", is a
 * conjunction; "hen" is a split word.
 *
 * A domain plugs in its own table as a {@link CategoryScheme}: its category names (in table
 * order) and a `spans(text)` function; {@link classifyTokens} does the token-to-span mapping for
 * every scheme. Register a scheme with {@link registerCategoryScheme} and `stepwise stats
 * --domain NAME` uses it. Built in: `math` (below) and `code` / `code-c-like` (comments, strings,
 * keywords…; see code spans below).
 *
 * Math categories: line break, whitespace, split word, math formula (inline math `$…$`, `\(…\)`,
 * `\[…\]`, GSM8K `<<…>>` annotations, LaTeX commands, and runs of numbers, variables and operators
 * holding an operator such as "48/2 = 24"), number (a number outside a formula), conjunction
 * (coordinating conjunctions and the discourse connectives that link steps: so, then, next,
 * first, therefore, …), determiner, pronoun, noun, verb, adjective, adverb, preposition (parts of
 * speech from the `pos` package's lexicon tagger, Penn tags), other word, punctuation, other.
 */
import type posModule from "pos";
import {loadPackageSync} from "../util/lazy.ts";
import {StepwiseError} from "../util/errors.ts";

/** A classified span of a text: [start, end) in UTF-16 code units. */
export interface CategorySpan {
    start: number;
    end: number;
    category: string;
    /** A word-like span (word, identifier): a token starting strictly inside it is a split word. */
    word?: boolean;
}

/** A domain's category table (see the module docs). */
export interface CategoryScheme {
    name: string;
    /** Category names in table order; must include every category `spans` returns, "split word" and "other". */
    categories: readonly string[];
    /** Spans of the text with their categories; characters outside every span are "other". Spans must not overlap. */
    spans(text: string): CategorySpan[];
}

export const SPLIT_WORD = "split word";

/**
 * The category of every token of `text` (token boundaries `offsets`, see tokenOffsets), by the
 * span that contains it (see the module docs).
 */
export function classifyTokens(scheme: CategoryScheme, text: string, offsets: readonly number[]): string[] {
    const spans = scheme.spans(text).slice().sort((a, b) => a.start - b.start);
    // Per-character span index (-1 outside every span).
    const at = new Int32Array(text.length).fill(-1);
    spans.forEach((s, i) => at.fill(i, Math.max(0, s.start), Math.min(text.length, s.end)));
    const out: string[] = [];
    for (let k = 0; k + 1 < offsets.length; k++) {
        const a = offsets[k];
        const b = offsets[k + 1];
        if (b <= a) {
            out.push("other");
            continue;
        }
        let p = a;
        while (p < b && /\s/.test(text[p])) p++;
        if (p === b) p = a; // blank token: the whitespace span at its start
        const i = at[p];
        if (i < 0) {
            out.push("other");
            continue;
        }
        const span = spans[i];
        out.push(span.word && p > span.start ? SPLIT_WORD : span.category);
    }
    return out;
}

// ---------------------------------------------------------------- math

export const MATH_CATEGORIES = [
    "line break", "whitespace", SPLIT_WORD, "math formula", "number", "conjunction", "determiner", "pronoun", "noun", "verb",
    "adjective", "adverb", "preposition", "other word", "punctuation", "other",
] as const;
export type MathCategory = (typeof MATH_CATEGORIES)[number];

/** Discourse connectives that link reasoning steps (lower case), counted as conjunctions with the CC words. */
export const CONNECTIVES: ReadonlySet<string> = new Set([
    "so", "then", "thus", "hence", "therefore", "because", "since", "and", "but", "or", "nor", "yet", "if", "when", "while",
    "first", "firstly", "second", "secondly", "third", "next", "finally", "now", "also", "however", "as", "after", "before",
    "otherwise", "instead", "similarly", "consequently", "meanwhile", "although", "whereas", "once", "additionally", "furthermore", "lastly",
]);

const POS_TO_CATEGORY: Record<string, MathCategory> = {
    CC: "conjunction", DT: "determiner", PDT: "determiner", WDT: "determiner", PRP: "pronoun", PRP$: "pronoun", WP: "pronoun", WP$: "pronoun", EX: "pronoun",
    NN: "noun", NNS: "noun", NNP: "noun", NNPS: "noun", VB: "verb", VBD: "verb", VBG: "verb", VBN: "verb", VBP: "verb", VBZ: "verb", MD: "verb",
    JJ: "adjective", JJR: "adjective", JJS: "adjective", RB: "adverb", RBR: "adverb", RBS: "adverb", WRB: "adverb", IN: "preposition", TO: "preposition",
};

// Built on first use: constructing the tagger loads its lexicon (~0.2 s CPU), which `stepwise --help` must not pay.
let taggerInstance: InstanceType<typeof posModule.Tagger> | undefined;
/** The `pos` tagger, loaded on first use (not by `import "stepwise"`). */
const tagger = {tag: (words: string[]) => (taggerInstance ??= new (loadPackageSync<typeof posModule>("pos").Tagger)()).tag(words)};
const wordCache = new Map<string, MathCategory>();

/** Category of one word (letters only) of a math solution: conjunction list first, then its part of speech. */
export function mathWordCategory(word: string): MathCategory {
    const hit = wordCache.get(word);
    if (hit) return hit;
    const lower = word.toLowerCase();
    let cat: MathCategory;
    if (CONNECTIVES.has(lower)) cat = "conjunction";
    else {
        // Out of context a capitalised word is often tagged NNP; a sentence-initial function word
        // ("The", "Each", "We") is recovered from its lower-case form, a name ("May") stays a noun.
        let tag = tagger.tag([word])[0][1];
        if ((tag === "NNP" || tag === "NNPS") && word !== lower) {
            const low = tagger.tag([lower])[0][1];
            if (/^(DT|PDT|WDT|PRP\$?|WP|EX|IN|TO|CC|RB|WRB)$/.test(low)) tag = low;
        }
        cat = POS_TO_CATEGORY[tag] ?? "other word";
    }
    if (wordCache.size < 100_000) wordCache.set(word, cat);
    return cat;
}

const OPERATOR = "=+\\-*/^<>×÷−·√≤≥≠±∑∏∫%|";
/** Inline math regions: $…$, $$…$$, \(…\), \[…\], <<…>> (GSM8K calculator annotations). */
const MATH_REGION = /\$\$[\s\S]*?\$\$|\$[^$\n]*\$|\\\([\s\S]*?\\\)|\\\[[\s\S]*?\\\]|<<[^>\n]*>>/g;
/** Pieces outside math regions, in priority order. */
const PIECE = new RegExp(
    [
        String.raw`(?<nl>[^\S\n]*\n+)`,
        String.raw`(?<ws>\s+)`,
        String.raw`(?<latex>\\[A-Za-z]+)`,
        String.raw`(?<num>\d+(?:[.,]\d+)*)`,
        String.raw`(?<word>[\p{L}\p{M}]+(?:['’][\p{L}]+)*)`,
        `(?<op>[${OPERATOR}])`,
        String.raw`(?<br>[()[\]{}])`,
        String.raw`(?<punct>[\p{P}\p{S}])`,
    ].join("|"),
    "gu",
);

/** Spans of a math solution (see the module docs). */
export function mathSpans(text: string): CategorySpan[] {
    const spans: CategorySpan[] = [];
    let last = 0;
    const outside = (from: number, to: number): void => {
        const seg = text.slice(from, to);
        const pieces: Array<{start: number; end: number; kind: string; text: string}> = [];
        for (const m of seg.matchAll(PIECE)) {
            const kind = Object.entries(m.groups!).find(([, v]) => v !== undefined)![0];
            pieces.push({start: from + m.index!, end: from + m.index! + m[0].length, kind, text: m[0]});
        }
        // Formula runs: numbers, single-letter variables, operators and brackets (with spaces between)
        // that hold at least one operator, e.g. "48/2 = 24", "x + 3", "(2+3)".
        const formulaLike = (p: (typeof pieces)[number]): boolean =>
            p.kind === "num" || p.kind === "op" || p.kind === "br" || p.kind === "latex" || (p.kind === "word" && p.text.length === 1 && !/^[aAI]$/.test(p.text));
        let i = 0;
        while (i < pieces.length) {
            if (formulaLike(pieces[i])) {
                let j = i;
                let end = i;
                let hasOp = false;
                while (j < pieces.length && (formulaLike(pieces[j]) || (pieces[j].kind === "ws" && j + 1 < pieces.length && formulaLike(pieces[j + 1])))) {
                    if (pieces[j].kind === "op" || pieces[j].kind === "latex") hasOp = true;
                    if (pieces[j].kind !== "ws") end = j;
                    j++;
                }
                if (hasOp) {
                    spans.push({start: pieces[i].start, end: pieces[end].end, category: "math formula"});
                    i = end + 1;
                    continue;
                }
            }
            const p = pieces[i];
            switch (p.kind) {
                case "nl":
                    spans.push({start: p.start, end: p.end, category: "line break"});
                    break;
                case "ws":
                    spans.push({start: p.start, end: p.end, category: "whitespace"});
                    break;
                case "num":
                    spans.push({start: p.start, end: p.end, category: "number", word: true});
                    break;
                case "word":
                    spans.push({start: p.start, end: p.end, category: mathWordCategory(p.text), word: true});
                    break;
                case "br":
                case "punct":
                    spans.push({start: p.start, end: p.end, category: "punctuation"});
                    break;
                default:
                    spans.push({start: p.start, end: p.end, category: "math formula"});
            }
            i++;
        }
    };
    for (const m of text.matchAll(MATH_REGION)) {
        outside(last, m.index!);
        spans.push({start: m.index!, end: m.index! + m[0].length, category: "math formula"});
        last = m.index! + m[0].length;
    }
    outside(last, text.length);
    return spans;
}

export const MATH_SCHEME: CategoryScheme = {name: "math", categories: MATH_CATEGORIES, spans: mathSpans};

// ---------------------------------------------------------------- code

export const CODE_CATEGORIES = ["comment", "string", "line break", "whitespace", SPLIT_WORD, "keyword", "identifier", "number", "punctuation", "other"] as const;
export type CodeCategory = (typeof CODE_CATEGORIES)[number];
export type CodeLanguage = "python" | "c-like";

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

/**
 * Comment and string-literal regions of a program: `#` to end of line (python) or `//` and
 * `/* *\/` (c-like); '…', "…", Python triple quotes, JS backquotes. Per character: 0 code,
 * 1 comment, 2 string literal.
 */
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

const CODE_PIECE = /(?<nl>[^\S\n]*\n+)|(?<ws>\s+)|(?<id>[A-Za-z_]\w*)|(?<num>\d[\d_]*(?:\.\d*)?(?:[eE][+-]?\d+)?|0[xob][\da-fA-F_]+|\.\d+)|(?<punct>[^\w\s])/g;

/** Spans of a program: comment and string regions whole, then keywords, identifiers, numbers, operators. */
export function codeSpans(text: string, language: CodeLanguage = "python"): CategorySpan[] {
    const ctx = codeContext(text, language);
    const spans: CategorySpan[] = [];
    let i = 0;
    while (i < text.length) {
        if (ctx[i] !== 0) {
            let j = i;
            while (j < text.length && ctx[j] === ctx[i]) j++;
            spans.push({start: i, end: j, category: ctx[i] === 1 ? "comment" : "string"});
            i = j;
            continue;
        }
        let j = i;
        while (j < text.length && ctx[j] === 0) j++;
        for (const m of text.slice(i, j).matchAll(CODE_PIECE)) {
            const g = m.groups!;
            const start = i + m.index!;
            const end = start + m[0].length;
            if (g.nl !== undefined) spans.push({start, end, category: "line break"});
            else if (g.ws !== undefined) spans.push({start, end, category: "whitespace"});
            else if (g.id !== undefined) spans.push({start, end, category: CODE_KEYWORDS.has(g.id) ? "keyword" : "identifier", word: true});
            else if (g.num !== undefined) spans.push({start, end, category: "number", word: true});
            else spans.push({start, end, category: "punctuation"});
        }
        i = j;
    }
    return spans;
}

export const CODE_SCHEME: CategoryScheme = {name: "code", categories: CODE_CATEGORIES, spans: (t) => codeSpans(t, "python")};
export const CODE_C_LIKE_SCHEME: CategoryScheme = {name: "code-c-like", categories: CODE_CATEGORIES, spans: (t) => codeSpans(t, "c-like")};

// ---------------------------------------------------------------- registry

const SCHEMES = new Map<string, CategoryScheme>([
    [MATH_SCHEME.name, MATH_SCHEME],
    [CODE_SCHEME.name, CODE_SCHEME],
    [CODE_C_LIKE_SCHEME.name, CODE_C_LIKE_SCHEME],
]);

/** Add (or replace) a domain's category table; `stepwise stats --domain NAME` then uses it. */
export function registerCategoryScheme(scheme: CategoryScheme): void {
    for (const c of [SPLIT_WORD, "other"])
        if (!scheme.categories.includes(c)) throw new StepwiseError(`category scheme ${scheme.name}: its categories must include "${c}"`);
    SCHEMES.set(scheme.name, scheme);
}

/** A registered category table by name; throws naming the known ones. */
export function categoryScheme(name: string): CategoryScheme {
    const s = SCHEMES.get(name);
    if (!s) throw new StepwiseError(`unknown category table "${name}" (known: ${[...SCHEMES.keys()].join(", ")})`);
    return s;
}

export function categorySchemeNames(): string[] {
    return [...SCHEMES.keys()];
}
