/**
 * String-level normalisation of an extracted answer before parsing: presentation-only LaTeX
 * (`\left`, `\!`, `\displaystyle`, `\dfrac`), thousands separators, units, degrees, currency and
 * percent signs are removed so that `\$1{,}000` and `1000` or `\left( 3, \dfrac{\pi}{2} \right)`
 * and `(3,\frac{\pi}{2})` normalise to the same text. Nothing here decides equality; it only
 * removes what never carries meaning in a final answer.
 */
import {matchBrace} from "./latex.ts";

/** The result of {@link normalizeAnswer}. */
export interface NormalizedAnswer {
    /** The normalised answer text (LaTeX, single spaces, trimmed). */
    text: string;
    /** Whether a percent sign (or the word percent/pct) was removed. */
    percent: boolean;
    /** Whether the whole answer was a `\text{…}` (or similar) wrapper: a textual answer. */
    wrappedText: boolean;
    /** Whether a comma was read as a decimal comma (`1,22` → 1.22); the list reading is the alternative. */
    decimalComma?: boolean;
}

/**
 * Whether `a,b` (digits, no space) reads as a decimal comma: a leading `0` or single digit, or four
 * or more digits, followed by two or more decimals (`0,111`, `1,22`, `1000,99`, as Math-Verify's
 * tests read them). Two- and three-digit leading parts and single decimals (`19,22`, `27,93`,
 * `0,1`) are two-element lists, as MATH answers write them (lm-evaluation-harness reports);
 * grouped thousands (`1,000`) are neither.
 */
function isDecimalComma(s: string): boolean {
    const m = /^-?(\d+),(\d+)$/.exec(s);
    if (!m || m[2].length < 2 || /^-?[1-9]\d{0,2},\d{3}$/.test(s)) return false;
    return m[1].length === 1 || m[1].length >= 4;
}

/** Control words that the tokenizer understands; used to repair JSON-doubled backslashes. */
export const KNOWN_COMMANDS = new Set([
    "frac", "dfrac", "tfrac", "cfrac", "sqrt", "pi", "infty", "left", "right", "cdot", "times", "div", "pm", "mp",
    "le", "leq", "ge", "geq", "lt", "gt", "ne", "neq", "leqslant", "geqslant", "approx", "in", "cup", "cap", "setminus",
    "text", "textbf", "textit", "textrm", "textnormal", "mathrm", "mathbf", "mathit", "mbox", "operatorname", "boxed",
    "begin", "end", "sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
    "ln", "log", "exp", "binom", "dbinom", "tbinom", "circ", "degree", "alpha", "beta", "gamma", "delta", "theta",
    "lambda", "mu", "sigma", "phi", "omega", "rho", "tau", "epsilon", "varepsilon", "varphi", "emptyset", "varnothing",
    "displaystyle", "quad", "qquad", "lfloor", "rfloor", "lceil", "rceil", "max", "min", "gcd", "lcm", "det", "mid",
    "vert", "lvert", "rvert", "langle", "rangle", "dots", "ldots", "cdots", "overline", "neg", "not", "mathbb",
]);

const TEXT_WRAPPERS = "text|textbf|textit|textrm|textnormal|textsf|texttt|mathrm|mbox|mathbf|mathit|mathsf|boldsymbol|bm|hbox";
const WRAPPER_RE = new RegExp(`\\\\(?:${TEXT_WRAPPERS})\\s*\\{`, "g");

const UNICODE: Array<[RegExp, string]> = [
    [/[\u2212\u2013\u2014]/g, "-"],
    [/\u00d7/g, "\\times "],
    [/[\u00b7\u22c5]/g, "\\cdot "],
    [/\u00f7/g, "/"],
    [/\u2264/g, "\\le "],
    [/\u2265/g, "\\ge "],
    [/\u2260/g, "\\ne "],
    [/\u03c0/g, "\\pi "],
    [/\u221e/g, "\\infty "],
    [/\u222a/g, "\\cup "],
    [/\u2229/g, "\\cap "],
    [/\u00b2/g, "^2"],
    [/\u00b3/g, "^3"],
    [/\u00b0/g, "^\\circ"],
    [/\u221a/g, "\\sqrt"],
    [/\u00bd/g, "\\frac{1}{2}"],
    [/[\u00a0\u2009\u202f]/g, " "],
];

/**
 * Normalise an extracted answer.
 * @param input the answer text as extracted (may still contain `$`, units, `\text{}`…)
 * @param options.decimalComma read a lone `1,5` as 1.5 (lenient policy)
 */
export function normalizeAnswer(input: string, options: {decimalComma?: boolean} = {}): NormalizedAnswer {
    let s = input;
    // Control characters other than white space become spaces; tabs and newlines too.
    s = s.replace(/[\u0000-\u001f\u007f]/g, " ");
    for (const [re, rep] of UNICODE) s = s.replace(re, rep);
    s = fixDoubledBackslashes(s);
    s = s.replace(/\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![a-zA-Z])/g, "");
    s = s.replace(/\\(?:left|right)\s*\.|\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![a-zA-Z])/g, "");
    s = s.replace(/\\(?:d|t|c)frac(?![a-zA-Z])/g, "\\frac").replace(/\\(?:d|t)binom(?![a-zA-Z])/g, "\\binom");
    s = s.replace(/\\(?:lvert|rvert|vert)(?![a-zA-Z])/g, "|").replace(/\\(?:langle)(?![a-zA-Z])/g, "(").replace(/\\(?:rangle)(?![a-zA-Z])/g, ")");
    // Thousands separators written with TeX spacing: 1{,}000  1,\!000  1\,000  1{, }000
    s = s.replace(/\s*\{\s*,\s*\}\s*/g, ",");
    s = s.replace(/,\s*\\!\s*/g, ",").replace(/\\!\s*,/g, ",").replace(/\\!/g, "");
    s = s.replace(/(\d)\s*\\[,;: ]\s*(?=\d{3}(?!\d))/g, "$1,");
    s = s.replace(/(?<!\\)\\(?:quad|qquad|[,;: >])|~/g, " ");
    s = s.replace(/\\\$/g, "").replace(/\$/g, "");
    s = s.replace(/[\u20ac\u00a3\u00a5]/g, "");
    s = s.replace(/\\(?:euro|pounds)(?![a-zA-Z])/g, "");
    let percent = false;
    if (/\\%|%/.test(s)) {
        percent = true;
        s = s.replace(/\\?%/g, " ");
    }
    // Degrees: inside a trigonometric function they are converted to radians, elsewhere dropped.
    if (/\\(?:sin|cos|tan|sec|csc|cot)(?![a-zA-Z])/.test(s))
        s = s.replace(/(\d+(?:\.\d+)?)\s*(?:\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![a-zA-Z]))/g, "(\\frac{$1\\pi}{180})");
    s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![a-zA-Z])|\\circ(?![a-zA-Z])|\\degree(?![a-zA-Z])/g, " ");
    // Text wrappers: a whole-answer wrapper marks a textual answer; "and"/"or" separate items.
    const whole = unwrapWhole(s.trim());
    const wrappedText = whole !== null;
    if (whole !== null) s = whole;
    s = s.replace(/\\(?:text|textrm|textnormal|mbox|mathrm)\s*\{\s*(?:and|or)\s*\}/g, ", ");
    const pw = stripPercentWords(s);
    if (pw !== s) {
        percent = true;
        s = pw;
    }
    s = stripUnits(s);
    s = unwrapTextCommands(s);
    s = s.replace(/\b(?:and|or)\b/g, (m: string, offset: number, all: string) => (isWordContext(all, offset, m.length) ? m : ","));
    s = s.replace(/\s+/g, " ").trim();
    // Trailing punctuation left over from sentences.
    for (let k = 0; k < 4; k++) {
        const t = s.replace(/(?:\\\.|[.,;:?\s])+$/, "").replace(/^[:,;\s]+/, "");
        if (t === s) break;
        s = t;
    }
    s = s.replace(/(?<![\\a-zA-Z])pi(?![a-zA-Z])/g, "\\pi").replace(/(?<![\\a-zA-Z])(?:infinity|inf)(?![a-zA-Z])/gi, "\\infty");
    s = joinThousands(s);
    let decimalComma = false;
    if (options.decimalComma && s.includes(",") && isDecimalComma(s)) {
        s = s.replace(",", ".");
        decimalComma = true;
    }
    const spaced = /^-?\d{1,3}(?: \d{3})+(?:\.\d+)?$/.test(s);
    if (spaced) s = s.replace(/ /g, "");
    const choice = /^\(([A-Z])\)$/.exec(s);
    if (choice) s = choice[1];
    if (s.length > 1 && s.startsWith("{") && matchBrace(s, 0) === s.length && !s.includes(",")) s = s.slice(1, -1).trim();
    return {text: s, percent, wrappedText, ...(decimalComma ? {decimalComma} : {})};
}

/** `\\frac` (a JSON-doubled backslash) becomes `\frac` when the letters form a known command. */
function fixDoubledBackslashes(s: string): string {
    if (!s.includes("\\\\")) return s;
    return s.replace(/(?<!\\)\\\\([a-zA-Z]+)/g, (m, name: string) => (KNOWN_COMMANDS.has(name) ? "\\" + name : m));
}

/** If the whole answer is one text wrapper (`\text{Evelyn}`), its content; otherwise null. */
function unwrapWhole(s: string): string | null {
    const m = new RegExp(`^\\\\(?:${TEXT_WRAPPERS})\\s*\\{`).exec(s);
    if (!m) return null;
    const open = m[0].length - 1;
    const end = matchBrace(s, open);
    if (end !== s.length) return null;
    const inner = s.slice(open + 1, end - 1).trim();
    return unwrapWhole(inner) ?? inner;
}

const PERCENT_WORDS = /(\d[^a-zA-Z]*?)\s*(?:\\(?:text|mbox|textnormal|mathrm)\s*\{\s*)?\b(?:percentage|percent|pct)\b\s*\}?\s*$/;

function stripPercentWords(s: string): string {
    const m = PERCENT_WORDS.exec(s);
    return m ? s.slice(0, m.index) + m[1] : s;
}

/**
 * Remove unit words after a numeric answer: `100\text{ square units}`, `864 \mbox{ inches}^2`,
 * `5.4 cents`, `10cm`. Only done when what precedes is numeric-looking, so `2x` keeps its `x`.
 */
function stripUnits(s: string): string {
    for (let k = 0; k < 3; k++) {
        const t = s
            .replace(new RegExp(`\\s*\\\\(?:${TEXT_WRAPPERS})\\s*\\{\\s*[a-zA-Z][a-zA-Z .']*\\}(?:\\s*\\^\\s*\\{?\\d\\}?)?\\s*$`), "")
            .trim();
        if (t === s || !/\d|\\pi|\}/.test(t)) break;
        s = t;
    }
    // One-letter SI units after a space: 448 m, 3.5 s, 12 kg is above (two letters); never x or n
    const one = /^(.*?\d)\s+(?:\\,\s*)?[mgshLKNJWV](?:\s*\^\s*\{?\d\}?)?$/.exec(s);
    if (one && /^-?[\d.,\s]+$/.test(one[1])) return one[1].trim();
    // Plain unit words: the rest must be numeric (digits, separators, \frac{..}{..}, \sqrt, \pi).
    const m = /^(.*?[\d}])\s*((?:[a-zA-Z]{2,}\.?|[a-zA-Z]\.)(?:\s+[a-zA-Z]+\.?)*)(?:\s*\^\s*\{?\d\}?)?$/.exec(s);
    if (m && /^[-+\d.,\s/{}()]*(?:\\(?:frac|sqrt|pi|cdot|times)[-+\d.,\s/{}()]*)*$/.test(m[1]) && /\d/.test(m[1])) {
        const words = m[2].toLowerCase();
        if (!/^(?:and|or|e|i|pi)$/.test(words)) return m[1].trim();
    }
    return s;
}

/** Replace `\text{abc}`-like wrappers inside an expression by their content. */
function unwrapTextCommands(s: string): string {
    if (!s.includes("\\")) return s;
    let out = "";
    let last = 0;
    WRAPPER_RE.lastIndex = 0;
    for (let m = WRAPPER_RE.exec(s); m; m = WRAPPER_RE.exec(s)) {
        const open = m.index + m[0].length - 1;
        const end = matchBrace(s, open);
        if (end < 0) break;
        out += s.slice(last, m.index) + " " + s.slice(open + 1, end - 1) + " ";
        last = end;
        WRAPPER_RE.lastIndex = end;
    }
    return out + s.slice(last);
}

/** `and`/`or` inside a longer text answer (e.g. "rock and roll") are kept as words. */
function isWordContext(s: string, offset: number, length: number): boolean {
    const before = s.slice(0, offset).trim();
    const after = s.slice(offset + length).trim();
    return /[a-zA-Z]{2,}$/.test(before) && !/\\[a-zA-Z]+$/.test(before) && /^[a-zA-Z]{2,}/.test(after);
}

/** Remove thousands commas in properly grouped numbers: 1,000,000 → 1000000 (not 0,111 nor 12,10). */
export function joinThousands(s: string): string {
    if (!s.includes(",")) return s;
    return s.replace(/(^|[^\d.,])(-?[1-9]\d{0,2}(?:,\d{3})+)(?=$|[^\d,]|,\s)/g, (m: string, pre: string, num: string, offset: number) => {
        // (12,102) is a pair, not twelve thousand one hundred and two
        const before = s.slice(0, offset + pre.length).trimEnd();
        const after = s.slice(offset + m.length).trimStart();
        if (/[([]$/.test(before) || /^[)\]]/.test(after)) return m;
        return pre + num.replace(/,/g, "");
    });
}
