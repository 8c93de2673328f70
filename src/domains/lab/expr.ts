/**
 * Arithmetic expression trees of the lab domain: integers combined by + - * / (exact division).
 *
 * - Text uses ASCII operators: `+`, `-`, `*` (times) and `/` (exact division).
 * - {@link formatExpr} prints the fewest parentheses that keep the tree: operators of the same
 *   precedence associate to the left, so a right child of the same precedence is parenthesized
 *   (`a - (b + c)`, `a + (b + c)`). A negative number is written bare at the start of the text or
 *   right after `(`, and as `(-n)` elsewhere (`5 * (-2)`).
 * - {@link parseExpr} reads that text back (whitespace and redundant parentheses are ignored;
 *   `×`, `÷` and `−` are read as `*`, `/`, `-`); it never throws and returns null on bad input.
 * - A **reducible node** is an operation whose two operands are numbers; reducing it replaces it by
 *   its value. Any reducible node may be reduced next: `2 * 3 + 4 * 5` can start with either
 *   product, while in `2 + 3 * 4` only `3 * 4` is reducible (the tree, not the text, decides).
 */

/** The four operators, as written in the text. */
export type Op = "+" | "-" | "*" | "/";
export const OPS: readonly Op[] = ["+", "-", "*", "/"];

/** A number leaf (an integer in generated problems; parsed text may hold NaN for absurd numbers). */
export interface NumNode {
    kind: "num";
    value: number;
}

/** A binary operation. */
export interface OpNode {
    kind: "op";
    op: Op;
    left: Expr;
    right: Expr;
}

export type Expr = NumNode | OpNode;

/** Path from the root to a node: "L"/"R" per level ("" is the root). */
export type NodePath = string;

/** Build a number leaf. */
export function num(value: number): NumNode {
    return {kind: "num", value};
}

/** Build an operation node. */
export function bin(op: Op, left: Expr, right: Expr): OpNode {
    return {kind: "op", op, left, right};
}

/** Precedence: 1 for + -, 2 for * /. */
export function precedence(op: Op): number {
    return op === "+" || op === "-" ? 1 : 2;
}

/** Whether `x op y === y op x` for all numbers (+ and *). */
export function isCommutative(op: Op): boolean {
    return op === "+" || op === "*";
}

/**
 * Apply one operator. Returns null when the result is not an integer that the lab allows:
 * division by zero, inexact division, or a non-finite result.
 */
export function applyOp(op: Op, a: number, b: number): number | null {
    let v: number;
    switch (op) {
        case "+": v = a + b; break;
        case "-": v = a - b; break;
        case "*": v = a * b; break;
        case "/":
            if (b === 0 || a % b !== 0) return null;
            v = a / b;
            break;
    }
    if (!Number.isFinite(v)) return null;
    return v === 0 ? 0 : v; // no -0
}

/** Value of a tree, or null if some division is inexact or by zero. */
export function evaluate(e: Expr): number | null {
    if (e.kind === "num") return Number.isFinite(e.value) ? e.value : null;
    const a = evaluate(e.left);
    if (a === null) return null;
    const b = evaluate(e.right);
    if (b === null) return null;
    return applyOp(e.op, a, b);
}

/** Number of operations in a tree. */
export function countOps(e: Expr): number {
    return e.kind === "num" ? 0 : 1 + countOps(e.left) + countOps(e.right);
}

/** Structural equality (same shape, operators and numbers). */
export function exprEquals(a: Expr, b: Expr): boolean {
    if (a.kind === "num") return b.kind === "num" && a.value === b.value;
    return b.kind === "op" && a.op === b.op && exprEquals(a.left, b.left) && exprEquals(a.right, b.right);
}

/** Whether a node is an operation on two numbers. */
export function isReducible(e: Expr): e is OpNode & {left: NumNode; right: NumNode} {
    return e.kind === "op" && e.left.kind === "num" && e.right.kind === "num";
}

/** The node at a path (undefined if the path leaves the tree). */
export function nodeAt(e: Expr, path: NodePath): Expr | undefined {
    let cur: Expr = e;
    for (const c of path) {
        if (cur.kind !== "op") return undefined;
        cur = c === "L" ? cur.left : cur.right;
    }
    return cur;
}

/** Paths of all reducible nodes, in text order (left to right). */
export function reduciblePaths(e: Expr): NodePath[] {
    const out: NodePath[] = [];
    const walk = (n: Expr, path: string): void => {
        if (n.kind !== "op") return;
        if (isReducible(n)) {
            out.push(path);
            return;
        }
        walk(n.left, path + "L");
        walk(n.right, path + "R");
    };
    walk(e, "");
    return out;
}

/** A copy of `e` with the node at `path` replaced by `replacement`. */
export function replaceAt(e: Expr, path: NodePath, replacement: Expr): Expr {
    if (path === "") return replacement;
    if (e.kind !== "op") throw new RangeError(`replaceAt: path ${path} leaves the tree`);
    return path[0] === "L"
        ? bin(e.op, replaceAt(e.left, path.slice(1), replacement), e.right)
        : bin(e.op, e.left, replaceAt(e.right, path.slice(1), replacement));
}

/**
 * Reduce the reducible node at `path`: returns the new tree and the operation performed, or null
 * if the node is not reducible or its value is not an allowed integer.
 */
export function reduceAt(e: Expr, path: NodePath): {expr: Expr; op: Op; left: number; right: number; value: number} | null {
    const node = nodeAt(e, path);
    if (!node || !isReducible(node)) return null;
    const value = applyOp(node.op, node.left.value, node.right.value);
    if (value === null) return null;
    return {expr: replaceAt(e, path, num(value)), op: node.op, left: node.left.value, right: node.right.value, value};
}

/** Formatting style: `spaced` writes `a + b`, `compact` writes `a+b`. */
export type ExprStyle = "spaced" | "compact";

/** Write a number; negative numbers are parenthesized unless `bare`. */
export function formatNumber(value: number, bare = true): string {
    const s = String(value);
    return value < 0 && !bare ? `(${s})` : s;
}

/** Print a tree with the fewest parentheses that keep its shape (see the module docs). */
export function formatExpr(e: Expr, style: ExprStyle = "spaced"): string {
    const sep = style === "spaced" ? " " : "";
    const go = (n: Expr, atStart: boolean): string => {
        if (n.kind === "num") return formatNumber(n.value, atStart);
        const p = precedence(n.op);
        const lp = n.left.kind === "op" && precedence(n.left.op) < p;
        const rp = n.right.kind === "op" && precedence(n.right.op) <= p;
        const l = lp ? `(${go(n.left, true)})` : go(n.left, atStart);
        const r = rp ? `(${go(n.right, true)})` : go(n.right, false);
        return `${l}${sep}${n.op}${sep}${r}`;
    };
    return go(e, true);
}

/** Whether a child needs parentheses under `op` (on the given side) in the minimal printing. */
export function needsParens(op: Op, child: Expr, side: "left" | "right"): boolean {
    if (child.kind !== "op") return false;
    return side === "left" ? precedence(child.op) < precedence(op) : precedence(child.op) <= precedence(op);
}

/** Number of parenthesis pairs {@link formatExpr} writes (negative numbers not counted). */
export function countParens(e: Expr): number {
    if (e.kind === "num") return 0;
    return countParens(e.left) + countParens(e.right) +
        (needsParens(e.op, e.left, "left") ? 1 : 0) + (needsParens(e.op, e.right, "right") ? 1 : 0);
}

/** Largest absolute value of any node (leaves and intermediate results); null if not evaluable. */
export function maxAbsValue(e: Expr): number | null {
    const v = evaluate(e);
    if (v === null) return null;
    if (e.kind === "num") return Math.abs(v);
    const l = maxAbsValue(e.left);
    const r = maxAbsValue(e.right);
    if (l === null || r === null) return null;
    return Math.max(Math.abs(v), l, r);
}

// ---------------------------------------------------------------------------------------------
// Tokens and parsing (never throws on any input).

/** Token kinds of lab text. */
export type TokenKind = "num" | "op" | "lparen" | "rparen" | "eq" | "word" | "punct" | "other";

/** One token with its character range [start, end) in the scanned string. */
export interface Token {
    kind: TokenKind;
    text: string;
    start: number;
    end: number;
}

/** Numbers with more digits than this are read as NaN (they never match anything). */
export const MAX_NUMBER_DIGITS = 15;

const OP_ALIASES: Record<string, Op> = {"+": "+", "-": "-", "*": "*", "/": "/", "×": "*", "÷": "/", "−": "-", "·": "*"};

/** Split text into tokens; whitespace separates tokens and is dropped. */
export function tokenize(text: string): Token[] {
    const out: Token[] = [];
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        if (/\s/.test(c)) {
            i++;
            continue;
        }
        const start = i;
        let kind: TokenKind;
        if (c >= "0" && c <= "9") {
            while (i < text.length && text[i] >= "0" && text[i] <= "9") i++;
            // A decimal part only when a digit follows the point ("9." is a number then a period).
            if (text[i] === "." && text[i + 1] >= "0" && text[i + 1] <= "9") {
                i++;
                while (i < text.length && text[i] >= "0" && text[i] <= "9") i++;
            }
            kind = "num";
        } else if (/[A-Za-z']/.test(c)) {
            while (i < text.length && /[A-Za-z']/.test(text[i])) i++;
            kind = "word";
        } else {
            i++;
            if (c in OP_ALIASES) kind = "op";
            else if (c === "(") kind = "lparen";
            else if (c === ")") kind = "rparen";
            else if (c === "=") kind = "eq";
            else if (c === "," || c === "." || c === ":" || c === ";") kind = "punct";
            else kind = "other";
        }
        out.push({kind, text: text.slice(start, i), start, end: i});
    }
    return out;
}

/** Numeric value of a number token (NaN for absurdly long numbers). */
export function tokenNumber(t: Token): number {
    const digits = t.text.replace(".", "").replace(/^0+/, "");
    if (digits.length > MAX_NUMBER_DIGITS) return NaN;
    return Number(t.text);
}

/** The operator of an `op` token. */
export function tokenOp(t: Token): Op {
    return OP_ALIASES[t.text] ?? "+";
}

/**
 * Parse a whole token list as one expression (unary minus only directly before a number).
 * Returns null unless every token is consumed.
 */
export function parseTokens(tokens: readonly Token[]): Expr | null {
    let pos = 0;
    const peek = (): Token | undefined => tokens[pos];
    const isOp = (t: Token | undefined, ...ops: Op[]): boolean => t?.kind === "op" && ops.includes(tokenOp(t));
    let depth = 0;
    const primary = (): Expr | null => {
        const t = peek();
        if (!t) return null;
        if (t.kind === "num") {
            pos++;
            return num(tokenNumber(t));
        }
        if (isOp(t, "-") && tokens[pos + 1]?.kind === "num") {
            pos += 2;
            const v = -tokenNumber(tokens[pos - 1]);
            return num(v === 0 ? 0 : v);
        }
        if (t.kind === "lparen") {
            if (++depth > 200) return null;
            pos++;
            const inner = sum();
            if (!inner || peek()?.kind !== "rparen") return null;
            pos++;
            depth--;
            return inner;
        }
        return null;
    };
    const product = (): Expr | null => {
        let left = primary();
        while (left && isOp(peek(), "*", "/")) {
            const op = tokenOp(tokens[pos++]);
            const right = primary();
            if (!right) return null;
            left = bin(op, left, right);
        }
        return left;
    };
    const sum = (): Expr | null => {
        let left = product();
        while (left && isOp(peek(), "+", "-")) {
            const op = tokenOp(tokens[pos++]);
            const right = product();
            if (!right) return null;
            left = bin(op, left, right);
        }
        return left;
    };
    const e = sum();
    return e && pos === tokens.length ? e : null;
}

/** Parse expression text (see the module docs). Returns null on anything else; never throws. */
export function parseExpr(text: string): Expr | null {
    try {
        return parseTokens(tokenize(text));
    } catch {
        return null;
    }
}
