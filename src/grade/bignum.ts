/**
 * Arbitrary-precision evaluation (decimal.js, 40 significant digits, decimal exponents up to
 * ±9·10^15) of constant answers whose value is not rational or too large for the exact path and
 * whose float64 value overflowed, underflowed or cancelled to zero: `e^{1000}` vs `e^{1001}`,
 * `\sqrt{2}\cdot 200!` vs `\sqrt{3}\cdot 200!`, `e^{-800}` vs `0`.
 *
 * Comparison follows numeric.ts: relative tolerance, or Math-Verify's rounding to `precision`
 * decimal places when lenient and a decimal literal is involved. A value beyond the range, or a
 * factorial too large to compute, throws {@link NoValue}.
 */
import {Decimal} from "decimal.js";
import type {Node} from "./ast.ts";
import {NoValue, UnsupportedAnswer} from "./ast.ts";
import {MAX_EXACT_FACTORIAL, exactValue, factorialBig} from "./exact.ts";
import type {ResolvedOptions} from "./policy.ts";

const D = Decimal.clone({precision: 40, rounding: Decimal.ROUND_HALF_EVEN, maxE: 9e15, minE: -9e15, toExpPos: 40, toExpNeg: -40});
type Big = InstanceType<typeof D>;

let piCache: Big | null = null;
const pi = (): Big => (piCache ??= D.acos(-1));
let eCache: Big | null = null;
const euler = (): Big => (eCache ??= D.exp(1));
/** e^y: decimal.js's exp is slow for large |y|, so e^y = e^{trunc y} (by squaring) · e^{frac y}. */
function expBig(y: Big): Big {
    if (y.abs().lte(2)) return y.exp();
    const k = y.trunc();
    return euler().pow(k).times(y.minus(k).exp());
}
const isE = (n: Node): boolean => (n.k === "sym" && n.name === "e") || (n.k === "const" && n.name === "e");

/** Trigonometric arguments above this are not reduced (that would need as many digits as the argument has). */
const MAX_TRIG_ARGUMENT = 1e30;
let deadline = Infinity;

/**
 * The value of a constant scalar expression in arbitrary precision.
 * @param until `performance.now()` after which evaluation stops ({@link UnsupportedAnswer} "time limit")
 */
export function bigValue(node: Node, until = Infinity): Big {
    deadline = until;
    let v: Big;
    try {
        v = ev(node);
    } catch (e) {
        if (e instanceof Error && e.message.startsWith("[DecimalError]")) throw new NoValue("beyond the arbitrary-precision range");
        throw e;
    }
    if (!v.isFinite()) throw new NoValue(v.isNaN() ? "no real value" : "value beyond the arbitrary-precision range");
    return v;
}

function ev(node: Node): Big {
    if (performance.now() > deadline) throw new UnsupportedAnswer("time limit");
    switch (node.k) {
        case "num":
            return new D(node.text);
        case "sym":
            if (node.name === "e") return euler();
            throw new UnsupportedAnswer(`unbound symbol ${node.name}`);
        case "const":
            if (node.name === "pi") return pi();
            if (node.name === "e") return euler();
            throw new UnsupportedAnswer("infinity");
        case "add":
            return node.terms.reduce((acc, t) => acc.plus(ev(t)), new D(0));
        case "neg":
            return ev(node.x).neg();
        case "mul":
            return node.fs.reduce((acc, f) => acc.times(ev(f)), new D(1));
        case "div": {
            const b = ev(node.b);
            if (b.isZero()) throw new NoValue("division by zero");
            return ev(node.a).div(b);
        }
        case "pow":
            return isE(node.a) ? expBig(ev(node.b)) : power(ev(node.a), ev(node.b));
        case "mixed":
            return new D(node.whole.text).plus(new D(node.num.text).div(node.den.text));
        case "fn":
            return call(node);
        default:
            throw new UnsupportedAnswer(`cannot evaluate a ${node.k}`);
    }
}

function power(a: Big, b: Big): Big {
    if (a.isNeg() && !b.isInteger()) {
        // real odd roots of negative numbers: (-8)^(1/3) = -2
        const inv = new D(1).div(b);
        const k = inv.toDecimalPlaces(0);
        if (inv.minus(k).abs().lt(1e-30) && k.mod(2).abs().eq(1)) return power(a.neg(), b).neg();
        return new D(NaN);
    }
    if (b.isInteger() || a.isZero() || a.isNeg()) return a.pow(b);
    return expBig(b.times(a.ln()));
}

function call(node: Extract<Node, {k: "fn"}>): Big {
    const name = node.name;
    if (name === "factorial" || name === "binom" || name === "gcd" || name === "lcm") {
        const exact = exactValue(node);
        if (exact) return new D(exact.n.toString()).div(exact.d.toString());
        if (name === "factorial") {
            const x = ev(node.args[0]);
            if (x.isInteger() && x.gte(0) && x.gt(MAX_EXACT_FACTORIAL)) throw new NoValue("factorial too large to compare");
            if (x.isInteger() && x.gte(0)) return new D(factorialBig(x.toNumber()).toString());
            return new D(NaN);
        }
        throw new NoValue(`${name} too large to compare`);
    }
    const args = node.args.map(ev);
    const [x, y] = args;
    if (/^(?:sin|cos|tan|sec|csc|cot)$/.test(name) && x.abs().gt(MAX_TRIG_ARGUMENT)) throw new NoValue("trigonometric argument too large");
    switch (name) {
        case "sqrt":
            return x.sqrt();
        case "root":
            return power(x, new D(1).div(y));
        case "sin":
            return x.sin();
        case "cos":
            return x.cos();
        case "tan":
            return x.tan();
        case "sec":
            return new D(1).div(x.cos());
        case "csc":
            return new D(1).div(x.sin());
        case "cot":
            return new D(1).div(x.tan());
        case "arcsin":
            return x.asin();
        case "arccos":
            return x.acos();
        case "arctan":
            return x.atan();
        case "sinh":
            return x.sinh();
        case "cosh":
            return x.cosh();
        case "tanh":
            return x.tanh();
        case "exp":
            return expBig(x);
        case "ln":
            return x.ln();
        case "log":
            return args.length > 1 ? x.ln().div(y.ln()) : x.ln();
        case "abs":
            return x.abs();
        case "floor":
            return x.floor();
        case "ceil":
            return x.ceil();
        case "max":
            return D.max(...args);
        case "min":
            return D.min(...args);
        default:
            throw new UnsupportedAnswer(`function ${name}`);
    }
}

/** Equality of two arbitrary-precision values under the policy (see numeric.ts numbersEqual). */
export function bigNumbersEqual(a: Big, b: Big, floats: boolean, opts: ResolvedOptions): boolean {
    if (a.eq(b)) return true;
    const diff = a.minus(b).abs();
    // next to zero an absolute bound: 40 digits leave sin(π) ≈ 1e-40, while e^{-1000} ≠ 0
    if (a.isZero() || b.isZero()) return diff.lte(1e-30);
    const scale = D.max(a.abs(), b.abs());
    if (diff.lte(scale.times(opts.tolerance))) return true;
    if (floats && opts.policy === "lenient") {
        const f = new D(10).pow(opts.precision);
        const ra = a.times(f).toDecimalPlaces(0, Decimal.ROUND_HALF_CEIL);
        const rb = b.times(f).toDecimalPlaces(0, Decimal.ROUND_HALF_CEIL);
        return ra.eq(rb) && diff.lte(scale.times(new D(10).pow(2 - opts.precision).times(5)));
    }
    return false;
}
