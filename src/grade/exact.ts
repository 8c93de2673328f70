/**
 * Exact arithmetic on constant answers: the value of an expression without variables as a
 * reduced fraction of BigInts whenever that value is rational (`\frac{1}{2004!}`, `171!`,
 * `2^{100}+1`, `0.1+0.2`, `\sqrt{\frac{9}{4}}`). float64 cannot tell `171!` from `172!` (both
 * overflow) nor `\frac{1}{2004!}` from `\frac{1}{2006!}` (both underflow); exact values can.
 *
 * Sizes are bounded: a numerator or denominator above {@link MAX_EXACT_BITS} bits (or a power or
 * factorial that would exceed it) aborts the exact path (`null`), and the caller falls back to
 * arbitrary-precision decimals (bignum.ts). A division by zero throws {@link NoValue}: it is never
 * a value.
 */
import type {Node} from "./ast.ts";
import {NoValue} from "./ast.ts";

/** A fraction with `d > 0`, reduced (`gcd(|n|, d) = 1`) unless both parts are huge (see {@link rational}). */
export interface Rational {
    n: bigint;
    d: bigint;
}

/** Largest numerator/denominator (bits) the exact path computes; 2004! has about 19,000. */
export const MAX_EXACT_BITS = 65_536;
const LIMIT = 1n << BigInt(MAX_EXACT_BITS);
/** Largest n whose n! the exact path computes (n! stays below MAX_EXACT_BITS bits). */
export const MAX_EXACT_FACTORIAL = 5_900;

/** Internal: the exact value would be too large; the exact path gives up. */
class TooLarge extends Error {}

const ONE: Rational = {n: 1n, d: 1n};
const ZERO: Rational = {n: 0n, d: 1n};

/**
 * The exact value of a constant expression, or null when it is not rational (π, √2, sin 1, …),
 * has variables, or exceeds the size bound. Throws {@link NoValue} on a division by zero.
 */
export function exactValue(node: Node): Rational | null {
    const v = exactOrWhy(node);
    return typeof v === "string" ? null : v;
}

/** Like {@link exactValue}, but says why there is no exact value: not rational, or too large. */
export function exactOrWhy(node: Node): Rational | "irrational" | "too-large" {
    try {
        return ev(node) ?? "irrational";
    } catch (e) {
        if (e instanceof TooLarge) return "too-large";
        throw e;
    }
}

function abs(x: bigint): bigint {
    return x < 0n ? -x : x;
}

function gcd(a: bigint, b: bigint): bigint {
    a = abs(a);
    b = abs(b);
    while (b !== 0n) [a, b] = [b, a % b];
    return a;
}

function check(x: bigint): bigint {
    if (x > LIMIT || x < -LIMIT) throw new TooLarge();
    return x;
}

/** Above this size on both sides a fraction is left unreduced (Euclid's gcd would cost more than it saves). */
const REDUCE_LIMIT = 1n << 8192n;

/**
 * Build a fraction, reduced unless numerator and denominator are both huge; a zero denominator
 * is a division by zero. Equality is tested by cross-multiplication ({@link cmp}), so an
 * unreduced fraction is still compared correctly.
 */
export function rational(n: bigint, d: bigint): Rational {
    if (d === 0n) throw new NoValue("division by zero");
    if (d < 0n) {
        n = -n;
        d = -d;
    }
    if (d === 1n) return {n: check(n), d};
    if (d > REDUCE_LIMIT && (n > REDUCE_LIMIT || n < -REDUCE_LIMIT)) return {n: check(n), d: check(d)};
    const g = gcd(n, d);
    return g === 1n ? {n: check(n), d: check(d)} : {n: check(n / g), d: check(d / g)};
}

export function add(a: Rational, b: Rational): Rational {
    if (a.d === 1n && b.d === 1n) return {n: check(a.n + b.n), d: 1n};
    // adding an integer keeps a fraction reduced: (n + k·d)/d
    if (b.d === 1n) return {n: check(a.n + b.n * a.d), d: a.d};
    if (a.d === 1n) return {n: check(b.n + a.n * b.d), d: b.d};
    return rational(a.n * b.d + b.n * a.d, a.d * b.d);
}

export function sub(a: Rational, b: Rational): Rational {
    return add(a, {n: -b.n, d: b.d});
}

export function mul(a: Rational, b: Rational): Rational {
    if (a.d === 1n && b.d === 1n) return {n: check(a.n * b.n), d: 1n};
    return rational(a.n * b.n, a.d * b.d);
}

export function div(a: Rational, b: Rational): Rational {
    if (b.n === 0n) throw new NoValue("division by zero");
    return rational(a.n * b.d, a.d * b.n);
}

/** Sign of a − b: −1, 0 or 1. */
export function cmp(a: Rational, b: Rational): number {
    const x = a.n * b.d;
    const y = b.n * a.d;
    return x < y ? -1 : x > y ? 1 : 0;
}

export function absR(a: Rational): Rational {
    return a.n < 0n ? {n: -a.n, d: a.d} : a;
}

/** Floor of n/d for d > 0 (BigInt division truncates toward zero). */
export function floorDiv(n: bigint, d: bigint): bigint {
    const q = n / d;
    return n % d !== 0n && n < 0n ? q - 1n : q;
}

function isInt(a: Rational): boolean {
    return a.d === 1n;
}

/** Approximate bit length of |x| (exact for |x| < 2^53, else from the hex length). */
function bits(x: bigint): number {
    const y = abs(x);
    if (y < 9007199254740992n) return y === 0n ? 0 : Math.floor(Math.log2(Number(y))) + 1;
    return y.toString(16).length * 4;
}

/** Exact decimal literal (`12.5`, `0.001`, `1.5e-7`) as a fraction. */
export function decimalLiteral(text: string): Rational | null {
    const m = /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
    if (!m || (m[1] === "" && !m[2])) return null;
    const frac = m[2] ?? "";
    const exp = Number(m[3] ?? 0) - frac.length;
    if (Math.abs(exp) > 20_000) throw new TooLarge();
    const digits = BigInt((m[1] || "0") + frac);
    return exp >= 0 ? rational(digits * 10n ** BigInt(exp), 1n) : rational(digits, 10n ** BigInt(-exp));
}

/** The integer k-th root of x ≥ 0 when x is a perfect k-th power, else null. */
function exactIntRoot(x: bigint, k: number): bigint | null {
    if (x < 2n) return x;
    const K = BigInt(k);
    // Newton from above: r_{i+1} = ((k-1) r_i + x / r_i^(k-1)) / k
    let r = 1n << BigInt(Math.ceil(bits(x) / k) + 1);
    for (;;) {
        const next = ((K - 1n) * r + x / r ** (K - 1n)) / K;
        if (next >= r) break;
        r = next;
    }
    return r ** K === x ? r : null;
}

/** The exact k-th root of a rational, or null when it is irrational (or not real). */
function exactRoot(a: Rational, k: bigint): Rational | null {
    if (k <= 0n || k > 64n) return null;
    const kk = Number(k);
    if (a.n < 0n) {
        if (kk % 2 === 0) return null;
        const r = exactRoot({n: -a.n, d: a.d}, k);
        return r && {n: -r.n, d: r.d};
    }
    const n = exactIntRoot(a.n, kk);
    if (n === null) return null;
    const d = exactIntRoot(a.d, kk);
    return d === null ? null : {n, d};
}

/** a^e for a rational exponent; null when irrational. */
export function pow(a: Rational, e: Rational): Rational | null {
    if (!isInt(e)) {
        const root = exactRoot(a, e.d);
        return root && pow(root, {n: e.n, d: 1n});
    }
    const k = e.n;
    if (k === 0n) return ONE;
    if (a.n === 0n) {
        if (k < 0n) throw new NoValue("division by zero");
        return ZERO;
    }
    if (a.d === 1n && (a.n === 1n || a.n === -1n)) return a.n === 1n || k % 2n === 0n ? ONE : a;
    const m = abs(k);
    if (m > BigInt(MAX_EXACT_BITS) || (bits(a.n) + bits(a.d)) * Number(m) > MAX_EXACT_BITS + 64) throw new TooLarge();
    // powers of coprime numbers stay coprime: no gcd needed
    const n = check(a.n ** m);
    const d = check(a.d ** m);
    if (k > 0n) return {n, d};
    return n < 0n ? {n: -d, d: -n} : {n: d, d: n};
}

/** n! for a non-negative integer n ≤ {@link MAX_EXACT_FACTORIAL}; throws TooLarge beyond. */
export function factorialBig(n: number): bigint {
    if (n > MAX_EXACT_FACTORIAL) throw new TooLarge();
    let r = 1n;
    for (let k = 2; k <= n; k++) r *= BigInt(k);
    return r;
}

function asSmallInt(a: Rational): number | null {
    if (!isInt(a) || a.n > 1_000_000_000n || a.n < -1_000_000_000n) return null;
    return Number(a.n);
}

function ev(node: Node): Rational | null {
    switch (node.k) {
        case "num":
            return decimalLiteral(node.text);
        case "neg": {
            const x = ev(node.x);
            return x && {n: -x.n, d: x.d};
        }
        case "add": {
            let acc = ZERO;
            for (const t of node.terms) {
                const v = ev(t);
                if (!v) return null;
                acc = add(acc, v);
            }
            return acc;
        }
        case "mul": {
            let acc = ONE;
            let unknown = false;
            for (const f of node.fs) {
                const v = ev(f);
                if (!v) unknown = true;
                else acc = mul(acc, v);
            }
            return unknown ? null : acc;
        }
        case "div": {
            const b = ev(node.b);
            if (b && b.n === 0n) throw new NoValue("division by zero");
            const a = ev(node.a);
            return a && b && div(a, b);
        }
        case "pow": {
            const a = ev(node.a);
            const e = a && ev(node.b);
            return a && e ? pow(a, e) : null;
        }
        case "mixed": {
            const w = decimalLiteral(node.whole.text);
            const f = rational(BigInt(node.num.text), BigInt(node.den.text));
            return w && add(w, f);
        }
        case "fn":
            return callExact(node.name, node.args);
        default:
            return null;
    }
}

function callExact(name: string, argNodes: Node[]): Rational | null {
    const args: Rational[] = [];
    for (const a of argNodes) {
        const v = ev(a);
        if (!v) return null;
        args.push(v);
    }
    const [x, y] = args;
    switch (name) {
        case "sqrt":
            return exactRoot(x, 2n);
        case "root":
            return isInt(y) ? exactRoot(x, y.n) : null;
        case "abs":
            return absR(x);
        case "floor":
            return {n: floorDiv(x.n, x.d), d: 1n};
        case "ceil":
            return {n: -floorDiv(-x.n, x.d), d: 1n};
        case "max":
        case "min":
            return args.reduce((acc, v) => ((cmp(v, acc) > 0) === (name === "max") ? v : acc));
        case "factorial": {
            if (!isInt(x) || x.n < 0n) return null;
            const n = asSmallInt(x);
            if (n === null) throw new TooLarge();
            return {n: check(factorialBig(n)), d: 1n};
        }
        case "binom": {
            const k = asSmallInt(y);
            if (k === null || k < 0) return null;
            if (!isInt(x)) return null;
            const n = x.n;
            if (n >= 0n && BigInt(k) > n) return ZERO;
            // C(n, k) = C(n, n-k) for 0 ≤ k ≤ n: the shorter product
            const kk = n >= 0n && n - BigInt(k) < BigInt(k) ? Number(n - BigInt(k)) : k;
            if (kk > 20_000) throw new TooLarge();
            // log2 C(n, kk) first: never start a product that would exceed the bound
            let log2 = 0;
            const nn = Number(n);
            for (let i = 1; i <= kk; i++) log2 += Math.log2(Math.abs(nn - kk + i) / i);
            if (!(log2 < MAX_EXACT_BITS)) throw new TooLarge();
            // r·(n−kk+i)/i stays an integer at every step: no fractions, no gcd
            let r = 1n;
            for (let i = 1; i <= kk; i++) r = check((r * (n - BigInt(kk) + BigInt(i))) / BigInt(i));
            return {n: r, d: 1n};
        }
        case "gcd":
        case "lcm": {
            if (!args.every(isInt)) return null;
            let acc = abs(args[0].n);
            for (const v of args.slice(1)) {
                const b = abs(v.n);
                if (name === "gcd") acc = gcd(acc, b);
                else acc = acc === 0n || b === 0n ? 0n : check((acc / gcd(acc, b)) * b);
            }
            return {n: acc, d: 1n};
        }
        default:
            return null;
    }
}

/** A JS number as an exact fraction (for tolerances). */
export function fromNumber(x: number): Rational {
    if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
    const neg = x < 0;
    const r = decimalLiteral(Math.abs(x).toExponential(16).replace("e+", "e"));
    if (!r) throw new RangeError(`cannot read ${x}`);
    return neg ? {n: -r.n, d: r.d} : r;
}
