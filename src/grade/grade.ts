/**
 * The public grading API: extract the final answers of a gold solution and a model output and
 * decide whether they are the same answer.
 *
 * ```ts
 * grade("\\frac{1}{2}", "So the answer is $0.5$.")            // {equal: true, …}
 * grade("12, 10, 6", "6, 10, 12", {policy: "strict"})           // {equal: false, …}
 * answersEqual("x \\geq 5", "5 \\leq x")                        // true
 * ```
 *
 * Every call is bounded: long inputs are scanned only at their end, very long answers are compared
 * as strings, and the time budget (`timeoutMs`) stops sampling and the symbolic path. Malformed
 * input never throws: it yields `equal: false` with a `reason`.
 */
import {compareAnswers, prepareAnswer, type CompareOutcome, type ComparePath} from "./compare.ts";
import {extractAnswer, type ExtractorName} from "./extract.ts";
import {resolveOptions, type GradeOptions} from "./policy.ts";

/** One side of a grade: the extracted answer and the extractor that found it. */
export interface GradedAnswer {
    answer: string | null;
    extractor: ExtractorName | null;
}

/** The verdict of {@link grade}. */
export interface GradeResult {
    equal: boolean;
    gold: GradedAnswer;
    pred: GradedAnswer;
    /** Why the answers were not compared or could not be decided (absent when a comparison decided). */
    reason?: string;
    /** How the verdict was reached: string equality, the structural fast path, the symbolic path, or none. */
    path: ComparePath;
    /** The fast path sampled expressions with variables at random points. */
    sampled: boolean;
    /** The slow symbolic path (compute engine) was tried. */
    symbolic: boolean;
}

/**
 * Grade a model output against a gold answer or solution.
 * @param gold a gold answer (`\frac{1}{2}`) or a whole gold solution (its answer is extracted)
 * @param pred a model output or a bare predicted answer
 */
export function grade(gold: string, pred: string, options: GradeOptions = {}): GradeResult {
    const opts = resolveOptions(options);
    const deadline = performance.now() + opts.timeoutMs;
    const g = extractAnswer(String(gold ?? ""), {policy: opts.policy});
    const p = extractAnswer(String(pred ?? ""), {policy: opts.policy});
    const goldInfo: GradedAnswer = {answer: g?.answer ?? null, extractor: g?.extractor ?? null};
    const predInfo: GradedAnswer = {answer: p?.answer ?? null, extractor: p?.extractor ?? null};
    if (!g) return {equal: false, gold: goldInfo, pred: predInfo, reason: "no answer found in gold", path: "none", sampled: false, symbolic: false};
    if (!p) return {equal: false, gold: goldInfo, pred: predInfo, reason: "no answer found in prediction", path: "none", sampled: false, symbolic: false};
    const outcome = safeCompare(g.answer, p.answer, options, deadline);
    return {equal: outcome.equal, gold: goldInfo, pred: predInfo, path: outcome.path, sampled: outcome.sampled, symbolic: outcome.symbolic ?? false, ...(outcome.reason ? {reason: outcome.reason} : {})};
}

/**
 * Whether two already-extracted answers are equivalent (for majority voting: group samples by
 * equivalence). `a` plays the gold role where the comparison is asymmetric (`k = 1` vs `1`).
 */
export function answersEqual(a: string, b: string, options: GradeOptions = {}): boolean {
    const opts = resolveOptions(options);
    return safeCompare(a, b, options, performance.now() + opts.timeoutMs).equal;
}

function safeCompare(a: string, b: string, options: GradeOptions, deadline: number): CompareOutcome {
    const opts = resolveOptions(options);
    try {
        const ga = prepareAnswer(a, opts);
        const pb = prepareAnswer(b, opts);
        return compareAnswers(ga, pb, opts, deadline);
    } catch (e) {
        // Defensive: a comparison bug must not take a whole evaluation run down.
        return {equal: false, path: "none", sampled: false, reason: `grader error: ${(e as Error).message}`};
    }
}
