/** `stepwise export`: labelled steps to TRL, OpenRLHF or Math-Shepherd training data. */
import {Option, type Command} from "@commander-js/extra-typings";
import {EXPORT_FORMATS} from "../../pipeline/export/formats.ts";
import {refuseEmpty, unescape} from "../options.ts";
import {plural} from "../../util/plural.ts";

export function register(program: Command): void {
    program
        .command("export")
        .description("write labelled steps (from `stepwise label`) as PRM training data for TRL, OpenRLHF, ASPRM or in Math-Shepherd's format")
        .addOption(new Option("--format <f>", "output format").choices([...EXPORT_FORMATS]).makeOptionMandatory())
        .requiredOption("--in <file>", "labels JSONL written by `stepwise label`")
        .requiredOption("--out <file>", "output JSONL (overwritten)")
        .option("--allow-empty", "write 0 rows without failing (by default an export that writes nothing removes its empty output and exits 1)")
        .addOption(new Option("--labels <kind>", "hard: +/- (true/false for trl); soft: fraction of successful rollouts (openrlhf, asprm)").choices(["hard", "soft"]).default("hard"))
        .option("--tag <t>", 'step tag (default " ки"; asprm " ки "; \\n escapes allowed)')
        .addOption(new Option("--placement <p>", "where a tag goes: end (after the step, asprm's default) or before-space (before the step's trailing whitespace: \"May. ки\\n\", the others' default)").choices(["end", "before-space"]))
        .option("--positive <s>", "label of a positive step (openrlhf hard, math-shepherd)", "+")
        .option("--negative <s>", "label of a negative step (openrlhf hard, math-shepherd)", "-")
        .option("--input-key <k>", "field of the tagged text; OpenRLHF's --input_key (default input; asprm query)")
        .option("--label-key <k>", "field of the labels; OpenRLHF's --label_key (default label; asprm response)")
        .addOption(new Option("--prompt-field <f>", "question part: the record's question, or the exact prompt sent to the policy (default: prompt for trl, question otherwise)").choices(["question", "prompt"]))
        .option("--no-numbered", "math-shepherd: do not number the steps \"Step N: \"")
        .option("--no-id", "do not copy the record id into the rows")
        .option("--stop-after-negative", "drop the steps after a sample's first negative step even when they are labelled")
        .addHelpText(
            "after",
            `
Examples:
  stepwise export --format trl --in labels.jsonl --out prm-trl.jsonl
  stepwise export --format openrlhf --in labels.jsonl --out prm-openrlhf.jsonl
  stepwise export --format openrlhf --labels soft --in labels.jsonl --out prm-openrlhf-soft.jsonl
  stepwise export --format asprm --in labels.jsonl --out asprm.jsonl
  stepwise export --format math-shepherd --in labels.jsonl --out math-shepherd.jsonl

Rows (the sampled text is kept exactly; only tags, and math-shepherd's step numbers, are added):
  trl            {id, prompt, completions: [step, ...], labels: [true, false]}   train with PRMConfig(step_separator="")
  openrlhf       {id, input: "<question> step1 ки\\nstep2 ки", label: ["+", "-"]}   (--labels soft: [1, 0.25])
  asprm          {id, query: "<question> No ки w 3 / 3 ки ", response: ["+", "-"]}
  math-shepherd  {id, input: "<question> Step 1: step1 ки\\nStep 2: step2 ки", label: "<question> Step 1: step1 +\\nStep 2: step2 -"}
Every labelled step is written, up to the first step without a label: with \`stepwise label\`'s default
(stop after the first negative step, the Qwen recipe) that is through the first negative step; labels
made with --no-stop-after-negative keep the steps after it (--stop-after-negative drops them). Samples
with no labelled step, or whose text contains the tag (every row is checked to hold one tag per
label), are skipped and counted.
Training and serving at scale: docs/training-at-scale.md.`,
        )
        .action(async (o) => {
            const {exportFile} = await import("../../pipeline/export/index.ts");
            const s = await exportFile(o.in, o.out, {
                format: o.format,
                labels: o.labels,
                tag: o.tag === undefined ? undefined : unescape(o.tag),
                placement: o.placement,
                positive: o.positive,
                negative: o.negative,
                inputKey: o.inputKey,
                labelKey: o.labelKey,
                promptField: o.promptField,
                numbered: o.numbered,
                id: o.id,
                stopAfterNegative: !!o.stopAfterNegative,
            });
            const skipped = Object.entries(s.skipped).filter(([, n]) => n > 0).map(([why, n]) => `${n} ${why}`);
            refuseEmpty("export", {kept: s.written, out: o.out, allowEmpty: o.allowEmpty, why: `0 of ${plural(s.records, "sample")} in ${o.in}${skipped.length ? `; skipped: ${skipped.join(", ")}` : ""}${o.labels === "soft" ? "; soft labels need `label` without --savers, or steps whose rollouts all ran" : ""}`});
            console.error(
                `export: ${s.written} of ${plural(s.records, "sample")} written to ${o.out} (${o.format}), ${plural(s.steps, "step")}: ${s.positive} positive, ${s.negative} negative` +
                    (skipped.length ? `; skipped: ${skipped.join(", ")}` : "") +
                    (o.format === "trl" ? `; train with TRL's PRMConfig(step_separator="") so prompt + completions rebuild the sampled text` : ""),
            );
        });
}
