/**
 * Equations and inequalities. Two relations are equal when, pair by pair, their operators agree
 * after flipping (`x \geq 5` = `5 \leq x`) and their sides' differences are proportional (by a
 * non-zero constant for `=`/`≠`, a positive one for inequalities): `2x+4y-3=0` equals
 * `y=-\frac12x+\frac34`. Assignments (`x = 5`, `k = 1`) and computation chains
 * (`x = 5+5+1 = 11`) stand for their last value when compared with a plain value, and a one-variable
 * inequality stands for the interval it describes when compared with a set.
 */
import type {Node, RelNode, RelOp} from "./ast.ts";
import {NoValue, UnsupportedAnswer} from "./ast.ts";
import {interval, isCollection, collectionsEqual} from "./collections.ts";
import {evaluate, freeSymbols} from "./evaluate.ts";
import type {CompareContext} from "./numeric.ts";
import {samplePoints} from "./random.ts";

/**
 * Whether an expression is made of symbols only (`x`, `xy`, `x_1`, `(p,q)`, `\frac{NO}{BO}`, `P(x)`):
 * the left side of an assignment, naming what the right side gives.
 */
function onlySymbols(n: Node): boolean {
    switch (n.k) {
        case "sym":
            return true;
        case "mul":
            return n.fs.every(onlySymbols);
        case "div":
            return onlySymbols(n.a) && onlySymbols(n.b);
        case "list":
            return n.open !== "{" && n.items.length > 0 && n.items.every(onlySymbols);
        case "fn":
            // a length or a named segment: |AB| = 1
            return n.name === "abs" && n.args.length === 1 && onlySymbols(n.args[0]);
        default:
            return false;
    }
}

const isEqualityOp = (op: RelOp): boolean => op === "=" || op === "~";

/** `x = …` (possibly a chain of `=`/`≈`) with a symbols-only left side. */
export function isAssignment(r: RelNode): boolean {
    return r.ops.every(isEqualityOp) && onlySymbols(r.xs[0]);
}

/** The value a chain of equalities ends with: the last operand after an `=` (an `≈` tail is an approximation). */
export function lastValue(r: RelNode): Node {
    for (let i = r.ops.length - 1; i >= 0; i--) if (r.ops[i] === "=") return r.xs[i + 1];
    return r.xs[r.xs.length - 1];
}

/** `x \in S` stands for S. */
export function unwrapMembership(n: Node): Node {
    if (n.k === "rel" && n.ops.length === 1 && n.ops[0] === "in" && onlySymbols(n.xs[0])) return n.xs[1];
    return n;
}

/** Equality of answers at least one of which is a relation. */
export function relationsEqual(g: Node, p: Node, ctx: CompareContext): boolean {
    if (g.k === "rel" && p.k === "rel") {
        // the same name on both sides (D = (0, 1) vs D = (0, 1.5)): compare what they name
        if (isAssignment(g) && isAssignment(p) && sameNode(g.xs[0], p.xs[0])) return ctx.eq(lastValue(g), lastValue(p));
        if (chainsEqual(g, p, ctx)) return true;
        if (isAssignment(g) && isAssignment(p)) return chainsEqual(truncate(g), truncate(p), ctx);
        return false;
    }
    if (g.k === "rel") {
        const equalities = g.ops.every(isEqualityOp);
        if (equalities && (isAssignment(g) || g.xs.length >= 3)) return ctx.eq(lastValue(g), p);
        if (isCollection(p)) {
            const set = relationToSet(g);
            return set !== null && collectionsEqual(set, p, ctx);
        }
        return false;
    }
    const r = p as RelNode;
    if (r.ops.every(isEqualityOp)) return ctx.eq(g, lastValue(r));
    if (isCollection(g) && ctx.opts.allowSetRelation) {
        const set = relationToSet(r);
        return set !== null && collectionsEqual(g, set, ctx);
    }
    return false;
}

function sameNode(a: Node, b: Node): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

function truncate(r: RelNode): RelNode {
    return {k: "rel", ops: ["="], xs: [r.xs[0], lastValue(r)]};
}

interface Pair {
    op: "=" | "<" | "<=" | "!=";
    /** Right minus left (for `<`, `<=` this is positive when the relation holds). */
    diff: Node;
}

function pairs(r: RelNode): Pair[] {
    const out: Pair[] = [];
    for (let i = 0; i < r.ops.length; i++) {
        let lhs = r.xs[i];
        let rhs = r.xs[i + 1];
        let op = r.ops[i];
        if (op === "in") throw new UnsupportedAnswer("membership inside a relation chain");
        if (op === ">" || op === ">=") {
            [lhs, rhs] = [rhs, lhs];
            op = op === ">" ? "<" : "<=";
        }
        if (op === "~") op = "=";
        out.push({op: op as Pair["op"], diff: {k: "add", terms: [rhs, {k: "neg", x: lhs}]}});
    }
    return out;
}

function chainsEqual(g: RelNode, p: RelNode, ctx: CompareContext): boolean {
    const a = pairs(g);
    const b = pairs(p);
    if (a.length !== b.length) return false;
    const used = new Array<boolean>(b.length).fill(false);
    outer: for (const x of a) {
        for (let j = 0; j < b.length; j++) {
            if (used[j] || b[j].op !== x.op) continue;
            if (proportional(x.diff, b[j].diff, x.op === "<" || x.op === "<=", ctx)) {
                used[j] = true;
                continue outer;
            }
        }
        return false;
    }
    return true;
}

/** Whether d1 = c·d2 for one constant c (non-zero; positive when `positive`). */
function proportional(d1: Node, d2: Node, positive: boolean, ctx: CompareContext): boolean {
    const vars = [...new Set([...freeSymbols(d1), ...freeSymbols(d2)])];
    const points = vars.length ? samplePoints(vars, 424242) : [new Map<string, number>()];
    if (vars.length) ctx.sampled = true;
    let ratio: number | null = null;
    let bothZero = 0;
    for (const env of points) {
        if (performance.now() > ctx.deadline) throw new UnsupportedAnswer("time limit");
        let x: ReturnType<typeof evaluate>;
        let y: ReturnType<typeof evaluate>;
        try {
            x = evaluate(d1, env);
            y = evaluate(d2, env);
        } catch (e) {
            if (vars.length && e instanceof NoValue) continue; // a pole of one side
            throw e;
        }
        if (typeof x !== "number" || typeof y !== "number") throw new UnsupportedAnswer("relation between matrices");
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        const zx = Math.abs(x) < 1e-12;
        const zy = Math.abs(y) < 1e-12;
        if (zx && zy) {
            bothZero++;
            continue;
        }
        if (zx || zy) return false;
        const r = x / y;
        if (ratio === null) ratio = r;
        else if (Math.abs(r - ratio) > 1e-7 * Math.max(1, Math.abs(ratio))) return false;
    }
    if (ratio === null) return bothZero > 0;
    return positive ? ratio > 0 : true;
}

/** The set a one-variable relation describes (`-2 \le x \le 7` → `[-2, 7]`), or null. */
export function relationToSet(r: RelNode): Node | null {
    // the described quantity is the one non-constant operand (x, or f(x) in 0 < f(x) < 1)
    const varying = r.xs.filter((x) => freeSymbols(x).size > 0);
    if (varying.length !== 1) return null;
    const isVar = (n: Node) => n === varying[0];
    const inf: Node = {k: "const", name: "inf"};
    const minusInf: Node = {k: "neg", x: inf};
    const norm = pairs(r).length && r.ops.every((o) => o !== "in");
    if (!norm) return null;
    if (r.xs.length === 2) {
        const [l, rr] = r.xs;
        let op = r.ops[0];
        let bound: Node;
        if (isVar(l)) bound = rr;
        else if (isVar(rr)) {
            bound = l;
            op = ({"<": ">", ">": "<", "<=": ">=", ">=": "<="} as Record<string, RelOp>)[op] ?? op;
        } else return null;
        switch (op) {
            case "<":
                return interval(minusInf, bound, true, true);
            case "<=":
                return interval(minusInf, bound, true, false);
            case ">":
                return interval(bound, inf, true, true);
            case ">=":
                return interval(bound, inf, false, true);
            case "!=":
                return {k: "setop", op: "cup", parts: [interval(minusInf, bound, true, true), interval(bound, inf, true, true)]};
            default:
                return null;
        }
    }
    if (r.xs.length === 3 && isVar(r.xs[1])) {
        const [o1, o2] = r.ops;
        const lower = (o: RelOp) => o === "<" || o === "<=";
        const upper = (o: RelOp) => o === ">" || o === ">=";
        if (lower(o1) && lower(o2)) return interval(r.xs[0], r.xs[2], o1 === "<", o2 === "<");
        if (upper(o1) && upper(o2)) return interval(r.xs[2], r.xs[0], o2 === ">", o1 === ">");
    }
    return null;
}
