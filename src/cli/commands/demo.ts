/** `stepwise demo`: the lab pipeline end to end on the shipped models. */
import type {Command} from "commander";
import {createProgress} from "../progress.ts";
import {floatOption, intOption} from "../options.ts";

export function register(program: Command): void {
    program
        .command("demo")
        .description("run the lab pipeline on the shipped lab policy and write a report (a few minutes on a laptop CPU)")
        .option("--out <dir>", "output folder (default: stepwise-out/demo-<time>)")
        .option("--policy <file>", "policy GGUF (default: models/lab-policy.gguf)")
        .option("--problems <n>", "held-out lab problems", intOption(1), 40)
        .option("--k <n>", "samples per problem", intOption(1, 64), 8)
        .option("--seed <s>", "seed", intOption(0), 0)
        .option("--prm <file>", "PRM GGUF to evaluate (default: models/lab-prm.gguf)")
        .option("--train-prm <minutes>", "train a PRM on the demo's own adaptive labels for this long instead of using the shipped one", floatOption(0.1))
        .action(async (o) => {
            const {runDemo} = await import("../../demo/run.ts");
            const progress = createProgress("demo");
            const {out, summary} = await runDemo({
                out: o.out,
                policy: o.policy,
                problems: o.problems,
                k: o.k,
                seed: o.seed,
                prm: o.prm,
                trainPrmMinutes: o.trainPrm,
                onProgress: (_stage, d, t) => progress.update(d, t),
                log: (l) => console.error(l),
            });
            progress.stop();
            const pct = (x: unknown) => `${(100 * (x as number)).toFixed(1)}%`;
            const passAt = summary.pass_at_k as Record<string, number>;
            console.log(`greedy accuracy ${pct(summary.greedy_accuracy)}, ${Object.entries(passAt).map(([k, v]) => `pass@${k} ${pct(v)}`).join(", ")}`);
            console.log(`report: ${out}/report.md (also report.html, summary.json, samples.jsonl, confidence-histogram.png)`);
        });
}
