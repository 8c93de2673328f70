/**
 * `stepwise lab train-judge`: train the lab judge (a tiny char-level llama critic) on lab
 * solutions with exact first-error labels, and write it as GGUF with its chat template.
 *
 *   stepwise lab train-judge --data steps-newline.jsonl --data steps-adaptive.jsonl \
 *       --init models/lab-policy.gguf --out models/lab-judge.gguf --minutes 25 \
 *       --checkpoint-dir .stepwise-cache/lab-judge/train [--resume]
 */
import {Command, Option} from "@commander-js/extra-typings";
import {StepwiseError} from "../../util/errors.ts";
import {collect, floatOption, intOption, resumeOrFresh} from "../options.ts";
import {join} from "node:path";
import {plural} from "../../util/plural.ts";

export function trainJudgeCommand(): Command {
    return new Command("train-judge")
        .description("train the lab judge (reads a numbered lab solution, writes the first wrong step in \\boxed{}) on exact first-error labels; writes GGUF with a chat template")
        .requiredOption("--data <file>", "steps JSONL of lab samples: the output of `stepwise split` or `label` (repeatable; mix split strategies)", collect, [])
        .option("--out <file>", "output GGUF (written at every checkpoint and at the end)", "models/lab-judge.gguf")
        .option("--init <file>", "start from this GGUF (e.g. models/lab-policy.gguf); default a fresh d=96 3-layer model")
        .option("--minutes <m>", "wall-clock budget (the schedule is sized from the first steps' speed unless --steps is given)", floatOption(0.1))
        .option("--steps <n>", "schedule length in optimizer steps", intOption(1))
        .option("--lr <lr>", "peak learning rate (warmup + cosine)", floatOption(0), 1e-3)
        .option("--batch <n>", "examples per step", intOption(1), 16)
        .option("--error-share <f>", "share of erroneous solutions per batch", floatOption(0, 1), 0.5)
        .option("--seed <s>", "seed of the initialization and the batches", intOption(0), 0)
        .option("--checkpoint-dir <dir>", "checkpoints and train.log", ".stepwise-cache/lab-judge/train")
        .option("--checkpoint-every <n>", "checkpoint (and GGUF export) every n steps", intOption(1), 100)
        .option("--resume", "continue from the checkpoint in --checkpoint-dir", false)
        .option("--fresh", "start over when --checkpoint-dir holds a checkpoint (deleting it); without --resume or --fresh an existing checkpoint is refused", false)
        .addOption(new Option("--critique <kind>", "what the judge writes: compact (`i ok` lines, then the box; models/lab-judge.gguf) or verify (under each quoted step its check, then right/wrong, then the box: a verifier, models/lab-verifier.gguf)").choices(["compact", "verify"]).default("compact"))
        .option("--contrast", "with --critique verify: the first wrong step's check states the disagreement (`19 * 3 = 57, not 58 | wrong`)", false)
        .option("--rebuild", "with --critique verify: every equation check starts from the expression before the step and edits it (`from 19 * 3 - 45 / 5: 19 * 3 = 57, so 57 - 45 / 5 | right`), so the remaining expression is not copied from the step; a wrong line states the disagreement as with --contrast; takes precedence over --claim. One run trained (run 7): worse than the shipped verifier, F1 57.9 against 71.4 (docs/judge.md)", false)
        .option("--claim", "with --critique verify: every check copies the step's own value beside the exact one (`19 * 3 = 57 (step: 58) | wrong`, `12 + 7 = 19 (step: 19), so 19 * 3 | right`), so the verdict compares two numbers side by side; takes precedence over --contrast on lines with a value. One run trained (run 11): worse than the shipped verifier, pb3 F1 68.2 against 71.4; it writes `31 - 5 = 26 (step: 27) | right` (docs/judge.md)", false)
        .option("--verdict-weight <w>", "with --critique verify: loss weight of each verdict's deciding token (the first after ` | `), every other written token weighing 1, so training leans on the comparison the verdict makes rather than on the checks. One run trained (run 12: --claim, weight 8): level with the shipped verifier, pb3 F1 70.5 against 71.4, more first errors found and more false alarms (docs/judge.md)", floatOption(0.01, 1000), 1)
        .option("--synthetic-restatements <share>", "with --critique verify: for this share of the samples (0–1), up to one more item in which one correct line's restatement is made wrong (a digit changed, doubled or dropped, an operator swapped, parentheses dropped; kept only when the exact verifier then calls that line the first wrong one and no step is cut through), so copying the step's restatement into the check stops paying; drawn with --seed. Two runs trained (share 0.25 and 1.0): they learnt to rebuild the restatement instead of copying it, but not to compare it with the step's, and caught no more; F1 67.6 and 63.0 against 71.4 (docs/judge.md)", floatOption(0, 1), 0)
        .option("--context <n>", "context length in tokens (default: the starting model's; RoPE, no new weights)", intOption(64))
        .option("--grow-layers <n>", "add n transformer blocks on top of --init before training, each starting as a no-op (zero residual outputs), so the deeper verifier starts from what --init knows; seeded by --seed; resuming grows the same way. One run trained (run 10: the shipped verifier + 2 blocks, 700 steps): F1 68.7 against 71.4, not better (docs/judge.md)", intOption(1))
        .addHelpText("after", `
Examples:
  stepwise lab train-judge --data steps-newline.jsonl --data steps-adaptive.jsonl --init models/lab-policy.gguf \\
      --out my-verifier.gguf --critique verify --contrast --context 640 --steps 400 --lr 1e-3 --batch 8 \\
      --checkpoint-every 10 --checkpoint-dir .stepwise-cache/lab-judge/train        # a verifier (scripts/make-lab-judge.sh)
  stepwise lab train-judge ... --resume                                             # the same options, after a stop
  stepwise eval processbench --data lab-pb.jsonl --judge llama:my-verifier.gguf     # then measure it (see lab processbench)`)
        .action(async (o) => {
            if (o.minutes === undefined && o.steps === undefined) throw new StepwiseError("give --minutes and/or --steps");
            o.resume = resumeOrFresh("train-judge", join(o.checkpointDir, "checkpoint.bin"), o);
            const {trainLabJudge} = await import("../../apps/lab/judge/train.ts");
            const r = await trainLabJudge({
                data: o.data,
                out: o.out,
                init: o.init,
                minutes: o.minutes,
                steps: o.steps,
                lr: o.lr,
                batchSize: o.batch,
                errorShare: o.errorShare,
                seed: o.seed,
                checkpointDir: o.checkpointDir,
                resume: o.resume,
                checkpointEverySteps: o.checkpointEvery,
                critique: o.critique,
                contrast: o.contrast,
                rebuild: o.rebuild,
                claim: o.claim,
                verdictWeight: o.verdictWeight,
                syntheticRestatements: o.syntheticRestatements,
                contextLength: o.context,
                growLayers: o.growLayers,
            });
            process.stderr.write(`train-judge: ${r.completed ? "done" : "stopped"} at ${r.steps.toLocaleString("en-US")}/${plural(r.totalSteps, "step")} on ${plural(r.items, "item")} (${r.erroneous} erroneous${r.synthetic ? `, ${r.synthetic} synthetic` : ""}), ${r.losses.length ? `final loss ${r.losses.at(-1)!.toFixed(4)}` : "no step left to run"}; model ${o.out}\n`);
        });
}

/** `stepwise lab processbench`: a ProcessBench-shaped file of lab solutions with exact first-error labels. */
export function labProcessBenchCommand(): Command {
    return new Command("processbench")
        .description("write lab solutions (a steps file) as ProcessBench records with exact first-error labels, for `stepwise eval processbench --prm/--judge`")
        .requiredOption("--steps <file>", "steps JSONL of lab samples: the output of `stepwise split` (use held-out problems)")
        .requiredOption("--out <file>", "output JSONL {id, generator, problem, steps, final_answer_correct, label}")
        .option("--generator <name>", "the generator field", "lab-policy")
        .addHelpText(
            "after",
            `
Example (held-out problems, newline steps):
  stepwise lab generate --n 100 --split heldout --seed 5 --out pb-problems.jsonl
  stepwise sample --engine llama:models/lab-policy.gguf --data pb-problems.jsonl --n 2 --max-tokens 200 --out pb-samples.jsonl
  stepwise split --samples pb-samples.jsonl --strategy newline --out pb-steps.jsonl
  stepwise lab processbench --steps pb-steps.jsonl --out lab-pb.jsonl
  stepwise eval processbench --data lab-pb.jsonl --judge llama:models/lab-judge.gguf`,
        )
        .action(async (o) => {
            const {prepareOutput} = await import("../../io/output.ts");
            const {writeFileAtomic} = await import("../../io/atomic.ts");
            prepareOutput(o.out, {inputs: [o.steps]});
            const {labProcessBench} = await import("../../apps/lab/judge/processbench.ts");
            const rows = await labProcessBench(o.steps, o.generator);
            // Atomic: `eval processbench` never reads a half-written file.
            writeFileAtomic(o.out, rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : ""));
            const wrong = rows.filter((r) => r.label >= 0).length;
            process.stderr.write(`lab processbench: ${plural(rows.length, "solution")} (${wrong} with a wrong step, ${rows.length - wrong} all correct) -> ${o.out}\n`);
        });
}
