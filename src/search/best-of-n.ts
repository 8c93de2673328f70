/**
 * PRM Best-of-N as a decoder: sample N solutions, score every step with the PRM, aggregate each
 * solution's step scores (config.aggregation: min, max, mean, product or last; the Qwen PRM paper
 * §3 / AdaptiveStep's BoN evaluation) and return the best one.
 *
 * The pick is the one Best-of-N selector's (src/select/best-of-n.ts, as `eval bon` uses): ties go
 * to the first sampled candidate; unfinished candidates (no final answer, or out of tokens) are
 * never picked unless config.allowUnfinished, or unless no candidate finished (rule "fallback";
 * the result then says finished: false and has no answer).
 * Samples are split into steps where the PRM reads them: after decision tokens (adaptive) or at a
 * delimiter (config.stepEnd).
 *
 * Context ends: a sample the policy's context cut is "length", so unfinished. A sample whose PRM
 * input is longer than the PRM's context gets no score ({@link ScoredCandidate.unscored}: score
 * NaN, below every number; null in the JSON trace) and is not eligible; when no sample has a score the
 * result is the first sample, unfinished (no answer), with `context_end: "prm"`.
 */
import {aggregate} from "../select/aggregate.ts";
import {eligibleCandidates, selectBestOfN} from "../select/best-of-n.ts";
import {isCutOff} from "../grade/finished.ts";
import {isFinishedSolution, problemSeed, requirePrm, result, splitSample} from "./common.ts";
import {Meter} from "./prm.ts";
import {resolveConfig, type CandidateTrace, type DecodeResult, type SearchConfig, type SearchContext, type SearchProblem} from "./types.ts";
import {graderOf} from "./common.ts";

/** One sampled and scored candidate. */
export interface ScoredCandidate {
    text: string;
    answer: string | null;
    finished: boolean;
    stepScores: number[];
    /** Its PRM input was longer than the PRM's context: no step scores (stepScores empty). */
    unscored?: boolean;
    /** Cut short of the token budget: the policy's context ended it. */
    contextEnd?: boolean;
}

/** Sample config.n solutions at config.temperature and score their steps (shared by Best-of-N and the weighted vote). */
export async function sampleAndScore(problem: SearchProblem, ctx: SearchContext, config: SearchConfig, meter: Meter, purpose: string): Promise<ScoredCandidate[]> {
    const prm = requirePrm(ctx, purpose);
    const samples = await ctx.policy.generate({
        prompt: problem.prompt,
        n: config.n,
        temperature: config.temperature,
        topP: config.topP,
        seed: problemSeed(config, problem, "sample"),
        maxTokens: config.maxTokens,
        stop: config.stop,
        topLogprobs: 0,
    });
    meter.requests++;
    for (const s of samples) meter.tokens += s.tokens.length;
    const grader = graderOf(ctx);
    const scores = await prm.tryScoreMany(
        problem.question,
        samples.map((s) => splitSample(s.text, s.tokens, config)),
        meter,
    );
    // A cut-off sample has no answer: it neither votes nor is graded (src/grade/finished.ts).
    return samples.map((s, i) => {
        const cut = isCutOff(s.finishReason);
        const row = scores[i];
        return {text: s.text, answer: cut ? null : grader.extract(s.text), finished: isFinishedSolution(s.text, cut), stepScores: row ?? [], ...(row ? {} : {unscored: true}), ...(s.finishReason === "length" && s.tokens.length < config.maxTokens ? {contextEnd: true} : {})};
    });
}

/**
 * Indices of the candidates a decoder may pick: the finished ones (all when allowed or when none
 * finished; src/select rule "fallback"), never an unscored one while any candidate has a score.
 */
export function eligible(candidates: ReadonlyArray<Pick<ScoredCandidate, "finished" | "unscored">>, allowUnfinished: boolean): number[] {
    const scored = candidates.map((_, i) => i).filter((i) => !candidates[i].unscored);
    if (!scored.length) return eligibleCandidates(candidates.map((c) => c.finished), allowUnfinished ? "allow" : "fallback");
    return eligibleCandidates(scored.map((i) => candidates[i].finished), allowUnfinished ? "allow" : "fallback").map((k) => scored[k]);
}

/** Aggregated step scores of each candidate (NaN for an unscored one: below every number in src/select). */
export function candidateScores(candidates: ReadonlyArray<ScoredCandidate>, aggregation: SearchConfig["aggregation"]): number[] {
    return candidates.map((c) => (c.unscored ? NaN : aggregate(c.stepScores, aggregation)));
}

export function candidateTrace(candidates: ScoredCandidate[], scores: number[], chosen: number): CandidateTrace[] {
    return candidates.map((c, i) => ({type: "candidate", index: i, answer: c.answer, finished: c.finished, step_scores: c.stepScores, score: c.unscored ? NaN : scores[i], chosen: i === chosen}));
}

/** The result of a sampling decoder that chose candidate `chosen` (unfinished, context_end "prm" when it has no score). */
export function candidateResult(strategy: string, candidates: ScoredCandidate[], scores: number[], chosen: number, meter: Meter, ctx: SearchContext): DecodeResult {
    const c = candidates[chosen];
    return result(strategy, c.text, c.finished && !c.unscored, meter, candidateTrace(candidates, scores, chosen), ctx, c.unscored ? {context_end: "prm"} : c.contextEnd ? {context_end: "policy"} : {});
}

/** The best-of-n decoder (strategy "best-of-n"; see the module docs). */
export async function bestOfNDecode(problem: SearchProblem, ctx: SearchContext): Promise<DecodeResult> {
    const config = resolveConfig(ctx.config);
    const meter = new Meter();
    const candidates = await sampleAndScore(problem, ctx, config, meter, "best-of-n");
    const scores = candidateScores(candidates, config.aggregation);
    const best = selectBestOfN(scores, {ties: "first"}, eligible(candidates, config.allowUnfinished));
    return candidateResult("best-of-n", candidates, scores, best, meter, ctx);
}
