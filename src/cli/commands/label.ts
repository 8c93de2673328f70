/** `stepwise label`: Monte-Carlo step labels with cost savers. */
import {Option, type Command} from "@commander-js/extra-typings";
import {createEngine, ENGINE_SPEC_FORMS} from "../../engines/spec.ts";
import {StepwiseError} from "../../util/errors.ts";
import {DEFAULT_VERIFIER, checkVerifierArgs, getVerifier, parseVerifierArgs, verifierArgsHelp, verifierNames} from "../../pipeline/label/verifiers.ts";
import {createProgress} from "../progress.ts";
import {floatOption, intOption, parseShard, reportTooLong} from "../options.ts";
import {plural} from "../../util/plural.ts";

export function register(program: Command): void {
    program
        .command("label")
        .description("label every step by Monte-Carlo rollouts from its prefix (hard and soft labels), with cost savers; resumable")
        .requiredOption("--engine <spec>", `policy that writes the rollouts: ${ENGINE_SPEC_FORMS}`)
        .requiredOption("--in <file>", "split samples (output of `stepwise split`)")
        .requiredOption("--out <file>", "labelled JSONL; re-running the same command resumes it")
        .option("--verifier <name>", `checks a rollout's final answer: ${verifierNames().map((n) => `${n} (${getVerifier(n).description})`).join("; ")}`, DEFAULT_VERIFIER)
        .option("--verifier-arg <key=value>", "an argument of the --verifier (listed below), repeatable", (v: string, all: string[] | undefined) => [...(all ?? []), v])
        .option("--k <K>", "rollouts per step", intOption(1, 1024), 8)
        .option("--min-correct <k>", "hard label positive when at least k of K rollouts are correct", intOption(1), 1)
        .option("--no-stop-after-negative", "keep labelling after a sample's first negative step (the Qwen recipe stops there)")
        .option("--early-stop", "stop sampling a step as soon as min-correct rollouts succeeded (hard labels; soft labels of such steps are null)")
        .option("--chunk <n>", "rollouts per request when early stopping", intOption(1), 2)
        .addOption(new Option("--search <mode>", "linear (every step in order), binary (first negative by binary search, OmegaPRM), or hybrid (binary search on wrong-answer samples, linear on right-answer ones)").choices(["linear", "binary", "hybrid"] as const).default("linear" as const))
        .option("--savers", "all cost savers: --early-stop --chunk 1 --search hybrid (stop-after-negative is on by default); trade-off: soft labels only for steps whose K rollouts all ran (most steps get soft null, so `export --labels soft` skips most samples): for soft labels, label without --savers / --early-stop")
        .option("--temperature <t>", "rollout temperature", floatOption(0, 10), 1)
        .option("--max-tokens <n>", "most tokens per rollout", intOption(1), 256)
        .option("--truncated <how>", "rollouts that hit --max-tokens (or the model's context end) before an answer: fail (count as wrong, the Math-Shepherd/Qwen estimate) or skip (leave out of the estimate; a step with only truncated rollouts gets no label)", "fail")
        .option("--seed <s>", "seed; each step's rollouts derive theirs from it, the sample id and the step", intOption(0), 0)
        .option("--concurrency <n>", "samples labelled at once", intOption(1, 1024), 2)
        .option("--limit <n>", "only the first n samples", intOption(1))
        .option("--shard <i/n>", "only records i, i+n, i+2n, … (0-based): run n processes side by side, each with its own --out")
        .option("--skip-too-long", "skip samples whose rollout prompts do not fit the policy's context (counted and listed) instead of stopping")
        .option("--skip-no-gold", "with a verifier that grades against gold (math): skip records whose gold is missing, null or empty (counted) instead of stopping at the first")
        .option("--truth", "attach the verifier's exact step truth (lab) and report how MC labels compare with it")
        .option("--lab-truth", "same as --verifier lab --truth")
        .option("--json", "print the summary as one JSON object")
        .addHelpText(
            "after",
            `
Examples:
  stepwise label --engine llama:models/lab-policy.gguf --verifier lab --truth --in steps.jsonl --out labels.jsonl
  stepwise label --engine "openai:http://gpu1:8000/v1,http://gpu2:8000/v1?model=Qwen/Qwen2.5-Math-7B-Instruct" \\
      --verifier math --in gsm8k-steps.jsonl --out gsm8k-labels.jsonl --k 8 --savers --max-tokens 1024 --concurrency 64
  stepwise label --engine openai:http://localhost:8000/v1 --verifier code --in code-steps.jsonl --out code-labels.jsonl \\
      --verifier-arg problems=LeetCodeDataset-v0.3.1-test.jsonl.gz --verifier-arg timeout=30

Verifier arguments (--verifier-arg KEY=VALUE):
${verifierArgsHelp().join("\n") || "  (no registered verifier takes any)"}

Each record adds: hard (1/0/null per step), soft (fraction correct or null), rollouts [{n, correct, truncated}],
first_negative (−1 if none), cost {rollouts, generated_tokens, prefix_evaluations}, method.`,
        )
        .action(async (o) => {
            const shard = parseShard(o.shard);
            if (o.truncated !== "fail" && o.truncated !== "skip") throw new StepwiseError(`--truncated: expected fail or skip, got "${o.truncated}"`);
            if (o.minCorrect > o.k) throw new StepwiseError(`--min-correct (${o.minCorrect}) cannot exceed --k (${o.k})`);
            if (o.labTruth) {
                o.verifier = "lab";
                o.truth = true;
            }
            const verifier = getVerifier(o.verifier);
            if (o.truth && !verifier.truth) throw new StepwiseError(`--truth: verifier "${verifier.name}" knows no exact step truth`);
            const verifierArgs = parseVerifierArgs(o.verifierArg ?? []);
            checkVerifierArgs(verifier.name, verifierArgs);
            const {labelFile, TRUNCATED_WARN_SHARE} = await import("../../pipeline/label/index.ts");
            const progress = createProgress("label");
            try {
                const summary = await labelFile({
                    engine: () => createEngine(o.engine, {role: "policy"}),
                    engineSpec: o.engine,
                    verifier: verifier.name,
                    verifierArgs,
                    input: o.in,
                    out: o.out,
                    k: o.k,
                    minCorrect: o.minCorrect,
                    stopAfterNegative: o.stopAfterNegative,
                    earlyStop: o.earlyStop || o.savers,
                    chunk: o.savers ? 1 : o.chunk,
                    search: o.savers ? "hybrid" : o.search,
                    temperature: o.temperature,
                    maxTokens: o.maxTokens,
                    truncated: o.truncated,
                    seed: o.seed,
                    concurrency: o.concurrency,
                    limit: o.limit,
                    shard,
                    skipTooLong: o.skipTooLong,
                    skipNoGold: o.skipNoGold,
                    truth: o.truth ? verifier.truth : undefined,
                    onProgress: (d, t) => progress.update(d, t),
                });
                progress.stop();
                if (summary.truncated_share > TRUNCATED_WARN_SHARE)
                    console.error(
                        `label: warning: ${(100 * summary.truncated_share).toFixed(1)}% of rollouts (${summary.truncated_rollouts}) hit --max-tokens ${o.maxTokens} or the context end before an answer and ${o.truncated === "skip" ? "were left out of the estimates" : "counted as wrong (--truncated fail)"}; raise --max-tokens${o.truncated === "skip" ? "" : " or use --truncated skip"}`,
                    );
                if (o.json) console.log(JSON.stringify(summary));
                else {
                    console.error(
                        `label: ${plural(summary.written, "sample")} labelled (${summary.skipped} already done); ${summary.positive_steps} positive, ${summary.negative_steps} negative, ${plural(summary.unlabelled_steps, "unlabelled step")}; ${summary.rollouts_per_sample.toFixed(1)} rollouts and ${summary.generated_tokens_per_sample.toFixed(0)} tokens per sample`,
                    );
                    const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "–");
                    if (summary.truth)
                        console.error(
                            `vs exact truth: first negative = first error in ${pct(summary.truth.first_negative_match)} of samples; false negatives ${pct(summary.truth.false_negative_rate)} of truly correct steps, false positives ${pct(summary.truth.false_positive_rate)} of truly wrong steps`,
                        );
                }
                reportTooLong("label", summary.too_long ?? []);
                const noGold = summary.no_gold ?? [];
                if (noGold.length) console.error(`label: ${plural(noGold.length, "record")} without a gold answer skipped (--skip-no-gold), first ${noGold[0].where} (gold is ${noGold[0].message})`);
            } finally {
                progress.stop();
            }
        });
}
