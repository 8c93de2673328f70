/**
 * Tokenizer for normalised answers: numbers, single-letter identifiers, control words and
 * operators, each remembering whether white space preceded it (mixed numbers need that).
 */
import {UnsupportedAnswer} from "./ast.ts";
import {isDigit, isLetter} from "./latex.ts";

export type TokenType = "num" | "id" | "cmd" | "op" | "eof";

export interface Token {
    t: TokenType;
    /** Number text, identifier letter, control-word name (without `\`) or operator. */
    v: string;
    /** White space before this token. */
    sp: boolean;
    /** A function name written as plain text (`sqrt(2)`, `exp(16)`), read as the command of that name. */
    plain?: boolean;
}

/**
 * Function names models write as plain text, with the command they stand for: `sqrt(2)` is
 * `\sqrt{2}`, `asin(x)` is `\arcsin x`. Only read as a function when followed by `(` (or, for
 * `sqrt`, by a number: `sqrt 2`).
 */
export const PLAIN_FUNCTIONS: ReadonlyMap<string, string> = new Map([
    ...["sqrt", "abs", "exp", "log", "ln", "sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "floor", "ceil", "max", "min", "gcd", "lcm"].map((n) => [n, n] as const),
    ["asin", "arcsin"],
    ["acos", "arccos"],
    ["atan", "arctan"],
    ["cbrt", "cbrt"],
]);

const TWO_CHAR_OPS = new Set(["<=", ">=", "!=", "=<", "=>"]);
const ONE_CHAR_OPS = new Set(["+", "-", "*", "/", "^", "_", "=", "<", ">", "!", ",", ";", "&", "|", "(", ")", "[", "]", "{", "}", ":", "'"]);

/** Whether the letters ending at `j` are a plain-text call: `(` follows (or a number after `sqrt`). */
function plainCall(s: string, j: number, name: string): boolean {
    let k = j;
    while (s[k] === " ") k++;
    if (s[k] === "(") return true;
    return name === "sqrt" && k < s.length && isDigit(s.charCodeAt(k));
}

/** Split a normalised answer into tokens; throws {@link UnsupportedAnswer} on characters it does not know. */
export function tokenize(s: string): Token[] {
    const out: Token[] = [];
    let i = 0;
    let sp = false;
    const n = s.length;
    while (i < n) {
        const c = s.charCodeAt(i);
        if (c === 32 || c === 9 || c === 10 || c === 13) {
            sp = true;
            i++;
            continue;
        }
        if (isDigit(c) || (c === 46 && i + 1 < n && isDigit(s.charCodeAt(i + 1)))) {
            let j = i;
            while (j < n && isDigit(s.charCodeAt(j))) j++;
            if (s[j] === "." && j + 1 < n && isDigit(s.charCodeAt(j + 1))) {
                j++;
                while (j < n && isDigit(s.charCodeAt(j))) j++;
            } else if (s[j] === "." && (j + 1 === n || !isLetter(s.charCodeAt(j + 1)))) {
                j++; // "5." as in "5.\,"
            }
            const exp = /^[eE][+-]?\d+/.exec(s.slice(j, j + 8));
            if (exp) j += exp[0].length; // scientific notation: 1.5e3
            out.push({t: "num", v: s.slice(i, j), sp});
            i = j;
        } else if (isLetter(c)) {
            let j = i;
            while (j < n && isLetter(s.charCodeAt(j))) j++;
            const name = j - i > 1 ? PLAIN_FUNCTIONS.get(s.slice(i, j)) : undefined;
            if (name && plainCall(s, j, name)) {
                out.push({t: "cmd", v: name, sp, plain: true});
                i = j;
            } else {
                out.push({t: "id", v: s[i], sp});
                i++;
            }
        } else if (c === 92 /* \ */) {
            let j = i + 1;
            while (j < n && isLetter(s.charCodeAt(j))) j++;
            if (j === i + 1) {
                if (j >= n) throw new UnsupportedAnswer("dangling backslash");
                const sym = s[j];
                out.push({t: "cmd", v: sym === "\\" ? "\\\\" : sym, sp});
                i = j + 1;
            } else {
                out.push({t: "cmd", v: s.slice(i + 1, j), sp});
                i = j;
            }
        } else {
            const two = s.slice(i, i + 2);
            if (TWO_CHAR_OPS.has(two)) {
                out.push({t: "op", v: two === "=<" ? "<=" : two === "=>" ? ">=" : two, sp});
                i += 2;
            } else if (ONE_CHAR_OPS.has(s[i])) {
                out.push({t: "op", v: s[i], sp});
                i++;
            } else throw new UnsupportedAnswer(`unexpected character ${JSON.stringify(s[i])}`);
        }
        sp = false;
    }
    out.push({t: "eof", v: "", sp});
    return out;
}
