/**
 * Monte-Carlo estimation of one step: K rollouts from the prefix that ends with the step,
 * each checked by the verifier. With early stopping (hard labels only) rollouts are drawn in
 * chunks and sampling stops as soon as `k` rollouts succeeded; rollout j is the same whether
 * it was drawn in a chunk or in one request (see GenerateRequest.firstIndex).
 *
 * Truncated rollouts — ones that hit `maxTokens` (finishReason "length") — have no final answer
 * to check. They are counted per step (`truncated`) and, by `truncated`:
 * - "fail" (default, the Math-Shepherd / Qwen estimate): they count as failed rollouts (not
 *   verified: a cut-off text's last number is not an answer);
 * - "skip": they count neither as rollouts nor as correct, so the estimate is over the rollouts
 *   that finished; a step whose rollouts all hit the limit has no estimate (n = 0).
 */
import type {Engine} from "../../engines/types.ts";
import type {Verifier} from "./verifiers.ts";

export interface RolloutSettings {
    /** Rollouts per step (K). */
    k: number;
    /** A step is positive when at least this many rollouts succeed. */
    minCorrect: number;
    /** Stop sampling a step as soon as `minCorrect` rollouts succeeded. */
    earlyStop: boolean;
    /** Rollouts per request when early stopping. Default 2. */
    chunk?: number;
    temperature: number;
    maxTokens: number;
    /** How rollouts that hit maxTokens count (see the module docs). Default "fail". */
    truncated?: TruncatedPolicy;
}

export type TruncatedPolicy = "fail" | "skip";

export interface StepEstimate {
    /** Rollouts that count (all drawn with "fail"; the finished ones with "skip"). */
    n: number;
    correct: number;
    /** Rollouts that hit maxTokens before an answer (counted in n only with "fail"). */
    truncated: number;
    /** Rollouts drawn (n + skipped truncated ones). */
    drawn: number;
    generatedTokens: number;
    requests: number;
}

export async function estimateStep(
    engine: Engine,
    verify: Verifier,
    input: {prompt: string; prefix: string; question: string; gold: string | undefined; seed: number; signal?: AbortSignal},
    s: RolloutSettings,
): Promise<StepEstimate> {
    const chunk = s.earlyStop ? Math.max(1, s.chunk ?? 2) : s.k;
    const out: StepEstimate = {n: 0, correct: 0, truncated: 0, drawn: 0, generatedTokens: 0, requests: 0};
    const skip = s.truncated === "skip";
    while (out.drawn < s.k) {
        const n = Math.min(chunk, s.k - out.drawn);
        const samples = await engine.generate({
            prompt: input.prompt + input.prefix,
            n,
            firstIndex: out.drawn,
            seed: input.seed,
            signal: input.signal,
            temperature: s.temperature,
            maxTokens: s.maxTokens,
            topLogprobs: 0,
        });
        out.requests++;
        for (const r of samples) {
            out.drawn++;
            out.generatedTokens += r.tokens.length;
            if (r.finishReason === "length") {
                out.truncated++;
                if (!skip) out.n++; // "fail": a rollout cut before its answer is a failed one (never verified)
                continue;
            }
            out.n++;
            if (await verify({question: input.question, gold: input.gold, solution: input.prefix + r.text})) out.correct++;
        }
        if (s.earlyStop && out.correct >= s.minCorrect) break;
    }
    return out;
}
