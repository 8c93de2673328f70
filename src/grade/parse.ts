/**
 * Recursive-descent parser from a normalised answer to the {@link Node} tree. It understands the
 * notation final answers use (numbers, `\frac`, roots, powers, implicit products, functions,
 * tuples and intervals, sets, unions, matrices, relation chains, `±`) and rejects the rest with
 * {@link UnsupportedAnswer}, which sends the pair to the symbolic path.
 */
import type {ListNode, Node, NumNode, RelOp} from "./ast.ts";
import {UnsupportedAnswer} from "./ast.ts";
import {tokenize, type Token} from "./tokenize.ts";

const FUNCTIONS = new Set([
    "sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "ln", "log", "exp",
    "abs", "floor", "ceil",
]);
const MULTI_ARG = new Set(["max", "min", "gcd", "lcm"]);
const GREEK = new Set([
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma",
    "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega",
]);
const REL_CMDS: Record<string, RelOp> = {
    le: "<=", leq: "<=", leqslant: "<=", ge: ">=", geq: ">=", geqslant: ">=", lt: "<", gt: ">", ne: "!=", neq: "!=",
    approx: "~", in: "in",
};
const REL_OPS: Record<string, RelOp> = {"=": "=", "<": "<", ">": ">", "<=": "<=", ">=": ">=", "!=": "!="};
const MAX_DEPTH = 120;
const MAX_TOKENS = 4000;

/** Parse a normalised answer; throws {@link UnsupportedAnswer} when it is not understood. */
export function parseAnswer(text: string): Node {
    const tokens = tokenize(text);
    if (tokens.length > MAX_TOKENS) throw new UnsupportedAnswer("answer too long to parse");
    const p = new Parser(tokens);
    const node = p.parseList();
    if (p.peek().t !== "eof") throw new UnsupportedAnswer(`unexpected ${p.peek().v || p.peek().t}`);
    return node;
}

class Parser {
    private i = 0;
    private depth = 0;
    private absDepth = 0;
    constructor(private readonly tokens: Token[]) {}

    peek(k = 0): Token {
        return this.tokens[Math.min(this.i + k, this.tokens.length - 1)];
    }
    private next(): Token {
        const t = this.tokens[this.i];
        if (this.i < this.tokens.length - 1) this.i++;
        return t;
    }
    private isOp(v: string, k = 0): boolean {
        const t = this.peek(k);
        return t.t === "op" && t.v === v;
    }
    private isCmd(v: string, k = 0): boolean {
        const t = this.peek(k);
        return t.t === "cmd" && t.v === v;
    }
    private expectOp(v: string): void {
        if (!this.isOp(v)) throw new UnsupportedAnswer(`expected ${v}`);
        this.next();
    }
    private enter(): void {
        if (++this.depth > MAX_DEPTH) throw new UnsupportedAnswer("nesting too deep");
    }

    /**
     * list := rel (("," | ";") rel)* — a bare list when there is more than one item. When both
     * separators occur, `;` separates groups and `,` items within a group:
     * `p=5,q=2;p=7,q=2` is the list of the two groups `p=5,q=2` and `p=7,q=2`.
     */
    parseList(): Node {
        this.enter();
        const groups: Node[][] = [[this.parseRel()]];
        let commas = false;
        while (this.isOp(",") || this.isOp(";")) {
            const sep = this.next().v;
            if (this.atListEnd()) break; // trailing comma
            if (sep === ";") groups.push([]);
            else commas = true;
            groups[groups.length - 1].push(this.parseRel());
        }
        this.depth--;
        const bare = (items: Node[]): Node => (items.length === 1 ? items[0] : {k: "list", open: "", close: "", items});
        if (groups.length > 1 && commas) return {k: "list", open: "", close: "", items: groups.map(bare)};
        return bare(groups.flat());
    }

    private atListEnd(): boolean {
        const t = this.peek();
        return t.t === "eof" || (t.t === "op" && [")", "]", "}"].includes(t.v)) || (t.t === "cmd" && t.v === "}");
    }

    /** rel := setExpr (relop setExpr)* */
    private parseRel(): Node {
        const xs = [this.parseSetExpr()];
        const ops: RelOp[] = [];
        for (;;) {
            const t = this.peek();
            let op: RelOp | undefined;
            if (t.t === "op") op = REL_OPS[t.v];
            else if (t.t === "cmd") op = REL_CMDS[t.v];
            if (!op) break;
            this.next();
            ops.push(op);
            xs.push(this.parseSetExpr());
        }
        return ops.length ? {k: "rel", ops, xs} : xs[0];
    }

    private parseSetExpr(): Node {
        const first = this.parseExpr();
        const t = this.peek();
        if (t.t !== "cmd" || !["cup", "cap", "setminus"].includes(t.v)) return first;
        const op = t.v as "cup" | "cap" | "setminus";
        const parts = [first];
        while (this.isCmd(op)) {
            this.next();
            parts.push(this.parseExpr());
        }
        if (this.peek().t === "cmd" && ["cup", "cap", "setminus"].includes(this.peek().v)) throw new UnsupportedAnswer("mixed set operations");
        return {k: "setop", op, parts};
    }

    /** expr := term (("+" | "-" | "\pm" | "\mp") term)* */
    private parseExpr(): Node {
        this.enter();
        let terms: Node[] = [this.parseTerm()];
        for (;;) {
            const t = this.peek();
            if (t.t === "op" && (t.v === "+" || t.v === "-")) {
                this.next();
                const x = this.parseTerm();
                terms.push(t.v === "-" ? {k: "neg", x} : x);
            } else if (t.t === "cmd" && (t.v === "pm" || t.v === "mp")) {
                this.next();
                const b = this.parseTerm();
                terms = [{k: "pm", a: sum(terms), b, minusFirst: t.v === "mp"}];
            } else break;
        }
        this.depth--;
        return sum(terms);
    }

    /** term := unary (("*" | "\cdot" | "\times" | "/" | "\div" | implicit) unary)* */
    private parseTerm(): Node {
        let acc = this.parseUnary();
        for (;;) {
            const t = this.peek();
            if ((t.t === "op" && t.v === "*") || (t.t === "cmd" && (t.v === "cdot" || t.v === "times"))) {
                this.next();
                acc = mul(acc, this.parseUnary());
            } else if ((t.t === "op" && (t.v === "/" || t.v === ":")) || (t.t === "cmd" && t.v === "div")) {
                // a ratio 7:32 is the quotient 7/32
                this.next();
                acc = {k: "div", a: acc, b: this.parseUnary()};
            } else if (this.startsFactor()) {
                acc = mul(acc, this.parsePower());
            } else break;
        }
        return acc;
    }

    private parseUnary(): Node {
        const t = this.peek();
        if (t.t === "op" && t.v === "-") {
            this.next();
            return {k: "neg", x: this.parseUnary()};
        }
        if (t.t === "op" && t.v === "+") {
            this.next();
            return this.parseUnary();
        }
        if (t.t === "cmd" && (t.v === "pm" || t.v === "mp")) {
            this.next();
            return {k: "pm", a: zero(), b: this.parseUnary(), minusFirst: t.v === "mp"};
        }
        return this.parsePower();
    }

    /** Whether the next token can start an implicitly multiplied factor. */
    private startsFactor(): boolean {
        const t = this.peek();
        if (t.t === "num" || t.t === "id") return true;
        if (t.t === "op") return t.v === "(" || (t.v === "|" && this.absDepth === 0);
        if (t.t === "cmd")
            return (
                t.v === "frac" || t.v === "sqrt" || t.v === "cbrt" || t.v === "pi" || t.v === "infty" || t.v === "binom" || t.v === "lfloor" ||
                t.v === "lceil" || t.v === "begin" || t.v === "operatorname" || t.v === "boxed" || t.v === "mathbb" ||
                GREEK.has(t.v) || FUNCTIONS.has(t.v) || MULTI_ARG.has(t.v)
            );
        return false;
    }

    /** power := postfix ("^" script)? */
    private parsePower(): Node {
        this.enter();
        let base = this.parsePostfix();
        if (this.isOp("^")) {
            this.next();
            const exp = this.parseExponent();
            base = {k: "pow", a: base, b: exp};
            while (this.isOp("!")) {
                this.next();
                base = {k: "fn", name: "factorial", args: [base]};
            }
        }
        this.depth--;
        return base;
    }

    private parsePostfix(): Node {
        let x = this.parsePrimary();
        for (;;) {
            if (this.isOp("!")) {
                this.next();
                x = {k: "fn", name: "factorial", args: [x]};
            } else if (this.isOp("'")) {
                this.next();
                if (x.k !== "sym") throw new UnsupportedAnswer("prime on a non-symbol");
                x = {k: "sym", name: x.name + "'"};
            } else if (this.isOp("_")) {
                this.next();
                const sub = this.scriptText();
                if (x.k === "sym") x = {k: "sym", name: `${x.name}_${sub}`};
                else if (x.k === "num") x = {k: "sym", name: `${x.text}_${sub}`};
                else throw new UnsupportedAnswer("subscript on an expression");
            } else break;
        }
        return x;
    }

    /**
     * An exponent: like a TeX argument, except that an unbraced number is read whole, as sympy's
     * LaTeX grammar and PRM800K's normaliser do: `2^10` is 2^{10}, `10^-12` is 10^{-12}.
     */
    private parseExponent(): Node {
        const t = this.peek();
        if (t.t === "num") {
            this.next();
            return num(t.v);
        }
        if (t.t === "op" && t.v === "-" && this.peek(1).t === "num") {
            this.next();
            return {k: "neg", x: num(this.next().v)};
        }
        return this.parseScript();
    }

    /** The text of a subscript (`_5`, `_{10}`, `_n`), used to name based numerals and indexed symbols. */
    private scriptText(): string {
        const t = this.next();
        if (t.t === "op" && t.v === "{") {
            let out = "";
            let depth = 1;
            for (;;) {
                const u = this.next();
                if (u.t === "eof") throw new UnsupportedAnswer("unclosed subscript");
                if (u.t === "op" && u.v === "{") depth++;
                if (u.t === "op" && u.v === "}" && --depth === 0) break;
                out += u.t === "cmd" ? "\\" + u.v : u.v;
            }
            return out;
        }
        if (t.t === "num") {
            if (t.v.length > 1) {
                this.i--;
                this.tokens[this.i] = {...t, v: t.v.slice(1), sp: false};
                return t.v[0];
            }
            return t.v;
        }
        if (t.t === "id") return t.v;
        if (t.t === "cmd") return "\\" + t.v;
        throw new UnsupportedAnswer("bad subscript");
    }

    /** A superscript or TeX argument: `{…}` group, one digit, one letter or one command. */
    private parseScript(): Node {
        const t = this.peek();
        if (t.t === "op" && t.v === "{") {
            this.next();
            const x = this.parseList();
            this.expectOp("}");
            return x;
        }
        if (t.t === "num") {
            this.next();
            if (t.v.length > 1 && !t.v.startsWith(".")) {
                // TeX reads one digit: \frac94 is 9/4, x^23 is x^2·3
                this.i--;
                this.tokens[this.i] = {...t, v: t.v.slice(1), sp: false};
                return num(t.v[0]);
            }
            return num(t.v);
        }
        if (t.t === "op" && t.v === "-") {
            this.next();
            return {k: "neg", x: this.parseScript()};
        }
        if (t.t === "id") {
            this.next();
            return sym(t.v);
        }
        if (t.t === "cmd") return this.parsePrimary();
        throw new UnsupportedAnswer("missing argument");
    }

    private parsePrimary(): Node {
        const t = this.next();
        switch (t.t) {
            case "num": {
                const n = num(t.v);
                return this.maybeMixed(n);
            }
            case "id":
                return sym(t.v);
            case "op":
                return this.parseOpPrimary(t);
            case "cmd":
                return this.parseCommand(t.v);
            default:
                throw new UnsupportedAnswer("unexpected end of answer");
        }
    }

    /** `7 3/4` and `1\frac{4}{5}`: a whole number followed by a proper fraction of integers. */
    private maybeMixed(whole: NumNode): Node {
        if (!whole.int || whole.float) return whole;
        if (this.isCmd("frac")) {
            const save = this.i;
            this.next();
            try {
                const a = this.parseScript();
                const b = this.parseScript();
                if (a.k === "num" && b.k === "num" && a.int && b.int && !a.float && !b.float && a.value < b.value && b.value > 0 && !this.isOp("^"))
                    return {k: "mixed", whole, num: a, den: b};
            } catch {
                // not a mixed number
            }
            this.i = save;
            return whole;
        }
        const a = this.peek();
        if (a.t === "num" && a.sp && this.isOp("/", 1) && this.peek(2).t === "num") {
            const an = num(a.v);
            const bn = num(this.peek(2).v);
            if (an.int && bn.int && !an.float && !bn.float && an.value < bn.value && this.peek(3).t === "eof") {
                this.i += 3;
                return {k: "mixed", whole, num: an, den: bn};
            }
        }
        return whole;
    }

    private parseOpPrimary(t: Token): Node {
        switch (t.v) {
            case "(":
            case "[": {
                if (this.isOp(")") || this.isOp("]")) {
                    const close = this.next().v;
                    return {k: "list", open: t.v, close, items: []};
                }
                const inner = this.parseList();
                const c = this.peek();
                if (!(c.t === "op" && (c.v === ")" || c.v === "]"))) throw new UnsupportedAnswer(`unclosed ${t.v}`);
                this.next();
                if (inner.k === "list" && inner.open === "") return {k: "list", open: t.v, close: c.v, items: inner.items};
                if (t.v === "(" && c.v === ")") return inner;
                if (t.v === "[" && c.v === "]") return inner;
                throw new UnsupportedAnswer("mismatched brackets");
            }
            case "{": {
                if (this.isOp("}")) {
                    this.next();
                    return {k: "list", open: "", close: "", items: []};
                }
                const inner = this.parseList();
                this.expectOp("}");
                return inner;
            }
            case "|": {
                this.absDepth++;
                const x = this.parseExpr();
                this.absDepth--;
                this.expectOp("|");
                return {k: "fn", name: "abs", args: [x]};
            }
            default:
                throw new UnsupportedAnswer(`unexpected ${t.v}`);
        }
    }

    private parseCommand(name: string): Node {
        if (name === "frac") {
            const a = this.parseScript();
            const b = this.parseScript();
            return {k: "div", a, b};
        }
        if (name === "sqrt" || name === "cbrt") {
            const plain = this.tokens[this.i - 1].plain === true;
            if (this.isOp("(") || (plain && this.peek().t === "num")) {
                // sqrt(2), \sqrt(2), sqrt 2: a parenthesised argument or a whole number
                const x = this.isOp("(") ? this.parseParenArg() : num(this.next().v);
                return name === "cbrt" ? {k: "fn", name: "root", args: [x, num("3")]} : {k: "fn", name: "sqrt", args: [x]};
            }
            if (name === "cbrt") throw new UnsupportedAnswer("cbrt without argument");
            let index: Node | null = null;
            if (this.isOp("[")) {
                this.next();
                index = this.parseExpr();
                this.expectOp("]");
            }
            const x = this.parseScript();
            return index ? {k: "fn", name: "root", args: [x, index]} : {k: "fn", name: "sqrt", args: [x]};
        }
        if (name === "binom") return {k: "fn", name: "binom", args: [this.parseScript(), this.parseScript()]};
        if (name === "pi") return {k: "const", name: "pi"};
        if (name === "infty") return {k: "const", name: "inf"};
        if (name === "emptyset" || name === "varnothing") return {k: "list", open: "{", close: "}", items: []};
        if (GREEK.has(name)) return sym(name);
        if (name === "boxed") return this.parseScript();
        if (name === "mathbb") {
            const x = this.parseScript();
            if (x.k !== "sym") throw new UnsupportedAnswer("\\mathbb");
            return sym(`mathbb_${x.name}`);
        }
        if (name === "{") {
            if (this.isCmd("}")) {
                this.next();
                return {k: "list", open: "{", close: "}", items: []};
            }
            const inner = this.parseList();
            if (!this.isCmd("}")) throw new UnsupportedAnswer("unclosed \\{");
            this.next();
            const items = inner.k === "list" && inner.open === "" ? inner.items : [inner];
            return {k: "list", open: "{", close: "}", items} satisfies ListNode;
        }
        if (name === "lfloor" || name === "lceil") {
            const x = this.parseExpr();
            const close = name === "lfloor" ? "rfloor" : "rceil";
            if (!this.isCmd(close)) throw new UnsupportedAnswer(`unclosed \\${name}`);
            this.next();
            return {k: "fn", name: name === "lfloor" ? "floor" : "ceil", args: [x]};
        }
        if (name === "operatorname") {
            const fname = this.scriptText();
            return this.parseFunction(fname.replace(/[\\\s]/g, ""));
        }
        if (FUNCTIONS.has(name) || MULTI_ARG.has(name)) return this.parseFunction(name);
        if (name === "begin") return this.parseEnvironment();
        // Big operators and limits are not symbols: the symbolic path evaluates them.
        if (/^(?:sum|prod|int|iint|iiint|oint|lim|limsup|liminf|coprod|bigcup|bigcap)$/.test(name)) throw new UnsupportedAnswer(`\\${name}`);
        // An unknown macro without arguments is an opaque symbol; one with arguments is not understood.
        if (/^[a-zA-Z]+$/.test(name) && !this.isOp("{")) return sym("\\" + name);
        throw new UnsupportedAnswer(`\\${name}`);
    }

    /** `( … )` read as one argument. */
    private parseParenArg(): Node {
        this.expectOp("(");
        const x = this.parseList();
        this.expectOp(")");
        return x;
    }

    /** `\sin x`, `\sin^2(x)`, `\log_2 8`, `\max(a, b)`. */
    private parseFunction(name: string): Node {
        let power: Node | null = null;
        let base: Node | null = null;
        for (let k = 0; k < 2; k++) {
            if (this.isOp("^") && !power) {
                this.next();
                power = this.parseScript();
            } else if (this.isOp("_") && !base) {
                this.next();
                base = this.parseScript();
            }
        }
        let args: Node[];
        if (this.isOp("(")) {
            this.next();
            const inner = this.parseList();
            this.expectOp(")");
            args = inner.k === "list" && inner.open === "" ? inner.items : [inner];
        } else {
            // \sin 2x: the argument is the following implicit product
            let acc = this.parsePower();
            while (this.startsFactor() && !(this.peek().t === "cmd" && FUNCTIONS.has(this.peek().v))) acc = mul(acc, this.parsePower());
            args = [acc];
        }
        if (base) args.push(base);
        const f: Node = {k: "fn", name, args};
        return power ? {k: "pow", a: f, b: power} : f;
    }

    /** `\begin{pmatrix} … \end{pmatrix}` and friends (matrix, bmatrix, array, …). */
    private parseEnvironment(): Node {
        const env = this.scriptText();
        if (!/^(?:[pbBvV]?matrix|smallmatrix|array)\*?$/.test(env)) throw new UnsupportedAnswer(`environment ${env}`);
        if (env.startsWith("array") && this.isOp("{")) this.scriptText(); // column spec
        const rows: Node[][] = [];
        let row: Node[] = [];
        for (;;) {
            if (this.isCmd("end")) {
                this.next();
                this.scriptText();
                break;
            }
            if (this.peek().t === "eof") throw new UnsupportedAnswer("unclosed matrix");
            const cell = this.parseList();
            row.push(cell);
            if (this.isOp("&")) {
                this.next();
                continue;
            }
            if (this.isCmd("\\\\")) {
                this.next();
                rows.push(row);
                row = [];
                if (this.isCmd("end")) continue;
                continue;
            }
            if (!this.isCmd("end")) throw new UnsupportedAnswer("bad matrix cell");
        }
        if (row.length) rows.push(row);
        if (!rows.length || rows.some((r) => r.length !== rows[0].length)) throw new UnsupportedAnswer("ragged matrix");
        return {k: "matrix", rows};
    }
}

function num(text: string): NumNode {
    if (/[eE]/.test(text)) {
        const value = Number(text);
        const int = Number.isInteger(value) && Math.abs(value) < 1e21;
        return {k: "num", text: int ? BigInt(value).toString() : String(value), value, int, float: true};
    }
    let t = text.endsWith(".") ? text.slice(0, -1) : text;
    const float = t.includes(".");
    if (float) {
        t = t.replace(/0+$/, "").replace(/\.$/, "");
        if (t.startsWith(".")) t = "0" + t;
    }
    const int = !t.includes(".");
    if (int) t = t.replace(/^0+(?=\d)/, "");
    return {k: "num", text: t, value: Number(t), int, float};
}

function sym(name: string): Node {
    return {k: "sym", name};
}

function zero(): Node {
    return num("0");
}

function sum(terms: Node[]): Node {
    return terms.length === 1 ? terms[0] : {k: "add", terms};
}

function mul(a: Node, b: Node): Node {
    if (a.k === "mul") return {k: "mul", fs: [...a.fs, b]};
    return {k: "mul", fs: [a, b]};
}
