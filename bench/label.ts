/**
 * `npm run bench -- label`: what Monte-Carlo labelling costs with each saver, on the same lab
 * samples, seed and policy: rollouts and generated tokens per sample for naive labelling
 * (every step, K rollouts, no early stop) and for each saver and all of them together, for
 * adaptive and newline steps, with the agreement of first-negative positions with naive.
 *
 * Needs models/lab-policy.gguf (or --model=FILE). Flags: --problems=N (default 40), --k=K (8).
 */
import {existsSync} from "node:fs";
import {LlamaEngine} from "../src/engines/llama/engine.ts";
import {generateProblems} from "../src/domains/lab/index.ts";
import {labPrompt, LAB_MAX_TOKENS, quantile} from "../src/apps/lab/eval/policy.ts";
import {labelSample, summarizeLabels, type LabelledRecord, type LabelSettings} from "../src/pipeline/label/index.ts";
import {labTruth, labVerifier} from "../src/domains/lab/verifier.ts";
import {parseStrategy, toStepsRecord} from "../src/pipeline/split/index.ts";
import {sampleId, type SampleRecord} from "../src/core/records.ts";

function flag(flags: string[], name: string, fallback: number): number {
    const f = flags.find((x) => x.startsWith(`--${name}=`));
    return f ? Number(f.split("=")[1]) : fallback;
}

const CONFIGS: Array<{name: string; settings: LabelSettings}> = [
    {name: "naive", settings: {stopAfterNegative: false}},
    {name: "stop-after-negative", settings: {stopAfterNegative: true}},
    {name: "early-stop", settings: {stopAfterNegative: false, earlyStop: true}},
    {name: "binary-search", settings: {search: "binary"}},
    {name: "binary-search+early-stop", settings: {stopAfterNegative: true, earlyStop: true, search: "binary"}},
    // what `stepwise label --savers` runs
    {name: "all-savers", settings: {stopAfterNegative: true, earlyStop: true, chunk: 1, search: "hybrid"}},
];

export default async function run(flags: string[]): Promise<void> {
    const model = flags.find((x) => x.startsWith("--model="))?.split("=")[1] ?? new URL("../models/lab-policy.gguf", import.meta.url).pathname;
    if (!existsSync(model)) {
        console.log(JSON.stringify({name: "label", skipped: `${model} not found: train the lab policy first (stepwise lab train-policy)`}));
        return;
    }
    const nProblems = flag(flags, "problems", 40);
    const K = flag(flags, "k", 8);
    const engine = await LlamaEngine.load(model, {sequences: K, contextSize: 1024});
    const verify = await labVerifier.create();
    try {
        const problems = generateProblems(nProblems, {seed: 4242, split: "heldout"});
        const samples: SampleRecord[] = [];
        for (const p of problems) {
            const [s] = await engine.generate({prompt: labPrompt(p), n: 1, seed: 7, temperature: 1, maxTokens: LAB_MAX_TOKENS, topLogprobs: 0});
            samples.push({
                id: sampleId(p.id, 0),
                question_id: p.id,
                sample_index: 0,
                question: p.question,
                prompt: labPrompt(p),
                text: s.text,
                tokens: s.tokens,
                finish_reason: s.finishReason,
                gold: p.answer,
                engine: `llama:${model}`,
                seed: 7,
                temperature: 1,
            });
        }
        const confidences = Float64Array.from(samples.flatMap((s) => s.tokens.map((t) => t.confidence))).sort();
        const tau = quantile(confidences, 0.02);
        const costBySplit: Record<string, {naive: number; all: number}> = {};
        for (const split of ["adaptive", "newline"]) {
            const strategy = parseStrategy(split, {tau});
            const records = samples.map((s) => toStepsRecord(s, strategy));
            const stepsPerSample = records.reduce((a, r) => a + r.steps.length, 0) / records.length;
            let naive: LabelledRecord[] = [];
            for (const c of CONFIGS) {
                const t0 = performance.now();
                const out: LabelledRecord[] = [];
                for (const r of records) out.push(await labelSample(r, {engine, verifier: "lab", verify, k: K, maxTokens: LAB_MAX_TOKENS, truth: labTruth, ...c.settings}));
                const seconds = (performance.now() - t0) / 1000;
                if (c.name === "naive") naive = out;
                const s = summarizeLabels(out);
                const naiveS = summarizeLabels(naive);
                const agree = out.filter((r, i) => r.first_negative === naive[i].first_negative).length / out.length;
                if (c.name === "naive") costBySplit[split] = {naive: s.generated_tokens_per_sample, all: NaN};
                if (c.name === "all-savers") costBySplit[split].all = s.generated_tokens_per_sample;
                console.log(
                    JSON.stringify({
                        name: "label",
                        split,
                        saver: c.name,
                        samples: out.length,
                        steps_per_sample: Math.round(stepsPerSample * 100) / 100,
                        K,
                        rollouts_per_sample: Math.round(s.rollouts_per_sample * 10) / 10,
                        generated_tokens_per_sample: Math.round(s.generated_tokens_per_sample),
                        token_share_of_naive: Math.round((s.generated_tokens / naiveS.generated_tokens) * 1000) / 1000,
                        first_negative_agreement_with_naive: Math.round(agree * 1000) / 1000,
                        first_negative_matches_truth: s.truth ? Math.round(s.truth.first_negative_match * 1000) / 1000 : null,
                        seconds: Math.round(seconds * 10) / 10,
                    }),
                );
            }
        }
        console.log(
            JSON.stringify({
                name: "label",
                summary: "adaptive vs newline",
                tau,
                naive_tokens_per_sample: {adaptive: Math.round(costBySplit.adaptive.naive), newline: Math.round(costBySplit.newline.naive)},
                adaptive_saving_vs_newline_naive: Math.round((1 - costBySplit.adaptive.naive / costBySplit.newline.naive) * 1000) / 1000,
                all_savers_tokens_per_sample: {adaptive: Math.round(costBySplit.adaptive.all), newline: Math.round(costBySplit.newline.all)},
            }),
        );
    } finally {
        await engine.close();
    }
}
