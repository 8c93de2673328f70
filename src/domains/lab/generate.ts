/**
 * Seeded generator of lab problems.
 *
 * - **Determinism**: problem attempt `a` of seed `s` is drawn from its own generator
 *   `new Rng(deriveSeed(s, a))`, so a stream is the same on every run and platform, and
 *   {@link labStream} can start anywhere without replaying earlier problems' draws.
 * - **Splits**: a problem is *held out* when the hash of its canonical expression
 *   (`formatExpr(expr, "spaced")`) falls below `heldoutFraction` (default 0.1) — see
 *   {@link isHeldout}. The train stream skips held-out problems and the held-out stream keeps only
 *   them, so the two never share a problem, whatever their seeds, as long as the held-out stream's
 *   fraction is ≤ the train stream's.
 * - **Ids**: `lab-<preset>-<seed>-<index>` on the train split and `lab-<preset>-<seed>-h<index>` on
 *   the held-out split, `index` counting the problems the stream emitted (0-based). Knob overrides
 *   do not change the id: give datasets that will be mixed different seeds.
 * - **Exact arithmetic**: division only where exact; all intermediate values are integers with
 *   absolute value ≤ `maxValue`, non-negative unless `allowNegative`.
 */
import {StepwiseError} from "../../util/errors.ts";
import {Rng, deriveSeed, hashString} from "../../util/rng.ts";
import {type Expr, type Op, applyOp, bin, countOps, countParens, evaluate, formatExpr, needsParens, num} from "./expr.ts";
import {questionText, solve} from "./format.ts";
import {type LabKnobs, DEFAULT_PRESET, resolveKnobs, validateKnobs} from "./presets.ts";

/** Which split a problem belongs to. */
export type LabSplit = "train" | "heldout";

/** Default share of the problem space held out from training. */
export const DEFAULT_HELDOUT_FRACTION = 0.1;

/** Metadata stored with each problem. */
export interface LabMeta {
    /** Canonical expression text (spaced style): the key of the split hash. */
    expr: string;
    preset: string;
    split: LabSplit;
    seed: number;
    /** Position in its stream. */
    index: number;
    /** Number of parenthesis pairs in the expression. */
    parens: number;
}

/** One problem, in the JSONL shape users bring (question, answer) plus the solution steps. */
export interface LabProblem {
    id: string;
    /** `Compute <expression>.` */
    question: string;
    /** The exact answer as an integer string. */
    answer: string;
    /** Canonical solution lines: one per operation, then the answer line. */
    steps: string[];
    /** `steps.join("\n")`. */
    solution: string;
    /** Number of operations. */
    ops: number;
    meta?: LabMeta;
}

/** Options of a problem stream. */
export interface LabStreamOptions {
    /** Stream seed (integer). Default 0. */
    seed?: number;
    /** Preset name (default `policy`); `knobs` override its fields. */
    preset?: string;
    knobs?: Partial<LabKnobs>;
    /** Which split to emit. Default `train`. */
    split?: LabSplit;
    /** Share of the problem space that is held out. Default {@link DEFAULT_HELDOUT_FRACTION}. */
    heldoutFraction?: number;
    /** Skip problems whose expression the stream already emitted. Default false. */
    unique?: boolean;
}

/**
 * Whether an expression belongs to the held-out split: `hash(canonical text) / 2^32 < fraction`.
 * Accepts a tree or its canonical spaced text.
 */
export function isHeldout(expr: Expr | string, fraction = DEFAULT_HELDOUT_FRACTION): boolean {
    const key = typeof expr === "string" ? expr : formatExpr(expr, "spaced");
    return hashString(`lab-split:${key}`) / 0x100000000 < fraction;
}

/** Budget of node attempts for one problem attempt (guards against impossible knobs). */
const NODE_BUDGET = 4000;

/**
 * Draw one expression with exactly `ops` operations satisfying the knobs, or null if the draw
 * ran out of attempts (the caller retries with a fresh draw).
 */
function drawExpr(ops: number, k: LabKnobs, rng: Rng): Expr | null {
    let budget = NODE_BUDGET;
    const leafMax = Math.min(k.maxOperand, k.maxValue);
    const valueOk = (v: number | null): v is number =>
        v !== null && Math.abs(v) <= k.maxValue && (k.allowNegative || v >= 0);

    const node = (n: number): Expr | null => {
        if (n === 0) return num(rng.int(k.minOperand, leafMax));
        while (budget-- > 0) {
            const op: Op = rng.pick(k.operators);
            const allowParens = rng.bool(k.parenProb);
            let l: number;
            let r: number;
            if (op === "/" && rng.bool(0.75)) [l, r] = [n - 1, 0];
            else {
                l = rng.int(0, n - 1);
                r = n - 1 - l;
            }
            let left: Expr | null;
            let right: Expr | null;
            if (op === "/" && r === 0) {
                // Divide a subtree by one of its value's divisors.
                left = node(l);
                if (!left) return null;
                const v = evaluate(left);
                if (v === null || v === 0) continue;
                const divisors: number[] = [];
                const lo = Math.max(2, k.minOperand);
                const hi = Math.min(leafMax, Math.abs(v));
                for (let d = lo; d <= hi && divisors.length < 64; d++) if (v % d === 0) divisors.push(d);
                if (divisors.length === 0) continue;
                right = num(rng.pick(divisors));
            } else if (op === "/" && l === 0) {
                // Divide a multiple of a subtree's value by that subtree.
                right = node(r);
                if (!right) return null;
                const w = evaluate(right);
                if (w === null || w === 0) continue;
                const qs: number[] = [];
                for (let q = 2; Math.abs(w) * q <= leafMax && qs.length < 64; q++) if (Math.abs(w) * q >= k.minOperand) qs.push(q);
                if (qs.length === 0) continue;
                left = num(Math.abs(w) * rng.pick(qs));
            } else {
                left = node(l);
                if (!left) return null;
                right = node(r);
                if (!right) return null;
            }
            let a = evaluate(left);
            let b = evaluate(right);
            if (a === null || b === null) continue;
            if (op === "-" && !k.allowNegative && a < b) {
                [left, right] = [right, left];
                [a, b] = [b, a];
            }
            const v = applyOp(op, a, b);
            if (!valueOk(v)) continue;
            if (!allowParens && (needsParens(op, left, "left") || needsParens(op, right, "right"))) continue;
            return bin(op, left, right);
        }
        return null;
    };
    return node(ops);
}

/**
 * Draw one expression from `rng` with the knobs (number of operations uniform over
 * [minOps, maxOps]). Throws a StepwiseError if the knobs admit no problem after many draws.
 */
export function generateExpr(knobs: LabKnobs, rng: Rng): Expr {
    validateKnobs(knobs);
    for (let attempt = 0; attempt < 200; attempt++) {
        const ops = rng.int(knobs.minOps, knobs.maxOps);
        const e = drawExpr(ops, knobs, rng);
        if (e) return e;
    }
    throw new StepwiseError("lab generator: the knobs admit no problem (try a larger maxValue or maxOperand, or more operators)");
}

/** Build the problem record of an expression (canonical solution drawn with `rng`). */
export function problemFromExpr(expr: Expr, rng: Rng, options: {id: string; knobs?: Pick<LabKnobs, "style" | "order">; meta?: Omit<LabMeta, "expr" | "parens">}): LabProblem {
    const style = options.knobs?.style ?? "spaced";
    const sol = solve(expr, rng, {style, order: options.knobs?.order ?? "leftmost"});
    const problem: LabProblem = {
        id: options.id,
        question: questionText(expr, style),
        answer: String(sol.answer),
        steps: sol.lines,
        solution: sol.lines.join("\n"),
        ops: countOps(expr),
    };
    if (options.meta) problem.meta = {expr: formatExpr(expr, "spaced"), ...options.meta, parens: countParens(expr)};
    return problem;
}

/** The problem id of a stream position. */
export function labId(preset: string, seed: number, split: LabSplit, index: number): string {
    return `lab-${preset}-${seed}-${split === "heldout" ? "h" : ""}${index}`;
}

/**
 * An endless, deterministic stream of problems of one split (see the module docs). Stop it
 * with `break` or take a prefix with {@link generateProblems}.
 */
export function* labStream(options: LabStreamOptions = {}): Generator<LabProblem> {
    const seed = options.seed ?? 0;
    const preset = options.preset ?? DEFAULT_PRESET;
    const knobs = resolveKnobs(preset, options.knobs);
    const split = options.split ?? "train";
    const fraction = options.heldoutFraction ?? DEFAULT_HELDOUT_FRACTION;
    if (!(fraction > 0 && fraction < 1)) throw new StepwiseError(`heldout fraction must be in (0, 1), got ${fraction}`);
    if (!Number.isSafeInteger(seed)) throw new StepwiseError(`lab seed must be an integer, got ${seed}`);
    const seen = options.unique ? new Set<string>() : null;
    let misses = 0;
    let index = 0;
    for (let attempt = 0; ; attempt++) {
        const rng = new Rng(deriveSeed(seed, attempt));
        const expr = generateExpr(knobs, rng);
        const key = formatExpr(expr, "spaced");
        if (isHeldout(key, fraction) !== (split === "heldout") || seen?.has(key)) {
            if (++misses > 100000 + 1000 * index)
                throw new StepwiseError(`lab generator: cannot find new ${split} problems (the knobs' problem space looks exhausted)`);
            continue;
        }
        seen?.add(key);
        yield problemFromExpr(expr, rng, {id: labId(preset, seed, split, index), knobs, meta: {preset: preset, split, seed, index}});
        index++;
    }
}

/** The first `n` problems of {@link labStream}. */
export function generateProblems(n: number, options: LabStreamOptions = {}): LabProblem[] {
    const out: LabProblem[] = [];
    if (n <= 0) return out;
    for (const p of labStream(options)) {
        out.push(p);
        if (out.length >= n) break;
    }
    return out;
}
