/**
 * `npm run bench -- score`: steps scored per second by a tag PRM when a whole solution is read in
 * one forward pass (every tag at once) vs when every step prefix is scored separately (one pass
 * per step, as a PRM without multi-tag reading would), on 8-step lab solutions, through the
 * llama engine and through `stepwise serve` + the OpenAI engine (STEP pooling).
 *
 * PRM: models/lab-tag-prm.gguf (the tag PRM; the shipped pair lab-prm.gguf takes its step scores
 * from it) when present, else a random-weight model of the same shape.
 * Flags: --solutions=N (default 40).
 */
import {existsSync, mkdtempSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {LlamaEngine} from "../src/engines/llama/engine.ts";
import {OpenAIEngine} from "../src/engines/openai/engine.ts";
import {startServer} from "../src/apps/serve/server.ts";
import {generateProblems} from "../src/domains/lab/index.ts";
import {PoolingPrmScorer, TagPrmScorer, resolveFormat, type StepScorer} from "../src/prm/index.ts";
import {writeLlamaGguf} from "../src/gguf/index.ts";
import {randomLlamaWeights} from "../src/model/weights.ts";
import {makeLlamaConfig} from "../src/model/config.ts";
import {buildCharVocab} from "../src/model/vocab.ts";

function prmModel(): string {
    const shipped = new URL("../models/lab-tag-prm.gguf", import.meta.url).pathname;
    if (existsSync(shipped)) return shipped;
    const vocab = buildCharVocab();
    const config = makeLlamaConfig({vocabSize: vocab.tokens.length, dModel: 96, nLayers: 3, nHeads: 3, contextLength: 512});
    const path = join(mkdtempSync(join(tmpdir(), "stepwise-bench-")), "random-prm.gguf");
    writeLlamaGguf(path, {config, weights: randomLlamaWeights(config, 2), vocab, kind: "prm"});
    return path;
}

/** 8-step solutions: 5-operation lab solutions cut into 8 roughly equal character spans. */
function solutions(n: number): Array<{question: string; steps: string[]}> {
    return generateProblems(n, {seed: 99, split: "heldout", knobs: {minOps: 5, maxOps: 5}}).map((p) => {
        const text = p.solution;
        const cuts = Array.from({length: 9}, (_, i) => Math.round((i * text.length) / 8));
        return {question: p.question, steps: cuts.slice(0, 8).map((c, i) => text.slice(c, cuts[i + 1]))};
    });
}

type Mode = "one-pass" | "per-prefix" | "per-prefix-cached";

/**
 * Steps scored per second. per-prefix scores prefixes round-robin over the solutions, so no call
 * extends the previous one (each prefix is evaluated from scratch, as independent requests are);
 * per-prefix-cached scores a solution's prefixes one after the other, so the llama engine's KV
 * cache reuse evaluates only each new step.
 */
async function rate(scorer: StepScorer, items: Array<{question: string; steps: string[]}>, mode: Mode): Promise<number> {
    const t0 = performance.now();
    if (mode === "one-pass") for (const it of items) await scorer.scoreSteps(it.question, it.steps);
    else if (mode === "per-prefix-cached") for (const it of items) for (let i = 1; i <= it.steps.length; i++) await scorer.scoreSteps(it.question, it.steps.slice(0, i));
    else for (let i = 1; i <= 8; i++) for (const it of items) await scorer.scoreSteps(it.question, it.steps.slice(0, i));
    return (items.length * 8) / ((performance.now() - t0) / 1000);
}

export default async function run(flags: string[]): Promise<void> {
    const n = Number(flags.find((f) => f.startsWith("--solutions="))?.split("=")[1] ?? 40);
    const path = prmModel();
    const items = solutions(n);
    const format = resolveFormat("stepwise-lab");
    const engine = await LlamaEngine.load(path, {sequences: 1, contextSize: 512});
    const local = new TagPrmScorer(engine, format);
    await local.scoreSteps(items[0].question, items[0].steps); // warm-up
    const onePass = await rate(local, items, "one-pass");
    const prefixes = await rate(local, items, "per-prefix");
    const cached = await rate(local, items, "per-prefix-cached");

    const vocab = buildCharVocab();
    const server = await startServer({engine, port: 0, modelName: "prm", pooling: {stepTagId: vocab.stepTagId, returnedTokenIds: [vocab.goodId, vocab.badId]}});
    const client = await OpenAIEngine.connect({baseUrls: [server.url + "/v1"], model: "prm"});
    const remote = new PoolingPrmScorer(client, format);
    const httpOnePass = await rate(remote, items, "one-pass");
    const httpPrefixes = await rate(remote, items, "per-prefix");
    await client.close();
    await server.close();
    await engine.close();
    const r = (x: number) => Math.round(x * 10) / 10;
    console.log(
        JSON.stringify({
            name: "score",
            prm: path.split("/").pop(),
            solutions: n,
            steps_per_solution: 8,
            llama_one_pass_steps_per_s: r(onePass),
            llama_per_prefix_steps_per_s: r(prefixes),
            llama_ratio: r(onePass / prefixes),
            llama_per_prefix_kv_reuse_steps_per_s: r(cached),
            llama_ratio_vs_kv_reuse: r(onePass / cached),
            serve_one_pass_steps_per_s: r(httpOnePass),
            serve_per_prefix_steps_per_s: r(httpPrefixes),
            serve_ratio: r(httpOnePass / httpPrefixes),
            ratio_target: 5,
        }),
    );
}
