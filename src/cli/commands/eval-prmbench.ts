/** `stepwise eval prmbench`: the CLI over {@link evaluatePrmBenchFiles} (src/eval/prmbench/run.ts). */
import {Command} from "@commander-js/extra-typings";
import {createStagedProgress} from "../progress.ts";
import {floatOption, intOption, reportResumed, reportTooLong} from "../options.ts";
import {plural} from "../../util/plural.ts";

/** Factory of the `eval prmbench` subcommand (registered in src/cli/commands/eval.ts). */
export function prmBenchCommand(): Command {
    return new Command("prmbench")
        .description("PRMBench: per-category step accuracies, F1, negative F1 and PRMScore, computed as the reference evaluator (ssmisya/PRMBench)")
        .requiredOption("--data <paths...>", "PRMBench JSONL files (e.g. ../shared/data/prmbench/subset400.jsonl) or folders of them")
        .option("--prm <spec>", "score the steps with this PRM (see `stepwise score --help` for PRM specs)")
        .option("--scores-out <file>", "with --prm: keep the scores in this JSONL (resumes an interrupted run); default with --out: OUT/scores.jsonl")
        .option("--concurrency <n>", "with --prm or --judge: items scored or judged at once", intOption(1, 1024), 4)
        .option("--skip-too-long", "with --prm or --judge: leave out items longer than the PRM's / judge's context (counted and listed) instead of stopping")
        .option("--predictions <file>", 'step scores JSONL {idx, step_scores: number[]} keyed by the reference\'s item ids ("<classification>_<idx>", "correct_<idx>"); {idx, validity: false} = no prediction')
        .option("--judge <spec>", "ask this judge (a chat engine spec, as for `stepwise judge`) for each item's first wrong step; steps before it count as valid, the rest invalid")
        .option("--judge-n <n>", "with --judge: answers per item (majority vote)", intOption(1, 64), 5)
        .option("--judge-temperature <t>", "with --judge: sampling temperature", floatOption(0, 10), 1)
        .option("--judge-max-tokens <n>", "with --judge: most tokens per answer", intOption(1), 1024)
        .option("--verdicts-out <file>", "with --judge: keep the verdicts in this JSONL (resumes an interrupted run); default with --out: OUT/verdicts.jsonl")
        .option("--threshold <t>", "with --prm or --predictions: a step is valid when its score is > t (default 0.5, as the reference's PRMs)", floatOption())
        .option("--limit <n>", "only the first N items of each category (a quick run)", intOption(1))
        .option("--out <dir>", "write summary.json, report.md, items.jsonl and prmbench-categories.svg/.png into this folder")
        .option("--json", "print exactly one JSON object: {total: {prmscore, f1, negative_f1, ...}, categories: {NAME: {...}}, groups, validity_rate, n_items, n_invalid, threshold?} (fractions)")
        .addHelpText(
            "after",
            `
Examples:
  stepwise eval prmbench --data ../shared/data/prmbench/subset400.jsonl --predictions preds.jsonl --json
  stepwise eval prmbench --data ../shared/data/prmbench/subset400.jsonl --prm llama:models/lab-prm.gguf --limit 2 --skip-too-long --scores-out pb-scores.jsonl
  stepwise eval prmbench --data ../shared/data/prmbench/subset400.jsonl --predictions critic.jsonl --threshold 0 --out prmbench/

Items, as the reference builds them: "<classification>_<idx>" judges modified_process (its error_steps,
1-based, are wrong) and every "redundency" row also gives "correct_<idx>" (original_process, no wrong
steps). Per step: valid predicted valid = TP, invalid predicted invalid = TN. PRMScore = max(0, (F1 +
negative F1)/2) over pooled steps of every item except the correct_ ones; per category likewise
(multi_solutions: F1 alone). Values are the reference's; where it divides by zero (its -1) they are null.
A category where no step was called wrong has negative F1 null and PRMScore clipped to 0 (not a
measured 0). validity_rate is the reference's: valid non-correct_ items over ALL items (correct_ ones
included), so it is below 1 with no item invalid.
Lab rows with exactly known wrong steps: stepwise lab prmbench --out lab-prmbench.jsonl`,
        )
        .action(async (o) => {
            const {evaluatePrmBenchFiles} = await import("../../eval/prmbench/run.ts");
            const {CATEGORY_GROUPS} = await import("../../eval/prmbench/load.ts");
            const {prmBenchJson, prmBenchMarkdown} = await import("../../eval/prmbench/report.ts");
            const progress = createStagedProgress("eval prmbench", {quiet: o.json});
            let run;
            try {
                run = await evaluatePrmBenchFiles({...o, onProgress: (s, d, t) => progress.update(s, d, t)});
            } finally {
                progress.stop();
            }
            // What the reference accepts silently, said aloud (the loader lists both).
            const {pastLastStep, unknownClassifications} = run.data;
            if (pastLastStep.length)
                console.error(`eval prmbench: ${plural(pastLastStep.length, "item")} name wrong steps past their last step, e.g. ${pastLastStep[0].where} (${pastLastStep[0].id}: error step ${pastLastStep[0].errorStep} of ${pastLastStep[0].steps}); the reference's metric counts those steps nowhere`);
            for (const u of unknownClassifications)
                console.error(`eval prmbench: classification "${u.name}" (e.g. ${u.where}) is none of PRMBench's (correct, ${CATEGORY_GROUPS.flatMap((g) => g.categories).join(", ")}); scored as a category of its own`);
            if (run.data.duplicates.length) console.error(`eval prmbench: ${plural(run.data.duplicates.length, "repeated row")} dropped (identical to their first occurrence, e.g. ${run.data.duplicates[0].where})`);
            reportResumed("eval prmbench", run.resumed, "item", o.judge ? "verdicts" : "step scores");
            if (run.tooLong?.length) {
                reportTooLong("eval prmbench", run.tooLong);
                console.error(`eval prmbench: ${plural(run.tooLong.length, "item")} left out: longer than the ${o.judge ? "judge's" : "PRM's"} context`);
            }
            if (run.result.nInvalid) console.error(`eval prmbench: ${plural(run.result.nInvalid, "item")} without a prediction, left out`);
            if (o.out) console.error(`eval prmbench: report in ${o.out}`);
            if (o.json) console.log(JSON.stringify(prmBenchJson(run.result, run.threshold)));
            else console.log(prmBenchMarkdown(run.result, {threshold: run.threshold}));
        });
}
