/**
 * Numeric evaluation of answer trees: real numbers in double precision and small matrices, with
 * free symbols bound to sample values. Used to compare expressions at random points (`x^2+2x+1`
 * vs `(x+1)^2`) and to decide numeric equality; anything it cannot evaluate throws
 * {@link UnsupportedAnswer}.
 */
import type {Node} from "./ast.ts";
import {NoValue, UnsupportedAnswer} from "./ast.ts";

/** A dense matrix value. */
export interface Matrix {
    rows: number;
    cols: number;
    /** Row-major entries. */
    data: number[];
}

/** A numeric value: a real number or a matrix. */
export type Value = number | Matrix;

/** Symbols read as constants rather than variables. */
export const CONSTANT_SYMBOLS = new Set(["e"]);

/** Free symbols of a tree (variables), excluding constants such as `e`. */
export function freeSymbols(node: Node, out = new Set<string>()): Set<string> {
    switch (node.k) {
        case "sym":
            if (!CONSTANT_SYMBOLS.has(node.name)) out.add(node.name);
            break;
        case "add":
            for (const t of node.terms) freeSymbols(t, out);
            break;
        case "mul":
            for (const f of node.fs) freeSymbols(f, out);
            break;
        case "neg":
            freeSymbols(node.x, out);
            break;
        case "div":
        case "pow":
        case "pm":
            freeSymbols(node.a, out);
            freeSymbols(node.b, out);
            break;
        case "fn":
            for (const a of node.args) freeSymbols(a, out);
            break;
        case "list":
            for (const a of node.items) freeSymbols(a, out);
            break;
        case "setop":
            for (const a of node.parts) freeSymbols(a, out);
            break;
        case "matrix":
            for (const r of node.rows) for (const c of r) freeSymbols(c, out);
            break;
        case "rel":
            for (const a of node.xs) freeSymbols(a, out);
            break;
        default:
            break;
    }
    return out;
}

/** Whether a tree contains the constant ∞ (a genuine infinity, not an overflow). */
export function hasInfinity(node: Node): boolean {
    switch (node.k) {
        case "const":
            return node.name === "inf";
        case "add":
            return node.terms.some(hasInfinity);
        case "mul":
            return node.fs.some(hasInfinity);
        case "neg":
            return hasInfinity(node.x);
        case "div":
        case "pow":
        case "pm":
            return hasInfinity(node.a) || hasInfinity(node.b);
        case "fn":
            return node.args.some(hasInfinity);
        default:
            return false;
    }
}

/** Whether a tree contains a decimal literal (an approximate number under the lenient policy). */
export function hasFloat(node: Node): boolean {
    switch (node.k) {
        case "num":
            return node.float;
        case "add":
            return node.terms.some(hasFloat);
        case "mul":
            return node.fs.some(hasFloat);
        case "neg":
            return hasFloat(node.x);
        case "div":
        case "pow":
        case "pm":
            return hasFloat(node.a) || hasFloat(node.b);
        case "fn":
            return node.args.some(hasFloat);
        case "matrix":
            return node.rows.some((r) => r.some(hasFloat));
        default:
            return false;
    }
}

/** Evaluate a tree with the given variable values. */
export function evaluate(node: Node, env: ReadonlyMap<string, number>): Value {
    switch (node.k) {
        case "num":
            return node.value;
        case "sym": {
            const v = env.get(node.name);
            if (v !== undefined) return v;
            if (node.name === "e") return Math.E;
            throw new UnsupportedAnswer(`unbound symbol ${node.name}`);
        }
        case "const":
            return node.name === "pi" ? Math.PI : node.name === "e" ? Math.E : Infinity;
        case "add": {
            let acc: Value = 0;
            for (const t of node.terms) acc = add(acc, evaluate(t, env));
            return acc;
        }
        case "neg":
            return scale(evaluate(node.x, env), -1);
        case "mul": {
            let acc: Value = 1;
            for (const f of node.fs) acc = multiply(acc, evaluate(f, env));
            return acc;
        }
        case "div": {
            const b = evaluate(node.b, env);
            if (typeof b !== "number") throw new UnsupportedAnswer("division by a matrix");
            // a division by zero is never a value (12:00 is not 12/0; 1/0 is not ∞)
            if (b === 0) throw new NoValue("division by zero");
            return scale(evaluate(node.a, env), 1 / b);
        }
        case "pow":
            return power(evaluate(node.a, env), evaluate(node.b, env));
        case "mixed":
            return node.whole.value + node.num.value / node.den.value;
        case "fn":
            return callFunction(node.name, node.args.map((a) => evaluate(a, env)));
        case "matrix": {
            const rows = node.rows.length;
            const cols = node.rows[0].length;
            const data: number[] = [];
            for (const r of node.rows)
                for (const c of r) {
                    const v = evaluate(c, env);
                    if (typeof v !== "number") throw new UnsupportedAnswer("nested matrix");
                    data.push(v);
                }
            return {rows, cols, data};
        }
        default:
            throw new UnsupportedAnswer(`cannot evaluate a ${node.k}`);
    }
}

function add(a: Value, b: Value): Value {
    if (typeof a === "number" && typeof b === "number") return a + b;
    if (typeof a === "number" || typeof b === "number") {
        if (a === 0) return b;
        if (b === 0) return a;
        throw new UnsupportedAnswer("adding a number to a matrix");
    }
    if (a.rows !== b.rows || a.cols !== b.cols) throw new UnsupportedAnswer("matrix shapes differ");
    return {rows: a.rows, cols: a.cols, data: a.data.map((x, i) => x + b.data[i])};
}

function scale(a: Value, k: number): Value {
    return typeof a === "number" ? a * k : {rows: a.rows, cols: a.cols, data: a.data.map((x) => x * k)};
}

function multiply(a: Value, b: Value): Value {
    if (typeof a === "number") return scale(b, a);
    if (typeof b === "number") return scale(a, b);
    if (a.cols !== b.rows) throw new UnsupportedAnswer("matrix product shapes");
    const data = new Array<number>(a.rows * b.cols).fill(0);
    for (let i = 0; i < a.rows; i++)
        for (let j = 0; j < b.cols; j++) {
            let s = 0;
            for (let k = 0; k < a.cols; k++) s += a.data[i * a.cols + k] * b.data[k * b.cols + j];
            data[i * b.cols + j] = s;
        }
    return {rows: a.rows, cols: b.cols, data};
}

function power(a: Value, b: Value): Value {
    if (typeof b !== "number") throw new UnsupportedAnswer("matrix exponent");
    if (typeof a === "number") {
        if (a < 0 && !Number.isInteger(b)) {
            // real odd roots of negative numbers: (-8)^(1/3) = -2
            const inv = 1 / b;
            if (Math.abs(inv - Math.round(inv)) < 1e-9 && Math.round(inv) % 2 !== 0) return -Math.pow(-a, b);
        }
        return Math.pow(a, b);
    }
    if (!Number.isInteger(b) || b < 0 || b > 64 || a.rows !== a.cols) throw new UnsupportedAnswer("matrix power");
    let acc: Value = {rows: a.rows, cols: a.cols, data: a.data.map((_, i) => (i % (a.cols + 1) === 0 ? 1 : 0))};
    for (let k = 0; k < b; k++) acc = multiply(acc, a);
    return acc;
}

function scalarArgs(name: string, args: Value[]): number[] {
    return args.map((a) => {
        if (typeof a !== "number") throw new UnsupportedAnswer(`${name} of a matrix`);
        return a;
    });
}

function callFunction(name: string, raw: Value[]): Value {
    const args = scalarArgs(name, raw);
    const [x, y] = args;
    switch (name) {
        case "sqrt":
            return Math.sqrt(x);
        case "root":
            return power(x, 1 / y);
        case "sin":
            return Math.sin(x);
        case "cos":
            return Math.cos(x);
        case "tan":
            return Math.tan(x);
        case "sec":
            return 1 / Math.cos(x);
        case "csc":
            return 1 / Math.sin(x);
        case "cot":
            return 1 / Math.tan(x);
        case "arcsin":
            return Math.asin(x);
        case "arccos":
            return Math.acos(x);
        case "arctan":
            return Math.atan(x);
        case "sinh":
            return Math.sinh(x);
        case "cosh":
            return Math.cosh(x);
        case "tanh":
            return Math.tanh(x);
        case "exp":
            return Math.exp(x);
        case "ln":
            return Math.log(x);
        case "log":
            return args.length > 1 ? Math.log(x) / Math.log(y) : Math.log(x);
        case "abs":
            return Math.abs(x);
        case "floor":
            return Math.floor(x);
        case "ceil":
            return Math.ceil(x);
        case "factorial":
            return factorial(x);
        case "binom":
            return binomial(x, y);
        case "max":
            return Math.max(...args);
        case "min":
            return Math.min(...args);
        case "gcd":
        case "lcm":
            return gcdLcm(name, args);
        default:
            throw new UnsupportedAnswer(`function ${name}`);
    }
}

function factorial(n: number): number {
    if (!Number.isInteger(n) || n < 0) return NaN;
    if (n > 170) return Infinity;
    let r = 1;
    for (let k = 2; k <= n; k++) r *= k;
    return r;
}

function binomial(n: number, k: number): number {
    if (!Number.isInteger(k) || k < 0) return NaN;
    if (k > 1000) return NaN;
    let r = 1;
    for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
    return r;
}

function gcdLcm(name: string, args: number[]): number {
    if (!args.every(Number.isInteger)) return NaN;
    const g = (a: number, b: number): number => (b === 0 ? Math.abs(a) : g(b, a % b));
    return args.reduce((acc, v) => (name === "gcd" ? g(acc, v) : Math.abs(acc * v) / g(acc, v)));
}
