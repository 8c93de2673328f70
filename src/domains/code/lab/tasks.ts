/**
 * The code lab: a seeded generator of small Python programming tasks with unit tests, in the
 * LeetCodeDataset shape (`prompt` preamble, `test` with `def check(candidate)`, `entry_point`,
 * reference `completion`), so the whole code pipeline (sample → split → label → train → Best-of-N)
 * runs offline with a policy stepwise trains itself.
 *
 * Two task families, each solved step by step, every step a comment line followed by its code:
 *
 * - **expr**: `Write f(a, b) that returns (a + 3) * b - a.` — one assignment per operation, in
 *   precedence order (leftmost innermost first), then `return`:
 *
 *       def f(a, b):
 *           # add 3 to a
 *           v1 = a + 3
 *           # multiply v1 by b
 *           v2 = v1 * b
 *           # subtract a from v2
 *           v3 = v2 - a
 *           return v3
 *
 * - **loop**: `Write f(xs) that returns the sum of x * 2 for x in xs if x > 3.` — an accumulator,
 *   a `for` loop, an optional `if`, then `return`:
 *
 *       def f(xs):
 *           # start the total at 0
 *           t = 0
 *           # go over the items
 *           for x in xs:
 *               # keep x > 3
 *               if x > 3:
 *                   # add x * 2
 *                   t += x * 2
 *           return t
 *
 * The question text determines the task completely: {@link parseCodeQuestion} rebuilds the task
 * (and its tests, seeded by the question's hash) from it, so a verifier needs nothing but the
 * question (like the math lab's answer check). Held-out split: hash of the question < fraction.
 */
import {StepwiseError} from "../../../util/errors.ts";
import {Rng, deriveSeed, hashString} from "../../../util/rng.ts";

/** Task families. */
export type CodeTaskFamily = "expr" | "loop";

/** A programming task in the LeetCodeDataset shape (plus the lab's own fields). */
export interface CodeProblem {
    /** `code-<seed>-<index>` (train split) or `code-<seed>-h<index>` (held-out split). */
    task_id: string;
    /** The natural-language task: what the policy is prompted with (`question` in pipeline records). */
    question: string;
    /** Python preamble run before the candidate (LeetCodeDataset `prompt`); empty in the lab. */
    prompt: string;
    /** The reference solution (LeetCodeDataset `completion`). */
    completion: string;
    /** `def check(candidate):` with one `assert candidate(...) == ...` per test case. */
    test: string;
    /** The function the tests call. */
    entry_point: string;
    /** The reference solution cut into its steps (comment line + code), concatenated = completion. */
    steps: string[];
    family: CodeTaskFamily;
    split: "train" | "heldout";
}

/** Default share of the task space held out from training. */
export const CODE_HELDOUT_FRACTION = 0.1;

// ---------------------------------------------------------------- expressions

type Op = "+" | "-" | "*";
type Node = {kind: "leaf"; text: string} | {kind: "op"; op: Op; left: Node; right: Node};

const PREC: Record<Op, number> = {"+": 1, "-": 1, "*": 2};

function formatNode(n: Node): string {
    if (n.kind === "leaf") return n.text;
    const wrap = (child: Node, right: boolean): string => {
        const s = formatNode(child);
        if (child.kind === "leaf") return s;
        const lower = PREC[child.op] < PREC[n.op];
        const equalRight = right && PREC[child.op] === PREC[n.op];
        return lower || equalRight ? `(${s})` : s;
    };
    return `${wrap(n.left, false)} ${n.op} ${wrap(n.right, true)}`;
}

function randomExpr(rng: Rng, ops: number, vars: readonly string[]): Node {
    if (ops === 0) return rng.bool(0.6) ? {kind: "leaf", text: rng.pick(vars)} : {kind: "leaf", text: String(rng.int(1, 9))};
    const leftOps = rng.int(0, ops - 1);
    return {kind: "op", op: rng.pick(["+", "-", "*"] as const), left: randomExpr(rng, leftOps, vars), right: randomExpr(rng, ops - 1 - leftOps, vars)};
}

function leaves(n: Node): string[] {
    return n.kind === "leaf" ? [n.text] : [...leaves(n.left), ...leaves(n.right)];
}

const COMMENT: Record<Op, (l: string, r: string) => string> = {
    "+": (l, r) => `add ${r} to ${l}`,
    "-": (l, r) => `subtract ${r} from ${l}`,
    "*": (l, r) => `multiply ${l} by ${r}`,
};

/** Steps of an expression: reduce the leftmost node whose operands are both leaves, until one is left. */
function exprSteps(expr: Node): {steps: string[]; result: string} {
    const steps: string[] = [];
    let cur = expr;
    let k = 0;
    const reduceOnce = (n: Node): Node => {
        if (n.kind === "leaf") return n;
        if (n.left.kind === "leaf" && n.right.kind === "leaf") {
            k++;
            const name = `v${k}`;
            steps.push(`    # ${COMMENT[n.op](n.left.text, n.right.text)}\n    ${name} = ${n.left.text} ${n.op} ${n.right.text}\n`);
            return {kind: "leaf", text: name};
        }
        if (n.left.kind === "op") return {...n, left: reduceOnce(n.left)};
        return {...n, right: reduceOnce(n.right)};
    };
    while (cur.kind === "op") cur = reduceOnce(cur);
    return {steps, result: cur.text};
}

function evalNode(n: Node, env: Record<string, number>): number {
    if (n.kind === "leaf") return /^\d+$/.test(n.text) ? Number(n.text) : env[n.text];
    const l = evalNode(n.left, env);
    const r = evalNode(n.right, env);
    return n.op === "+" ? l + r : n.op === "-" ? l - r : l * r;
}

// ---------------------------------------------------------------- loops

interface LoopSpec {
    agg: "sum" | "count";
    /** Mapped value for sums: `x`, `x * k`, `x + k`, `x - k`. */
    map: string;
    /** Condition on x, or "" for none. */
    cond: string;
}

function randomLoop(rng: Rng): LoopSpec {
    const agg = rng.bool(0.7) ? "sum" : "count";
    const k = rng.int(2, 9);
    const map = agg === "count" ? "" : rng.pick(["x", `x * ${k}`, `x + ${k}`, `x - ${k}`]);
    const c = rng.int(1, 8);
    const cond = agg === "count" ? rng.pick([`x > ${c}`, `x < ${c}`, "x % 2 == 0", "x % 2 == 1"]) : rng.pick(["", `x > ${c}`, `x < ${c}`, "x % 2 == 0", "x % 2 == 1"]);
    return {agg, map, cond};
}

function loopQuestion(s: LoopSpec): string {
    const where = s.cond ? ` if ${s.cond}` : "";
    return s.agg === "sum" ? `Write f(xs) that returns the sum of ${s.map} for x in xs${where}.` : `Write f(xs) that returns the count of x in xs${where}.`;
}

function loopSteps(s: LoopSpec): string[] {
    const steps = [`    # start the total at 0\n    t = 0\n`, `    # go over the items\n    for x in xs:\n`];
    const ind = s.cond ? "        " : "    ";
    if (s.cond) steps.push(`        # keep ${s.cond}\n        if ${s.cond}:\n`);
    steps.push(s.agg === "sum" ? `    ${ind}# add ${s.map}\n    ${ind}t += ${s.map}\n` : `    ${ind}# count one\n    ${ind}t += 1\n`);
    return steps;
}

/** Python's `%` (the sign of the divisor). */
function pyMod(a: number, b: number): number {
    return ((a % b) + b) % b;
}

function evalLoop(s: LoopSpec, xs: readonly number[]): number {
    let t = 0;
    for (const x of xs) {
        if (s.cond) {
            const m = /^x (>|<) (\d+)$/.exec(s.cond);
            const keep = m ? (m[1] === ">" ? x > Number(m[2]) : x < Number(m[2])) : pyMod(x, 2) === (s.cond.endsWith("0") ? 0 : 1);
            if (!keep) continue;
        }
        if (s.agg === "count") t += 1;
        else {
            const m = /^x(?: ([*+-]) (\d+))?$/.exec(s.map)!;
            const k = Number(m[2] ?? 0);
            t += m[1] === "*" ? x * k : m[1] === "+" ? x + k : m[1] === "-" ? x - k : x;
        }
    }
    return t;
}

// ---------------------------------------------------------------- tasks

/** A task rebuilt from its question: reference steps and test cases. */
interface TaskBody {
    family: CodeTaskFamily;
    signature: string;
    steps: string[];
    /** `assert` lines. */
    asserts: string[];
}

const EXPR_QUESTION = /^Write f\(([a-c](?:, [a-c])*)\) that returns (.+)\.$/;
const LOOP_QUESTION = /^Write f\(xs\) that returns the (sum|count) of (?:(x(?: [*+-] \d+)?) for )?x in xs(?: if (x [<>] \d+|x % 2 == [01]))?\.$/;

/** Parse an expression made of the lab's tokens (single-letter variables, digits, + - *, parentheses). */
function parseExpr(text: string): Node {
    const tokens = text.match(/[a-c]|\d+|[-+*()]|\S/g) ?? [];
    let i = 0;
    const fail = (): never => {
        throw new StepwiseError(`code lab: cannot parse the expression "${text}"`);
    };
    const primary = (): Node => {
        const t = tokens[i++];
        if (t === "(") {
            const n = sum();
            if (tokens[i++] !== ")") fail();
            return n;
        }
        if (t !== undefined && /^([a-c]|\d+)$/.test(t)) return {kind: "leaf", text: t};
        return fail();
    };
    const product = (): Node => {
        let n = primary();
        while (tokens[i] === "*") {
            i++;
            n = {kind: "op", op: "*", left: n, right: primary()};
        }
        return n;
    };
    const sum = (): Node => {
        let n = product();
        while (tokens[i] === "+" || tokens[i] === "-") {
            const op = tokens[i++] as Op;
            n = {kind: "op", op, left: n, right: product()};
        }
        return n;
    };
    const n = sum();
    if (i !== tokens.length) fail();
    return n;
}

function testCases(question: string, count: number, make: (rng: Rng) => {args: string; expected: number}): string[] {
    const rng = new Rng(deriveSeed("code-lab-tests", question));
    return Array.from({length: count}, () => {
        const {args, expected} = make(rng);
        return `    assert candidate(${args}) == ${expected}`;
    });
}

function bodyFromQuestion(question: string): TaskBody {
    const e = EXPR_QUESTION.exec(question);
    if (e) {
        const vars = e[1].split(", ");
        const expr = parseExpr(e[2]);
        const {steps, result} = exprSteps(expr);
        steps.push(`    return ${result}\n`);
        const asserts = testCases(question, 5, (rng) => {
            const env: Record<string, number> = {};
            for (const v of vars) env[v] = rng.int(-9, 9);
            return {args: vars.map((v) => env[v]).join(", "), expected: evalNode(expr, env)};
        });
        return {family: "expr", signature: `def f(${vars.join(", ")}):\n`, steps, asserts};
    }
    const l = LOOP_QUESTION.exec(question);
    if (l) {
        const spec: LoopSpec = {agg: l[1] as LoopSpec["agg"], map: l[2] ?? "", cond: l[3] ?? ""};
        if ((spec.agg === "sum") !== (spec.map !== "")) throw new StepwiseError(`code lab: not a lab task: "${question}"`);
        const steps = loopSteps(spec);
        steps.push(`    return t\n`);
        const asserts = testCases(question, 5, (rng) => {
            const xs = Array.from({length: rng.int(0, 6)}, () => rng.int(-5, 9));
            return {args: `[${xs.join(", ")}]`, expected: evalLoop(spec, xs)};
        });
        return {family: "loop", signature: "def f(xs):\n", steps, asserts};
    }
    throw new StepwiseError(`code lab: not a lab task: "${question.slice(0, 100)}"`);
}

/** Whether a question belongs to the held-out split. */
export function isCodeHeldout(question: string, fraction = CODE_HELDOUT_FRACTION): boolean {
    return hashString(`code-split:${question}`) / 0x100000000 < fraction;
}

/**
 * Rebuild the task of a code-lab question (its reference solution and its tests). Throws a
 * StepwiseError naming the question when it is not a code-lab question.
 */
export function parseCodeQuestion(question: string, taskId = "code-lab"): CodeProblem {
    const body = bodyFromQuestion(question.trim());
    const steps = [body.signature + body.steps[0], ...body.steps.slice(1)];
    return {
        task_id: taskId,
        question: question.trim(),
        prompt: "",
        completion: steps.join(""),
        test: `def check(candidate):\n${body.asserts.join("\n")}\n`,
        entry_point: "f",
        steps,
        family: body.family,
        split: isCodeHeldout(question.trim()) ? "heldout" : "train",
    };
}

/** Whether `question` is a code-lab question. */
export function isCodeLabQuestion(question: string): boolean {
    const q = question.trim();
    return EXPR_QUESTION.test(q) || LOOP_QUESTION.test(q);
}

/** Draw one question (any split). */
function drawQuestion(rng: Rng, options: {minOps: number; maxOps: number; loopShare: number}): string {
    if (rng.bool(options.loopShare)) return loopQuestion(randomLoop(rng));
    for (;;) {
        const nVars = rng.int(1, 3);
        const vars = ["a", "b", "c"].slice(0, nVars);
        const expr = randomExpr(rng, rng.int(options.minOps, options.maxOps), vars);
        const used = new Set(leaves(expr).filter((t) => /^[a-c]$/.test(t)));
        if (vars.some((v) => !used.has(v))) continue;
        return `Write f(${vars.join(", ")}) that returns ${formatNode(expr)}.`;
    }
}

export interface CodeLabOptions {
    /** Stream seed. Default 0. */
    seed?: number;
    /** Default "train". */
    split?: "train" | "heldout";
    /** Operations per expression task. Default 2..4. */
    minOps?: number;
    maxOps?: number;
    /** Share of loop tasks. Default 0.4. */
    loopShare?: number;
    /** Held-out share of the task space. Default {@link CODE_HELDOUT_FRACTION}. */
    heldoutFraction?: number;
}

/**
 * `n` code-lab tasks of one split. Attempt `a` of seed `s` draws from `new Rng(deriveSeed("code", s, a))`,
 * so streams are reproducible; tasks of the other split are skipped, so train and held-out never share a task.
 */
export function generateCodeProblems(n: number, options: CodeLabOptions = {}): CodeProblem[] {
    const seed = options.seed ?? 0;
    const split = options.split ?? "train";
    const fraction = options.heldoutFraction ?? CODE_HELDOUT_FRACTION;
    const minOps = options.minOps ?? 2;
    const maxOps = options.maxOps ?? 4;
    if (!(minOps >= 1 && maxOps >= minOps)) throw new StepwiseError(`code lab: need 1 ≤ minOps ≤ maxOps, got ${minOps}..${maxOps}`);
    const out: CodeProblem[] = [];
    for (let attempt = 0; out.length < n; attempt++) {
        if (attempt > 1000 * (n + 10)) throw new StepwiseError(`code lab: cannot draw ${n} ${split} tasks (held-out fraction ${fraction})`);
        const q = drawQuestion(new Rng(deriveSeed("code", seed, attempt)), {minOps, maxOps, loopShare: options.loopShare ?? 0.4});
        const heldout = isCodeHeldout(q, fraction);
        if (heldout !== (split === "heldout")) continue;
        const index = out.length;
        out.push(parseCodeQuestion(q, `code-${seed}-${split === "heldout" ? "h" : ""}${index}`));
    }
    return out;
}
