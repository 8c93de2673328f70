/**
 * A quick, dependency-free check of a lab policy with the JS forward pass: greedy (or sampled)
 * solutions of held-out problems, graded by the lab answer check. For monitoring training; the
 * real evaluation runs the GGUF through the llama engine.
 */
import {generateProblems, checkAnswer, type LabProblem} from "../../../domains/lab/index.ts";
import {CharTokenizer, type CharVocab} from "../../../model/vocab.ts";
import {LlamaRunner, softmax} from "../../../model/forward.ts";
import {Sfc32Rng as Rng} from "../../../util/rng.ts";
import type {LlamaConfig} from "../../../model/config.ts";
import type {LlamaWeights} from "../../../model/weights.ts";
import {policyPrompt} from "../../../domains/lab/format.ts";

/** Generate a solution for `question`: greedy at temperature 0, else sampled with `rng`. */
export function generateSolution(runner: LlamaRunner, tokenizer: CharTokenizer, question: string, options: {temperature?: number; rng?: Rng; maxTokens?: number} = {}): string {
    runner.reset();
    const prompt = tokenizer.encode(policyPrompt(question), {addBos: true});
    let logits: Float32Array = new Float32Array(0);
    for (const t of prompt) logits = runner.feed(t);
    const out: number[] = [];
    const temperature = options.temperature ?? 0;
    const maxTokens = Math.min(options.maxTokens ?? 300, runner.config.contextLength - prompt.length);
    for (let i = 0; i < maxTokens; i++) {
        let next = 0;
        if (temperature <= 0) {
            for (let v = 1; v < logits.length; v++) if (logits[v] > logits[next]) next = v;
        } else {
            const p = softmax(logits, temperature);
            let u = (options.rng ?? new Rng(i)).next();
            next = p.length - 1;
            for (let v = 0; v < p.length; v++) if ((u -= p[v]) < 0) { next = v; break; }
        }
        if (next === tokenizer.vocab.eosId) break;
        out.push(next);
        logits = runner.feed(next);
    }
    return tokenizer.decode(out);
}

export interface QuickEval {
    n: number;
    greedyAccuracy: number;
    /** Greedy accuracy by number of operations. */
    byOps: Record<number, {n: number; accuracy: number}>;
    examples: Array<{question: string; output: string; correct: boolean}>;
}

/** Greedy accuracy on the first `n` held-out problems of a lab stream (seed 12345 by default). */
export function quickGreedyEval(config: LlamaConfig, weights: LlamaWeights, vocab: CharVocab, options: {n?: number; preset?: string; seed?: number} = {}): QuickEval {
    const problems: LabProblem[] = generateProblems(options.n ?? 50, {preset: options.preset ?? "policy", seed: options.seed ?? 12345, split: "heldout"});
    const runner = new LlamaRunner(config, weights);
    const tokenizer = new CharTokenizer(vocab);
    const byOps: Record<number, {n: number; accuracy: number}> = {};
    const examples: QuickEval["examples"] = [];
    let correct = 0;
    for (const p of problems) {
        const output = generateSolution(runner, tokenizer, p.question);
        const ok = checkAnswer(p, output).correct;
        correct += ok ? 1 : 0;
        const b = (byOps[p.ops] ??= {n: 0, accuracy: 0});
        b.accuracy = (b.accuracy * b.n + (ok ? 1 : 0)) / (b.n + 1);
        b.n++;
        examples.push({question: p.question, output, correct: ok});
    }
    return {n: problems.length, greedyAccuracy: correct / problems.length, byOps, examples};
}
