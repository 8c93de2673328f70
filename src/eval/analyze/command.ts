/**
 * `stepwise eval analyze`: the CLI over {@link runAnalyses}. It reads the files, runs the PRM
 * where asked (ProcessBench samples without --scores; every position scheme of --candidates),
 * and writes the report. Each analysis runs when its inputs are given.
 */
import {writeFileSync, mkdirSync} from "node:fs";
import {join} from "node:path";
import {Command, InvalidArgumentError, Option} from "commander";
import {StepwiseError} from "../../engines/types.ts";
import {readThresholdFile} from "../../pipeline/threshold.ts";
import {readSamples} from "../../pipeline/split/io.ts";
import {createScorer, type StepScorer} from "../../prm/index.ts";
import {createProgress} from "../../cli/progress.ts";
import {floatOption, intOption} from "../../cli/options.ts";
import {DEFAULT_CANDIDATE_FIELDS, readCandidates, readStepScores} from "../bon/load.ts";
import {defaultGrader} from "../grader.ts";
import {DEFAULT_THRESHOLD, readScoresFile} from "../processbench/evaluate.ts";
import {readProcessSplits} from "../processbench/load.ts";
import {scoreProcessSplits} from "../processbench/score.ts";
import {type AnalyzeInput, attachProcessScores, bonInputFromCandidates, runAnalyses} from "./index.ts";
import {type PositionSample, POSITION_SCHEMES, scorePositions} from "./positions.ts";
import {analyzeJson, analyzeMarkdown, writeAnalyzeReport} from "./report.ts";

interface AnalyzeOpts {
    data?: string[];
    scores?: string;
    prm?: string;
    scoresOut?: string;
    threshold: number;
    calibrate?: string;
    bon?: string;
    bonScores?: string;
    candidates?: string;
    tau?: number;
    thresholdFile?: string;
    randomK: number | "auto";
    randomSeed: number;
    n?: number;
    subsets: number;
    seed: number;
    concurrency: number;
    policy: "lenient" | "strict";
    out?: string;
    json?: boolean;
    quiet?: boolean;
}

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
        .option("--scores <file>", "(a)(b) step scores JSONL {id, step_scores, split?} of the --data samples")
        .option("--prm <spec>", "PRM spec: scores --data (when no --scores) and every position scheme of --candidates")
        .option("--scores-out <file>", "with --data and --prm: keep the ProcessBench scores in this JSONL (resumable; reuse with --scores)")
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
N = all candidates with min, last, product. Without --bon, (b) and (c) also run on the (d) candidates'
adaptive scores.`,
        )
        .action(async (o: AnalyzeOpts) => {
            if (!o.data && !o.bon && !o.candidates) throw new StepwiseError("nothing to analyze: give --data (with --scores or --prm), --bon, or --candidates (with --prm)");
            if (o.data && !o.scores && !o.prm) throw new StepwiseError("--data needs --scores FILE or --prm SPEC");
            if (!o.data && (o.scores || o.scoresOut || o.calibrate)) throw new StepwiseError("--scores, --scores-out and --calibrate apply to --data");
            if (o.scores && o.scoresOut) throw new StepwiseError("--scores-out applies when --prm scores --data, not with --scores");
            if (o.bonScores && !o.bon) throw new StepwiseError("--bon-scores needs --bon");
            if (o.candidates && !o.prm) throw new StepwiseError("--candidates needs --prm SPEC (the PRM rates every position scheme)");
            if (o.tau !== undefined && o.thresholdFile) throw new StepwiseError("give --tau or --threshold-file, not both");
            const tau = o.tau ?? (o.thresholdFile ? readThresholdFile(o.thresholdFile) : undefined);
            if (o.candidates && tau === undefined) throw new StepwiseError("--candidates needs the adaptive threshold: --tau T or --threshold-file F");
            const grader = defaultGrader({policy: o.policy});
            const input: AnalyzeInput = {};
            const inputs: Record<string, unknown> = {};
            let scorer: StepScorer | undefined;
            try {
                if (o.data) {
                    const splits = readProcessSplits(o.data);
                    let scores;
                    if (o.scores) scores = await readScoresFile(o.scores);
                    else {
                        scorer ??= await createScorer(o.prm!);
                        const progress = createProgress("eval analyze: scoring ProcessBench", {quiet: o.quiet || o.json});
                        scores = await scoreProcessSplits(splits, scorer, {cacheFile: o.scoresOut, concurrency: o.concurrency, onProgress: (d, t) => progress.update(d, t)});
                        progress.stop();
                    }
                    input.processBench = {splits: attachProcessScores(splits, scores), threshold: o.threshold, calibrate: o.calibrate};
                    Object.assign(inputs, {data: o.data, ...(o.scores ? {scores: o.scores} : {prm: o.prm}), threshold: o.threshold, ...(o.calibrate ? {calibrate: o.calibrate} : {})});
                }
                if (o.bon) {
                    const joined = o.bonScores ? await readStepScores(o.bonScores) : undefined;
                    const candidates = await readCandidates(o.bon, DEFAULT_CANDIDATE_FIELDS, joined);
                    if (candidates.length === 0) throw new StepwiseError(`${o.bon}: no candidates`);
                    input.bon = bonInputFromCandidates(candidates, grader, o.bon);
                    Object.assign(inputs, {bon: o.bon, ...(o.bonScores ? {bon_scores: o.bonScores} : {})});
                }
                if (o.candidates) {
                    const samples: PositionSample[] = [];
                    const seen = new Map<string, number>();
                    for await (const {record, line} of readSamples(o.candidates)) {
                        const prev = seen.get(record.id);
                        if (prev !== undefined) throw new StepwiseError(`${o.candidates}:${line}: field "id": duplicate sample id "${record.id}" (also on line ${prev})`);
                        seen.set(record.id, line);
                        const c = (record as unknown as Record<string, unknown>).correct;
                        if (c !== undefined && typeof c !== "boolean") throw new StepwiseError(`${o.candidates}:${line}: field "correct": expected true or false, got ${JSON.stringify(c)}`);
                        if (record.gold === undefined && c === undefined) throw new StepwiseError(`${o.candidates}:${line}: field "gold": missing (and no "correct" verdict), so the sample cannot be graded`);
                        samples.push(record);
                    }
                    if (samples.length === 0) throw new StepwiseError(`${o.candidates}: no samples`);
                    scorer ??= await createScorer(o.prm!);
                    const progress = createProgress("eval analyze: scoring positions", {quiet: o.quiet || o.json});
                    const randomK = o.randomK === "auto" ? undefined : o.randomK;
                    const candidates = await scorePositions(samples, scorer, {tau: tau!, randomK, seed: o.randomSeed, concurrency: o.concurrency, onProgress: (d, t) => progress.update(d, t)});
                    progress.stop();
                    input.positions = {candidates, grader};
                    Object.assign(inputs, {candidates: o.candidates, prm: o.prm, tau, random_k: o.randomK, random_seed: o.randomSeed});
                    if (o.out) {
                        mkdirSync(o.out, {recursive: true});
                        const lines = candidates.map((c) => JSON.stringify({id: c.id, question_id: c.questionId, ...Object.fromEntries(POSITION_SCHEMES.map((s) => [`${s}_scores`, c.scores[s]]))}));
                        writeFileSync(join(o.out, "position-scores.jsonl"), lines.join("\n") + "\n");
                    }
                }
            } finally {
                await scorer?.close();
            }
            const result = (() => {
                try {
                    return runAnalyses(input, {aggregations: {subsets: o.subsets, seed: o.seed}, positions: {n: o.n, subsets: o.subsets, seed: o.seed}});
                } catch (e) {
                    if (e instanceof RangeError) throw new StepwiseError(e.message);
                    throw e;
                }
            })();
            if (o.out) {
                await writeAnalyzeReport(result, o.out, inputs);
                if (!o.quiet) console.error(`eval analyze: report in ${o.out}`);
            }
            if (o.json) console.log(JSON.stringify(analyzeJson(result, inputs)));
            else if (!o.out || !o.quiet) console.log(analyzeMarkdown(result));
        });
}
