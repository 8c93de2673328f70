/** `stepwise stats`: step-length distributions and decision-token categories, strategies side by side. */
import {writeFileAtomic} from "../../io/atomic.ts";
import {prepareOutput} from "../../io/output.ts";
import {join} from "node:path";
import {Option, type Command} from "@commander-js/extra-typings";
import {categorySchemeNames} from "../../domains/categories.ts";
import {collect} from "../options.ts";

export function register(program: Command): void {
    program
        .command("stats")
        .description("steps per sample, tokens per step and what kinds of tokens end steps, for one or more steps files side by side")
        .requiredOption("--steps <file>", "steps JSONL from `stepwise split` (repeat to compare strategies)", collect, [])
        .option("--samples <file>", "the samples JSONL the steps were split from: adds the token-category table (decision tokens vs all tokens)")
        .requiredOption("--out <dir>", "folder for stats.json, stats.md and the plots (SVG and PNG)")
        .option("--domain <name>", `category table: math (line break, math formula, conjunction, noun, verb, split word, ...), code (statements, AdaptiveStep Tables 9-10: comment, control flow, definition, import, return, assignment, ...), code-tokens (comment, string, keyword, identifier, ...) or another registered table (known: ${categorySchemeNames().join(", ")})`, "math")
        .addOption(new Option("--language <l>", "code comment syntax: python (#) or c-like (// and /* */)").choices(["python", "c-like"]).default("python"))
        .option("--no-plot", "do not draw the plots")
        .addHelpText(
            "after",
            `
Examples:
  stepwise stats --steps steps-adaptive.jsonl --steps steps-newline.jsonl --samples samples.jsonl --out stats/
  stepwise stats --steps code-steps.jsonl --samples code-samples.jsonl --domain code --out code-stats/

Writes <out>/stats.json, <out>/stats.md (also printed) and, unless --no-plot, <out>/steps-per-sample,
tokens-per-step, tokens-per-sample and categories (.svg and .png). Decision tokens are the tokens with
confidence < τ for adaptive files, and the last token of every step but the last for other strategies.`,
        )
        .action(async (o) => {
            // The output folder first: a read-only or unwritable folder is named before any work.
            prepareOutput(o.out, {folder: true, inputs: [...o.steps, o.samples]});
            const {computeStats, statsMarkdown} = await import("../../pipeline/stats/index.ts");
            const {writeStatsPlots} = await import("../../pipeline/stats/plots.ts");
            const {report, series} = await computeStats({steps: o.steps, samples: o.samples, domain: o.domain, language: o.language});
            writeFileAtomic(join(o.out, "stats.json"), JSON.stringify(report, null, 2) + "\n");
            const md = statsMarkdown(report);
            writeFileAtomic(join(o.out, "stats.md"), md);
            process.stdout.write(md);
            const plots = o.plot === false ? [] : await writeStatsPlots(report, series, o.out);
            console.error(`stats: wrote ${join(o.out, "stats.json")}, ${join(o.out, "stats.md")}${plots.length ? ` and ${plots.length} plots (.svg, .png)` : ""}`);
        });
}
