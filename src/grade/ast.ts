/**
 * The answer syntax tree produced by {@link parseAnswer} (src/grade/parse.ts): small enough to
 * compare structurally (tuples, intervals, sets, matrices, relations) and to evaluate numerically.
 */

/** A numeric literal as written. `int` is true for integer literals (`12`, `1,000`, `3.0`). */
export interface NumNode {
    k: "num";
    /** Canonical digits: no thousands separators, no trailing `.0`. */
    text: string;
    value: number;
    int: boolean;
    /** Written with a decimal point (an approximate value under the lenient policy). */
    float: boolean;
}
export interface SymNode {
    k: "sym";
    name: string;
}
export interface ConstNode {
    k: "const";
    name: "pi" | "e" | "inf";
}
export interface AddNode {
    k: "add";
    terms: Node[];
}
export interface NegNode {
    k: "neg";
    x: Node;
}
export interface MulNode {
    k: "mul";
    fs: Node[];
}
export interface DivNode {
    k: "div";
    a: Node;
    b: Node;
}
export interface PowNode {
    k: "pow";
    a: Node;
    b: Node;
}
/** `a ± b` (or `a ∓ b`); a unary `±b` has `a` = 0. */
export interface PmNode {
    k: "pm";
    a: Node;
    b: Node;
    minusFirst: boolean;
}
export interface FnNode {
    k: "fn";
    name: string;
    args: Node[];
}
/** A mixed number such as `7 3/4` or `1\frac{4}{5}`. */
export interface MixedNode {
    k: "mixed";
    whole: NumNode;
    num: NumNode;
    den: NumNode;
}
/**
 * A list: `open`/`close` are "(" ")" "[" "]" for tuples and intervals, "{" "}" for an explicit
 * set `\{…\}`, and "" "" for a bare comma-separated list (`1, 2`).
 */
export interface ListNode {
    k: "list";
    open: string;
    close: string;
    items: Node[];
}
export interface SetOpNode {
    k: "setop";
    op: "cup" | "cap" | "setminus";
    parts: Node[];
}
export interface MatrixNode {
    k: "matrix";
    rows: Node[][];
}
/** Relation operators after normalisation. */
export type RelOp = "=" | "<" | ">" | "<=" | ">=" | "!=" | "~" | "in";
/** A relation chain `xs[0] ops[0] xs[1] ops[1] xs[2] …`. */
export interface RelNode {
    k: "rel";
    ops: RelOp[];
    xs: Node[];
}

export type Node =
    | NumNode
    | SymNode
    | ConstNode
    | AddNode
    | NegNode
    | MulNode
    | DivNode
    | PowNode
    | PmNode
    | FnNode
    | MixedNode
    | ListNode
    | SetOpNode
    | MatrixNode
    | RelNode;

/** Raised when an answer cannot be parsed or evaluated by the fast path (the symbolic path may still try). */
export class UnsupportedAnswer extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UnsupportedAnswer";
    }
}

/**
 * Raised when an answer has no value to compare (a division by zero, a number too large for the
 * arbitrary-precision path): the verdict is final ("not equal", with this reason), the symbolic
 * path is not tried.
 */
export class NoValue extends UnsupportedAnswer {
    constructor(message: string) {
        super(message);
        this.name = "NoValue";
    }
}
