/**
 * Equality of tuples, intervals, sets, bare lists and unions. Bracket kinds matter (`[-2,7]` ≠
 * `(-2,7)`); explicit sets and unions ignore order; bare lists (`1, 2`) ignore order under the
 * lenient policy and keep it under the strict one. `±` expands to its two values.
 */
import type {ListNode, Node} from "./ast.ts";
import {UnsupportedAnswer} from "./ast.ts";
import type {CompareContext} from "./numeric.ts";

/** The shapes a collection comparison distinguishes. */
type Kind = "bare" | "set" | "bracket" | "union" | "scalar";

interface Collection {
    kind: Kind;
    open: string;
    close: string;
    items: Node[];
    op?: string;
}

const MAX_ALTERNATIVES = 16;

/** Whether a node is a collection (list, set, interval, union). */
export function isCollection(n: Node): boolean {
    return n.k === "list" || n.k === "setop";
}

/** Whether a tree contains `±`/`∓` outside nested collections. */
export function hasPm(n: Node): boolean {
    switch (n.k) {
        case "pm":
            return true;
        case "add":
            return n.terms.some(hasPm);
        case "mul":
            return n.fs.some(hasPm);
        case "neg":
            return hasPm(n.x);
        case "div":
        case "pow":
            return hasPm(n.a) || hasPm(n.b);
        case "fn":
            return n.args.some(hasPm);
        default:
            return false;
    }
}

/** Expand `a ± b` into `[a + b, a - b]` (cartesian over several `±`). */
export function expandPm(n: Node): Node[] {
    const out = expand(n);
    if (out.length > MAX_ALTERNATIVES) throw new UnsupportedAnswer("too many ± alternatives");
    return out;
}

function expand(n: Node): Node[] {
    switch (n.k) {
        case "pm": {
            const as = expand(n.a);
            const bs = expand(n.b);
            const out: Node[] = [];
            for (const a of as)
                for (const b of bs) {
                    const plus: Node = {k: "add", terms: [a, b]};
                    const minus: Node = {k: "add", terms: [a, {k: "neg", x: b}]};
                    out.push(...(n.minusFirst ? [minus, plus] : [plus, minus]));
                }
            return out;
        }
        case "add":
            return product(n.terms.map(expand)).map((terms) => ({k: "add", terms}));
        case "mul":
            return product(n.fs.map(expand)).map((fs) => ({k: "mul", fs}));
        case "neg":
            return expand(n.x).map((x) => ({k: "neg", x}));
        case "div":
            return product([expand(n.a), expand(n.b)]).map(([a, b]) => ({k: "div", a, b}));
        case "pow":
            return product([expand(n.a), expand(n.b)]).map(([a, b]) => ({k: "pow", a, b}));
        case "fn":
            return product(n.args.map(expand)).map((args) => ({k: "fn", name: n.name, args}));
        default:
            return [n];
    }
}

function product(lists: Node[][]): Node[][] {
    let acc: Node[][] = [[]];
    for (const l of lists) {
        const next: Node[][] = [];
        for (const prefix of acc) for (const x of l) next.push([...prefix, x]);
        acc = next;
        if (acc.length > MAX_ALTERNATIVES) throw new UnsupportedAnswer("too many ± alternatives");
    }
    return acc;
}

function toCollection(n: Node): Collection {
    if (n.k === "setop") return {kind: "union", open: "", close: "", items: n.parts, op: n.op};
    if (n.k === "list") {
        const items = n.items.flatMap((x) => (hasPm(x) ? expandPm(x) : [x]));
        const kind: Kind = n.open === "" ? "bare" : n.open === "{" ? "set" : "bracket";
        return {kind, open: n.open, close: n.close, items};
    }
    if (hasPm(n)) return {kind: "bare", open: "", close: "", items: expandPm(n)};
    return {kind: "scalar", open: "", close: "", items: [n]};
}

/** Equality of two answers at least one of which is a collection (or contains `±`). */
export function collectionsEqual(g: Node, p: Node, ctx: CompareContext): boolean {
    const a = toCollection(g);
    const b = toCollection(p);
    const strict = ctx.opts.policy === "strict";
    if (a.kind === "union" || b.kind === "union") {
        if (a.kind !== "union" || b.kind !== "union" || a.op !== b.op) return false;
        return a.op === "cup" ? unordered(a.items, b.items, ctx) : ordered(a.items, b.items, ctx);
    }
    if (a.kind === "scalar" || b.kind === "scalar") {
        if (strict) return false;
        const other = a.kind === "scalar" ? b : a;
        if (other.kind === "bracket") return false;
        const items = dedupe(other.items, ctx);
        if (items.length !== 1) return false;
        return a.kind === "scalar" ? ctx.eq(a.items[0], items[0]) : ctx.eq(items[0], b.items[0]);
    }
    if (a.kind === "bracket" && b.kind === "bracket") return a.open === b.open && a.close === b.close && ordered(a.items, b.items, ctx);
    if (a.kind === "bracket" || b.kind === "bracket") {
        // a tuple written without brackets, or as a set, compared with a parenthesised tuple: in order
        const br = a.kind === "bracket" ? a : b;
        if (strict || br.open !== "(" || br.close !== ")") return false;
        return ordered(a.items, b.items, ctx);
    }
    if (a.kind === "set" || b.kind === "set" || !strict) {
        // sets: {1, 1, 2} = {1, 2}; also `\boxed{15\frac{39}{40}}, or \boxed{\frac{639}{40}}` is one value
        const ua = dedupe(a.items, ctx);
        const ub = dedupe(b.items, ctx);
        return unordered(ua, ub, ctx);
    }
    return ordered(a.items, b.items, ctx);
}

function dedupe(items: Node[], ctx: CompareContext): Node[] {
    if (items.length > 64) return items;
    const out: Node[] = [];
    for (const x of items) {
        let dup = false;
        for (const y of out) {
            try {
                dup = ctx.eq(y, x);
            } catch (e) {
                if (!(e instanceof UnsupportedAnswer)) throw e;
            }
            if (dup) break;
        }
        if (!dup) out.push(x);
    }
    return out;
}

function ordered(a: Node[], b: Node[], ctx: CompareContext): boolean {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!ctx.eq(a[i], b[i])) return false;
    return true;
}

function unordered(a: Node[], b: Node[], ctx: CompareContext): boolean {
    if (a.length !== b.length) return false;
    if (a.length > 64) throw new UnsupportedAnswer("set too large");
    const used = new Array<boolean>(b.length).fill(false);
    outer: for (const x of a) {
        for (let j = 0; j < b.length; j++) {
            if (used[j]) continue;
            let same = false;
            try {
                same = ctx.eq(x, b[j]);
            } catch (e) {
                if (!(e instanceof UnsupportedAnswer)) throw e;
            }
            if (same) {
                used[j] = true;
                continue outer;
            }
        }
        return false;
    }
    return true;
}

/** An interval node `(a, b]` etc. */
export function interval(lo: Node, hi: Node, loOpen: boolean, hiOpen: boolean): ListNode {
    return {k: "list", open: loOpen ? "(" : "[", close: hiOpen ? ")" : "]", items: [lo, hi]};
}
