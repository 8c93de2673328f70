/**
 * `stepwise eval ...`: evaluating PRMs.
 *
 *   stepwise eval bon --data candidates.jsonl [--scores FILE] [--out DIR] [--json]
 *   stepwise eval processbench --data PATH... (--scores FILE | --predictions FILE) [--calibrate gsm8k] [--out DIR] [--json]
 *   stepwise eval prmbench --data FILE (--prm SPEC | --judge SPEC | --predictions FILE) [--out DIR] [--json]
 *
 * The group is built by {@link evalCommand} from {@link EVAL_SUBCOMMANDS}: to add a subcommand
 * (e.g. `analyze`), write a factory returning a commander `Command` and append it there.
 */
import {Command, InvalidArgumentError, Option} from "@commander-js/extra-typings";
import {AGGREGATIONS, type Aggregation, isAggregation} from "../../select/aggregate.ts";
import {DEFAULT_CANDIDATE_FIELDS, DEFAULT_THRESHOLD} from "../../eval/defaults.ts";
import {JUDGE_TEMPLATES} from "../../core/constants.ts";
import {analyzeCommand} from "./eval-analyze.ts";
import {prmBenchCommand} from "./eval-prmbench.ts";
import {createStagedProgress} from "../progress.ts";
import {floatOption, intOption, reportResumed, reportTooLong} from "../options.ts";
import {plural} from "../../util/plural.ts";

/** Parse a comma-separated list of aggregations. */
function aggregationList(value: string): Aggregation[] {
    const list = value.split(",").map((s) => s.trim()).filter(Boolean);
    for (const a of list) if (!isAggregation(a)) throw new InvalidArgumentError(`unknown aggregation "${a}" (choose from ${AGGREGATIONS.join(", ")})`);
    if (list.length === 0) throw new InvalidArgumentError("expected at least one aggregation");
    return list as Aggregation[];
}

/** Parse a comma-separated list of positive integers. */
function sizeList(value: string): number[] {
    const list = value.split(",").map((s) => Number(s.trim()));
    for (const n of list) if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected positive integers separated by commas, got "${value}"`);
    return list;
}

/** `eval bon`: Best-of-N, majority voting and pass@N against N. */
export function bonCommand(): Command {
    const f = DEFAULT_CANDIDATE_FIELDS;
    return new Command("bon")
        .description("Best-of-N evaluation: first-sample accuracy, pass@N, maj@N, PRM Best-of-N per aggregation and PRM-weighted voting, for N = 1, 2, 4, ...")
        .requiredOption("--data <file>", "candidates JSONL, one record per candidate solution")
        .option("--scores <file>", "step scores JSONL {id, step_scores} joined on the candidate id (instead of scores in --data)")
        .option("--out <dir>", "write summary.json, report.md and accuracy-vs-n.svg/.png into this folder")
        .option("--json", "print the summary as one JSON object on stdout")
        .option("--subsets <k>", "random subsets per question and N", intOption(1, 1_000_000), 200)
        .option("--seed <s>", "seed of the subsets and tie-breaks", intOption(0), 0)
        .option("--n <list>", "subset sizes, e.g. 1,2,4,8 (default: powers of 2 up to the smallest candidate count)", sizeList)
        .option("--bon-agg <list>", `step-score aggregations for Best-of-N (default: all of ${AGGREGATIONS.join(",")})`, aggregationList)
        .option("--vote-agg <list>", "aggregations for PRM-weighted majority voting", aggregationList, ["product"] as Aggregation[])
        .addOption(new Option("--policy <policy>", "answer grading policy (lenient: Math-Verify-like; strict: PRM800K-like)").choices(["lenient", "strict"]).default("lenient"))
        .option("--question-id-field <f>", "question id field", f.questionId)
        .option("--text-field <f>", "candidate text field (its final answer is extracted)", f.text)
        .option("--step-scores-field <f>", "step scores field (number[])", f.stepScores)
        .option("--gold-field <f>", "gold answer (or gold solution) field", f.gold)
        .option("--correct-field <f>", "precomputed verdict field (boolean); when present, no grading against gold", f.correct)
        .option("--answer-field <f>", "precomputed extracted answer field; when present, used instead of extracting from the text", f.answer)
        .option("--id-field <f>", "candidate id field (to join --scores; default id <question_id>#<index>)", f.id)
        .option("--allow-unfinished", "let Best-of-N pick (and votes count) candidates without a final answer or cut off (finish_reason length; such a candidate has no answer and is graded wrong); default: never, as PRM800K")
        .option("--quiet", "no progress output")
        .addHelpText(
            "after",
            `
Examples:
  stepwise eval bon --data candidates.jsonl --out bon-report
  stepwise eval bon --data samples.jsonl --scores prm-scores.jsonl --question-id-field question_id --n 1,4,16,64 --json
  stepwise eval bon --data graded.jsonl --correct-field is_correct --bon-agg min,product,last --vote-agg product,min

A candidate record: {question_id, text, step_scores: [0.9, 0.8, ...], gold} (or correct: true/false instead
of gold; optional finish_reason as \`stepwise sample\` writes it). Answers are grouped into classes by the
grader's equivalence (not by string), once per question. A candidate without a final answer is
unfinished: never picked and never voting unless --allow-unfinished. A candidate cut off by the token
budget (finish_reason "length") is unfinished and has no answer at all, whatever its last words: it is
graded wrong (unless the record carries its own correct field) even when --allow-unfinished picks it.
Each N averages --subsets random subsets per question; in parentheses, a 95% Wilson interval over
the questions (low–high). Ties in maj@N, Best-of-N and the vote are broken at random (seeded). Candidates without step scores: only first/pass/maj are reported.`,
        )
        .action(async (o) => {
            const {evaluateBonFile} = await import("../../eval/bon/run.ts");
            const {bonMarkdown} = await import("../../eval/bon/report.ts");
            const fields = {questionId: o.questionIdField, text: o.textField, stepScores: o.stepScoresField, gold: o.goldField, correct: o.correctField, answer: o.answerField, id: o.idField};
            const progress = createStagedProgress("eval bon", {quiet: o.quiet});
            let run;
            try {
                run = await evaluateBonFile({
                    data: o.data,
                    scores: o.scores,
                    fields,
                    policy: o.policy,
                    sizes: o.n,
                    subsets: o.subsets,
                    seed: o.seed,
                    bonAggregations: o.bonAgg,
                    voteAggregations: o.voteAgg,
                    allowUnfinished: o.allowUnfinished ?? false,
                    out: o.out,
                    onProgress: (s, d, t) => progress.update(s, d, t),
                });
            } finally {
                progress.stop();
            }
            if (run.files) console.error(`eval bon: report in ${o.out} (${[run.files.json, run.files.markdown, run.files.svg, run.files.png].join(", ")})`);
            if (o.json) console.log(JSON.stringify(run.summary));
            else if (!o.out || !o.quiet) console.log(bonMarkdown(run.summary));
        });
}

/** `eval processbench`: first-error identification (ProcessBench metrics). */
export function processBenchCommand(): Command {
    return new Command("processbench")
        .description("ProcessBench: acc on erroneous samples, acc on correct samples and their F1 per split, and the average F1")
        .requiredOption("--data <paths...>", "split files (ProcessBench JSON arrays or JSONL of the same shape) or folders of them; split name = file stem")
        .option("--prm <spec>", "score the steps with this PRM (see `stepwise score --help` for PRM specs)")
        .option("--scores-out <file>", "with --prm: keep the scores in this JSONL (resumes an interrupted run; reuse with --scores); default with --out: OUT/scores.jsonl")
        .option("--concurrency <n>", "with --prm or --judge: samples scored or judged at once", intOption(1, 1024), 4)
        .option("--skip-too-long", "with --prm or --judge: leave out samples longer than the PRM's or the judge's context (counted and listed) instead of stopping")
        .option("--scores <file>", "PRM step scores JSONL {id, step_scores: number[]} (e.g. a --scores-out file); the prediction is the first step below the threshold. Samples it lacks are left out and listed, or scored with --prm SPEC")
        .option("--predictions <file>", "predictions JSONL {id, prediction}: a first-error step index, or -1 for none")
        .option("--judge <spec>", "ask this judge (a chat engine spec, as for `stepwise judge`) for each sample's first wrong step; no verdict counts as wrong")
        .addOption(new Option("--judge-template <name>", "with --judge: prompt, parser and vote, as `stepwise judge --template` (default: verify for a lab verifier GGUF, compact for another stepwise lab judge GGUF, else processbench)").choices([...JUDGE_TEMPLATES]))
        .option("--judge-n <n>", "with --judge: answers per sample (majority vote); default the template's: 8 (processbench) or 5 (compact)", intOption(1, 64))
        .option("--judge-temperature <t>", "with --judge: sampling temperature; default 1", floatOption(0, 10))
        .option("--judge-top-p <p>", "with --judge: nucleus sampling mass in (0, 1]; default the template's: 0.9 (processbench) or 1 (compact)", floatOption(0, 1))
        .option("--judge-max-tokens <n>", "with --judge: most tokens per answer; default the template's: 8192 (processbench) or 1024 (compact)", intOption(1))
        .option("--verdicts-out <file>", "with --judge: keep the verdicts in this JSONL (resumes an interrupted run); default with --out: OUT/verdicts.jsonl")
        .option("--threshold <t>", "step-score threshold (with --scores)", floatOption(), DEFAULT_THRESHOLD)
        .option("--calibrate <split>", "use the threshold that maximises F1 on this split (e.g. gsm8k) for every split (with --scores or --prm)")
        .option("--out <dir>", "write summary.json, report.md, predictions.jsonl and charts (SVG + PNG) into this folder")
        .option("--json", "print exactly one JSON object: {splits: {NAME: {acc_error, acc_correct, f1, n, acc_error_ci, acc_correct_ci, f1_ci}}, average_f1, average_f1_ci} (percent; each *_ci {value, low, high, n, method, level}; with --calibrate also threshold, calibrated_on, calibration_rows, calibration_warning)")
        .addHelpText(
            "after",
            `
Examples:
  stepwise eval processbench --data ../shared/data/processbench --scores prm-scores.jsonl --calibrate gsm8k --out pb-report
  stepwise eval processbench --data gsm8k.json math.json --predictions judge.jsonl --json
  stepwise eval processbench --data lab-pb.jsonl --prm llama:models/lab-prm.gguf --scores-out lab-pb-scores.jsonl
  stepwise eval processbench --data lab-solutions.jsonl --scores lab-scores.jsonl --threshold 0.4
  stepwise eval processbench --data lab-pb.jsonl --judge llama:models/lab-judge.gguf --verdicts-out lab-pb-verdicts.jsonl

Records: {id, problem|question, steps: string[], label, final_answer_correct?}; label is the index of the
first wrong step, -1 when all steps are correct. Scores/predictions are matched by id (add "split": NAME
to a record when ids repeat across splits). F1 = 2·acc_err·acc_cor/(acc_err + acc_cor); a split with no
erroneous (or no correct) samples has that accuracy and its F1 null, and is left out of the average.`,
        )
        .action(async (o) => {
            const {evaluateProcessBenchFiles} = await import("../../eval/processbench/run.ts");
            const {processBenchJson, processBenchMarkdown} = await import("../../eval/processbench/report.ts");
            const progress = createStagedProgress("eval processbench", {quiet: o.json});
            let run;
            try {
                run = await evaluateProcessBenchFiles({...o, onProgress: (s, d, t) => progress.update(s, d, t)});
            } finally {
                progress.stop();
            }
            const {result} = run;
            if (result.threshold !== undefined && !o.json) console.error(`eval processbench: threshold ${result.threshold}${result.calibratedOn ? ` (calibrated on ${result.calibratedOn}, ${plural(result.calibrationRows ?? 0, "sample")})` : ""}`);
            if (result.calibrationWarning) console.error(`eval processbench: warning: ${result.calibrationWarning}`);
            reportResumed("eval processbench", run.resumed, "sample", o.judge ? "verdicts" : "step scores");
            if (run.tooLong?.length) {
                reportTooLong("eval processbench", run.tooLong);
                console.error(`eval processbench: ${plural(run.tooLong.length, "sample")} left out: longer than the ${o.judge ? "judge's" : "PRM's"} context`);
            }
            if (run.scoredMissing) console.error(`eval processbench: ${plural(run.scoredMissing, "sample")} had no step scores in ${o.scores}: scored with the PRM`);
            if (run.missing?.length) {
                reportTooLong("eval processbench", run.missing);
                console.error(`eval processbench: ${plural(run.missing.length, "sample")} left out: no step scores in ${o.scores} (give --prm SPEC to score them)`);
            }
            if (o.out) console.error(`eval processbench: report in ${o.out}`);
            if (o.json) console.log(JSON.stringify(processBenchJson(result)));
            else console.log(processBenchMarkdown(result));
        });
}

/** Factories of the `eval` subcommands, in `--help` order. Append new ones (e.g. `analyze`) here. */
export const EVAL_SUBCOMMANDS: Array<() => Command> = [bonCommand, processBenchCommand, prmBenchCommand, analyzeCommand];

/** The `eval` command group. */
export function evalCommand(): Command {
    const group = new Command("eval").description("Evaluate PRMs: Best-of-N with voting baselines, ProcessBench first-error identification, PRMBench step classification");
    for (const make of EVAL_SUBCOMMANDS) group.addCommand(make());
    return group;
}

/** Add the `eval` group to the program. */
export function register(program: Command): void {
    program.addCommand(evalCommand());
}
