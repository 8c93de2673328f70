/**
 * Grading policies and options.
 *
 * - `lenient` (default; modelled on Math-Verify): answers are equal when they denote the same
 *   mathematical object. Fractions compare by value (`\frac{2}{4}` = `\frac12`), bare lists compare
 *   as sets (`1, 2` = `2, 1`), `50\%` may equal `0.5`, a decimal comma is read (`2,74` = 2.74),
 *   and when either side is written with a decimal point numbers are compared after rounding to
 *   `precision` decimal places (`0.3333` vs `\frac13` at precision 4).
 * - `strict` (modelled on the PRM800K grader): an integer answer must be matched by an integer
 *   literal (`10^6` ≠ `1000000`), two literal fractions must be written identically
 *   (`\frac{2}{4}` ≠ `\frac{1}{2}`), bare lists and tuples are ordered (`6, 10, 12` ≠ `12, 10, 6`),
 *   no decimal comma, no percent rescaling, and numbers compare with a tight relative tolerance.
 *
 * Both policies strip presentation (`\left`, `\dfrac`, `\text{}` units, one-letter units after a
 * space such as `448 m`, degrees, currency, thousands separators) and accept `x = 4` or `|AB| = 1`
 * for the value. Under both, constants are compared exactly when rational (`171!` ≠ `172!`) and in
 * arbitrary precision otherwise, a division by zero is never a value, times of day (`12:00`,
 * `4:30 p.m.`) are their own kind, plain-text calls (`sqrt(2)`) are functions and `2^10` is 2^{10}.
 * Boxes: `strict` takes the last `\boxed{}` (PRM800K); `lenient` joins the final group (boxes
 * joined by connectors or a short "and" phrase). `lenient` reads `19,22` as a two-element list and
 * a decimal comma only where a list is implausible (`1,22`, `0,111`, `1000,99`).
 */

export type Policy = "lenient" | "strict";

/** Options of {@link grade} and {@link answersEqual}. */
export interface GradeOptions {
    /** Default "lenient". */
    policy?: Policy;
    /**
     * Lenient only: decimal places to which numbers are rounded before comparison when either side
     * is written with a decimal point (Math-Verify's `float_rounding`); the two numbers must also
     * agree within a relative 5·10^(2-precision), so that small numbers are not all equal. Default 6.
     */
    precision?: number;
    /** Relative tolerance for numeric comparisons of exact values. Default 1e-9. */
    tolerance?: number;
    /**
     * Also compare a gold set/interval with a predicted relation (`x ∈ [-2,7]` vs `-2 ≤ x ≤ 7`).
     * A gold relation is always compared with a predicted set. Default false.
     */
    allowSetRelation?: boolean;
    /** Time budget of one grade in milliseconds; past it the verdict is "not equal" with a reason. Default 2000. */
    timeoutMs?: number;
    /** Allow the slow symbolic path (compute engine). Default true. */
    symbolic?: boolean;
}

/** Options with every default filled in. */
export interface ResolvedOptions {
    policy: Policy;
    precision: number;
    tolerance: number;
    allowSetRelation: boolean;
    timeoutMs: number;
    symbolic: boolean;
}

/** Fill in defaults and validate option values. */
export function resolveOptions(options: GradeOptions = {}): ResolvedOptions {
    const policy = options.policy ?? "lenient";
    if (policy !== "lenient" && policy !== "strict") throw new RangeError(`unknown grading policy ${JSON.stringify(policy)} (lenient or strict)`);
    const precision = options.precision ?? 6;
    if (!Number.isInteger(precision) || precision < 0 || precision > 15) throw new RangeError(`precision must be an integer in 0..15, got ${precision}`);
    const tolerance = options.tolerance ?? 1e-9;
    if (!(tolerance >= 0 && tolerance < 1)) throw new RangeError(`tolerance must be in [0, 1), got ${tolerance}`);
    return {
        policy,
        precision,
        tolerance,
        allowSetRelation: options.allowSetRelation ?? false,
        timeoutMs: options.timeoutMs ?? 2000,
        symbolic: options.symbolic ?? true,
    };
}
