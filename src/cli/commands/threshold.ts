/** `stepwise threshold`: τ at a low quantile of the pooled token confidences (AdaptiveStep). */
import {writeFileAtomic} from "../../io/atomic.ts";
import {Option, type Command} from "@commander-js/extra-typings";
import {DOMAIN_QUANTILES} from "../../pipeline/threshold-presets.ts";
import {floatOption, intOption} from "../options.ts";
import {prepareOutput} from "../../io/output.ts";
import {checkInputFile} from "../../io/text.ts";
import {fsError} from "../../util/errors.ts";
import {plural} from "../../util/plural.ts";

export function register(program: Command): void {
    program
        .command("threshold")
        .description("pool the token confidences of a samples file and pick the AdaptiveStep threshold τ at a low quantile")
        .requiredOption("--samples <file>", "samples JSONL written by `stepwise sample`")
        .requiredOption("--out <file>", "threshold JSON to write (tau, quantile, distribution summary); `stepwise split --threshold` reads it")
        .addOption(new Option("--domain <d>", "quantile preset: math = 2% (1,517k decision tokens of 78M), code = 1.4% (Table 10: 234k of 17M); AdaptiveStep").choices(["math", "code"]).default("math"))
        .option("--quantile <q>", "share of tokens that should fall below τ, overrides the preset (e.g. 0.02)", floatOption(0, 1))
        .option("--bins <n>", "histogram bins over [0, 1]", intOption(2, 1000), 50)
        .option("--plot <base>", "histogram with τ marked, written as <base>.svg and <base>.png (default: --out without .json)")
        .option("--no-plot", "do not draw the histogram")
        .addHelpText(
            "after",
            `
Examples:
  stepwise threshold --samples samples.jsonl --out threshold.json
  stepwise threshold --samples code-samples.jsonl --domain code --quantile 0.03 --out code-threshold.json

Tokens with confidence < τ are decision tokens: \`stepwise split --strategy adaptive --threshold threshold.json\`
ends a step right after each of them. τ is the smallest edge of a fine log-scale histogram (0.05% wide
buckets, constant memory: any number of tokens in one streaming pass) with at least the quantile's share
of tokens below it; "share_below_tau" in the output is the exact share.
Presets: ${Object.entries(DOMAIN_QUANTILES).map(([d, q]) => `${d} ${q}`).join(", ")}.`,
        )
        .action(async (o) => {
            const {plotThreshold, thresholdFromFile} = await import("../../pipeline/threshold.ts");
            checkInputFile(o.samples, "--samples");
            prepareOutput(o.out, {inputs: [o.samples]});
            const base = typeof o.plot === "string" ? o.plot : o.out.replace(/\.json$/i, "");
            if (o.plot !== false) for (const ext of [".svg", ".png"]) prepareOutput(base + ext, {inputs: [o.samples], flag: "--plot"});
            const summary = await thresholdFromFile(o.samples, {quantile: o.quantile, domain: o.domain, bins: o.bins});
            try {
                writeFileAtomic(o.out, JSON.stringify(summary, null, 2) + "\n");
            } catch (e) {
                throw fsError(e, o.out, "cannot write");
            }
            let plotted = "";
            if (o.plot !== false) {
                const {svg, png} = await plotThreshold(summary, base);
                plotted = `, histogram ${svg} and ${png}`;
            }
            console.error(
                `threshold: τ = ${summary.tau} (quantile ${summary.quantile}): ${summary.below_tau} of ${plural(summary.tokens, "token")} below ` +
                    `(${(100 * summary.share_below_tau).toFixed(3)}%), ${plural(summary.samples, "sample")}, mean confidence ${summary.mean.toFixed(4)}; wrote ${o.out}${plotted}`,
            );
        });
}
