/**
 * `npm run bench -- engine`: generation speed of stepwise's engines against a minimal
 * hand-written node-llama-cpp loop, measured side by side in one run on the same model,
 * prompts and settings, plus the number of prefix evaluations for K = 8 rollouts.
 *
 * Model: models/lab-policy.gguf when present, else a random-weight model of the same shape.
 * Flags: --prompts N (default 8), --n K (default 8), --max-tokens M (default 64), --model FILE.
 */
import {existsSync, mkdtempSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {Token} from "node-llama-cpp";
import {LlamaEngine, getSharedLlama} from "../src/engines/llama/engine.ts";
import {OpenAIEngine} from "../src/engines/openai/engine.ts";
import {startServer} from "../src/apps/serve/server.ts";
import {writeLlamaGguf} from "../src/gguf/index.ts";
import {randomLlamaWeights} from "../src/model/weights.ts";
import {makeLlamaConfig} from "../src/model/config.ts";
import {buildCharVocab} from "../src/model/vocab.ts";

function flag(flags: string[], name: string, fallback: number): number {
    const f = flags.find((x) => x.startsWith(`--${name}=`));
    return f ? Number(f.split("=")[1]) : fallback;
}

function benchModel(flags: string[]): string {
    const given = flags.find((x) => x.startsWith("--model="))?.split("=")[1];
    if (given) return given;
    const shipped = new URL("../models/lab-policy.gguf", import.meta.url).pathname;
    if (existsSync(shipped)) return shipped;
    const vocab = buildCharVocab();
    const config = makeLlamaConfig({vocabSize: vocab.tokens.length, dModel: 96, nLayers: 3, nHeads: 4, contextLength: 512});
    const path = join(mkdtempSync(join(tmpdir(), "stepwise-bench-")), "random-96x3.gguf");
    writeLlamaGguf(path, {config, weights: randomLlamaWeights(config, 1), vocab});
    return path;
}

export default async function run(flags: string[]): Promise<void> {
    const nPrompts = flag(flags, "prompts", 8);
    const K = flag(flags, "n", 8);
    const maxTokens = flag(flags, "max-tokens", 64);
    const modelPath = benchModel(flags);
    const prompts = Array.from({length: nPrompts}, (_, i) => `Compute ${12 + i} + ${7 * i} * 3.\n`);
    const settings = {temperature: 1, maxTokens, n: K};

    // 1. A minimal hand-written node-llama-cpp loop: one sequence, samples one after another.
    const llama = await getSharedLlama();
    const model = await llama.loadModel({modelPath});
    const ctx = await model.createContext({contextSize: 1024, threads: 1, flashAttention: false});
    const seq = ctx.getSequence();
    let handTokens = 0;
    const t0 = performance.now();
    for (const p of prompts) {
        for (let s = 0; s < K; s++) {
            await seq.clearHistory();
            let count = 0;
            for await (const token of seq.evaluate(model.tokenize(p, true) as Token[], {temperature: 1, seed: s})) {
                if (model.isEogToken(token) || ++count >= maxTokens) break;
            }
            handTokens += count;
        }
    }
    const handSeconds = (performance.now() - t0) / 1000;
    await ctx.dispose();
    await model.dispose();
    const handRate = handTokens / handSeconds;

    // 2. stepwise's llama engine (what `stepwise sample` runs): K samples per prompt in parallel sequences.
    const engine = await LlamaEngine.load(modelPath, {sequences: K, contextSize: 512});
    let engineTokens = 0;
    const t1 = performance.now();
    for (const p of prompts) {
        const samples = await engine.generate({prompt: p, seed: 1, ...settings});
        engineTokens += samples.reduce((a, s) => a + s.tokens.length, 0);
    }
    const engineSeconds = (performance.now() - t1) / 1000;
    const engineRate = engineTokens / engineSeconds;

    // 3. Prefix evaluations for K rollouts from one prefix.
    const before = engine.stats().prefixEvaluations;
    await engine.generate({prompt: prompts[0] + "First, 12 + 0 = 12, so", seed: 2, ...settings});
    const prefixEvaluations = engine.stats().prefixEvaluations - before;

    await engine.close();

    // 4. The same through `stepwise serve` and the OpenAI engine (server in this process, fresh
    //    engine so no prompt is already cached).
    const served = await LlamaEngine.load(modelPath, {sequences: K, contextSize: 512});
    const server = await startServer({engine: served, port: 0, modelName: "bench"});
    const client = await OpenAIEngine.connect({baseUrls: [server.url + "/v1"], model: "bench"});
    let httpTokens = 0;
    const t2 = performance.now();
    for (const p of prompts) {
        const samples = await client.generate({prompt: p, seed: 1, ...settings});
        httpTokens += samples.reduce((a, s) => a + s.tokens.length, 0);
    }
    const httpSeconds = (performance.now() - t2) / 1000;
    const httpRate = httpTokens / httpSeconds;
    await client.close();
    await server.close();
    await served.close();

    const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
    console.log(
        JSON.stringify({
            name: "engine",
            model: modelPath.split("/").pop(),
            prompts: nPrompts,
            n: K,
            max_tokens: maxTokens,
            handwritten_tokens_per_s: round(handRate),
            stepwise_sample_tokens_per_s: round(engineRate),
            ratio: round(engineRate / handRate, 2),
            ratio_target: 0.9,
            serve_openai_tokens_per_s: round(httpRate),
            serve_ratio: round(httpRate / handRate, 2),
            serve_ratio_target: 0.7,
            prefix_evaluations_for_8_rollouts: prefixEvaluations,
            prefix_evaluations_target: 1,
        }),
    );
}
