/**
 * `stepwise lab train-policy`: train the lab policy (a tiny character-level llama model) on fresh
 * train-split lab problems and write it as GGUF (at every checkpoint and at the end).
 *
 *   stepwise lab train-policy --out models/lab-policy.gguf --minutes 35 \
 *       --checkpoint-dir .stepwise-cache/lab-policy [--resume] [--d-model 96 --layers 3 --heads 3]
 *
 * Training uses one thread (one core). With --checkpoint-dir, a killed run continues from its
 * last checkpoint when started again with --resume.
 */
import {Command} from "@commander-js/extra-typings";
import {StepwiseError} from "../../util/errors.ts";
import {join} from "node:path";
import {floatOption, intOption, localModelFile, positiveOption, resumeOrFresh} from "../options.ts";
import {plural} from "../../util/plural.ts";

/** The `train-policy` subcommand (a factory, for groups that collect subcommands). */
export function trainPolicyCommand(): Command {
    return new Command("train-policy")
        .description("train the lab policy (tiny char-level llama) on fresh lab problems and write it as GGUF")
        .option("--out <path>", "output GGUF file", "models/lab-policy.gguf")
        .option("--minutes <m>", "wall-clock budget (the schedule length is estimated from the first steps unless --steps is given)", positiveOption())
        .option("--steps <n>", "schedule length in steps", intOption(1))
        .option("--d-model <d>", "model width", intOption(1), 96)
        .option("--layers <n>", "transformer blocks", intOption(1), 3)
        .option("--heads <n>", "attention heads", intOption(1), 3)
        .option("--batch <n>", "problems per step", intOption(1), 32)
        .option("--lr <x>", "peak learning rate (warmup + cosine)", positiveOption(), 2e-3)
        .option("--seed <n>", "seed of the initialization and of the problem stream", intOption(0), 0)
        .option("--preset <name>", "lab preset", "policy")
        .option("--checkpoint-dir <dir>", "checkpoints and train.log", ".stepwise-cache/lab-policy")
        .option("--checkpoint-every <n>", "checkpoint (and GGUF export) every n steps", intOption(1), 100)
        .option("--resume", "continue from the checkpoint in --checkpoint-dir", false)
        .option("--fresh", "start over when --checkpoint-dir holds a checkpoint (deleting it); without --resume or --fresh an existing checkpoint is refused", false)
        .addHelpText("after", `
Examples:
  stepwise lab train-policy --out models/lab-policy.gguf --minutes 56 --checkpoint-dir .stepwise-cache/lab-policy
  stepwise lab train-policy --out models/lab-policy.gguf --minutes 56 --checkpoint-dir .stepwise-cache/lab-policy --resume   # after a stop
  stepwise lab train-policy --out tiny.gguf --steps 200 --d-model 32 --layers 2 --heads 2 --batch 8 --checkpoint-dir /tmp/tiny`)
        .action(async (o) => {
            if (o.minutes === undefined && o.steps === undefined) throw new StepwiseError("give --minutes and/or --steps");
            if (o.dModel % o.heads !== 0) throw new StepwiseError(`--d-model ${o.dModel} must be divisible by --heads ${o.heads}`);
            o.resume = resumeOrFresh("train-policy", join(o.checkpointDir, "checkpoint.bin"), o);
            const {trainPolicy} = await import("../../apps/lab/policy/train.ts");
            const r = await trainPolicy({
                out: o.out,
                minutes: o.minutes,
                steps: o.steps,
                dModel: o.dModel,
                nLayers: o.layers,
                nHeads: o.heads,
                batchSize: o.batch,
                lr: o.lr,
                seed: o.seed,
                preset: o.preset,
                checkpointDir: o.checkpointDir,
                resume: o.resume,
                checkpointEverySteps: o.checkpointEvery,
            });
            process.stderr.write(`${r.completed ? "done" : "stopped"}: ${r.steps.toLocaleString("en-US")}/${plural(r.totalSteps, "step")}, ${r.losses.length ? `final loss ${r.losses.at(-1)!.toFixed(4)}` : "no step left to run"}, model ${o.out}\n`);
        });
}

/**
 * The `check-policy` subcommand: greedy accuracy of a policy GGUF on held-out problems with the
 * plain JS forward pass (no llama.cpp), by number of operations. A quick training monitor.
 */
export function checkPolicyCommand(): Command {
    return new Command("check-policy")
        .description("quick greedy accuracy of a policy GGUF on held-out lab problems (JS forward pass)")
        .option("--model <path>", "policy GGUF", "models/lab-policy.gguf")
        .option("--n <k>", "held-out problems", intOption(1), 50)
        .option("--seed <n>", "held-out stream seed", intOption(0), 12345)
        .option("--preset <name>", "lab preset", "policy")
        .option("--show <k>", "print the first k outputs", intOption(0), 0)
        .addHelpText("after", `
Examples:
  stepwise lab check-policy --model models/lab-policy.gguf --n 100 --show 3`)
        .action(async (o) => {
            const {readLlamaGguf} = await import("../../gguf/llama.ts");
            const {quickGreedyEval} = await import("../../apps/lab/policy/eval.ts");
            const m = await readLlamaGguf(o.model);
            const r = quickGreedyEval(m.config, m.weights, m.vocab, {n: o.n, seed: o.seed, preset: o.preset});
            for (const e of r.examples.slice(0, o.show)) process.stdout.write(`--- ${e.correct ? "correct" : "wrong"}: ${e.question}\n${e.output}\n`);
            const byOps = Object.entries(r.byOps).map(([ops, b]) => `${ops} ops ${(100 * b.accuracy).toFixed(0)}% (n=${b.n})`).join(", ");
            process.stdout.write(`${o.model} (step ${String(m.metadata["stepwise.train_steps"] ?? "?")}): greedy ${(100 * r.greedyAccuracy).toFixed(1)}% on ${r.n} held-out problems; ${byOps}\n`);
        });
}

/** The `train-rl` subcommand: GRPO on the lab policy with outcome or outcome + PRM rewards (src/apps/lab/policy/rl.ts). */
export function trainRlCommand(): Command {
    return new Command("train-rl")
        .description("reinforcement learning of the lab policy: GRPO (G samples per problem, group-normalised advantages, clipped ratio, KL to the starting policy) with outcome, outcome + PRM step rewards, or PRIME's implicit-PRM token rewards with the PRM updated online; resumable; GGUF out")
        .option("--init <model>", "starting policy (also the KL reference): a GGUF file, llama:FILE or lab:NAME", "lab:policy")
        .requiredOption("--out <gguf>", "output GGUF, rewritten after every iteration")
        .option("--checkpoint-dir <dir>", "rl-checkpoint.bin, rl-log.jsonl (one line per iteration) and the sampler's GGUF", ".stepwise-cache/lab-rl")
        .requiredOption("--iterations <n>", "iterations in all (a resumed run continues up to this)", intOption(1))
        .option("--problems <n>", "fresh train-split problems per iteration", intOption(1), 8)
        .option("--group <g>", "samples per problem (the group)", intOption(2), 8)
        .option("--max-tokens <n>", "most tokens per sample", intOption(1), 200)
        .option("--temperature <t>", "sampling temperature", positiveOption(), 1)
        .option("--lr <x>", "learning rate (constant; docs/rl.md: 3e-5 for 150 iterations of 8 × 8 samples raised held-out greedy accuracy by 5.75 points)", positiveOption(), 3e-5)
        .option("--clip <eps>", "ratio clip ε", positiveOption(), 0.2)
        .option("--kl <beta>", "KL coefficient β (0 = none)", floatOption(0), 0.04)
        .option("--updates <n>", "gradient steps per iteration on its samples", intOption(1), 2)
        .option("--reward <kind>", "outcome (exact grade), outcome+prm (a PRM's step scores), or outcome+implicit (PRIME: an implicit PRM's token rewards β·log πφ/πref, the PRM updated online on the outcomes; PRIME's accuracy filter and advantages). docs/rl.md: on the lab no process reward beat the outcome reward", "outcome")
        .option("--prm <spec>", "the PRM for --reward outcome+prm (a PRM spec: see stepwise score --help)", "lab:prm")
        .option("--process <how>", "outcome+prm: min (the lowest step score added to the outcome) or steps (every step's score as a process reward)", "min")
        .option("--process-weight <w>", "weight of the process term (default 0.5 with outcome+prm; 1 with outcome+implicit, PRIME's 5 : 5)", floatOption(0))
        .option("--implicit-prm <model>", "outcome+implicit: the implicit PRM to start from (its reference must be --init): a GGUF file, llama:FILE or lab:NAME", "lab:implicit-prm")
        .option("--implicit-lr <x>", "outcome+implicit: learning rate of the PRM's online update (default 2 × --lr, PRIME's ratio)", positiveOption())
        .option("--steps <rule>", "outcome+prm: where steps end: newline, or adaptive (with --tau). Read a PRM at the boundaries it was trained on: the lab PRM's are adaptive, τ 0.52 (at line breaks its scores are mostly an artifact of where the tag sits; docs/judge.md, lab PRMBench)", "newline")
        .option("--tau <p>", "τ for --steps adaptive", floatOption(0, 1))
        .option("--seed <n>", "seed of the problems and the sampling", intOption(0), 0)
        .option("--snapshot-every <n>", "also keep <checkpoint-dir>/policy-<iteration>.gguf every n iterations (for curves of held-out figures with `lab eval-policy`)", intOption(1))
        .option("--resume", "continue from the checkpoint in --checkpoint-dir", false)
        .option("--fresh", "start over when --checkpoint-dir holds a checkpoint (deleting it); without --resume or --fresh an existing checkpoint is refused", false)
        .addHelpText("after", "\nExamples:\n  stepwise lab train-rl --out rl.gguf --iterations 3 --problems 8 --group 4 --reward outcome+prm --checkpoint-dir /tmp/rl   # a smoke run\n  stepwise lab train-rl --out prime.gguf --iterations 150 --reward outcome+implicit --checkpoint-dir runs/prime   # PRIME; the updated PRM: runs/prime/implicit-prm.gguf\n")
        .action(async (o, cmd) => {
            if (o.reward !== "outcome" && o.reward !== "outcome+prm" && o.reward !== "outcome+implicit") throw new StepwiseError(`train-rl --reward: "${o.reward}" is not outcome, outcome+prm or outcome+implicit`);
            if (o.process !== "min" && o.process !== "steps") throw new StepwiseError(`train-rl --process: "${o.process}" is not min or steps`);
            if (o.steps !== "newline" && o.steps !== "adaptive") throw new StepwiseError(`train-rl --steps: "${o.steps}" is not newline or adaptive`);
            const tau = o.tau;
            if (o.steps === "adaptive" && tau === undefined) throw new StepwiseError("train-rl --steps adaptive: give --tau");
            const stepRule = o.steps === "adaptive" && tau !== undefined ? {kind: "adaptive" as const, tau} : {kind: "delimiter" as const, text: "\n"};
            // Options of another reward are refused rather than ignored (a default is not "given").
            const given = (name: string) => cmd.getOptionValueSource(name) === "cli";
            const only: Array<[string, string, string]> = [
                ["prm", "--prm", "outcome+prm"],
                ["process", "--process", "outcome+prm"],
                ["steps", "--steps", "outcome+prm"],
                ["tau", "--tau", "outcome+prm"],
                ["implicitPrm", "--implicit-prm", "outcome+implicit"],
                ["implicitLr", "--implicit-lr", "outcome+implicit"],
            ];
            for (const [key, flag, reward] of only) if (given(key) && o.reward !== reward) throw new StepwiseError(`train-rl ${flag} is for --reward ${reward}, not ${o.reward}`);
            if (given("processWeight") && o.reward === "outcome") throw new StepwiseError("train-rl --process-weight is for --reward outcome+prm or outcome+implicit, not outcome");
            // Model options resolve as engine specs do (lab:NAME from the package's models/ folder, from any working directory).
            o.init = await localModelFile(o.init, `train-rl --init ${o.init}`, {why: "train-rl trains its weights"});
            o.implicitPrm = await localModelFile(o.implicitPrm, `train-rl --implicit-prm ${o.implicitPrm}`, {why: "PRIME updates its weights"});
            o.resume = resumeOrFresh("train-rl", join(o.checkpointDir, "rl-checkpoint.bin"), o);
            const prm = o.reward === "outcome+prm" ? await (await import("../../prm/index.ts")).createScorer(o.prm, {stepsOnly: true}) : undefined;
            try {
                const {trainPolicyRl} = await import("../../apps/lab/policy/rl.ts");
                const entries = await trainPolicyRl({
                    init: o.init,
                    out: o.out,
                    dir: o.checkpointDir,
                    iterations: o.iterations,
                    problems: o.problems,
                    group: o.group,
                    maxTokens: o.maxTokens,
                    temperature: o.temperature,
                    lr: o.lr,
                    clip: o.clip,
                    klCoef: o.kl,
                    updates: o.updates,
                    seed: o.seed,
                    resume: o.resume,
                    snapshotEvery: o.snapshotEvery,
                    reward:
                        o.reward === "outcome+implicit"
                            ? {kind: o.reward, implicitPrm: o.implicitPrm, implicitLr: o.implicitLr, processWeight: o.processWeight}
                            : {kind: o.reward, prm, prmName: o.prm, process: o.process, processWeight: o.processWeight, stepRule},
                });
                process.stderr.write(`train-rl: ${plural(entries.length, "iteration")} run; model ${o.out}; log ${o.checkpointDir}/rl-log.jsonl\n`);
            } finally {
                await prm?.close();
            }
        });
}

/** Add `train-policy`, `train-rl` and `check-policy` to the `lab` command group. */
export function registerLabTraining(lab: Command): void {
    lab.addCommand(trainPolicyCommand());
    lab.addCommand(trainRlCommand());
    lab.addCommand(checkPolicyCommand());
}
