/**
 * Equivalence of two extracted answers: normalise, compare as strings, then parse and compare
 * structurally (numbers, fractions, expressions, tuples, intervals, sets, matrices, relations);
 * answers the fast path cannot read go to the symbolic path (compute engine).
 */
import type {Node} from "./ast.ts";
import {NoValue, UnsupportedAnswer} from "./ast.ts";
import {collectionsEqual, hasPm, isCollection} from "./collections.ts";
import {normalizeAnswer, type NormalizedAnswer} from "./normalize.ts";
import {scalarEqual, valuesEqual, type CompareContext} from "./numeric.ts";
import {evaluate, freeSymbols, hasFloat} from "./evaluate.ts";
import {parseAnswer} from "./parse.ts";
import type {ResolvedOptions} from "./policy.ts";
import {relationsEqual, unwrapMembership} from "./relations.ts";
import {symbolicEqual} from "./symbolic.ts";

/** Longest normalised answer the parser is given; longer ones are compared as strings only. */
export const MAX_PARSE_LENGTH = 2000;
/** Longest extracted answer that is normalised; longer ones only have their white space collapsed. */
export const MAX_NORMALIZE_LENGTH = 5000;

/** An answer ready for comparison. */
export interface PreparedAnswer {
    norm: NormalizedAnswer;
    /** Normalised text without spaces: the string-equality key. */
    key: string;
    /** A textual answer (`\text{Evelyn}`, `east`): compared as case-insensitive text. */
    text: boolean;
    tree: Node | null;
    /** Why `tree` is null. */
    parseError?: string;
    /** A time of day (`12:00`, `4:30 p.m.`): its own answer kind. */
    time?: TimeOfDay;
    /** The other reading of an ambiguous answer (`1,22`: the decimal 1.22, or the list 1, 22). */
    alt?: PreparedAnswer;
}

/** A time of day: minutes after midnight (or after 12 on a 12-hour clock) and its a.m./p.m. mark. */
export interface TimeOfDay {
    minutes: number;
    meridiem: "am" | "pm" | null;
}

const TIME = /^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?\s*(?:([aApP])\.?\s*[mM]\.?)?$/;

/** `12:00`, `4:30 p.m.`, `9:05:30 AM` as a time of day; null for anything else. */
export function timeOfDay(text: string): TimeOfDay | null {
    const m = TIME.exec(text.trim());
    if (!m) return null;
    const h = Number(m[1]);
    const meridiem = m[4] ? (m[4].toLowerCase() === "a" ? "am" : "pm") : null;
    if (meridiem ? h < 1 || h > 12 : h > 24) return null;
    return {minutes: h * 60 + Number(m[2]) + Number(m[3] ?? 0) / 60, meridiem};
}

/** Minutes after midnight of a time with a.m./p.m. (12:xx a.m. is 0:xx). */
function to24(t: TimeOfDay): number {
    const base = t.minutes % 720;
    return t.meridiem === "pm" ? base + 720 : base;
}

/**
 * Equality of two times of day: with a.m./p.m. on both sides, or on neither, exactly; with it on
 * one side only, `strict` says no and `lenient` compares on a 12-hour clock (`4:30` = `4:30 p.m.`;
 * a 24-hour `13:00` must match `1:00 p.m.` exactly).
 */
function timesEqual(a: TimeOfDay, b: TimeOfDay, strict: boolean): boolean {
    if ((a.meridiem === null) === (b.meridiem === null)) return a.meridiem ? to24(a) === to24(b) : a.minutes === b.minutes;
    if (strict) return false;
    const bare = a.meridiem ? b : a;
    const marked = a.meridiem ? a : b;
    return bare.minutes >= 780 ? bare.minutes === to24(marked) : bare.minutes % 720 === to24(marked) % 720;
}

/** How a verdict was reached. */
export type ComparePath = "string" | "structural" | "symbolic" | "none";

export interface CompareOutcome {
    equal: boolean;
    path: ComparePath;
    /** Set when the fast path had to sample expressions at random points. */
    sampled: boolean;
    /** Set when the slow symbolic path (compute engine) was tried. */
    symbolic?: boolean;
    reason?: string;
}

/** Normalise and parse one answer. */
export function prepareAnswer(answer: string, opts: ResolvedOptions): PreparedAnswer {
    if (answer.length > MAX_NORMALIZE_LENGTH) {
        const text = answer.replace(/\s+/g, " ").trim();
        const norm: NormalizedAnswer = {text, percent: false, wrappedText: false};
        return {norm, key: text.replace(/ /g, ""), text: false, tree: null, parseError: "answer too long to parse"};
    }
    const prepared = prepareNormalized(normalizeAnswer(answer, {decimalComma: opts.policy === "lenient"}));
    // `1,22`: the decimal reading first, the two-element list as the alternative
    if (prepared.norm.decimalComma) prepared.alt = prepareNormalized(normalizeAnswer(answer, {decimalComma: false}));
    return prepared;
}

function prepareNormalized(norm: NormalizedAnswer): PreparedAnswer {
    const key = norm.text.replace(/\s+/g, "");
    const time = timeOfDay(norm.text);
    if (time) return {norm, key, text: false, tree: null, parseError: "time of day", time};
    const text = isTextual(norm);
    if (text) return {norm, key, text, tree: null, parseError: "textual answer"};
    if (norm.text.length > MAX_PARSE_LENGTH) return {norm, key, text, tree: null, parseError: "answer too long to parse"};
    try {
        return {norm, key, text, tree: parseAnswer(norm.text)};
    } catch (e) {
        if (e instanceof UnsupportedAnswer) return {norm, key, text, tree: null, parseError: e.message};
        if (e instanceof RangeError) return {norm, key, text, tree: null, parseError: "answer too deeply nested"};
        throw e;
    }
}

function isTextual(norm: NormalizedAnswer): boolean {
    const t = norm.text;
    if (norm.wrappedText && /[a-zA-Z]{2,}/.test(t) && !/[\\^_{}=<>+*/\d]/.test(t)) return true;
    return /^[A-Za-z]+(?:[ '-][A-Za-z]+)*$/.test(t) && /[A-Za-z]{3,}/.test(t) && !/^(?:pi|inf|infty|sqrt)$/i.test(t);
}

/**
 * Compare two prepared answers (gold first: relation unwrapping is asymmetric, as in Math-Verify).
 * An ambiguous answer (`1,22`) is equal when either of its readings is.
 */
export function compareAnswers(gold: PreparedAnswer, pred: PreparedAnswer, opts: ResolvedOptions, deadline: number): CompareOutcome {
    const first = compareReadings(gold, pred, opts, deadline);
    if (first.equal || (!gold.alt && !pred.alt)) return first;
    for (const [g, p] of [[gold.alt, pred], [gold, pred.alt], [gold.alt, pred.alt]] as const) {
        if (!g || !p) continue;
        const other = compareReadings(g, p, opts, deadline);
        if (other.equal) return other;
    }
    return first;
}

function compareReadings(gold: PreparedAnswer, pred: PreparedAnswer, opts: ResolvedOptions, deadline: number): CompareOutcome {
    const strict = opts.policy === "strict";
    if (gold.key.length > 0 && gold.key === pred.key) return {equal: true, path: "string", sampled: false};
    if (gold.key.length === 0 || pred.key.length === 0) return {equal: false, path: "none", sampled: false, reason: "empty answer"};
    if (gold.time || pred.time) {
        if (gold.time && pred.time) return {equal: timesEqual(gold.time, pred.time, strict), path: "structural", sampled: false};
        const t = (gold.time ?? pred.time)!;
        // a time with a.m./p.m. is never a number; a bare H:MM may still be a ratio (3:20 = 3/20)
        if (t.meridiem) return {equal: false, path: "structural", sampled: false};
        if (gold.time) gold = asRatio(gold);
        else pred = asRatio(pred);
    }
    if (gold.text || pred.text || (strict && gold.key.toLowerCase() === pred.key.toLowerCase())) {
        const equal = textKey(gold.key) === textKey(pred.key);
        if (equal || gold.text || pred.text) return {equal, path: "string", sampled: false};
    }
    let fastError: string | undefined;
    if (gold.tree && pred.tree) {
        const ctx = makeContext(opts, deadline);
        try {
            const equal = topEqual(gold, pred, ctx);
            return {equal, path: "structural", sampled: ctx.sampled};
        } catch (e) {
            if (!(e instanceof UnsupportedAnswer) && !(e instanceof RangeError)) throw e;
            // no value (a division by zero, a number beyond every range): final, never symbolic
            if (e instanceof NoValue) return {equal: false, path: "none", sampled: ctx.sampled, reason: `no value: ${e.message}`};
            fastError = e instanceof UnsupportedAnswer ? e.message : "answer too deeply nested";
            if (fastError === "time limit") return {equal: false, path: "none", sampled: ctx.sampled, reason: "time limit reached"};
        }
    } else fastError = gold.tree ? pred.parseError : gold.parseError;
    // nesting the fast parser refuses is also too deep for the compute engine's parser (slow, unbounded)
    const tooDeep = fastError === "nesting too deep" || fastError === "answer too deeply nested";
    if (opts.symbolic && !tooDeep && performance.now() < deadline) {
        const v = symbolicEqual(gold.norm.text, pred.norm.text, Math.max(opts.tolerance, 1e-7), deadline);
        if (v.equal !== undefined) return {equal: v.equal, path: "symbolic", sampled: false, symbolic: true};
        return {equal: false, path: "none", sampled: false, symbolic: true, reason: `not comparable: ${fastError ?? "unparsed"}; ${v.reason ?? "symbolic path undecided"}`};
    }
    return {equal: false, path: "none", sampled: false, reason: `not comparable: ${fastError ?? "unparsed"}`};
}

/** A bare `H:MM` read as the ratio H/MM (`12:00` is then a division by zero: no value). */
function asRatio(a: PreparedAnswer): PreparedAnswer {
    try {
        return {...a, time: undefined, tree: parseAnswer(a.norm.text), parseError: undefined};
    } catch (e) {
        if (!(e instanceof UnsupportedAnswer)) throw e;
        return {...a, time: undefined, tree: null, parseError: e.message};
    }
}

function textKey(k: string): string {
    return k.toLowerCase().replace(/^\((.)\)$/, "$1");
}

function makeContext(opts: ResolvedOptions, deadline: number): CompareContext {
    const ctx: CompareContext = {opts, deadline, sampled: false, eq: (g, p) => nodesEqual(g, p, ctx)};
    return ctx;
}

/** Top level: the lenient policy lets a percentage match its fraction (`50\%` = `0.5`). */
function topEqual(gold: PreparedAnswer, pred: PreparedAnswer, ctx: CompareContext): boolean {
    const g = gold.tree!;
    const p = pred.tree!;
    if (nodesEqual(g, p, ctx)) return true;
    if (ctx.opts.policy === "lenient" && gold.norm.percent !== pred.norm.percent) {
        const hundred: Node = {k: "num", text: "100", value: 100, int: true, float: false};
        const scaled = (n: Node): Node => ({k: "div", a: n, b: hundred});
        try {
            return gold.norm.percent ? nodesEqual(scaled(g), p, ctx) : nodesEqual(g, scaled(p), ctx);
        } catch (e) {
            if (e instanceof UnsupportedAnswer) return false;
            throw e;
        }
    }
    return false;
}

/** Structural equality of two parsed answers (gold first). */
export function nodesEqual(gIn: Node, pIn: Node, ctx: CompareContext): boolean {
    const g = unwrapMembership(gIn);
    const p = unwrapMembership(pIn);
    if (g.k === "rel" || p.k === "rel") return relationsEqual(g, p, ctx);
    if (isCollection(g) || isCollection(p) || hasPm(g) || hasPm(p)) return collectionsEqual(g, p, ctx);
    if (g.k === "matrix" || p.k === "matrix") return matricesEqual(g, p, ctx);
    return scalarEqual(g, p, ctx);
}

function matricesEqual(g: Node, p: Node, ctx: CompareContext): boolean {
    const vars = new Set([...freeSymbols(g), ...freeSymbols(p)]);
    if (vars.size) {
        if (g.k !== "matrix" || p.k !== "matrix") return scalarEqual(g, p, ctx);
        if (g.rows.length !== p.rows.length || g.rows[0].length !== p.rows[0].length) return false;
        return g.rows.every((row, i) => row.every((cell, j) => nodesEqual(cell, p.rows[i][j], ctx)));
    }
    const floats = ctx.opts.policy === "lenient" && (hasFloat(g) || hasFloat(p));
    return valuesEqual(evaluate(g, new Map()), evaluate(p, new Map()), floats, ctx.opts);
}
