/** `stepwise lab eval-policy`: is a policy useful for PRM work? */
import {Command, Option} from "@commander-js/extra-typings";
import {createProgress, createStagedProgress} from "../progress.ts";
import {floatOption, intOption} from "../options.ts";
import {formatInterval} from "../../stats/intervals.ts";
import {plural} from "../../util/plural.ts";

export function evalPolicyCommand(): Command {
    return new Command("eval-policy")
        .description("measure a lab policy on held-out problems: greedy accuracy, pass@k at T=1, accuracy by operations, confidence spread")
        .option("--model <file>", "policy GGUF (default: models/lab-policy.gguf)")
        .option("--n <n>", "held-out problems", intOption(1), 500)
        .option("--k <k>", "samples per problem at temperature 1 (pass@k)", intOption(0, 256), 16)
        .option("--seed <s>", "problem and sampling seed", intOption(0), 0)
        .option("--preset <name>", "lab preset of the problems", "policy")
        .option("--json", "print one JSON object (greedy_accuracy, pass_at_16, accuracy_by_ops, n, ...; greedy_accuracy_ci, sample_accuracy_ci, pass_at_k_ci: {value, low, high, n, method, level})")
        .option("--out <dir>", "also write summary.json and the confidence histogram (SVG and PNG) here")
        .action(async (o) => {
            const {runPolicyEval} = await import("../../apps/lab/eval/run.ts");
            const progress = createProgress("eval-policy");
            let run;
            try {
                run = await runPolicyEval({...o, onProgress: (d, t) => progress.update(d, t)});
            } finally {
                progress.stop();
            }
            const {model, eval: ev} = run;
            const {results, ...figures} = ev;
            void results;
            if (o.json) console.log(JSON.stringify({model, ...figures}));
            else {
                const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
                console.log(`${model} on ${plural(ev.n, "held-out problem")}`);
                console.log(`greedy accuracy ${formatInterval(ev.greedy_accuracy_ci)}`);
                if (ev.sample_accuracy_ci) console.log(`sample accuracy ${formatInterval(ev.sample_accuracy_ci)}`);
                for (const [k, v] of Object.entries(ev.pass_at_k_ci)) console.log(`pass@${k} ${formatInterval(v)}`);
                for (const [ops, v] of Object.entries(ev.accuracy_by_ops)) console.log(`  ${plural(Number(ops), "op")}: greedy ${formatInterval(v.greedy_accuracy_ci)}; pass@${ev.k} ${pct(v.pass_at_k)}`);
                console.log(`confidence quantiles: ${Object.entries(ev.confidence.quantiles).map(([q, v]) => `${q}:${v.toFixed(3)}`).join(" ")}`);
                const max = Math.max(...ev.confidence.histogram.map((b) => b.count));
                for (const b of ev.confidence.histogram) console.log(`  ${b.start.toFixed(2)}-${b.end.toFixed(2)} ${"#".repeat(Math.round((50 * b.count) / max))} ${b.count}`);
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
