/**
 * How good a PRM is on the lab, against exact ground truth. From policy samples of held-out
 * problems (several per problem) and a PRM:
 * - step-level ROC-AUC of the PRM score against true step correctness (adaptive steps, or line
 *   breaks with `scheme: "newline"`, up to and including the first wrong one: after it, "correct"
 *   is undefined), with a 95% bootstrap interval over samples (1,000 resamples, seed 0);
 * - lab-ProcessBench: first step below the threshold vs the true first wrong step (acc on erroneous,
 *   acc on correct, F1), at 0.5 and at the F1-best threshold;
 * - Best-of-N with every aggregation, maj@N and pass@N, against the policy's greedy accuracy;
 * - the Qwen paper's analyses and AdaptiveStep's rating-position test (src/eval/analyze).
 */
import {checkAnswer, extractAnswer} from "../../../domains/lab/index.ts";
import type {SampleRecord} from "../../../core/records.ts";
import type {StepScorer} from "../../../prm/scorer.ts";
import {rocAuc} from "../../../prm/metrics.ts";
import {labTruth} from "../../../domains/lab/verifier.ts";
import {splitSample} from "../../../pipeline/split/index.ts";
import {scorePositions, runAnalyses, type AnalyzeResult, type PositionCandidate} from "../../../eval/analyze/index.ts";
import {processIntervals, processMetrics, type ProcessMetrics} from "../../../eval/processbench/metrics.ts";
import {bootstrapInterval, intervalJson, type IntervalJson} from "../../../stats/intervals.ts";
import {calibrateThreshold, firstBelow} from "../../../eval/processbench/threshold.ts";
import {evaluateBon, type BonResult} from "../../../eval/bon/evaluate.ts";
import {bonSummary, type BonSummary} from "../../../eval/bon/report.ts";
import {buildQuestions, type Candidate} from "../../../eval/bon/load.ts";
import type {AnswerGrader} from "../../../grade/grader.ts";

/** Lab answers: the integer of the first answer line; equal when the integers are. */
export const labGrader: AnswerGrader = {
    extract: (text) => extractAnswer(text),
    equal: (a, b) => a === b,
};

export interface LabPrmEvalOptions {
    /** Policy samples of lab problems (question = the lab question, gold = its answer). */
    samples: SampleRecord[];
    scorer: Pick<StepScorer, "scoreSteps">;
    /** τ of the adaptive split. */
    tau: number;
    /** Where the PRM's scores are read for the AUC, ProcessBench and Best-of-N: adaptive steps (default) or line breaks. */
    scheme?: "adaptive" | "newline";
    /** The policy's greedy accuracy on the same problems, shown beside Best-of-N. */
    greedyAccuracy?: number;
    subsets?: number;
    seed?: number;
    concurrency?: number;
    onProgress?: (done: number, total: number) => void;
}

export interface LabPrmEval {
    samples: number;
    scheme: "adaptive" | "newline";
    questions: number;
    candidates_per_question: number;
    /** Steps compared for the AUC, and the AUC. */
    steps: number;
    step_auc: number;
    /** 95% interval of step_auc: percentile bootstrap over samples (a sample's steps stay together; 2,000 resamples, seed 0); null when the AUC is undefined. */
    step_auc_ci: IntervalJson | null;
    /** At threshold 0.5, and at the threshold with the best F1 (absent when F1 is undefined); each with 95% intervals (Wilson accuracies, bootstrap F1; fractions). */
    processbench: {at_half: LabProcessBench; best?: LabProcessBench};
    greedy_accuracy?: number;
    bon: BonSummary;
    analyses: AnalyzeResult;
    /** Every sample's step scores at the positions read (`scheme`), its question and whether its answer is right, in input order. */
    sample_scores: Array<{id: string; question_id: string; correct: boolean; step_scores: number[]}>;
}

/** lab-ProcessBench figures at one threshold, with their intervals. */
export type LabProcessBench = ProcessMetrics & {threshold: number; acc_error_ci: IntervalJson | null; acc_correct_ci: IntervalJson | null; f1_ci: IntervalJson | null};

export async function evaluateLabPrm(o: LabPrmEvalOptions): Promise<LabPrmEval> {
    const correct = new Map(o.samples.map((s) => [s.id, checkAnswer(s.question, s.text).correct]));
    const positioned: PositionCandidate[] = await scorePositions(
        o.samples.map((s) => ({...s, correct: correct.get(s.id)})),
        o.scorer,
        {tau: o.tau, seed: o.seed ?? 0, concurrency: o.concurrency, onProgress: o.onProgress},
    );
    const byId = new Map(o.samples.map((s) => [s.id, s]));

    // Step AUC and lab-ProcessBench on adaptive steps.
    const scores: number[] = [];
    const truths: number[] = [];
    /** The steps of sample i are scores[stepStart[i] .. stepStart[i + 1]). */
    const stepStart: number[] = [];
    const pb: Array<{scores: number[]; label: number}> = [];
    const splits = {name: "lab", samples: [] as Array<{id: string; where: string; label: number; scores: number[]; finalAnswerCorrect: boolean}>};
    const scheme = o.scheme ?? "adaptive";
    for (const c of positioned) {
        const s = byId.get(c.id)!;
        const steps = splitSample(s, scheme === "adaptive" ? {kind: "adaptive", tau: o.tau} : {kind: "newline"});
        const truth = labTruth({question: s.question, text: s.text, steps});
        const sc = c.scores[scheme];
        stepStart.push(scores.length);
        truth.correct.forEach((t, i) => {
            if (t === null) return;
            scores.push(sc[i]);
            truths.push(t ? 1 : 0);
        });
        pb.push({scores: sc, label: truth.first_error});
        splits.samples.push({id: c.id, where: c.id, label: truth.first_error, scores: sc, finalAnswerCorrect: correct.get(c.id) ?? false});
    }
    stepStart.push(scores.length);
    const metricsAt = (threshold: number): LabProcessBench => {
        const labels = pb.map((p) => p.label);
        const predictions = pb.map((p) => firstBelow(p.scores, threshold));
        const iv = processIntervals(labels, predictions);
        const j = (x: typeof iv.f1) => (x ? intervalJson(x) : null);
        return {...processMetrics(labels, predictions), threshold, acc_error_ci: j(iv.accError), acc_correct_ci: j(iv.accCorrect), f1_ci: j(iv.f1)};
    };
    const stepAuc = rocAuc(scores, truths);
    // Resample samples, not steps: the steps of one solution are not independent.
    const stepAucCi = Number.isFinite(stepAuc)
        ? intervalJson(
              bootstrapInterval(stepStart.length - 1, (idx) => {
                  const s: number[] = [];
                  const t: number[] = [];
                  for (let k = 0; k < idx.length; k++)
                      for (let i = stepStart[idx[k]]; i < stepStart[idx[k] + 1]; i++) {
                          s.push(scores[i]);
                          t.push(truths[i]);
                      }
                  return rocAuc(s, t);
              }, {resamples: 1000}),
          )
        : null;
    let best: number | null = null;
    try {
        best = calibrateThreshold(pb).threshold;
    } catch {
        // no erroneous or no correct samples: F1 is undefined at every threshold
    }

    // Best-of-N on the adaptive scores.
    const candidates: Candidate[] = positioned.map((c) => ({
        questionId: c.questionId,
        id: c.id,
        text: c.text,
        answer: null,
        gold: c.gold,
        correct: c.correct,
        stepScores: c.scores[scheme],
        where: c.id,
    }));
    const {questions, stats} = buildQuestions(candidates, labGrader);
    const bon: BonResult = evaluateBon(questions, {subsets: o.subsets ?? 200, seed: o.seed ?? 0});
    const perQuestion = Math.min(...questions.map((q) => q.n));
    const analyses = runAnalyses({
        processBench: {splits: [splits], threshold: 0.5},
        positions: {candidates: positioned, grader: labGrader},
    });
    return {
        samples: o.samples.length,
        scheme,
        questions: questions.length,
        candidates_per_question: perQuestion,
        steps: scores.length,
        step_auc: stepAuc,
        step_auc_ci: stepAucCi,
        processbench: {at_half: metricsAt(0.5), ...(best !== null ? {best: metricsAt(best)} : {})},
        ...(o.greedyAccuracy !== undefined ? {greedy_accuracy: o.greedyAccuracy} : {}),
        bon: bonSummary(bon, {grading: stats}),
        analyses,
        sample_scores: positioned.map((c) => ({id: c.id, question_id: c.questionId, correct: correct.get(c.id) ?? false, step_scores: c.scores[scheme]})),
    };
}
