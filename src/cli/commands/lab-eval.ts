/** `stepwise lab eval-policy`: is a policy useful for PRM work? */
import {Command} from "commander";
import {LlamaEngine} from "../../engines/llama/engine.ts";
import {generateProblems} from "../../lab/domain/index.ts";
import {evaluatePolicy} from "../../lab/eval/policy.ts";
import {defaultPolicyPath} from "../../demo/run.ts";
import {createProgress} from "../progress.ts";
import {intOption} from "../options.ts";

export function evalPolicyCommand(): Command {
    return new Command("eval-policy")
        .description("measure a lab policy on held-out problems: greedy accuracy, pass@k at T=1, accuracy by operations, confidence spread")
        .option("--model <file>", "policy GGUF (default: models/lab-policy.gguf)")
        .option("--n <n>", "held-out problems", intOption(1), 500)
        .option("--k <k>", "samples per problem at temperature 1 (pass@k)", intOption(0, 256), 16)
        .option("--seed <s>", "problem and sampling seed", intOption(0), 0)
        .option("--preset <name>", "lab preset of the problems", "policy")
        .option("--json", "print one JSON object (greedy_accuracy, pass_at_16, accuracy_by_ops, n, ...)")
        .action(async (o) => {
            const model = o.model ?? defaultPolicyPath();
            const problems = generateProblems(o.n, {seed: 2000 + o.seed, split: "heldout", preset: o.preset});
            const engine = await LlamaEngine.load(model, {sequences: Math.max(1, Math.min(16, o.k)), contextSize: 512});
            const progress = createProgress("eval-policy");
            try {
                const ev = await evaluatePolicy({engine, problems, k: o.k, seed: o.seed, onProgress: (d, t) => progress.update(d, t)});
                progress.stop();
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
            } finally {
                progress.stop();
                await engine.close();
            }
        });
}
