/** `stepwise train-prm`: fine-tune a tiny llama model into a tag PRM on labelled steps. */
import type {Command} from "@commander-js/extra-typings";
import {prepareOutput} from "../../io/output.ts";
import {checkInputFile} from "../../io/text.ts";
import {StepwiseError} from "../../util/errors.ts";
import {collect, floatOption, intOption} from "../options.ts";
import {plural} from "../../util/plural.ts";

export function register(program: Command): void {
    program
        .command("train-prm")
        .description("train a tiny tag PRM (cross-entropy over <|good|>/<|bad|> at each step tag) on labels from `stepwise label`, export GGUF")
        .requiredOption("--data <file>", "labelled JSONL (repeatable)", collect, [])
        .requiredOption("--out <file>", "output GGUF (a stepwise-lab PRM: score it with --prm llama:FILE)")
        .option("--labels <kind>", "hard (1/0) or soft (MC fraction) targets", "hard")
        .option("--init <file>", "start from this GGUF (e.g. models/lab-policy.gguf); default a fresh model")
        .option("--d-model <n>", "width of a fresh model", intOption(16), 96)
        .option("--layers <n>", "layers of a fresh model", intOption(1), 3)
        .option("--heads <n>", "heads of a fresh model", intOption(1), 3)
        .option("--steps <n>", "optimizer steps", intOption(1))
        .option("--minutes <m>", "wall-clock budget (the schedule is sized from the first steps' speed)", floatOption(0.1))
        .option("--lr <lr>", "peak learning rate", floatOption(0), 1e-3)
        .option("--batch <n>", "examples per step", intOption(1), 16)
        .option("--seed <s>", "seed", intOption(0), 0)
        .option("--val-fraction <f>", "share of questions held out for validation", floatOption(0, 0.9), 0.1)
        .option("--checkpoint-dir <dir>", "checkpoints and train.log; a killed run resumes from here")
        .addHelpText(
            "after",
            `
Example:
  stepwise label --engine llama:models/lab-policy.gguf --in steps-adaptive.jsonl --out labels.jsonl --lab-truth
  stepwise train-prm --data labels.jsonl --init models/lab-policy.gguf --out models/lab-prm.gguf --minutes 15 \\
      --checkpoint-dir .stepwise-cache/lab-prm
Writes the model, <out>.train.json (validation ROC-AUC, accuracy, loss log) and <out>.loss.svg/png.`,
        )
        .action(async (o) => {
            if (o.labels !== "hard" && o.labels !== "soft") throw new StepwiseError(`--labels: expected hard or soft, got "${o.labels}"`);
            if (o.steps === undefined && o.minutes === undefined) throw new StepwiseError("give --steps or --minutes");
            // Output locations before any training: a full run must not fail at its last write.
            for (const d of o.data as string[]) checkInputFile(d, "--data");
            prepareOutput(o.out, {inputs: [...(o.data as string[]), o.init]});
            const {trainPrm} = await import("../../pipeline/train-prm.ts");
            const r = await trainPrm({
                data: o.data,
                out: o.out,
                labels: o.labels,
                init: o.init,
                dModel: o.dModel,
                nLayers: o.layers,
                nHeads: o.heads,
                steps: o.steps,
                minutes: o.minutes,
                lr: o.lr,
                batchSize: o.batch,
                seed: o.seed,
                valFraction: o.valFraction,
                checkpointDir: o.checkpointDir,
            });
            const v = r.validation;
            console.error(
                `train-prm: ${r.out} after ${plural(r.steps, "step")} on ${plural(r.trainExamples, "sample")}; validation (${plural(v.samples, "sample")}, ${plural(v.steps, "step")}): ROC-AUC ${v.auc.toFixed(3)}, accuracy ${(100 * v.accuracy).toFixed(1)}%, loss ${v.loss.toFixed(3)}`,
            );
        });
}
