/** `stepwise demo`: the lab pipeline end to end on the shipped models. */
import type {Command} from "@commander-js/extra-typings";
import {createStagedProgress} from "../progress.ts";
import {floatOption, intOption} from "../options.ts";

export function register(program: Command): void {
    program
        .command("demo")
        .description("run the whole lab pipeline on the shipped lab models and write a report folder (report.md/html/json, plots, the static viewer)")
        .option("--out <dir>", "output folder (default: stepwise-out/demo-<time>)")
        .option("--policy <file>", "policy GGUF (default: models/lab-policy.gguf)")
        .option("--problems <n>", "held-out lab problems", intOption(1), 40)
        .option("--k <n>", "samples per problem (maj@N and Best-of-N are reported up to this N)", intOption(1, 64), 16)
        .option("--seed <s>", "seed", intOption(0), 0)
        .option("--label-samples <n>", "samples labelled by Monte-Carlo rollouts per split strategy", intOption(1), 40)
        .option("--rollouts <n>", "rollouts per step when labelling", intOption(1), 4)
        .option("--prm <file>", "PRM GGUF to evaluate and decode with (default: models/lab-prm.gguf)")
        .option("--train-prm <minutes>", "train a PRM on the demo's own adaptive labels for this long instead of using the shipped one", floatOption(0.1))
        .option("--decode-problems <n>", "problems decoded by each strategy (greedy, TVD, Best-of-N, beam); 0 skips decoding", intOption(0), 40)
        .option("--decode-n <n>", "candidates of the Best-of-N and beam decoders", intOption(1, 64), 4)
        .option("--judge <file>", "lab judge GGUF; its template and protocol come from the file (default: models/lab-verifier.gguf, the lab verifier: one greedy check of each step; models/lab-judge.gguf is the compact judge, 5 votes)")
        .option("--judge-n <n>", "answers per solution: 1 is one greedy answer, more are majority-voted at T 1 (default: the judge's protocol, 1 for the verifier, 5 for the compact judge; the verifier was measured greedy only)", intOption(1))
        .option("--judge-samples <n>", "solutions the judge reads (its lab-ProcessBench F1; the labelled ones feed consensus filtering)", intOption(1), 160)
        .option("--code-policy <file>", "code-lab policy GGUF (default: models/lab-code-policy.gguf)")
        .option("--code-tasks <n>", "held-out code-lab tasks", intOption(1), 20)
        .option("--skip <stages>", "comma-separated stages to leave out: label, prm, decode, judge, code", (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean))
        .option("--no-viewer", "do not write the static viewer (viewer/)")
        .addHelpText(
            "after",
            `
Stages (each named in the progress output):
  problems → sample (greedy + k samples, every token's confidence) → threshold (τ) → split
  (adaptive and newline steps, statistics) → label (MC rollouts vs the exact truth) → prm (step
  AUC, lab-ProcessBench, Best-of-N, analyses) → decode (greedy, TVD, Best-of-N, beam) → judge
  (the lab verifier checks each step and names the first wrong one; consensus filtering of the
  MC labels) → code (the code lab: programs run against unit tests in the bubblewrap sandbox)
  → report
Each stage runs what its command runs (stepwise sample, split, label, score, decode, judge,
filter --consensus, code eval), with each model loaded once and shared by its stages.

Writes into --out: report.md, report.html, report.json (greedy_accuracy, maj_at_16, bon_at_16,
tvd_accuracy, beam_accuracy, step_auc, lab_processbench_f1, judge_f1, consensus_kept_share,
code_pass_at_1 as fractions, each with its 95% interval as <key>_ci {value, low, high, n, method,
level}; comparisons: TVD vs greedy, Best-of-N vs maj@N, PRM vs judge, paired on the same items;
label_tokens_per_sample, threshold), the plots (.svg/.png), every intermediate JSONL file (each
with the .settings.json its stage writes), and viewer/index.html (opens with no server).
Prints each headline figure with its 95% interval and n, and each paired comparison.

Examples:
  stepwise demo
  stepwise demo --out my-demo --problems 100 --decode-problems 0
  stepwise demo --train-prm 5          # train the PRM here instead of using the shipped one`,
        )
        .action(async (o) => {
            const {runDemo, demoSummary} = await import("../../apps/demo/run.ts");
            const progress = createStagedProgress("demo");
            const {report} = await runDemo({
                out: o.out,
                policy: o.policy,
                problems: o.problems,
                k: o.k,
                seed: o.seed,
                labelSamples: o.labelSamples,
                rollouts: o.rollouts,
                prm: o.prm,
                trainPrmMinutes: o.trainPrm,
                decodeProblems: o.decodeProblems,
                decodeN: o.decodeN,
                judge: o.judge,
                judgeSamples: o.judgeSamples,
                judgeN: o.judgeN,
                codePolicy: o.codePolicy,
                codeTasks: o.codeTasks,
                skip: o.skip,
                viewer: o.viewer,
                onProgress: (stage, d, t) => progress.update(stage, d, t),
                log: (l) => {
                    progress.stop();
                    console.error(l);
                },
            });
            progress.stop();
            for (const line of demoSummary(report)) console.log(line);
        });
}
