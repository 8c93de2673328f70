/**
 * Small helpers shared by the strategies: seeds, answers, "finished", step splitting of whole
 * samples (through src/steps, the one splitter), and assembling a {@link DecodeResult}.
 */
import {type GeneratedToken} from "../engines/types.ts";
import {StepwiseError} from "../util/errors.ts";
import {defaultGrader, type AnswerGrader} from "../grade/grader.ts";
import {isFinished} from "../grade/index.ts";
import {deriveSeed, hashString} from "../util/rng.ts";
import type {Meter, SearchPrm} from "./prm.ts";
import {splitStepTexts} from "../steps/index.ts";
import {stepRuleOf, type DecodeResult, type SearchConfig, type SearchContext, type SearchProblem, type TraceEvent} from "./types.ts";

/** The seed of one problem's random draws for one purpose (strategy, iteration, subtree…). */
export function problemSeed(config: Pick<SearchConfig, "seed">, problem: Pick<SearchProblem, "id">, ...parts: Array<string | number>): number {
    return deriveSeed(config.seed, hashString(problem.id), ...parts);
}

export function graderOf(ctx: SearchContext): AnswerGrader {
    return ctx.grader ?? defaultGrader();
}

export function requirePrm(ctx: SearchContext, strategy: string): SearchPrm {
    if (!ctx.prm) throw new StepwiseError(`decode --strategy ${strategy} needs a PRM (--prm SPEC)`);
    return ctx.prm;
}

/**
 * A finished solution (src/grade `isFinished`, shared with Best-of-N evaluation): it states a
 * final answer and was not cut off by the token budget (a truncated output is never finished,
 * whatever its last words look like).
 */
export function isFinishedSolution(text: string, endedByLength: boolean): boolean {
    return isFinished({text, finishReason: endedByLength ? "length" : "stop"});
}

/**
 * Steps of a whole sample for PRM scoring: src/steps with the decoders' rule ({@link stepRuleOf}),
 * the very steps `stepwise split` gives the same tokens (adaptive: after every decision token, a
 * whitespace decision token being a step of its own; delimiter: after the token holding the
 * delimiter's last character, blank steps merged). A sample without a cut is one step.
 * Throws a StepwiseError when the token texts do not concatenate to `text`.
 */
export function splitSample(text: string, tokens: ReadonlyArray<Pick<GeneratedToken, "text" | "confidence">>, config: SearchConfig): string[] {
    return splitStepTexts({text, tokens}, stepRuleOf(config));
}

/** Build the result record of a strategy. */
export function result(strategy: string, text: string, finished: boolean, meter: Meter, trace: TraceEvent[], ctx: SearchContext, extra: Partial<DecodeResult> = {}): DecodeResult {
    return {
        strategy,
        text,
        // An unfinished solution (cut off by the token budget, or without any answer) is never graded as an answer.
        answer: finished ? graderOf(ctx).extract(text) : null,
        finished,
        tokens: meter.tokens,
        prm_calls: meter.prmCalls,
        requests: meter.requests,
        trace,
        ...extra,
    };
}
