/**
 * Greedy decoding: the baseline every PRM-guided decoder is compared with. One generate call at
 * temperature 0 (the most likely token at every position), no PRM.
 */
import {isFinishedSolution, result} from "./common.ts";
import {Meter} from "./prm.ts";
import {resolveConfig, type DecodeResult, type SearchContext, type SearchProblem} from "./types.ts";

export async function greedy(problem: SearchProblem, ctx: SearchContext): Promise<DecodeResult> {
    const config = resolveConfig(ctx.config);
    const meter = new Meter();
    const [s] = await ctx.policy.generate({prompt: problem.prompt, n: 1, temperature: 0, maxTokens: config.maxTokens, stop: config.stop, topLogprobs: 0});
    meter.requests++;
    meter.tokens += s.tokens.length;
    // Cut short of the token budget: the engine stopped it at the policy's context end.
    const contextEnd = s.finishReason === "length" && s.tokens.length < config.maxTokens;
    return result("greedy", s.text, isFinishedSolution(s.text, s.finishReason === "length"), meter, [], ctx, {
        ...(contextEnd ? {context_end: "policy" as const} : {}),
        response_tokens: s.tokens.map((t) => ({text: t.text, confidence: t.confidence})),
    });
}
