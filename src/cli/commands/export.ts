/** `stepwise export`: labelled steps to TRL, OpenRLHF or Math-Shepherd training data. */
import {Option, type Command} from "commander";
import {EXPORT_FORMATS, exportFile} from "../../pipeline/export/index.ts";
import {unescape} from "../options.ts";

export function register(program: Command): void {
    program
        .command("export")
        .description("write labelled steps (from `stepwise label`) as PRM training data for TRL, OpenRLHF or in Math-Shepherd's format")
        .addOption(new Option("--format <f>", "output format").choices([...EXPORT_FORMATS]).makeOptionMandatory())
        .requiredOption("--in <file>", "labels JSONL written by `stepwise label`")
        .requiredOption("--out <file>", "output JSONL (overwritten)")
        .addOption(new Option("--labels <kind>", "hard: +/- (true/false for trl); soft: fraction of successful rollouts (openrlhf only)").choices(["hard", "soft"]).default("hard"))
        .option("--tag <t>", "step tag after each step (openrlhf, math-shepherd; \\n escapes allowed)", " ки")
        .option("--join <s>", "text between a tag and the next step (\\n escapes allowed)", "\\n")
        .option("--positive <s>", "label of a positive step (openrlhf hard, math-shepherd)", "+")
        .option("--negative <s>", "label of a negative step (openrlhf hard, math-shepherd)", "-")
        .option("--input-key <k>", "field of the tagged text (openrlhf, math-shepherd); OpenRLHF's --input_key", "input")
        .option("--label-key <k>", "field of the labels (openrlhf, math-shepherd); OpenRLHF's --label_key", "label")
        .addOption(new Option("--prompt-field <f>", "question part: the record's question, or the exact prompt sent to the policy").choices(["question", "prompt"]).default("question"))
        .option("--no-trim", "keep each step's surrounding whitespace (default: trimmed, each format adds its own separator)")
        .option("--no-id", "do not copy the record id into the rows")
        .addHelpText(
            "after",
            `
Examples:
  stepwise export --format trl --in labels.jsonl --out prm-trl.jsonl
  stepwise export --format openrlhf --in labels.jsonl --out prm-openrlhf.jsonl
  stepwise export --format openrlhf --labels soft --in labels.jsonl --out prm-openrlhf-soft.jsonl
  stepwise export --format math-shepherd --in labels.jsonl --out math-shepherd.jsonl

Rows:
  trl            {id, prompt, completions: [step, ...], labels: [true, false]}
  openrlhf       {id, input: "<question> step1 ки\\nstep2 ки", label: ["+", "-"]}   (--labels soft: [1, 0.25])
  math-shepherd  {id, input: "<question> step1 ки\\nstep2 ки", label: "<question> step1 +\\nstep2 -"}
Steps after the first negative step have no hard label and are dropped (the Qwen recipe); samples
with no labelled step, or whose text contains the tag, are skipped and counted.
Training and serving at scale: docs/training-at-scale.md.`,
        )
        .action(async (o) => {
            const s = await exportFile(o.in, o.out, {
                format: o.format,
                labels: o.labels,
                tag: unescape(o.tag),
                join: unescape(o.join),
                positive: o.positive,
                negative: o.negative,
                inputKey: o.inputKey,
                labelKey: o.labelKey,
                promptField: o.promptField,
                trim: o.trim,
                id: o.id,
            });
            const skipped = Object.entries(s.skipped).filter(([, n]) => n > 0).map(([why, n]) => `${n} ${why}`);
            console.error(
                `export: ${s.written} of ${s.records} samples written to ${o.out} (${o.format}), ${s.steps} steps: ${s.positive} positive, ${s.negative} negative` +
                    (skipped.length ? `; skipped: ${skipped.join(", ")}` : ""),
            );
        });
}
