/**
 * Monte-Carlo estimation of one step: K rollouts from the prefix that ends with the step,
 * each checked by the verifier. With early stopping (hard labels only) rollouts are drawn in
 * chunks and sampling stops as soon as `k` rollouts succeeded; rollout j is the same whether
 * it was drawn in a chunk or in one request (see GenerateRequest.firstIndex).
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
}

export interface StepEstimate {
    n: number;
    correct: number;
    generatedTokens: number;
    requests: number;
}

export async function estimateStep(
    engine: Engine,
    verify: Verifier,
    input: {prompt: string; prefix: string; question: string; gold: string | undefined; seed: number},
    s: RolloutSettings,
): Promise<StepEstimate> {
    const chunk = s.earlyStop ? Math.max(1, s.chunk ?? 2) : s.k;
    const out: StepEstimate = {n: 0, correct: 0, generatedTokens: 0, requests: 0};
    while (out.n < s.k) {
        const n = Math.min(chunk, s.k - out.n);
        const samples = await engine.generate({
            prompt: input.prompt + input.prefix,
            n,
            firstIndex: out.n,
            seed: input.seed,
            temperature: s.temperature,
            maxTokens: s.maxTokens,
            topLogprobs: 0,
        });
        out.requests++;
        for (const r of samples) {
            out.n++;
            out.generatedTokens += r.tokens.length;
            if (await verify({question: input.question, gold: input.gold, solution: input.prefix + r.text})) out.correct++;
        }
        if (s.earlyStop && out.correct >= s.minCorrect) break;
    }
    return out;
}
