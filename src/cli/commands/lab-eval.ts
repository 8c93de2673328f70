/** `stepwise lab eval-policy` (a policy, or two paired, on held-out problems) and `stepwise lab eval-prm`. */
import {Command, Option} from "@commander-js/extra-typings";
import {createStagedProgress} from "../progress.ts";
import {StepwiseError} from "../../util/errors.ts";
import {floatOption, intOption} from "../options.ts";
import {formatInterval} from "../../stats/intervals.ts";
import {plural} from "../../util/plural.ts";

/**
 * The `eval-policy` subcommand: a lab policy (and optionally a baseline, paired) on held-out
 * problems through src/apps/lab/eval/run.ts `evalLabPolicy`. `--model` and `--k` are the older
 * spellings of `--policy` and `--samples` (hidden, still accepted).
 */
export function evalPolicyCommand(): Command {
    return new Command("eval-policy")
        .description(
            "measure a lab policy on held-out problems: greedy accuracy, maj@N and pass@N over N samples at T=1, accuracy by operations, the share of right answers reached through a wrong step (exact lab truth), confidence spread; with --baseline, paired differences; resumable",
        )
        .option("--policy <file>", "policy GGUF, A (default: models/lab-policy.gguf)")
        .addOption(new Option("--model <file>", "older name of --policy").hideHelp())
        .option("--baseline <file>", "baseline GGUF, B: decoded on the same problems; prints the paired differences A − B")
        .option("--n <n>", "held-out problems", intOption(1), 500)
        .option("--samples <k>", "samples per problem at temperature 1 (maj@N, pass@N; 0: greedy only) [default: 16]", intOption(0, 256))
        .addOption(new Option("--k <k>", "older name of --samples").argParser(intOption(0, 256)).hideHelp())
        .option("--seed <s>", "problem and sampling seed (the problems are the held-out stream of seed 2000 + s)", intOption(0), 0)
        .option("--preset <name>", "lab preset of the problems", "policy")
        .option("--max-tokens <n>", "most tokens per solution", intOption(1), 200)
        .option("--json", "print one JSON object {policy, baseline?, paired?}: per policy greedy_accuracy, maj_at_k, pass_at_k, right_answer_wrong_step {greedy, samples}, ... with *_ci intervals {value, low, high, n, method, level}; paired: {greedy_accuracy, maj_at_k, pass_at_k} each {difference, mcnemar, sentence}")
        .option("--out <dir>", "write summary.json and the confidence histograms (SVG and PNG) here and keep the decoded outputs in <dir>/decoded (default: .stepwise-cache/eval-policy)")
        .addHelpText(
            "after",
            `
Each policy's greedy solutions and samples are cached as JSONL (stepwise sample records) in a folder
named after the model and its SHA-256: a killed run continues where it stopped, and a baseline
decoded once is reused by every later comparison with the same settings.

Example (a \`lab train-rl\` policy against the policy it started from):
  stepwise lab eval-policy --policy rl.gguf --baseline models/lab-policy.gguf --n 20 --samples 4
`,
        )
        .action(async (o) => {
            const pick = <T>(a: T | undefined, b: T | undefined, names: string): T | undefined => {
                if (a !== undefined && b !== undefined && a !== b) throw new StepwiseError(`eval-policy: ${names} name the same setting; give one`);
                return a ?? b;
            };
            const policy = pick(o.policy, o.model, "--policy and --model");
            const samples = pick(o.samples, o.k, "--samples and --k") ?? 16;
            const {evalLabPolicy, comparisonJson} = await import("../../apps/lab/eval/run.ts");
            const progress = createStagedProgress("eval-policy");
            let run;
            try {
                run = await evalLabPolicy({policy, baseline: o.baseline, n: o.n, samples, seed: o.seed, preset: o.preset, maxTokens: o.maxTokens, out: o.out, onProgress: (stage, d, t) => progress.update(stage, d, t)});
            } finally {
                progress.stop();
            }
            if (o.json) {
                console.log(JSON.stringify(comparisonJson(run)));
                return;
            }
            const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
            const measured: Array<[string, typeof run.policy]> = [["policy", run.policy], ...(run.baseline ? [["baseline", run.baseline] as [string, typeof run.policy]] : [])];
            for (const [role, m] of measured) {
                const ev = m.eval;
                if (run.baseline) console.log(`${role}:`);
                console.log(`${m.model} on ${plural(ev.n, "held-out problem")}`);
                console.log(`greedy accuracy ${formatInterval(ev.greedy_accuracy_ci)}`);
                if (ev.sample_accuracy_ci) console.log(`sample accuracy ${formatInterval(ev.sample_accuracy_ci)}`);
                if (ev.maj_at_k_ci) console.log(`maj@${ev.k} ${formatInterval(ev.maj_at_k_ci)}`);
                for (const [k, v] of Object.entries(ev.pass_at_k_ci)) console.log(`pass@${k} ${formatInterval(v)}`);
                for (const [what, w] of [["greedy solutions", ev.right_answer_wrong_step.greedy], ["samples", ev.right_answer_wrong_step.samples]] as const)
                    if (w.share_ci) console.log(`right answers through a wrong step (${what}): ${w.wrong_step} of ${w.right}, ${formatInterval(w.share_ci)}`);
                for (const [ops, v] of Object.entries(ev.accuracy_by_ops)) console.log(`  ${plural(Number(ops), "op")}: greedy ${formatInterval(v.greedy_accuracy_ci)}${ev.k > 0 ? `; pass@${ev.k} ${pct(v.pass_at_k)}` : ""}`);
                console.log(`confidence quantiles: ${Object.entries(ev.confidence.quantiles).map(([q, v]) => `${q}:${v.toFixed(3)}`).join(" ")}`);
                const max = Math.max(...ev.confidence.histogram.map((b) => b.count));
                for (const b of ev.confidence.histogram) console.log(`  ${b.start.toFixed(2)}-${b.end.toFixed(2)} ${"#".repeat(Math.round((50 * b.count) / max))} ${b.count}`);
            }
            if (run.paired) {
                console.log(`paired over ${plural(run.paired.n, "problem")} (95% paired-bootstrap intervals):`);
                for (const f of [run.paired.greedy_accuracy, run.paired.maj_at_k, run.paired.pass_at_k]) if (f) console.log(`  ${f.sentence}`);
            }
        });
}

export function evalPrmCommand(): Command {
    return new Command("eval-prm")
        .description("measure a PRM on held-out lab problems against exact step truth: step ROC-AUC, lab-ProcessBench F1, Best-of-N vs maj@N vs greedy, the Qwen analyses, rating positions")
        .requiredOption("--prm <spec>", "the PRM (e.g. llama:models/lab-prm.gguf)")
        .option("--policy <file>", "policy GGUF that writes the candidates (default: models/lab-policy.gguf)")
        .option("--problems <n>", "held-out problems", intOption(1), 200)
        .option("--k <n>", "candidates per problem", intOption(1, 256), 16)
        .option("--temperature <t>", "sampling temperature of the candidates", floatOption(0, 10), 1)
        .addOption(new Option("--positions <scheme>", "where scores are read for AUC, ProcessBench and Best-of-N: adaptive or newline (e.g. for a PRM trained on line-break steps)").choices(["adaptive", "newline"] as const).default("adaptive" as const))
        .option("--seed <s>", "seed", intOption(0), 0)
        .option("--out <dir>", "report folder; candidates.jsonl there is reused by later runs with the same settings", "stepwise-out/lab-eval-prm")
        .option("--json", "print the summary as one JSON object (step_auc with step_auc_ci, processbench with *_ci, bon_at_max_n with accuracy_ci and paired; intervals {value, low, high, n, method, level})")
        .addHelpText("after", `
Examples:
  stepwise lab eval-prm --prm llama:models/lab-prm.gguf --out E --json            # 200 held-out problems × 16 candidates
  stepwise lab eval-prm --prm llama:models/lab-prm.gguf --problems 100 --k 16 --temperature 0.7 --out E07
  stepwise lab eval-prm --prm "llama:models/lab-verifier.gguf?format=verifier" --out E   # reuses E/candidates.jsonl`)
        .action(async (o) => {
            const {runPrmEval} = await import("../../apps/lab/eval/run.ts");
            const progress = createStagedProgress("eval-prm");
            let run;
            try {
                run = await runPrmEval({...o, onProgress: (stage, d, t) => progress.update(stage, d, t)});
            } finally {
                progress.stop();
            }
            const {summary, eval: ev} = run;
            if (o.json) console.log(JSON.stringify(summary));
            else {
                const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : `${(100 * x).toFixed(1)}%`);
                const top = Math.max(...ev.bon.sizes);
                const auc = ev.step_auc_ci ? formatInterval(ev.step_auc_ci, {scale: 1, digits: 3, unit: ""}) : "undefined (one class only)";
                console.log(`step ROC-AUC ${auc} over ${plural(ev.steps, "step")} of ${plural(ev.samples, "sample")} (${ev.scheme}, τ=${(summary.tau as number).toPrecision(3)}; interval: bootstrap over samples)`);
                for (const [name, m] of Object.entries(ev.processbench)) {
                    const f = (v: number | null, iv: Parameters<typeof formatInterval>[0] | null) => (iv ? formatInterval(iv) : pct(v));
                    console.log(`lab-ProcessBench (${name}, threshold ${m.threshold.toFixed(3)}): acc_error ${f(m.accError, m.acc_error_ci)}; acc_correct ${f(m.accCorrect, m.acc_correct_ci)}; F1 ${f(m.f1, m.f1_ci)}`);
                }
                console.log(`greedy ${pct(ev.greedy_accuracy)}; at N=${top} (95% Wilson intervals over ${plural(ev.questions, "question")}):`);
                for (const m of ev.bon.methods) {
                    const p = m.points.find((x) => x.n === top);
                    if (p) console.log(`  ${m.label} ${p.accuracy_ci ? formatInterval(p.accuracy_ci, {scale: 1}) : `${p.accuracy.toFixed(1)}%`}`);
                }
                for (const p of (ev.bon.paired ?? []).filter((x) => x.size === top)) console.log(`  ${p.sentence}`);
                console.log(`report: ${o.out}`);
            }
        });
}
