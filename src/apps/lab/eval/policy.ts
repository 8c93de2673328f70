/**
 * How useful a policy is for PRM work, on lab problems with exact answers: greedy accuracy,
 * pass@k at temperature 1, accuracy by number of operations, and the spread of token
 * confidences (a policy that is always right, always wrong, or always certain teaches a PRM
 * nothing).
 */
import pLimit from "p-limit";
import type {Engine, FinishReason, Sample} from "../../../engines/types.ts";
import type {SampleRecord} from "../../../core/records.ts";
import {StepwiseError} from "../../../util/errors.ts";
import {plural} from "../../../util/plural.ts";
import {checkAnswer, extractAnswer, policyPrompt, verifyProcess, type LabProblem} from "../../../domains/lab/index.ts";
import {labTruth} from "../../../domains/lab/verifier.ts";
import {splitSample} from "../../../pipeline/split/index.ts";
import {histogram, type HistogramBin} from "../../../report/plot.ts";
import {answerClasses, majorityVote} from "../../../select/index.ts";
import {differenceSentence, intervalJson, type IntervalJson, mcnemarExact, type McNemarResult, pairedBootstrap, wilsonInterval} from "../../../stats/intervals.ts";

/** Prompt of a lab problem for a stepwise lab policy (the format it was trained on). */
export function labPrompt(problem: Pick<LabProblem, "question">): string {
    return policyPrompt(problem.question);
}

/** Sampling settings that fit lab solutions. */
export const LAB_MAX_TOKENS = 200;

export interface PolicyEvalOptions {
    engine: Engine;
    problems: LabProblem[];
    /** Samples per problem at temperature 1 for pass@k. Default 16. */
    k?: number;
    seed?: number;
    concurrency?: number;
    onProgress?: (done: number, total: number) => void;
}

export interface ProblemResult {
    problem: LabProblem;
    greedy: Sample;
    greedyCorrect: boolean;
    samples: Sample[];
    sampleCorrect: boolean[];
    /** Index of the first wrong step of each sample (−1: none), from the process verifier. */
    sampleFirstError: number[];
    /** Whether the greedy solution has a wrong step ({@link hasWrongStep}). */
    greedyWrongStep: boolean;
    /** Whether each sample has a wrong step ({@link hasWrongStep}). */
    sampleWrongStep: boolean[];
    /** Whether the majority answer of the samples is right ({@link majorityCorrect}; false without samples). */
    majCorrect: boolean;
}

/** Right answers and how many of them were reached through a wrong step, with the share's 95% Wilson interval over the right answers (null when none is right). */
export interface WrongStepShare {
    right: number;
    wrong_step: number;
    share: number | null;
    share_ci: IntervalJson | null;
}

export interface PolicyEval {
    n: number;
    k: number;
    greedy_accuracy: number;
    /** Accuracy of single samples at temperature 1. */
    sample_accuracy: number;
    pass_at_k: Record<string, number>;
    pass_at_16?: number;
    /**
     * 95% Wilson intervals `{value, low, high, n, method, level}` (fractions) over the problems
     * ({@link policyIntervals}).
     */
    greedy_accuracy_ci: IntervalJson;
    sample_accuracy_ci: IntervalJson | null;
    pass_at_k_ci: Record<string, IntervalJson>;
    /** Greedy accuracy by number of operations (with its Wilson interval over that group's problems). */
    accuracy_by_ops: Record<string, {n: number; greedy_accuracy: number; greedy_accuracy_ci: IntervalJson; pass_at_k: number}>;
    /** Share of correct-answer samples whose process has a wrong step (0 when none is right; the same count as `right_answer_wrong_step.samples`). */
    right_answer_wrong_process: number;
    /**
     * maj@k: the share of problems whose majority answer over the k samples is right (one vote per
     * sample with an answer, ties to the answer seen first), with its 95% Wilson interval over the
     * problems; null without samples.
     */
    maj_at_k: number | null;
    maj_at_k_ci: IntervalJson | null;
    /**
     * Right answers reached through a wrong step, by the lab's exact truth on newline steps
     * ({@link hasWrongStep}): among the right greedy solutions (interval over them), and among all
     * right samples (interval over the right samples, treated as independent although samples of
     * one problem are not).
     */
    right_answer_wrong_step: {greedy: WrongStepShare; samples: WrongStepShare};
    confidence: {tokens: number; mean: number; quantiles: Record<string, number>; histogram: HistogramBin[]};
    results: ProblemResult[];
}

/** Unbiased pass@k from n samples with c correct (Chen et al. 2021). */
export function passAtK(n: number, c: number, k: number): number {
    if (n - c < k) return 1;
    let prod = 1;
    for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
    return 1 - prod;
}

export function quantile(sorted: ArrayLike<number>, q: number): number {
    if (sorted.length === 0) return NaN;
    const pos = (sorted.length - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The 95% intervals of a policy evaluation (lab and code lab), over problems (fractions, n =
 * problems, Wilson): the greedy accuracy; the sample accuracy (right / samples) and pass@k for each
 * k of `ks` (the mean of the per-problem unbiased estimates, {@link passAtK}) as means of
 * per-problem fractions, passed to Wilson as mean · n — conservative, as in `eval bon`, and never
 * zero-width at 100% as a bootstrap of six perfect problems would be. One row per problem: whether
 * greedy was right, its samples and how many were right. `sample` is null without samples.
 */
export function policyIntervals(rows: ReadonlyArray<{greedy: boolean; samples: number; right: number}>, ks: readonly number[]): {greedy: IntervalJson; sample: IntervalJson | null; passAtK: Record<string, IntervalJson>} {
    const n = rows.length;
    const meanInterval = (sum: number) => intervalJson(wilsonInterval(Math.min(sum, n), n));
    const passAtKCi: Record<string, IntervalJson> = {};
    for (const k of ks) passAtKCi[String(k)] = meanInterval(rows.reduce((a, r) => a + passAtK(r.samples, r.right, k), 0));
    const samples = rows.reduce((a, r) => a + r.samples, 0);
    return {
        greedy: intervalJson(wilsonInterval(rows.filter((r) => r.greedy).length, n)),
        sample: samples > 0 ? meanInterval((rows.reduce((a, r) => a + r.right, 0) / samples) * n) : null,
        passAtK: passAtKCi,
    };
}

export async function evaluatePolicy(o: PolicyEvalOptions): Promise<PolicyEval> {
    const k = o.k ?? 16;
    const limit = pLimit(o.concurrency ?? 2);
    let done = 0;
    o.onProgress?.(0, o.problems.length);
    const results = await Promise.all(
        o.problems.map((problem, i) =>
            limit(async (): Promise<ProblemResult> => {
                const prompt = labPrompt(problem);
                const [greedy] = await o.engine.generate({prompt, n: 1, temperature: 0, maxTokens: LAB_MAX_TOKENS, topLogprobs: 0});
                const samples = k > 0 ? await o.engine.generate({prompt, n: k, temperature: 1, seed: (o.seed ?? 0) + i, maxTokens: LAB_MAX_TOKENS, topLogprobs: 0}) : [];
                o.onProgress?.(++done, o.problems.length);
                return problemResult(problem, greedy, samples);
            }),
        ),
    );
    return summarize(results, k);
}

/**
 * Whether a lab solution has a wrong step by the lab's exact truth, read as `stepwise label
 * --lab-truth` reads it on `stepwise split --strategy newline` steps: the steps cut at line breaks
 * (src/pipeline/split `splitSample`), then the lab verifier's truth ({@link labTruth}) on them.
 * A text after its answer line counts as a wrong step, as in the truth. The sample's token texts
 * must concatenate to its text (a StepwiseError naming the sample otherwise); no tokens, no steps.
 */
export function hasWrongStep(question: string, sample: {id?: string; text: string; tokens: ReadonlyArray<{text: string; confidence: number}>}): boolean {
    const steps = splitSample({id: sample.id ?? "", text: sample.text, tokens: sample.tokens.map((t) => ({text: t.text, confidence: t.confidence}))}, {kind: "newline"});
    return labTruth({question, text: sample.text, steps}).first_error >= 0;
}

/**
 * Whether the majority answer of a problem's samples is right: one vote per sample that has an
 * answer (extractAnswer), identical answers in one class, ties to the answer seen first
 * (src/select `majorityVote`, as `eval bon`'s maj@N); false when no sample has an answer.
 */
export function majorityCorrect(texts: readonly string[], correct: readonly boolean[]): boolean {
    const classes = answerClasses(texts.map(extractAnswer), correct, (a, b) => a === b);
    const win = majorityVote(classes.classOf, {ties: "first-seen"});
    return win >= 0 && classes.classCorrect[win] === 1;
}

/** A problem's greedy solution and samples, checked by the lab's exact verifier. */
function problemResult(problem: LabProblem, greedy: Sample, samples: Sample[]): ProblemResult {
    const verdicts = samples.map((s) => verifyProcess(problem, s.text));
    const sampleCorrect = verdicts.map((v) => v.finalAnswerCorrect);
    return {
        problem,
        greedy,
        greedyCorrect: checkAnswer(problem, greedy.text).correct,
        samples,
        sampleCorrect,
        sampleFirstError: verdicts.map((v) => v.firstErrorStep),
        greedyWrongStep: hasWrongStep(problem.question, greedy),
        sampleWrongStep: samples.map((s) => hasWrongStep(problem.question, s)),
        majCorrect: samples.length > 0 && majorityCorrect(samples.map((s) => s.text), sampleCorrect),
    };
}

/** Right answers among `outcomes` and those with a wrong step, with the share's Wilson interval ({@link WrongStepShare}). */
export function wrongStepShare(outcomes: ReadonlyArray<{correct: boolean; wrongStep: boolean}>): WrongStepShare {
    const right = outcomes.filter((o) => o.correct);
    const wrong = right.filter((o) => o.wrongStep).length;
    return {right: right.length, wrong_step: wrong, share: right.length ? wrong / right.length : null, share_ci: right.length ? intervalJson(wilsonInterval(wrong, right.length)) : null};
}

/** A recorded sample (`stepwise sample` output) as an engine {@link Sample}. */
function recordSample(r: SampleRecord): Sample {
    return {index: r.sample_index, text: r.text, tokens: r.tokens.map((t) => ({...t, top: t.top ?? []})), finishReason: r.finish_reason as FinishReason};
}

/**
 * {@link evaluatePolicy}'s figures from sample files instead of an engine: `greedy` holds one
 * temperature-0 record per problem and `samples` k records per problem (SampleRecords as
 * `sampleDataset` writes them, joined to `problems` by `question_id` and ordered by
 * `sample_index`). Each sample is checked by the lab's exact verifier.
 * @throws StepwiseError naming the problem id when a problem has no greedy record or not exactly k samples.
 */
export function evaluatePolicyRecords(problems: readonly LabProblem[], greedy: readonly SampleRecord[], samples: readonly SampleRecord[], k: number): PolicyEval {
    const greedyOf = new Map(greedy.map((r) => [r.question_id, r]));
    const samplesOf = new Map<string, SampleRecord[]>();
    for (const r of samples) samplesOf.set(r.question_id, [...(samplesOf.get(r.question_id) ?? []), r]);
    const results = problems.map((problem): ProblemResult => {
        const g = greedyOf.get(problem.id);
        if (!g) throw new StepwiseError(`problem ${JSON.stringify(problem.id)}: no greedy sample`);
        const own = (samplesOf.get(problem.id) ?? []).sort((a, b) => a.sample_index - b.sample_index);
        if (own.length !== k) throw new StepwiseError(`problem ${JSON.stringify(problem.id)}: ${own.length} samples, expected ${k}`);
        return problemResult(problem, recordSample(g), own.map(recordSample));
    });
    return summarize(results, k);
}

export function summarize(results: ProblemResult[], k: number): PolicyEval {
    const n = results.length;
    const ks = [1, 2, 4, 8, 16, 32, 64].filter((x) => x <= k);
    const passAt: Record<string, number> = {};
    for (const kk of ks) passAt[String(kk)] = results.reduce((a, r) => a + passAtK(r.samples.length, r.sampleCorrect.filter(Boolean).length, kk), 0) / n;
    const byOps: PolicyEval["accuracy_by_ops"] = {};
    const groups = new Map<number, ProblemResult[]>();
    for (const r of results) groups.set(r.problem.ops, [...(groups.get(r.problem.ops) ?? []), r]);
    for (const ops of [...groups.keys()].sort((a, b) => a - b)) {
        const g = groups.get(ops)!;
        byOps[String(ops)] = {
            n: g.length,
            greedy_accuracy: g.filter((r) => r.greedyCorrect).length / g.length,
            greedy_accuracy_ci: intervalJson(wilsonInterval(g.filter((r) => r.greedyCorrect).length, g.length)),
            pass_at_k: k > 0 ? g.reduce((a, r) => a + passAtK(r.samples.length, r.sampleCorrect.filter(Boolean).length, k), 0) / g.length : NaN,
        };
    }
    const confidences: number[] = [];
    for (const r of results) for (const s of r.samples.length ? r.samples : [r.greedy]) for (const t of s.tokens) confidences.push(t.confidence);
    const sorted = Float64Array.from(confidences).sort();
    const greedyShare = wrongStepShare(results.map((r) => ({correct: r.greedyCorrect, wrongStep: r.greedyWrongStep})));
    const sampleShare = wrongStepShare(results.flatMap((r) => r.sampleCorrect.map((c, j) => ({correct: c, wrongStep: r.sampleWrongStep[j]}))));
    const majRight = results.filter((r) => r.majCorrect).length;
    const sampleTotal = results.reduce((a, r) => a + r.samples.length, 0);
    const cis = policyIntervals(results.map((r) => ({greedy: r.greedyCorrect, samples: r.samples.length, right: r.sampleCorrect.filter(Boolean).length})), ks);
    return {
        n,
        k,
        greedy_accuracy: results.filter((r) => r.greedyCorrect).length / n,
        sample_accuracy: sampleTotal ? results.reduce((a, r) => a + r.sampleCorrect.filter(Boolean).length, 0) / sampleTotal : NaN,
        pass_at_k: passAt,
        greedy_accuracy_ci: cis.greedy,
        sample_accuracy_ci: cis.sample,
        pass_at_k_ci: cis.passAtK,
        ...(k >= 16 ? {pass_at_16: passAt["16"]} : {}),
        accuracy_by_ops: byOps,
        right_answer_wrong_process: sampleShare.share ?? 0,
        maj_at_k: k > 0 ? majRight / n : null,
        maj_at_k_ci: k > 0 ? intervalJson(wilsonInterval(majRight, n)) : null,
        right_answer_wrong_step: {greedy: greedyShare, samples: sampleShare},
        confidence: {
            tokens: sorted.length,
            mean: confidences.reduce((a, b) => a + b, 0) / Math.max(1, confidences.length),
            quantiles: Object.fromEntries([0.01, 0.02, 0.05, 0.1, 0.25, 0.5].map((q) => [String(q), quantile(sorted, q)])),
            histogram: histogram(confidences, 20),
        },
        results,
    };
}

/** One paired figure of two policies on the same problems ({@link comparePolicies}). */
export interface PairedFigure {
    /** A − B as a fraction, with its 95% paired-bootstrap interval over the problems (2,000 resamples, seed 0). */
    difference: IntervalJson;
    /** Exact McNemar test of the per-problem 0/1 outcomes (`a_only`: problems only A got right). */
    mcnemar: McNemarResult;
    /** The plain sentence ({@link differenceSentence}, in points) and the McNemar p-value. */
    sentence: string;
}

/** Paired differences A − B of two policy evaluations on the same problems ({@link comparePolicies}). */
export interface PolicyPairing {
    /** Problems paired. */
    n: number;
    /** Samples per problem (maj@k and pass@k are at this k). */
    k: number;
    greedy_accuracy: PairedFigure;
    /** Null without samples. */
    maj_at_k: PairedFigure | null;
    /** pass@k with k = all samples of a problem: 1 when any sample is right. Null without samples. */
    pass_at_k: PairedFigure | null;
}

/**
 * Paired differences A − B of greedy accuracy, maj@k and pass@k (k = all samples) of two policies
 * evaluated on the same problems: per problem a 0/1 outcome for each policy, the paired bootstrap
 * of the difference of means (src/stats `pairedBootstrap`) and the exact McNemar test.
 * `names` name A and B in the sentences (default "A", "B").
 * @throws StepwiseError when the evaluations are not on the same problems in the same order, or differ in k.
 */
export function comparePolicies(a: Pick<PolicyEval, "k" | "results">, b: Pick<PolicyEval, "k" | "results">, names: {a: string; b: string} = {a: "A", b: "B"}): PolicyPairing {
    if (a.results.length !== b.results.length) throw new StepwiseError(`compare policies: ${names.a} was measured on ${a.results.length} problems but ${names.b} on ${b.results.length}`);
    a.results.forEach((r, i) => {
        if (r.problem.id !== b.results[i].problem.id) throw new StepwiseError(`compare policies: problem ${i + 1} is ${JSON.stringify(r.problem.id)} for ${names.a} but ${JSON.stringify(b.results[i].problem.id)} for ${names.b}`);
    });
    if (a.k !== b.k) throw new StepwiseError(`compare policies: ${names.a} has ${a.k} samples per problem but ${names.b} ${b.k}`);
    const figure = (what: string, outcome: (r: ProblemResult) => boolean): PairedFigure => {
        const x = a.results.map((r) => (outcome(r) ? 1 : 0));
        const y = b.results.map((r) => (outcome(r) ? 1 : 0));
        const difference = intervalJson(pairedBootstrap(y, x));
        const mcnemar = mcnemarExact(x, y);
        const p = mcnemar.value < 0.001 ? mcnemar.value.toExponential(1) : mcnemar.value.toFixed(3);
        return {difference, mcnemar, sentence: `${differenceSentence(`${names.a} − ${names.b} ${what}`, difference)}; McNemar exact p = ${p} (${plural(mcnemar.a_only, "problem")} only ${names.a} got right, ${mcnemar.b_only} only ${names.b})`};
    };
    const k = a.k;
    return {
        n: a.results.length,
        k,
        greedy_accuracy: figure("greedy accuracy", (r) => r.greedyCorrect),
        maj_at_k: k > 0 ? figure(`maj@${k}`, (r) => r.majCorrect) : null,
        pass_at_k: k > 0 ? figure(`pass@${k}`, (r) => r.sampleCorrect.some(Boolean)) : null,
    };
}
