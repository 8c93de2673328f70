/** `stepwise train-prm`: fine-tune a tiny llama model into a tag PRM on labelled steps. */
import type {Command} from "@commander-js/extra-typings";
import {prepareOutput} from "../../io/output.ts";
import {checkInputFile} from "../../io/text.ts";
import {StepwiseError} from "../../util/errors.ts";
import {join} from "node:path";
import {collect, floatOption, intOption, resumeOrFresh} from "../options.ts";
import {plural} from "../../util/plural.ts";

export function register(program: Command): void {
    program
        .command("train-prm")
        .description("train a tiny PRM, export GGUF: a tag PRM (cross-entropy over <|good|>/<|bad|> at each step tag) on labels from `stepwise label`, an implicit PRM (--objective implicit) on graded samples or branch labels, or both in one model (--objective tag+implicit)")
        .option("--data <file>", "labelled JSONL from `stepwise label` (repeatable); with --objective implicit, samples from `stepwise sample`", collect, [])
        .option("--branches <file>", "branch labels from `stepwise label-branches` (repeatable), so the PRM learns the values TVD ranks. Tag objective: one example per candidate token at each decision, its label at the last tag. Implicit and tag+implicit objectives: one example per decision, a softmax over the candidates' rewards log πθ(c)/πref(c) (β 1; πref = the probabilities recorded with the sample) trained towards the right candidates", collect, [])
        .requiredOption("--out <file>", "output GGUF (a stepwise-lab PRM: score it with --prm llama:FILE)")
        .option("--labels <kind>", "hard (1/0) or soft (MC fraction) targets of the step labels at tags (the implicit objective takes hard only; the implicit and tag+implicit objectives read branch decisions as hard)", "hard")
        .option("--objective <o>", "tag (step labels at step tags), implicit (r = β·log πθ/πref from outcome labels of --data samples or the decisions of --branches; the recorded probabilities are πref, so --init must be the model that drew them) or tag+implicit (one model: step labels of --data at its tags for step scores, the decisions of --branches as token values for TVD; --init the policy)", "tag")
        .option("--beta <b>", "implicit: β of r = β·log πθ/πref (default 0.05; 1 with --branches, the only value the branch objective takes)", floatOption(1e-6))
        .option("--verifier <name>", "implicit: grades the samples' final answers (math: the answer grader against gold; lab: the lab's exact check)", "math")
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
        .option("--checkpoint-dir <dir>", "checkpoints and train.log, so a stopped run can continue (--resume)")
        .option("--resume", "continue from the checkpoint in --checkpoint-dir (with the options it was started with; others are refused, naming them)", false)
        .option("--fresh", "start over when --checkpoint-dir holds a checkpoint (deleting it); without --resume or --fresh an existing checkpoint is refused", false)
        .addHelpText(
            "after",
            `
Example:
  stepwise label --engine llama:models/lab-policy.gguf --in steps-adaptive.jsonl --out labels.jsonl --lab-truth
  stepwise train-prm --data labels.jsonl --init models/lab-policy.gguf --out models/lab-tag-prm.gguf --minutes 15 \\
      --checkpoint-dir .stepwise-cache/lab-prm                          # the shipped tag PRM (scripts/make-lab-tag-prm.sh)
  stepwise sample --engine llama:models/lab-policy.gguf --data problems.jsonl --n 8 --max-tokens 200 --out samples.jsonl
  stepwise train-prm --objective implicit --data samples.jsonl --verifier lab --init models/lab-policy.gguf \\
      --out models/lab-implicit-prm.gguf --minutes 20 --checkpoint-dir .stepwise-cache/implicit
  stepwise train-prm --branches branches.jsonl --init models/lab-tag-prm.gguf --out branch-prm.gguf --minutes 25 --lr 3e-4
  stepwise train-prm --objective implicit --branches branches.jsonl --init models/lab-policy.gguf \\
      --out branch-implicit-prm.gguf --steps 2400 --lr 1e-4             # the shipped pair's token values (scripts/make-lab-prm.sh)
  stepwise pair-prm --implicit branch-implicit-prm.gguf --tag models/lab-tag-prm.gguf --out my-prm.gguf
  stepwise train-prm --objective tag+implicit --data labels.jsonl --branches branches.jsonl --init models/lab-policy.gguf \\
      --out hybrid-prm.gguf --steps 1500 --lr 3e-4
Writes the model, <out>.train.json (validation ROC-AUC, accuracy, loss log) and <out>.loss.svg/png (tag PRMs).
An implicit PRM's GGUF names its reference model (path relative to the PRM file), β and prompt
template, so --prm llama:FILE scores with it (keep the reference next to it).`,
        )
        .action(async (o) => {
            if (o.labels !== "hard" && o.labels !== "soft") throw new StepwiseError(`--labels: expected hard or soft, got "${o.labels}"`);
            if (o.objective !== "tag" && o.objective !== "implicit" && o.objective !== "tag+implicit") throw new StepwiseError(`--objective: expected tag, implicit or tag+implicit, got "${o.objective}"`);
            if (o.objective !== "tag" && !o.init) throw new StepwiseError(`--objective ${o.objective} needs --init: the reference policy that drew the samples`);
            if (o.steps === undefined && o.minutes === undefined) throw new StepwiseError("give --steps or --minutes");
            if ((o.data as string[]).length === 0 && (o.branches as string[]).length === 0) throw new StepwiseError("give --data (labels, or samples with --objective implicit) or --branches");
            for (const d of o.branches as string[]) checkInputFile(d, "--branches");
            // Output locations before any training: a full run must not fail at its last write.
            for (const d of o.data as string[]) checkInputFile(d, "--data");
            prepareOutput(o.out, {inputs: [...(o.data as string[]), ...(o.branches as string[]), o.init]});
            const resume = o.checkpointDir !== undefined ? resumeOrFresh("train-prm", join(o.checkpointDir, "checkpoint.bin"), o) : undefined;
            const {trainPrm} = await import("../../pipeline/train-prm.ts");
            const r = await trainPrm({
                data: o.data,
                branches: o.branches,
                out: o.out,
                labels: o.labels,
                objective: o.objective,
                beta: o.beta,
                verifier: o.verifier,
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
                resume,
            });
            const v = r.validation;
            if (v.decisions)
                console.error(
                    `train-prm: held-out decisions with right and wrong candidates: ${v.decisions.mixed}; the PRM's pick is right in ${v.decisions.prmRight} (${((100 * v.decisions.prmRight) / Math.max(1, v.decisions.mixed)).toFixed(1)}%), the sample's own token in ${v.decisions.ownRight} (${((100 * v.decisions.ownRight) / Math.max(1, v.decisions.mixed)).toFixed(1)}%): the PRM fixes ${v.decisions.fixes} where the own token is wrong and breaks ${v.decisions.breaks} where it is right`,
                );
            if (v.steps === 0) console.error(`train-prm: ${r.out} after ${plural(r.steps, "step")} on ${plural(r.trainExamples, "example")}; no held-out ${o.objective === "implicit" ? "graded samples" : "labelled steps"} (--data) to validate on`);
            else
            console.error(
                `train-prm: ${r.out} after ${plural(r.steps, "step")} on ${plural(r.trainExamples, "sample")}; validation (${plural(v.samples, "sample")}, ${o.objective === "implicit" ? plural(v.steps, "outcome") : plural(v.steps, "step")}): ROC-AUC ${v.auc.toFixed(3)}, accuracy ${(100 * v.accuracy).toFixed(1)}%, loss ${v.loss.toFixed(3)}`,
            );
            if (r.tooLong) console.error(`train-prm: ${plural(r.tooLong, "record")} left out: longer than the model's context (too_long in the .train.json)`);
        });
}
