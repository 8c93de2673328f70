/**
 * (d) AdaptiveStep's rating-position test (paper Table 3): the same PRM rates the same sampled
 * solutions at three kinds of positions, and Best-of-N at N = all candidates is compared:
 * - `adaptive`: step ends after decision tokens (confidence < τ), the AdaptiveStep positions;
 * - `random`: K random token boundaries, seeded by the sample id (K = the sample's adaptive step
 *   count − 1, so both schemes give it the same number of steps; or a fixed K);
 * - `newline`: step ends after each token holding a line break.
 * The paper finds the three close (BoN@64 e.g. 90.45 vs 90.22): where the PRM is asked matters
 * little once it is trained.
 *
 * {@link positionSteps} (pure) cuts one sample, {@link scorePositions} scores every cut with an
 * injected {@link StepScorer}, and {@link comparePositions} (pure) grades the candidates once and
 * runs Best-of-N per scheme with the aggregations of the released evaluation (Lux0926/ASPRM
 * `evaluation/math/BON/eval.py`: the min, mean and max of a solution's step scores, the argmax
 * picked, the first on ties); others (e.g. the Qwen paper's min, last, product) on request.
 */
import pLimit from "p-limit";
import {StepwiseError, isContextOverflow} from "../../util/errors.ts";
import type {SampleRecord} from "../../core/records.ts";
import {splitSample} from "../../pipeline/split/index.ts";
import type {StepScorer} from "../../prm/scorer.ts";
import type {Aggregation} from "../../select/aggregate.ts";
import {type BonQuestion, type BonResult, evaluateBon, prepareQuestion} from "../bon/evaluate.ts";
import {type Candidate, type GradingStats, buildQuestions} from "../bon/load.ts";
import type {AnswerGrader} from "../../grade/grader.ts";
import {bootstrapMean, type Interval} from "../../stats/intervals.ts";
import {type PairedAccuracy, pairedAccuracy} from "./aggregations.ts";
import {type LowestStepStats, lowestStepStats} from "./lowest-step.ts";

/** The position schemes, in report order. */
export const POSITION_SCHEMES = ["adaptive", "random", "newline"] as const;
export type PositionScheme = (typeof POSITION_SCHEMES)[number];

/** The aggregations of the paper's comparison, as its released BoN evaluation computes them: min, mean, max. */
export const POSITION_AGGREGATIONS: readonly Aggregation[] = ["min", "mean", "max"];

export interface PositionSplitOptions {
    /** The adaptive confidence threshold τ. */
    tau: number;
    /** Random positions per sample; default: the sample's adaptive step count − 1. */
    randomK?: number;
    /** Seed of the random positions (with the sample id). Default 0. */
    seed?: number;
}

/** The sample fields the position test reads. */
export type PositionSample = Pick<SampleRecord, "id" | "text" | "tokens"> & Partial<Pick<SampleRecord, "question_id" | "question" | "gold">> & {correct?: boolean};

/** Cut one sample under every scheme; returns the step texts per scheme. Pure. */
export function positionSteps(sample: PositionSample, o: PositionSplitOptions): Record<PositionScheme, string[]> {
    const adaptive = splitSample(sample, {kind: "adaptive", tau: o.tau});
    const k = o.randomK ?? Math.max(0, adaptive.length - 1);
    const random = splitSample(sample, {kind: "random", positions: k, seed: o.seed ?? 0});
    const newline = splitSample(sample, {kind: "newline"});
    const texts = (steps: Array<{text: string}>) => steps.map((s) => s.text);
    return {adaptive: texts(adaptive), random: texts(random), newline: texts(newline)};
}

/** A candidate solution with its PRM step scores under each scheme. */
export interface PositionCandidate {
    questionId: string;
    id: string;
    text: string;
    gold: string | null;
    /** A precomputed verdict (e.g. lab records); null: graded against `gold`. */
    correct: boolean | null;
    scores: Record<PositionScheme, number[]>;
}

/** The question id of a sample: `question_id`, else the part of the id before `#`. */
function questionIdOf(s: PositionSample): string {
    return s.question_id ?? s.id.split("#")[0];
}

/**
 * Cut every sample under every scheme and score each cut with `scorer` (`concurrency` solutions at
 * a time; progress counts scored cuts). The scorer's scores must be one per step. With `tooLong`
 * (an array to fill), a sample whose PRM input under any scheme is longer than the PRM's context
 * is left out (every scheme rates the same candidates) and listed there, instead of stopping.
 */
export async function scorePositions(
    samples: readonly PositionSample[],
    scorer: Pick<StepScorer, "scoreSteps">,
    o: PositionSplitOptions & {concurrency?: number; onProgress?: (done: number, total: number) => void; tooLong?: Array<{where: string; message: string}>},
): Promise<PositionCandidate[]> {
    const limit = pLimit(o.concurrency ?? 4);
    const total = samples.length * POSITION_SCHEMES.length;
    let done = 0;
    const scored = await Promise.all(
        samples.map(async (s) => {
            const steps = positionSteps(s, o);
            let entries;
            try {
                entries = await Promise.all(
                POSITION_SCHEMES.map((scheme) =>
                    limit(async () => {
                        const scores = await scorer.scoreSteps(s.question ?? "", steps[scheme]);
                        if (scores.length !== steps[scheme].length)
                            throw new StepwiseError(`sample ${JSON.stringify(s.id)}: the PRM returned ${scores.length} scores for ${steps[scheme].length} ${scheme} steps`);
                        o.onProgress?.(++done, total);
                        return [scheme, scores] as const;
                    }),
                ),
                );
            } catch (e) {
                if (!o.tooLong || !isContextOverflow(e)) throw e;
                o.tooLong.push({where: `sample ${JSON.stringify(s.id)}`, message: e instanceof Error ? e.message : String(e)});
                return undefined;
            }
            return {
                questionId: questionIdOf(s),
                id: s.id,
                text: s.text,
                gold: s.gold ?? null,
                correct: typeof s.correct === "boolean" ? s.correct : null,
                scores: Object.fromEntries(entries) as Record<PositionScheme, number[]>,
            };
        }),
    );
    return scored.filter((c): c is PositionCandidate => c !== undefined);
}

/** Best-of-N of one scheme. Accuracies are fractions. */
export interface SchemeResult {
    scheme: PositionScheme;
    /** Mean number of steps per candidate. */
    meanSteps: number;
    /** Its 95% percentile bootstrap interval over the candidates (1,000 resamples, seed 0). */
    meanStepsInterval: Interval;
    /** Where each candidate's lowest step score falls under this scheme (analysis (b)). */
    lowestStep: LowestStepStats;
    /**
     * Per aggregation at N: accuracy (fraction), its 95% Wilson interval over the questions, and the
     * per-question fractions (question order shared by every scheme).
     */
    accuracy: Partial<Record<Aggregation, {accuracy: number; interval: Interval; perQuestion: Float64Array}>>;
    /** Prepared questions (scores under every aggregation), e.g. for the aggregation comparison. */
    questions: BonQuestion[];
    bon: BonResult;
}

export interface PositionComparison {
    /** Candidates per question used (all: the smallest candidate count, or the N asked). */
    n: number;
    questions: number;
    candidates: number;
    aggregations: Aggregation[];
    schemes: SchemeResult[];
    /**
     * Paired comparisons on the same questions, per aggregation: random − adaptive and newline −
     * adaptive Best-of-N accuracy (fractions; 95% paired bootstrap over the questions); ids
     * `scheme/aggregation` (e.g. `random/min`).
     */
    paired: PairedAccuracy[];
    /** pass@N and maj@N at the same N (they do not depend on the scheme). */
    baselines: {pass: number; maj: number; first: number};
    grading: GradingStats;
}

export interface PositionCompareOptions {
    /** Best-of-N aggregations, in report order. Default {@link POSITION_AGGREGATIONS} (min, mean, max). */
    aggregations?: readonly Aggregation[];
    /** N (default: all candidates, i.e. the smallest candidate count over questions). */
    n?: number;
    /** Random subsets per question (default 200; at N = all they only average tie-breaks). */
    subsets?: number;
    seed?: number;
}

/** Grade the candidates once and run Best-of-N per scheme (see the module docs). Pure. */
export function comparePositions(candidates: readonly PositionCandidate[], grader: AnswerGrader, o: PositionCompareOptions = {}): PositionComparison {
    if (candidates.length === 0) throw new StepwiseError("rating-position test: no candidates");
    const aggregations = [...(o.aggregations ?? POSITION_AGGREGATIONS)];
    const asCandidate = (c: PositionCandidate, scheme: PositionScheme): Candidate => {
        const scores = c.scores[scheme];
        if (!Array.isArray(scores)) throw new StepwiseError(`candidate ${JSON.stringify(c.id)}: no ${scheme} step scores`);
        return {questionId: c.questionId, id: c.id, text: c.text, answer: null, gold: c.gold, correct: c.correct, stepScores: scores, where: `candidate ${c.id}`};
    };
    // Grade once (on the first scheme); the other schemes reuse the verdicts and classes.
    const {questions: first, stats} = buildQuestions(
        candidates.map((c) => asCandidate(c, POSITION_SCHEMES[0])),
        grader,
    );
    const groups = new Map<string, PositionCandidate[]>();
    for (const c of candidates) {
        const g = groups.get(c.questionId);
        if (g) g.push(c);
        else groups.set(c.questionId, [c]);
    }
    const minN = Math.min(...first.map((q) => q.n));
    const n = o.n ?? minN;
    if (!Number.isInteger(n) || n < 1 || n > minN) throw new StepwiseError(`rating-position test: N = ${n} is not in 1..${minN} (the smallest number of candidates of a question)`);
    const schemes: SchemeResult[] = POSITION_SCHEMES.map((scheme, si) => {
        const questions =
            si === 0
                ? first
                : first.map((q) => prepareQuestion({id: q.id, correct: q.correct, classes: q.classes, stepScores: groups.get(q.id)!.map((c) => asCandidate(c, scheme).stepScores!)}));
        const bon = evaluateBon(questions, {sizes: [n], subsets: o.subsets, seed: o.seed, bonAggregations: aggregations, voteAggregations: []});
        const accuracy: SchemeResult["accuracy"] = {};
        for (const a of aggregations) {
            const p = bon.methods.find((m) => m.id === `bon-${a}`)!.points[0];
            accuracy[a] = {accuracy: p.accuracy, interval: p.interval, perQuestion: p.perQuestion};
        }
        const meanStepsInterval = bootstrapMean(
            candidates.map((c) => c.scores[scheme].length),
            {resamples: 1000},
        );
        const lowestStep = lowestStepStats(candidates.map((c) => c.scores[scheme]));
        return {scheme, meanSteps: meanStepsInterval.value, meanStepsInterval, lowestStep, accuracy, questions, bon};
    });
    const paired = aggregations.flatMap((a) => {
        const at = (s: SchemeResult) => ({id: `${s.scheme}/${a}`, perQuestion: s.accuracy[a]!.perQuestion});
        return schemes.slice(1).map((s) => pairedAccuracy(at(schemes[0]), at(s), `BoN (${a}): ${s.scheme} − ${schemes[0].scheme} positions`));
    });
    const ref = (id: string) => schemes[0].bon.methods.find((m) => m.id === id)!.points[0].accuracy;
    return {n, questions: first.length, candidates: candidates.length, aggregations, schemes, paired, baselines: {pass: ref("pass"), maj: ref("maj"), first: ref("first")}, grading: stats};
}
