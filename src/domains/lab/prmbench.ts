/**
 * A lab PRMBench: PRMBench's kinds of error (Song et al., arXiv 2501.03124, §3: simplicity,
 * soundness, sensitivity) made from the lab's exact truth, so PRMs, verifiers and implicit PRMs can
 * be compared per kind of error offline. Each row perturbs the canonical right solution of a
 * held-out lab problem in one way and names the steps the perturbation made wrong; rows have the
 * layout of PRMBench's classified subset (`{idx, question, original_process[],
 * modified_process[], modified_steps[], error_steps[] (1-based), reason, classification}`), so
 * `stepwise eval prmbench --data FILE` loads and scores them with the reference metric (the
 * `redundency` rows also give the `correct_<idx>` items of the original processes).
 *
 * The lab's analogue of each category (a step line is `<connective> a op b = v, so <rest>.`; the
 * last line is `The answer is N.`):
 * - `redundency` (the reference's spelling): a right step repeated as `Again, …` after itself;
 *   the copy is the error step, the answer is unchanged.
 * - `circular`: a step reaches its value from the value itself: `First, v - b = a, so a + b = v,
 *   so …` (the inverse operation assumes v); only that step is wrong.
 * - `counterfactual`: a step's result is wrong (v + δ), the rest carried on consistently: that
 *   step and every later one (answer included) are wrong.
 * - `step_contradiction`: a step computes with a number other than the one the step before it
 *   wrote (right arithmetic on a contradicted value); it and every later step are wrong.
 * - `domain_inconsistency`: a step ignores the domain's rules: operator precedence (`a + b * c`
 *   reduced as `a + b` first) or left associativity (`a - b + c` reduced as `b + c` first); the
 *   arithmetic shown is right. It and every later step are wrong.
 * - `confidence`: as counterfactual, the wrong step stated with unwarranted confidence
 *   (`Clearly,`).
 * - `missing_condition`: a step's restatement drops part of the expression (a condition of the
 *   question vanishes); it and every later step are wrong.
 * - `deception`: a step's equation is right but its restatement quietly changes a number it did
 *   not touch; it and every later step are wrong.
 * - `multi_solutions`: another valid solution (another reduction order); no step is wrong.
 *
 * Rows with a wrong answer are kept only when the perturbed answer differs from the exact one
 * (so "every later step is wrong" holds); a category that does not apply to a problem (e.g. no
 * precedence pattern, one reduction order only) is skipped for it.
 */
import {Rng, deriveSeed} from "../../util/rng.ts";
import {StepwiseError} from "../../util/errors.ts";
import {type Expr, type NodePath, type Op, applyOp, bin, formatExpr, isReducible, nodeAt, num, precedence, reduceAt, reduciblePaths, replaceAt} from "./expr.ts";
import {answerLine, equationText, RESTATE_SEPARATOR, solve, stepConnective, stepLine, type SolutionStep} from "./format.ts";
import {labStream} from "./generate.ts";
import {problemExpr} from "./verify.ts";

/** PRMBench's classifications, in the reference's spelling (`redundency`). */
export const LAB_PRMBENCH_CATEGORIES = [
    "redundency",
    "circular",
    "counterfactual",
    "step_contradiction",
    "domain_inconsistency",
    "confidence",
    "missing_condition",
    "deception",
    "multi_solutions",
] as const;
export type LabPrmBenchCategory = (typeof LAB_PRMBENCH_CATEGORIES)[number];

/** One row, in the layout of PRMBench's classified subset. */
export interface LabPrmBenchRow {
    /** The source problem's id (shared by the rows made from it, as in PRMBench). */
    idx: string;
    question: string;
    original_question: string;
    modified_question: string;
    original_process: string[];
    modified_process: string[];
    /** Steps the perturbation wrote (1-based). */
    modified_steps: number[];
    /** Wrong steps (1-based); empty for multi_solutions. */
    error_steps: number[];
    reason: string;
    classification: LabPrmBenchCategory;
}

export interface LabPrmBenchOptions {
    /** Rows per category. Default 48 (PRMBench's subset has 48 per error category). */
    perCategory?: number;
    /** Seed of the problems (held-out split of the `policy` preset) and the perturbations. Default 0. */
    seed?: number;
    /** Lab preset of the problems. Default "policy". */
    preset?: string;
}

/** A step as data: the operation done and the tree it leaves. */
type Step = Pick<SolutionStep, "op" | "left" | "right" | "value" | "after">;

/** The canonical (leftmost) steps from `expr` to its value, or null when a division is not exact. */
function canonicalSteps(expr: Expr): Step[] | null {
    const out: Step[] = [];
    let cur = expr;
    for (;;) {
        const paths = reduciblePaths(cur);
        if (paths.length === 0) return cur.kind === "num" ? out : null;
        const r = reduceAt(cur, paths[0]);
        if (!r) return null;
        out.push({op: r.op, left: r.left, right: r.right, value: r.value, after: r.expr});
        cur = r.expr;
    }
}

/** Lines of a solution: the steps with connectives drawn from `rng`, then the answer line. */
function render(steps: readonly Step[], rng: Rng, connectives: ReadonlyMap<number, string> = new Map()): string[] {
    const lines = steps.map((s, i) => stepLine(s, connectives.get(i) ?? stepConnective(i, steps.length, rng)));
    lines.push(answerLine(finalValue(steps) ?? "?"));
    return lines;
}

/** The value a solution ends with. */
function finalValue(steps: readonly Step[]): number | null {
    const last = steps.at(-1)?.after;
    return last && last.kind === "num" ? last.value : null;
}

/** 1-based step numbers from..to (inclusive). */
const range = (from: number, to: number): number[] => Array.from({length: to - from + 1}, (_, i) => from + i);

/** A nonzero offset for a wrong value: ±1, ±2, ±10, drawn from `rng`. */
const offset = (rng: Rng): number => rng.pick([1, 2, 10]) * (rng.bool() ? 1 : -1);

interface Made {
    steps: Step[];
    /** Lines written by the perturbation (0-based step index → text), instead of the rendered ones. */
    lines?: Map<number, string>;
    connectives?: Map<number, string>;
    /** Inserted line after step index → text. */
    insertAfter?: {index: number; text: string};
    errorFrom?: number;
    errorSteps?: number[];
    modified: number[];
    reason: string;
}

/** States before each canonical step: trees[i] is the expression step i reduces. */
function statesOf(expr: Expr, steps: readonly Step[]): Expr[] {
    return [expr, ...steps.slice(0, -1).map((s) => s.after)];
}

/** The path of the node a canonical step reduces in `before` (the leftmost reducible node). */
const reducedPath = (before: Expr): NodePath => reduciblePaths(before)[0];

/** Replace step k by `wrong` (the tree it leaves) and carry on canonically; null when that fails or the answer stays right. */
function carryOn(steps: readonly Step[], k: number, wrong: Step, truth: number): Step[] | null {
    const rest = wrong.after.kind === "num" ? [] : canonicalSteps(wrong.after);
    if (!rest) return null;
    const out = [...steps.slice(0, k), wrong, ...rest];
    const v = finalValue(out);
    return v === null || v === truth ? null : out;
}

const inverse: Record<Op, Op> = {"+": "-", "-": "+", "*": "/", "/": "*"};

function perturb(category: LabPrmBenchCategory, expr: Expr, steps: Step[], rng: Rng): Made | null {
    const n = steps.length;
    const truth = finalValue(steps)!;
    const states = statesOf(expr, steps);
    const k = rng.int(0, n - 1);
    switch (category) {
        case "redundency": {
            const s = steps[k];
            return {steps, insertAfter: {index: k, text: stepLine(s, "Again,")}, errorSteps: [k + 2], modified: [k + 2], reason: `Step ${k + 2} repeats step ${k + 1} (${equationText(s.op, s.left, s.right, s.value)}) without progress.`};
        }
        case "circular": {
            const s = steps[k];
            if ((s.op === "*" || s.op === "/") && s.right === 0) return null;
            const back = applyOp(inverse[s.op], s.value, s.right);
            if (back !== s.left) return null;
            const conn = stepConnective(k, n, rng);
            const eq = equationText(s.op, s.left, s.right, s.value);
            const text = `${conn} ${equationText(inverse[s.op], s.value, s.right, s.left)}${RESTATE_SEPARATOR}${eq}${s.after.kind === "num" ? "" : `${RESTATE_SEPARATOR}${formatExpr(s.after)}`}.`;
            return {steps, lines: new Map([[k, text]]), errorSteps: [k + 1], modified: [k + 1], reason: `Step ${k + 1} takes ${s.value}, the value it is to find, and checks it backwards instead of computing ${s.left} ${s.op} ${s.right}.`};
        }
        case "counterfactual":
        case "confidence": {
            const s = steps[k];
            const wrongValue = s.value + offset(rng);
            const wrong: Step = {...s, value: wrongValue, after: replaceAt(states[k], reducedPath(states[k]), num(wrongValue))};
            const out = carryOn(steps, k, wrong, truth);
            if (!out) return null;
            return {
                steps: out,
                connectives: category === "confidence" ? new Map([[k, "Clearly,"]]) : undefined,
                errorFrom: k + 1,
                modified: range(k + 1, out.length + 1),
                reason: `Step ${k + 1} gives ${s.left} ${s.op} ${s.right} = ${wrongValue} (it is ${s.value})${category === "confidence" ? ", stated as certain" : ""}; every later step carries the wrong value.`,
            };
        }
        case "step_contradiction": {
            if (n < 2) return null;
            const j = rng.int(1, n - 1); // step j uses a number other than step j-1 left
            const before = states[j];
            const path = reducedPath(before);
            const node = nodeAt(before, path)!;
            if (!isReducible(node)) return null;
            const side = rng.bool() ? "L" : "R";
            const changed = (side === "L" ? node.left.value : node.right.value) + offset(rng);
            const left = side === "L" ? changed : node.left.value;
            const right = side === "R" ? changed : node.right.value;
            const value = applyOp(node.op, left, right);
            if (value === null) return null;
            const wrong: Step = {op: node.op, left, right, value, after: replaceAt(before, path, num(value))};
            const out = carryOn(steps, j, wrong, truth);
            if (!out) return null;
            return {steps: out, errorFrom: j + 1, modified: range(j + 1, out.length + 1), reason: `Step ${j} leaves ${formatExpr(before)}, but step ${j + 1} computes ${left} ${node.op} ${right}, contradicting it.`};
        }
        case "domain_inconsistency": {
            // Candidates over every state: a reduction the rules forbid whose arithmetic is exact.
            const found: Array<{k: number; wrong: Step; rule: string}> = [];
            states.forEach((before, i) => {
                const walk = (e: Expr, path: NodePath): void => {
                    if (e.kind !== "op") return;
                    // a op1 b op2 c read as (a op1 b) op2 c although op2 binds tighter.
                    if (e.left.kind === "num" && e.right.kind === "op" && precedence(e.right.op) > precedence(e.op) && e.right.left.kind === "num") {
                        const v = applyOp(e.op, e.left.value, e.right.left.value);
                        if (v !== null) {
                            const after = replaceAt(before, path, bin(e.right.op, num(v), e.right.right));
                            found.push({k: i, wrong: {op: e.op, left: e.left.value, right: e.right.left.value, value: v, after}, rule: `${e.right.op} binds tighter than ${e.op}`});
                        }
                    }
                    // a op2 b op1 c (same precedence, left to right) reduced as a op2 (b op1 c).
                    if (e.right.kind === "num" && e.left.kind === "op" && precedence(e.left.op) === precedence(e.op) && e.left.right.kind === "num") {
                        const v = applyOp(e.op, e.left.right.value, e.right.value);
                        if (v !== null) {
                            const after = replaceAt(before, path, bin(e.left.op, e.left.left, num(v)));
                            found.push({k: i, wrong: {op: e.op, left: e.left.right.value, right: e.right.value, value: v, after}, rule: `${e.left.op} and ${e.op} go left to right`});
                        }
                    }
                    walk(e.left, path + "L");
                    walk(e.right, path + "R");
                };
                walk(before, "");
            });
            if (!found.length) return null;
            const pick = rng.pick(found);
            const out = carryOn(steps, pick.k, pick.wrong, truth);
            if (!out) return null;
            const w = pick.wrong;
            return {steps: out, errorFrom: pick.k + 1, modified: range(pick.k + 1, out.length + 1), reason: `Step ${pick.k + 1} computes ${w.left} ${w.op} ${w.right} first, though ${pick.rule}.`};
        }
        case "missing_condition": {
            const s = steps[k];
            if (s.after.kind !== "op") return null;
            const path = reducedPath(states[k]);
            if (path === "") return null;
            const kept = path[0] === "L" ? s.after.left : s.after.right;
            if (kept.kind !== "op") return null; // the drop must show in the restatement, not only in a missing step
            const wrong: Step = {...s, after: kept};
            const out = carryOn(steps, k, wrong, truth);
            if (!out) return null;
            return {steps: out, errorFrom: k + 1, modified: range(k + 1, out.length + 1), reason: `Step ${k + 1} restates ${formatExpr(s.after)} as ${formatExpr(kept)}: part of the question is dropped.`};
        }
        case "deception": {
            const s = steps[k];
            if (s.after.kind !== "op") return null;
            const path = reducedPath(states[k]);
            const leaves: NodePath[] = [];
            const walk = (e: Expr, p: NodePath): void => {
                if (e.kind === "num") {
                    if (p !== path) leaves.push(p);
                    return;
                }
                walk(e.left, p + "L");
                walk(e.right, p + "R");
            };
            walk(s.after, "");
            if (!leaves.length) return null;
            const at = rng.pick(leaves);
            const old = (nodeAt(s.after, at) as {value: number}).value;
            const changed = old + offset(rng);
            const wrong: Step = {...s, after: replaceAt(s.after, at, num(changed))};
            const out = carryOn(steps, k, wrong, truth);
            if (!out) return null;
            return {steps: out, errorFrom: k + 1, modified: range(k + 1, out.length + 1), reason: `Step ${k + 1} computes ${s.left} ${s.op} ${s.right} = ${s.value} rightly but restates ${old} as ${changed}.`};
        }
        case "multi_solutions": {
            // Another valid order: a seeded random reduction order that differs from the canonical one.
            const alt = solve(expr, rng, {order: "random"});
            const same = alt.steps.every((x, i) => x.op === steps[i].op && x.left === steps[i].left && x.right === steps[i].right);
            if (same) return null;
            return {steps: alt.steps, modified: range(1, alt.steps.length), errorSteps: [], reason: "Another valid order of the operations; every step is right."};
        }
    }
}

/**
 * The rows of a lab PRMBench (see the module docs): `perCategory` rows of each category, from
 * held-out problems of the lab stream, deterministic in `seed`. Throws a StepwiseError when the
 * problems run out before every category is full (it does not happen with the lab presets).
 */
export function labPrmBenchRows(options: LabPrmBenchOptions = {}): LabPrmBenchRow[] {
    const perCategory = options.perCategory ?? 48;
    const seed = options.seed ?? 0;
    if (!(Number.isInteger(perCategory) && perCategory > 0)) throw new StepwiseError(`lab PRMBench: rows per category must be a positive integer, got ${perCategory}`);
    const counts = new Map<LabPrmBenchCategory, number>(LAB_PRMBENCH_CATEGORIES.map((c) => [c, 0]));
    const rows: LabPrmBenchRow[] = [];
    let seen = 0;
    for (const problem of labStream({seed: deriveSeed("lab-prmbench", seed), preset: options.preset ?? "policy", split: "heldout", unique: true})) {
        if ([...counts.values()].every((c) => c >= perCategory)) break;
        if (++seen > 200 * perCategory) throw new StepwiseError(`lab PRMBench: ${seen} problems did not fill every category (${[...counts].map(([c, x]) => `${c} ${x}`).join(", ")})`);
        const expr = problemExpr(problem);
        const steps = canonicalSteps(expr);
        if (!steps || steps.length === 0) continue;
        const original = problem.steps;
        for (const category of LAB_PRMBENCH_CATEGORIES) {
            if (counts.get(category)! >= perCategory) continue;
            const rng = new Rng(deriveSeed("lab-prmbench-row", seed, problem.id, category));
            const made = perturb(category, expr, steps, rng);
            if (!made) continue;
            // Connectives: the original's for the original's steps (in the same place: last or not), else drawn.
            const connectives = new Map(made.connectives ?? []);
            made.steps.forEach((s, i) => {
                const sameRole = (i === made.steps.length - 1) === (i === steps.length - 1);
                if (!connectives.has(i) && s === steps[i] && sameRole) connectives.set(i, original[i].split(" ")[0]);
            });
            const lines = render(made.steps, rng, connectives);
            for (const [i, text] of made.lines ?? []) lines[i] = text;
            if (made.insertAfter) lines.splice(made.insertAfter.index + 1, 0, made.insertAfter.text);
            const errorSteps = made.errorSteps ?? range(made.errorFrom!, lines.length);
            if (category !== "multi_solutions" && lines.join("\n") === original.join("\n")) continue;
            rows.push({
                idx: problem.id,
                question: problem.question,
                original_question: problem.question,
                modified_question: problem.question,
                original_process: original,
                modified_process: lines,
                modified_steps: made.modified,
                error_steps: errorSteps,
                reason: made.reason,
                classification: category,
            });
            counts.set(category, counts.get(category)! + 1);
        }
    }
    return rows;
}
