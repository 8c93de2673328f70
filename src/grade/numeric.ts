/**
 * Numeric and expression equality of scalar answers: exact integer and fraction literals,
 * exact rational values (BigInt fractions: `171!` ≠ `172!`), float64 values and, when float64
 * overflows or underflows, arbitrary-precision decimals; rounding/tolerance comparison of numbers
 * written with a decimal point, and comparison of expressions with free variables
 * (`x^2+2x+1` vs `(x+1)^2`) at deterministic points that include negative and large values.
 */
import type {Node, NumNode} from "./ast.ts";
import {NoValue, UnsupportedAnswer} from "./ast.ts";
import {bigNumbersEqual, bigValue} from "./bignum.ts";
import {evaluate, freeSymbols, hasFloat, hasInfinity, type Value} from "./evaluate.ts";
import {absR, cmp, exactOrWhy, floorDiv, fromNumber, mul, sub, type Rational} from "./exact.ts";
import type {ResolvedOptions} from "./policy.ts";
import {samplePoints} from "./random.ts";

/** Comparison state shared by the comparison modules. */
export interface CompareContext {
    opts: ResolvedOptions;
    /** `performance.now()` after which comparisons give up. */
    deadline: number;
    /** Set when an expression had to be sampled at random points. */
    sampled: boolean;
    /** Equality of two sub-answers (gold first), for the recursive comparisons. */
    eq(gold: Node, pred: Node): boolean;
}

const SAMPLE_TOLERANCE = 1e-7;
const NO_VARS: ReadonlyMap<string, number> = new Map();

/** An integer literal (possibly negated) as a BigInt, or null. */
export function intLiteral(n: Node): bigint | null {
    if (n.k === "num" && n.int) return BigInt(n.text);
    if (n.k === "neg" && n.x.k === "num" && n.x.int) return -BigInt(n.x.text);
    return null;
}

/** A literal fraction of integers (`\frac{2}{4}`, `-3/4`) as [numerator, denominator], or null. */
export function fractionLiteral(n: Node): [bigint, bigint] | null {
    let sign = 1n;
    if (n.k === "neg") {
        sign = -1n;
        n = n.x;
    }
    if (n.k !== "div") return null;
    const a = intLiteral(n.a);
    const b = intLiteral(n.b);
    if (a === null || b === null || (n.a.k === "num" && (n.a as NumNode).float) || (n.b.k === "num" && (n.b as NumNode).float)) return null;
    return [sign * a, b];
}

/** Equality of two scalar expressions under the context's policy. */
export function scalarEqual(g: Node, p: Node, ctx: CompareContext): boolean {
    const strict = ctx.opts.policy === "strict";
    const ig = intLiteral(g);
    const ip = intLiteral(p);
    if (ig !== null && ip !== null) return ig === ip;
    if (strict) {
        const fg = fractionLiteral(g);
        const fp = fractionLiteral(p);
        if (fg && fp) return fg[0] === fp[0] && fg[1] === fp[1];
        if ((ig !== null) !== (ip !== null)) return false;
    }
    const floats = !strict && (hasFloat(g) || hasFloat(p));
    const vg = freeSymbols(g);
    const vp = freeSymbols(p);
    if (vg.size === 0 && vp.size === 0) return constantsEqual(g, p, floats, ctx.opts, ctx.deadline);
    // an expression may not depend on a variable the other has: sin^2 x + cos^2 x = 1
    return sampledEqual(g, p, [...new Set([...vg, ...vp])], ctx);
}

/**
 * Equality of two constant expressions: exactly when both values are rational (decimal literals
 * are compared with the policy's tolerance/rounding, everything else exactly), in float64 when
 * that is safe, and in arbitrary precision when float64 overflowed, underflowed or hit zero.
 * Throws {@link NoValue} for a division by zero (never a value).
 */
export function constantsEqual(g: Node, p: Node, floats: boolean, opts: ResolvedOptions, deadline = Infinity): boolean {
    const eg = exactOrWhy(g);
    const ep = exactOrWhy(p);
    const decimals = hasFloat(g) || hasFloat(p);
    if (typeof eg !== "string" && typeof ep !== "string") return rationalsEqual(eg, ep, decimals, floats, opts);
    if (!decimals && eg !== "irrational" && ep !== "irrational") {
        // rational values too large to compute exactly (10^{10^{10}}): 40 digits can only tell them apart
        if (bigNumbersEqual(bigValue(g, deadline), bigValue(p, deadline), false, {...opts, tolerance: 1e-30})) throw new NoValue("too large to compare exactly");
        return false;
    }
    let a: Value;
    let b: Value;
    try {
        a = evaluate(g, NO_VARS);
        b = evaluate(p, NO_VARS);
    } catch (e) {
        // a float64 zero divisor may be an underflow (1/e^{-1000}): decide in arbitrary precision
        if (!(e instanceof NoValue)) throw e;
        return bigNumbersEqual(bigValue(g, deadline), bigValue(p, deadline), floats, opts);
    }
    if (typeof a === "number" && typeof b === "number" && !(safeDouble(a) && safeDouble(b)) && !hasInfinity(g) && !hasInfinity(p))
        return bigNumbersEqual(bigValue(g, deadline), bigValue(p, deadline), floats, opts);
    return valuesEqual(a, b, floats, opts);
}

/** A float64 value far from overflow and underflow (zero may be an underflow). */
function safeDouble(x: number): boolean {
    const m = Math.abs(x);
    return m > 1e-280 && m < 1e280;
}

const toleranceCache = new Map<number, Rational>();
function rationalTolerance(t: number): Rational {
    let r = toleranceCache.get(t);
    if (!r) toleranceCache.set(t, (r = fromNumber(t)));
    return r;
}

/** |a − b| ≤ t·max(|a|, |b|) in exact arithmetic (an absolute 1e-12 next to zero, as {@link close}). */
function rationalClose(a: Rational, b: Rational, t: Rational): boolean {
    const diff = absR(sub(a, b));
    if (a.n === 0n || b.n === 0n) return cmp(diff, {n: 1n, d: 10n ** 12n}) <= 0;
    const m = cmp(absR(a), absR(b)) >= 0 ? absR(a) : absR(b);
    return cmp(diff, mul(t, m)) <= 0;
}

/** Round half up to an integer (Math.round's rule). */
function roundHalfUp(a: Rational): bigint {
    return floorDiv(2n * a.n + a.d, 2n * a.d);
}

/**
 * Equality of two exact values. Without decimal literals they must be identical; with one, the
 * relative tolerance applies and, when `floats` (lenient), Math-Verify's rounding to `precision`
 * places with the relative bound of {@link numbersEqual}.
 */
export function rationalsEqual(a: Rational, b: Rational, decimals: boolean, floats: boolean, opts: ResolvedOptions): boolean {
    if (cmp(a, b) === 0) return true;
    if (!decimals) return false;
    if (rationalClose(a, b, rationalTolerance(opts.tolerance))) return true;
    if (floats && opts.policy === "lenient") {
        const f = {n: 10n ** BigInt(opts.precision), d: 1n};
        if (roundHalfUp(mul(a, f)) !== roundHalfUp(mul(b, f))) return false;
        const bound = opts.precision <= 2 ? {n: 5n * 10n ** BigInt(2 - opts.precision), d: 1n} : {n: 5n, d: 10n ** BigInt(opts.precision - 2)};
        return rationalClose(a, b, bound);
    }
    return false;
}

/**
 * Compare two expressions at deterministic points (see random.ts samplePoints). A point where a
 * side has no real value (outside its domain: `\sqrt{x}` at x < 0) is skipped; every other point
 * must agree, and at least 3 must. Expressions that have no value at any non-integer point
 * (`n!`) are compared at positive integers instead.
 */
function sampledEqual(g: Node, p: Node, vars: string[], ctx: CompareContext): boolean {
    ctx.sampled = true;
    const tolerance = Math.max(SAMPLE_TOLERANCE, ctx.opts.tolerance);
    for (const integers of [false, true]) {
        let agreed = 0;
        for (const env of samplePoints(vars, 987654321, integers)) {
            if (performance.now() > ctx.deadline) throw new UnsupportedAnswer("time limit");
            let a: Value;
            let b: Value;
            try {
                a = evaluate(g, env);
                b = evaluate(p, env);
            } catch (e) {
                if (e instanceof NoValue) continue; // a pole: no value at this point
                throw e;
            }
            if (typeof a === "number" && typeof b === "number") {
                const fa = Number.isFinite(a);
                const fb = Number.isFinite(b);
                if (!fa || !fb) {
                    if (fa !== fb && !(Number.isNaN(a) || Number.isNaN(b))) return false;
                    continue;
                }
                if (!close(a, b, tolerance)) return false;
            } else if (!valuesEqual(a, b, false, {...ctx.opts, tolerance})) return false;
            agreed++;
        }
        if (agreed >= 3) return true;
    }
    return false;
}

/** Equality of two evaluated values (numbers or matrices). */
export function valuesEqual(a: Value, b: Value, floats: boolean, opts: ResolvedOptions): boolean {
    if (typeof a === "number" && typeof b === "number") return numbersEqual(a, b, floats, opts);
    if (typeof a === "number" || typeof b === "number") return false;
    if (a.rows !== b.rows || a.cols !== b.cols) return false;
    return a.data.every((x, i) => numbersEqual(x, b.data[i], floats, opts));
}

/** Equality of two numbers: exact for infinities, rounding when floats are involved (lenient), tolerance otherwise. */
export function numbersEqual(a: number, b: number, floats: boolean, opts: ResolvedOptions): boolean {
    if (a === b) return true;
    if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
    // two exactly representable integers (10^{10} vs 10000000001) are equal only if identical
    if (Number.isInteger(a) && Number.isInteger(b) && Math.abs(a) < 2 ** 53 && Math.abs(b) < 2 ** 53) return false;
    if (close(a, b, opts.tolerance)) return true;
    if (floats && opts.policy === "lenient") {
        // Math-Verify's float rounding to `precision` decimal places; the relative bound keeps
        // small numbers apart (0.0000672 vs 0.0000671 both round to 0.000067)
        const f = 10 ** opts.precision;
        const relative = Math.abs(a - b) <= 5 * 10 ** (2 - opts.precision) * Math.max(Math.abs(a), Math.abs(b));
        return Math.round(a * f) === Math.round(b * f) && relative;
    }
    return false;
}

function close(a: number, b: number, tol: number): boolean {
    const d = Math.abs(a - b);
    if (a === 0 || b === 0) return d <= 1e-12;
    return d <= tol * Math.max(Math.abs(a), Math.abs(b));
}
