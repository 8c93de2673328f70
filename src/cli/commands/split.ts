/** `stepwise split`: cut sampled solutions into steps (adaptive, newline, double-newline, fixed, random). */
import type {Command} from "@commander-js/extra-typings";
import {StepwiseError} from "../../util/errors.ts";
import {STRATEGY_FORMS} from "../../pipeline/split/forms.ts";
import {floatOption, intOption} from "../options.ts";
import {plural} from "../../util/plural.ts";

export function register(program: Command): void {
    program
        .command("split")
        .description("cut each sampled solution into steps; adaptive ends a step after every token with confidence < τ")
        .requiredOption("--samples <file>", "samples JSONL written by `stepwise sample`")
        .requiredOption("--out <file>", "steps JSONL, one record per sample; re-running the same command resumes it")
        .option("--strategy <s>", `split strategy: ${STRATEGY_FORMS}`, "adaptive")
        .option("--tau <t>", "adaptive: the confidence threshold τ", floatOption(0, 1))
        .option("--threshold <file>", "adaptive: read τ from a file written by `stepwise threshold`")
        .option("--limit <n>", "only the first n samples", intOption(1))
        .addHelpText(
            "after",
            `
Examples:
  stepwise threshold --samples samples.jsonl --out threshold.json
  stepwise split --samples samples.jsonl --threshold threshold.json --out steps-adaptive.jsonl
  stepwise split --samples samples.jsonl --strategy newline --out steps-newline.jsonl
  stepwise split --samples samples.jsonl --strategy fixed:16 --out steps-fixed16.jsonl
  stepwise split --samples samples.jsonl --strategy random:5 --out steps-random5.jsonl

Strategies (steps always end on token boundaries):
  adaptive        a step ends right after each token with confidence < τ (the decision token ends its step)
  newline         a step ends after each token containing "\\n"
  double-newline  a step ends after the token completing each "\\n\\n"
  fixed:N         a step ends every N tokens
  random:K[:SEED] K step ends drawn among the token boundaries, seeded by the sample id (and SEED)
Blank steps (only whitespace) are merged into the step before them, so steps are never empty and
their texts concatenate to the sample text. Each output record: {id, question_id, sample_index,
question, prompt, text, gold, strategy, tau, steps: [{text, start, end, token_start, token_end}]}.`,
        )
        .action(async (o) => {
            if (o.tau !== undefined && o.threshold) throw new StepwiseError("split: give --tau or --threshold, not both");
            const {parseStrategy, splitFile} = await import("../../pipeline/split/index.ts");
            const {readThresholdFile} = await import("../../pipeline/threshold.ts");
            const tau = o.tau ?? (o.threshold ? readThresholdFile(o.threshold) : undefined);
            const strategy = parseStrategy(o.strategy, {tau});
            if (strategy.kind !== "adaptive" && tau !== undefined) throw new StepwiseError(`split: --tau/--threshold only apply to the adaptive strategy, not "${o.strategy}"`);
            const s = await splitFile({input: o.samples, out: o.out, strategy, limit: o.limit});
            console.error(
                `split: ${plural(s.written, "sample")} split into ${plural(s.steps, "step")} (${s.written ? (s.steps / s.written).toFixed(2) : "0"} per sample, ` +
                    `${s.steps ? (s.tokens / s.steps).toFixed(1) : "0"} tokens per step), ${s.skipped} already in ${o.out}` +
                    (s.empty ? `, ${plural(s.empty, "empty sample")} with no steps` : ""),
            );
        });
}
