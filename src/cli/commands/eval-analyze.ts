/** `stepwise eval analyze`: the CLI over {@link analyzeFiles} (src/eval/analyze/run.ts). */
import {Command, InvalidArgumentError, Option} from "@commander-js/extra-typings";
import {StepwiseError} from "../../util/errors.ts";
import {DEFAULT_THRESHOLD} from "../../eval/defaults.ts";
import {createStagedProgress} from "../progress.ts";
import {floatOption, intOption, reportTooLong} from "../options.ts";
import {AGGREGATIONS} from "../../select/aggregate.ts";
import {plural} from "../../util/plural.ts";

function randomKOption(value: string): number | "auto" {
    if (value === "auto") return "auto";
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected "auto" or an integer ≥ 0, got "${value}"`);
    return n;
}

/** Factory of the `eval analyze` subcommand (registered in src/cli/commands/eval.ts). */
export function analyzeCommand(): Command {
    return new Command("analyze")
        .description("PRM analyses: (a) flags on right-answer-wrong-process solutions, (b) lowest step score at the last step, (c) Best-of-N per aggregation, (d) rating positions (adaptive vs random vs newline)")
        .option("--data <paths...>", "(a)(b) ProcessBench split files or folders (or lab records of the same shape)")
        .option("--scores <file>", "(a)(b) step scores JSONL {id, step_scores, split?} of the --data samples (e.g. a --scores-out file); samples it lacks are left out and listed, or scored with --prm")
        .option("--prm <spec>", "PRM spec: scores --data (all samples, or those --scores lacks) and every position scheme of --candidates")
        .option("--scores-out <file>", "with --data and --prm: keep the ProcessBench scores the PRM computes in this JSONL (resumable; reuse with --scores)")
        .option("--skip-too-long", "with --prm: leave out ProcessBench samples and --candidates whose PRM input is longer than the PRM's context (counted and listed) instead of stopping")
        .option("--threshold <t>", "(a) a step is flagged when its score is below this", floatOption(), DEFAULT_THRESHOLD)
        .option("--calibrate <split>", "(a) use the threshold that maximises ProcessBench F1 on this split instead")
        .option("--bon <file>", "(b)(c) Best-of-N candidates JSONL {question_id, text, step_scores, gold | correct} (as `eval bon`)")
        .option("--bon-scores <file>", "(c) step scores JSONL {id, step_scores} joined on the candidate id (instead of scores in --bon)")
        .option("--candidates <file>", "(d) SampleRecord JSONL (`stepwise sample`: tokens with confidences, gold, question_id); needs --prm")
        .option("--tau <t>", "(d) adaptive confidence threshold τ", floatOption(0, 1.001))
        .option("--threshold-file <file>", "(d) read τ from a file written by `stepwise threshold`")
        .option("--random-k <k>", '(d) random positions per sample: "auto" = its adaptive step count − 1, or a fixed K', randomKOption, "auto")
        .option("--random-seed <s>", "(d) seed of the random positions (with the sample id)", intOption(0), 0)
        .option("--n <n>", "(d) Best-of-N size (default: all candidates of a question)", intOption(1))
        .addOption(new Option("--position-aggregations <a...>", "(d) Best-of-N aggregations (default min mean max, the released AdaptiveStep evaluation; the Qwen paper's: min last product)").choices([...AGGREGATIONS]))
        .option("--subsets <k>", "(c)(d) random subsets per question and N", intOption(1, 1_000_000), 200)
        .option("--seed <s>", "(c)(d) seed of the subsets and tie-breaks", intOption(0), 0)
        .option("--concurrency <n>", "with --prm: solutions scored at once", intOption(1, 1024), 4)
        .addOption(new Option("--policy <policy>", "(c)(d) answer grading policy").choices(["lenient", "strict"]).default("lenient"))
        .option("--out <dir>", "write summary.json, report.md and charts (SVG + PNG) into this folder (and position-scores.jsonl for (d))")
        .option("--json", "print the summary as one JSON object on stdout")
        .option("--quiet", "no progress output")
        .addHelpText(
            "after",
            `
Examples:
  stepwise eval analyze --data ../shared/data/processbench --scores pb-scores.jsonl --out analysis
  stepwise eval analyze --data lab-pb.jsonl --prm llama:models/lab-prm.gguf --scores-out lab-pb-scores.jsonl --calibrate lab-pb
  stepwise eval analyze --bon candidates.jsonl --json
  stepwise eval analyze --candidates samples.jsonl --prm llama:models/lab-prm.gguf --threshold-file threshold.json --out positions

(a) groups: right answer but wrong process (final_answer_correct and label ≠ −1), wrong answer, fully
correct (label −1); flagged = some step below the threshold. (b) lowest score strictly at the last step,
over solutions with ≥ 2 steps. (c) PRM Best-of-N under min, max, mean, product, last. (d) the same PRM
rates the same candidates cut at decision tokens, at random positions and at line breaks; Best-of-N at
N = all candidates with min, mean, max (the released evaluation's; --position-aggregations min last product for the Qwen paper's). Without --bon, (b) and (c) also run on the (d) candidates'
adaptive scores.`,
        )
        .action(async (o) => {
            if (o.tau !== undefined && o.thresholdFile) throw new StepwiseError("give --tau or --threshold-file, not both");
            const {readThresholdFile} = await import("../../pipeline/threshold.ts");
            const {analyzeFiles} = await import("../../eval/analyze/run.ts");
            const {analyzeJson, analyzeMarkdown} = await import("../../eval/analyze/report.ts");
            const tau = o.tau ?? (o.thresholdFile ? readThresholdFile(o.thresholdFile) : undefined);
            const progress = createStagedProgress("eval analyze", {quiet: o.quiet || o.json});
            let run;
            try {
                run = await analyzeFiles({...o, tau, randomK: o.randomK === "auto" ? undefined : o.randomK, onProgress: (s, d, t) => progress.update(s, d, t)});
            } finally {
                progress.stop();
            }
            if (run.tooLong?.length) {
                reportTooLong("eval analyze", run.tooLong);
                console.error(`eval analyze: ${plural(run.tooLong.length, "sample")} left out: longer than the PRM's context`);
            }
            if (run.scoredMissing) console.error(`eval analyze: ${plural(run.scoredMissing, "sample")} had no step scores in ${o.scores}: scored with the PRM`);
            if (run.missing?.length) {
                reportTooLong("eval analyze", run.missing);
                console.error(`eval analyze: ${plural(run.missing.length, "sample")} left out: no step scores in ${o.scores} (give --prm SPEC to score them)`);
            }
            if (o.out && !o.quiet) console.error(`eval analyze: report in ${o.out}`);
            if (o.json) console.log(JSON.stringify(analyzeJson(run.result, run.inputs)));
            else if (!o.out || !o.quiet) console.log(analyzeMarkdown(run.result));
        });
}
