/** `stepwise lab eval-policy`: is a policy useful for PRM work? */
import {Command, Option} from "@commander-js/extra-typings";
import {createProgress, createStagedProgress} from "../progress.ts";
import {floatOption, intOption} from "../options.ts";

export function evalPolicyCommand(): Command {
    return new Command("eval-policy")
        .description("measure a lab policy on held-out problems: greedy accuracy, pass@k at T=1, accuracy by operations, confidence spread")
        .option("--model <file>", "policy GGUF (default: models/lab-policy.gguf)")
        .option("--n <n>", "held-out problems", intOption(1), 500)
        .option("--k <k>", "samples per problem at temperature 1 (pass@k)", intOption(0, 256), 16)
        .option("--seed <s>", "problem and sampling seed", intOption(0), 0)
        .option("--preset <name>", "lab preset of the problems", "policy")
        .option("--json", "print one JSON object (greedy_accuracy, pass_at_16, accuracy_by_ops, n, ...)")
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
                console.log(`${model} on ${ev.n} held-out problems`);
                console.log(`greedy accuracy ${pct(ev.greedy_accuracy)}; sample accuracy ${pct(ev.sample_accuracy)}; ${Object.entries(ev.pass_at_k).map(([k, v]) => `pass@${k} ${pct(v)}`).join(", ")}`);
                for (const [ops, v] of Object.entries(ev.accuracy_by_ops)) console.log(`  ${ops} ops: n=${v.n} greedy ${pct(v.greedy_accuracy)} pass@${ev.k} ${pct(v.pass_at_k)}`);
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
        .option("--json", "print the summary as one JSON object")
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
                console.log(`step ROC-AUC ${ev.step_auc.toFixed(3)} over ${ev.steps} steps (${ev.scheme}, τ=${(summary.tau as number).toPrecision(3)})`);
                for (const [name, m] of Object.entries(ev.processbench)) console.log(`lab-ProcessBench (${name}, threshold ${m.threshold.toFixed(3)}): acc_error ${pct(m.accError)} acc_correct ${pct(m.accCorrect)} F1 ${pct(m.f1)}`);
                console.log(`greedy ${pct(ev.greedy_accuracy)}; at N=${top}: ${ev.bon.methods.map((m) => `${m.label} ${m.points.find((p) => p.n === top)?.accuracy.toFixed(1)}%`).join(", ")}`);
                console.log(`report: ${o.out}`);
            }
        });
}
