/**
 * Text templates of the lab domain: the question and the canonical step-by-step solution.
 *
 * Question: `Compute <expression>.` e.g. `Compute (12 + 7) * 3 - 45 / 5.`
 *
 * Solution: one line per operation, then one answer line. A step line is
 *
 *     <Connective> <a> <op> <b> = <value>, so <remaining expression>.
 *
 * where the restatement (`, so ...`) is present on every step except the last operation (whose
 * remaining expression would be the value itself):
 *
 *     First, 12 + 7 = 19, so 19 * 3 - 45 / 5.
 *     Then 19 * 3 = 57, so 57 - 45 / 5.
 *     Next, 45 / 5 = 9, so 57 - 9.
 *     So 57 - 9 = 48.
 *     The answer is 48.
 *
 * Connectives are drawn (seeded) from small fixed lists: the first step from {@link FIRST_CONNECTIVES},
 * middle steps from {@link MIDDLE_CONNECTIVES}, the last operation from {@link LAST_CONNECTIVES}.
 * Operators are ASCII: `*` for times and `/` for exact division. The `compact` style drops the
 * spaces around operators and `=` (`First, 12+7=19, so 19*3-45/5.`). The whole alphabet is digits,
 * `+ - * / ( ) = , .`, space, newline and the letters of the fixed words.
 */
import type {Rng} from "../../util/rng.ts";
import {type Expr, type ExprStyle, type NodePath, type Op, formatExpr, formatNumber, reduceAt, reduciblePaths} from "./expr.ts";

/** Connectives of the first step. */
export const FIRST_CONNECTIVES: readonly string[] = ["First,"];
/** Connectives of the steps between the first and the last operation. */
export const MIDDLE_CONNECTIVES: readonly string[] = ["Then", "Next,", "Now"];
/** Connectives of the last operation. */
export const LAST_CONNECTIVES: readonly string[] = ["So", "Finally,"];
/** The word between a step's equation and its restatement. */
export const RESTATE_SEPARATOR = ", so ";
/** Prefix of the question text. */
export const QUESTION_PREFIX = "Compute ";

/** Which reducible node the canonical solution reduces next. */
export type ReductionOrder = "leftmost" | "random";

/** Options of the text templates. */
export interface FormatOptions {
    /** Spaces around operators (`spaced`, default) or not (`compact`). */
    style?: ExprStyle;
    /** Canonical reduction order: leftmost reducible node (default) or a seeded random one. */
    order?: ReductionOrder;
}

/** The question text of an expression: `Compute <expr>.` */
export function questionText(expr: Expr, style: ExprStyle = "spaced"): string {
    return `${QUESTION_PREFIX}${formatExpr(expr, style)}.`;
}

/** The equation of one operation: `a op b = v` (a negative right operand is parenthesized). */
export function equationText(op: Op, left: number, right: number, value: number, style: ExprStyle = "spaced"): string {
    const s = style === "spaced" ? " " : "";
    return `${formatNumber(left, true)}${s}${op}${s}${formatNumber(right, false)}${s}=${s}${formatNumber(value, true)}`;
}

/** The answer line: `The answer is <value>.` */
export function answerLine(value: number | string): string {
    return `The answer is ${value}.`;
}

/** One step of a solution as data. */
export interface SolutionStep {
    /** Path of the reduced node in the tree before the step. */
    path: NodePath;
    op: Op;
    left: number;
    right: number;
    value: number;
    /** The tree after the step. */
    after: Expr;
    /** The step's text line. */
    line: string;
}

/** The canonical solution of an expression. */
export interface Solution {
    /** One entry per operation. */
    steps: SolutionStep[];
    /** Final value. */
    answer: number;
    /** All text lines: the step lines, then the answer line. */
    lines: string[];
}

/**
 * Write the canonical solution of `expr`: reduce one node per step in the chosen order and write
 * each step with a connective drawn from `rng`. Throws a RangeError if the expression cannot be
 * evaluated (inexact division or division by zero).
 */
export function solve(expr: Expr, rng: Rng, options: FormatOptions = {}): Solution {
    const style = options.style ?? "spaced";
    const order = options.order ?? "leftmost";
    const steps: SolutionStep[] = [];
    let cur = expr;
    for (;;) {
        const paths = reduciblePaths(cur);
        if (paths.length === 0) break;
        const path = order === "random" ? rng.pick(paths) : paths[0];
        const r = reduceAt(cur, path);
        if (!r) throw new RangeError(`solve: cannot evaluate ${formatExpr(cur)}`);
        steps.push({path, op: r.op, left: r.left, right: r.right, value: r.value, after: r.expr, line: ""});
        cur = r.expr;
    }
    if (cur.kind !== "num") throw new RangeError("solve: expression did not reduce to a number");
    steps.forEach((s, i) => {
        s.line = stepLine(s, stepConnective(i, steps.length, rng), style);
    });
    const lines = steps.map((s) => s.line);
    lines.push(answerLine(cur.value));
    return {steps, answer: cur.value, lines};
}

/** The connective of step i of n: `First,` opens a solution of two or more steps, `So`/`Finally,` ends it, the others go between (drawn from `rng`). */
export function stepConnective(i: number, n: number, rng: Rng): string {
    const last = i === n - 1;
    return i === 0 && !last ? rng.pick(FIRST_CONNECTIVES) : last ? rng.pick(LAST_CONNECTIVES) : rng.pick(MIDDLE_CONNECTIVES);
}

/**
 * The text of one step: `<connective> a op b = v, so <the remaining expression>.`, or without the
 * restatement when the step leaves a number (the last step).
 */
export function stepLine(step: Pick<SolutionStep, "op" | "left" | "right" | "value" | "after">, connective: string, style: ExprStyle = "spaced"): string {
    const eq = equationText(step.op, step.left, step.right, step.value, style);
    return step.after.kind === "num" ? `${connective} ${eq}.` : `${connective} ${eq}${RESTATE_SEPARATOR}${formatExpr(step.after, style)}.`;
}

/** Text after which the lab policy writes its solution (BOS is added as a token, not as text). */
export function policyPrompt(question: string): string {
    return `${question}\n`;
}
