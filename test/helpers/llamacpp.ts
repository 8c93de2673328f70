/** Test helper: next-token probabilities from node-llama-cpp for a stepwise GGUF. */
import {getSharedLlama} from "../../src/engines/llama/engine.ts";

/** The shared CPU-only llama.cpp instance (the one the llama engine uses). */
export const cpuLlama = getSharedLlama;

/**
 * Evaluate `tokens` once and return, for each position in `positions`, the full next-token
 * distribution after tokens[0..pos] as a dense array over the vocabulary.
 */
export async function llamaCppNextTokenProbs(modelPath: string, tokens: number[], positions: number[], vocabSize: number): Promise<Float64Array[]> {
    const llama = await cpuLlama();
    const model = await llama.loadModel({modelPath});
    try {
        const ctx = await model.createContext({
            contextSize: 512,
            threads: 1,
            flashAttention: false,
            experimentalKvCacheKeyType: "F32",
            experimentalKvCacheValueType: "F32",
        });
        const seq = ctx.getSequence();
        const wanted = new Set(positions);
        const input = tokens.map((t, i) => (wanted.has(i) ? ([t, {generateNext: {probabilities: true}}] as [number, {generateNext: {probabilities: boolean}}]) : t));
        const out = await seq.controlledEvaluate(input as never);
        const result = positions.map((pos) => {
            const dense = new Float64Array(vocabSize);
            for (const [id, p] of out[pos]!.next.probabilities!) dense[id as number] = p;
            return dense;
        });
        await ctx.dispose();
        return result;
    } finally {
        await model.dispose();
    }
}
