/**
 * Small helpers shared by the strategies: seeds, answers, "finished", step splitting of whole
 * samples, and assembling a {@link DecodeResult}.
 */
import {StepwiseError, type GeneratedToken} from "../engines/types.ts";
import {defaultGrader, type AnswerGrader} from "../eval/grader.ts";
import {isFinished} from "../grade/index.ts";
import {deriveSeed, hashString} from "../util/rng.ts";
import type {Meter, SearchPrm} from "./prm.ts";
import {decisionCutoff, type DecodeResult, type SearchConfig, type SearchContext, type SearchProblem, type TraceEvent} from "./types.ts";

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
 * Steps of a whole sample for PRM scoring: cut after every decision token (adaptive) or after
 * every delimiter (kept in its step). A sample without a cut is one step; a blank step joins its neighbour.
 */
export function splitSample(text: string, tokens: ReadonlyArray<Pick<GeneratedToken, "text" | "confidence">>, config: SearchConfig): string[] {
    const steps: string[] = [];
    if (config.stepEnd.kind === "delimiter") {
        const d = config.stepEnd.text;
        let start = 0;
        for (let at = text.indexOf(d); at >= 0; at = text.indexOf(d, at + d.length)) {
            steps.push(text.slice(start, at + d.length));
            start = at + d.length;
        }
        if (start < text.length) steps.push(text.slice(start));
    } else {
        const cutoff = decisionCutoff(config);
        let cur = "";
        for (const t of tokens) {
            cur += t.text;
            if (t.confidence < cutoff) {
                steps.push(cur);
                cur = "";
            }
        }
        if (cur) steps.push(cur);
    }
    // A blank step (a decision token that is only whitespace) joins the step before it.
    const merged: string[] = [];
    for (const s of steps) {
        if (s.trim() === "" && merged.length) merged[merged.length - 1] += s;
        else if (merged.length && merged[merged.length - 1].trim() === "") merged[merged.length - 1] += s;
        else merged.push(s);
    }
    return merged;
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
