/**
 * Numeric and expression equality of scalar answers: exact integer and fraction literals,
 * rounding/tolerance comparison of numbers, and random-point comparison of expressions with
 * free variables (`x^2+2x+1` vs `(x+1)^2`).
 */
import type {Node, NumNode} from "./ast.ts";
import {UnsupportedAnswer} from "./ast.ts";
import {evaluate, freeSymbols, hasFloat, type Value} from "./evaluate.ts";
import type {ResolvedOptions} from "./policy.ts";
import {SeededRandom} from "./random.ts";

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

const SAMPLE_POINTS = 6;
const SAMPLE_TOLERANCE = 1e-7;

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
    if (vg.size === 0 && vp.size === 0) return valuesEqual(evaluate(g, new Map()), evaluate(p, new Map()), floats, ctx.opts);
    if (vg.size !== vp.size || [...vg].some((v) => !vp.has(v))) return false;
    return sampledEqual(g, p, [...vg], ctx);
}

/** Compare two expressions with the same free variables at deterministic random points. */
function sampledEqual(g: Node, p: Node, vars: string[], ctx: CompareContext): boolean {
    ctx.sampled = true;
    const rng = new SeededRandom(987654321);
    let agreed = 0;
    for (let k = 0; k < SAMPLE_POINTS; k++) {
        if (performance.now() > ctx.deadline) throw new UnsupportedAnswer("time limit");
        const env = new Map<string, number>();
        for (const v of vars) env.set(v, rng.sample());
        const a = evaluate(g, env);
        const b = evaluate(p, env);
        if (typeof a === "number" && typeof b === "number") {
            const fa = Number.isFinite(a);
            const fb = Number.isFinite(b);
            if (!fa || !fb) {
                if (fa !== fb && !(Number.isNaN(a) || Number.isNaN(b))) return false;
                continue;
            }
            if (!close(a, b, Math.max(SAMPLE_TOLERANCE, ctx.opts.tolerance))) return false;
        } else if (!valuesEqual(a, b, false, {...ctx.opts, tolerance: Math.max(SAMPLE_TOLERANCE, ctx.opts.tolerance)})) return false;
        agreed++;
    }
    return agreed >= 3;
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
