/** `stepwise sample`: n solutions per question with per-token confidences. */
import type {Command} from "@commander-js/extra-typings";
import {createEngine, ENGINE_SPEC_FORMS} from "../../engines/spec.ts";
import {createProgress} from "../progress.ts";
import {collect, floatOption, intOption, questionInput, questionOptions, reportTooLong, unescape} from "../options.ts";
import {plural} from "../../util/plural.ts";

export function register(program: Command): void {
    const command = program
        .command("sample")
        .description("sample n solutions per question, recording every token's confidence and top alternatives")
        .requiredOption("--engine <spec>", `model to sample from: ${ENGINE_SPEC_FORMS}`)
        .requiredOption("--data <file>", "questions: JSONL, JSON array or Parquet (GSM8K, MATH500, ProcessBench and lab shapes work as they are)")
        .requiredOption("--out <file>", "output JSONL, one record per sample; re-running the same command resumes it")
        .option("--n <k>", "samples per question", intOption(1, 10_000), 4)
        .option("--temperature <t>", "sampling temperature (0 = greedy)", floatOption(0, 10), 1)
        .option("--top-p <p>", "nucleus sampling mass", floatOption(0, 1), 1)
        .option("--top-k <k>", "sample among the k most likely tokens (0 = all)", intOption(0), 0)
        .option("--max-tokens <m>", "most tokens per sample", intOption(1), 256)
        .option("--stop <s>", "stop string (repeatable; \\n escapes allowed)", collect, [])
        .option("--top-logprobs <k>", "top alternatives recorded per token (0-20; default 0: none — the viewer shows them when present, nothing else reads them from files)", intOption(0, 20), 0)
        .option("--seed <s>", "base seed; each question derives its own from it and its id", intOption(0), 0);
    questionOptions(command, "model", ", copied into records")
        .option("--concurrency <c>", "questions in flight at once", intOption(1, 1024), 4)
        .option("--skip-too-long", "skip questions whose prompt does not fit the model's context (counted and listed) instead of stopping")
        .option("--adopt", "resume an --out that has no <out>.settings.json (copied or older outputs), vouching that this command's settings made it (its records are checked for engine, temperature, seed and prompt; max tokens, top-p/k and stop cannot be checked)")
        .option("--quiet", "no progress output")
        .addHelpText(
            "after",
            `
Examples:
  stepwise sample --engine llama:models/lab-policy.gguf --data problems.jsonl --n 16 --out samples.jsonl
  stepwise sample --engine "openai:http://127.0.0.1:8000/v1?model=Qwen/Qwen2.5-Math-7B-Instruct" \\
      --data ../shared/data/math500/test.jsonl --chat --system "Please reason step by step, and put your final answer within \\\\boxed{}." \\
      --n 8 --max-tokens 1024 --out math500-samples.jsonl

Each output record: {id: "<question id>#<sample index>", question_id, sample_index, question, prompt,
text, tokens: [{text, id, confidence, top: [{text, id, prob}]}], finish_reason, gold, engine, seed, temperature}.
confidence is the raw model probability of the chosen token, before temperature/top-k/top-p.`,
        )
        .action(async (o) => {
            const {sampleDataset} = await import("../../pipeline/sample.ts");
            const progress = createProgress("sample", {quiet: o.quiet});
            try {
                const summary = await sampleDataset({
                    engine: () => createEngine(o.engine, {role: "policy"}),
                    engineSpec: o.engine,
                    data: o.data,
                    out: o.out,
                    n: o.n,
                    ...questionInput(o),
                    temperature: o.temperature,
                    topP: o.topP,
                    topK: o.topK,
                    maxTokens: o.maxTokens,
                    stop: o.stop.map(unescape),
                    topLogprobs: o.topLogprobs,
                    seed: o.seed,
                    concurrency: o.concurrency,
                    skipTooLong: o.skipTooLong,
                    adopt: o.adopt,
                    onProgress: (d, t) => progress.update(d, t),
                });
                progress.stop();
                console.error(
                    `sample: ${plural(summary.written, "sample")} written, ${summary.skipped} already in ${o.out}, ${plural(summary.generatedTokens, "token")} generated, ${plural(summary.questions, "question")}` +
                        (summary.tooLong.length ? `; ${plural(summary.tooLong.length, "question")} skipped: prompt longer than the context` : ""),
                );
                reportTooLong("sample", summary.tooLong);
            } finally {
                progress.stop();
            }
        });
}
