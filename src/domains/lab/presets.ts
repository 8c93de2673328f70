/**
 * Difficulty knobs of the lab generator and named presets.
 *
 * | preset   | ops | operands | operators | parens | max value | negatives |
 * |----------|-----|----------|-----------|--------|-----------|-----------|
 * | policy   | 2-5 | 1-20     | + - * /   | 0.3    | 200       | no        |
 * | easy     | 2-3 | 1-9      | + - *     | 0.2    | 100       | no        |
 * | medium   | 2-4 | 1-99     | + - * /   | 0.3    | 1000      | no        |
 * | hard     | 3-5 | 1-999    | + - * /   | 0.4    | 100000    | no        |
 * | signed   | 2-4 | 1-99     | + - * /   | 0.3    | 1000      | yes       |
 *
 * `policy` is sized for the tiny character-level policy models: small operands and bounded
 * intermediate results keep every single step learnable, so accuracy falls with the number of
 * operations rather than with digit count.
 */
import {StepwiseError} from "../../util/errors.ts";
import {OPS, type Op, type ExprStyle} from "./expr.ts";
import type {ReductionOrder} from "./format.ts";

/** Everything that shapes a generated problem and its canonical text. */
export interface LabKnobs {
    /** Fewest operations per problem (≥ 1). */
    minOps: number;
    /** Most operations per problem (≥ minOps); the count is uniform over [minOps, maxOps]. */
    maxOps: number;
    /** Smallest operand (≥ 1). */
    minOperand: number;
    /** Largest operand. */
    maxOperand: number;
    /** Operators to use (a problem may not use all of them). */
    operators: Op[];
    /**
     * Chance, per operation node, that the node may take a shape that needs parentheses
     * (`(a + b) * c`, `a - (b - c)`). 0 gives problems without parentheses.
     */
    parenProb: number;
    /** Largest absolute value of any intermediate result and of the answer. */
    maxValue: number;
    /** Whether intermediate results and the answer may be negative (operands never are). */
    allowNegative: boolean;
    /** Canonical reduction order of the solution text. */
    order: ReductionOrder;
    /** Text style: spaces around operators or not. */
    style: ExprStyle;
}

/** Named presets (see the module docs). */
export const PRESETS: Readonly<Record<string, Readonly<LabKnobs>>> = {
    policy: {minOps: 2, maxOps: 5, minOperand: 1, maxOperand: 20, operators: ["+", "-", "*", "/"], parenProb: 0.3, maxValue: 200, allowNegative: false, order: "leftmost", style: "spaced"},
    easy: {minOps: 2, maxOps: 3, minOperand: 1, maxOperand: 9, operators: ["+", "-", "*"], parenProb: 0.2, maxValue: 100, allowNegative: false, order: "leftmost", style: "spaced"},
    medium: {minOps: 2, maxOps: 4, minOperand: 1, maxOperand: 99, operators: ["+", "-", "*", "/"], parenProb: 0.3, maxValue: 1000, allowNegative: false, order: "leftmost", style: "spaced"},
    hard: {minOps: 3, maxOps: 5, minOperand: 1, maxOperand: 999, operators: ["+", "-", "*", "/"], parenProb: 0.4, maxValue: 100000, allowNegative: false, order: "leftmost", style: "spaced"},
    signed: {minOps: 2, maxOps: 4, minOperand: 1, maxOperand: 99, operators: ["+", "-", "*", "/"], parenProb: 0.3, maxValue: 1000, allowNegative: true, order: "leftmost", style: "spaced"},
};

/** The preset used when none is named. */
export const DEFAULT_PRESET = "policy";

/** Names of the presets. */
export function presetNames(): string[] {
    return Object.keys(PRESETS);
}

/**
 * Knobs of a preset with overrides applied, validated. Throws a StepwiseError naming the
 * problem for an unknown preset or inconsistent knobs.
 */
export function resolveKnobs(preset: string = DEFAULT_PRESET, overrides: Partial<LabKnobs> = {}): LabKnobs {
    const base = PRESETS[preset];
    if (!base) throw new StepwiseError(`unknown lab preset "${preset}" (known: ${presetNames().join(", ")})`);
    const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<LabKnobs>;
    const knobs: LabKnobs = {...base, operators: [...base.operators], ...defined};
    validateKnobs(knobs);
    return knobs;
}

/** Throw a StepwiseError if the knobs cannot describe any problem. */
export function validateKnobs(k: LabKnobs): void {
    const int = (name: string, v: number, min: number): void => {
        if (!Number.isSafeInteger(v) || v < min) throw new StepwiseError(`lab knob ${name} must be an integer ≥ ${min}, got ${v}`);
    };
    int("minOps", k.minOps, 1);
    int("maxOps", k.maxOps, k.minOps);
    int("minOperand", k.minOperand, 1);
    int("maxOperand", k.maxOperand, k.minOperand);
    int("maxValue", k.maxValue, k.minOperand);
    if (k.maxOps > 64) throw new StepwiseError(`lab knob maxOps must be ≤ 64, got ${k.maxOps}`);
    if (k.maxValue > 1e12 || k.maxOperand > 1e12) throw new StepwiseError("lab knobs maxValue and maxOperand must be ≤ 1e12");
    if (!(k.parenProb >= 0 && k.parenProb <= 1)) throw new StepwiseError(`lab knob parenProb must be in [0, 1], got ${k.parenProb}`);
    if (k.operators.length === 0 || k.operators.some((o) => !OPS.includes(o)))
        throw new StepwiseError(`lab knob operators must be a non-empty subset of + - * /, got "${k.operators.join("")}"`);
    if (k.order !== "leftmost" && k.order !== "random") throw new StepwiseError(`lab knob order must be leftmost or random, got ${k.order}`);
    if (k.style !== "spaced" && k.style !== "compact") throw new StepwiseError(`lab knob style must be spaced or compact, got ${k.style}`);
}

/** Parse an operator list such as "+-*\/" or "+,-,*" (also accepts x for *). */
export function parseOperators(text: string): Op[] {
    const out: Op[] = [];
    for (const c of text.replace(/[\s,]/g, "")) {
        const op = c === "x" || c === "×" ? "*" : c === "÷" ? "/" : c;
        if (!OPS.includes(op as Op)) throw new StepwiseError(`unknown operator "${c}" (use + - * /)`);
        if (!out.includes(op as Op)) out.push(op as Op);
    }
    return out;
}
