/**
 * `stepwise lab ...`: the synthetic arithmetic lab domain.
 *
 *   stepwise lab generate --n 1000 --seed 1 --preset policy [knobs] [--split heldout] [--out FILE]
 *   stepwise lab verify --data problems.jsonl --samples samples.jsonl [--out verdicts.jsonl]
 *   stepwise lab verify --question "Compute 2 + 3 * 4." --text "3 * 4 = 12, so 2 + 12.\n..."
 *   stepwise lab prmbench --out lab-prmbench.jsonl [--per-category 48] [--seed 0]
 *
 * The group is built by {@link labCommand} from {@link LAB_SUBCOMMANDS}: to add a subcommand
 * (e.g. `train-policy`), write a factory returning a commander `Command` and append it there.
 */
import {Command, Option} from "@commander-js/extra-typings";
import {StepwiseError} from "../../util/errors.ts";
import {type ProcessVerdict, DEFAULT_HELDOUT_FRACTION, DEFAULT_PRESET, presetNames, verifyProcess} from "../../domains/lab/index.ts";
import {floatOption, intOption} from "../options.ts";
import {plural} from "../../util/plural.ts";

/** Write one line to stdout, waiting when the pipe is full. */
async function writeStdout(line: string): Promise<void> {
    if (!process.stdout.write(line)) await new Promise<void>((resolve) => process.stdout.once("drain", () => resolve()));
}

/** `lab generate`: write problems with canonical solutions as JSONL. */
export function generateCommand(): Command {
    return new Command("generate")
        .description("Write seeded arithmetic problems with step-by-step solutions as JSONL ({id, question, answer, steps, solution, ops, meta})")
        .option("--n <count>", "number of problems", intOption(0), 100)
        .option("--seed <int>", "stream seed", intOption(0), 0)
        .addOption(new Option("--preset <name>", "difficulty preset").choices(presetNames()).default(DEFAULT_PRESET))
        .addOption(new Option("--split <split>", "train problems, or the held-out ones training never sees").choices(["train", "heldout"]).default("train"))
        .option("--heldout-fraction <f>", "share of the problem space held out (use the same value for train and held-out)", floatOption(0, 1), DEFAULT_HELDOUT_FRACTION)
        .option("--ops <k>", "exactly k operations (sets --min-ops and --max-ops)", intOption(1))
        .option("--min-ops <k>", "fewest operations", intOption(1))
        .option("--max-ops <k>", "most operations", intOption(1))
        .option("--min-operand <v>", "smallest operand", intOption(Number.MIN_SAFE_INTEGER))
        .option("--max-operand <v>", "largest operand", intOption(Number.MIN_SAFE_INTEGER))
        .option("--operators <ops>", 'operators to use, e.g. "+-*/" or "+,-"')
        .option("--paren-prob <p>", "chance per operation of a shape that needs parentheses", floatOption(0, 1))
        .option("--max-value <v>", "largest absolute intermediate value", intOption(1))
        .option("--allow-negative", "allow negative intermediate results and answers")
        .addOption(new Option("--order <order>", "canonical reduction order").choices(["leftmost", "random"]))
        .addOption(new Option("--style <style>", "spaces around operators or not").choices(["spaced", "compact"]))
        .option("--unique", "never repeat a problem within the output")
        .option("--no-meta", "leave out the meta field")
        .option("--out <file>", "output JSONL file (default: stdout)")
        .option("--quiet", "no summary on stderr")
        .addHelpText("after", `
Examples:
  stepwise lab generate --n 200 --split heldout --seed 3000 --out problems.jsonl     # held-out problems (docs/decoding.md)
  stepwise lab generate --n 1000 --split train --seed 11 --preset policy --unique --out train.jsonl
  stepwise lab generate --n 5 --preset easy --style compact                        # to stdout`)
        .action(async (opts) => {
            const {generateLabFile} = await import("../../domains/lab/files.ts");
            const {written, byOps} = await generateLabFile({...opts, write: writeStdout});
            if (!opts.quiet) {
                const parts = [...byOps.entries()].sort((a, b) => a[0] - b[0]).map(([k, s]) => `${plural(k, "op")}: ${s.count} (solution ${plural(Math.round(s.chars / s.count), "char")})`);
                console.error(`lab generate: ${plural(written, `${opts.split} problem`)}, preset ${opts.preset}, seed ${opts.seed}${opts.out ? ` -> ${opts.out}` : ""}; ${parts.join(", ")}`);
            }
        });
}

/** Print one verdict in a human-readable form. */
function printVerdict(v: ProcessVerdict): void {
    for (const s of v.steps) {
        const mark = s.correct === true ? "ok " : s.correct === false ? "BAD" : " - ";
        console.log(`${mark} [${s.index}] ${s.text}${s.correct === false ? `    <- ${s.reason}: ${s.detail ?? ""}` : ""}`);
    }
    console.log(`first error step: ${v.firstErrorStep}; answer ${v.answer ?? "(none)"} (expected ${v.expected}) ${v.finalAnswerCorrect ? "correct" : "wrong"}${v.complete ? "" : "; no answer line"}`);
}

/** `lab verify`: exact first-error verdicts for model texts. */
export function verifyCommand(): Command {
    return new Command("verify")
        .description("Exact process verdicts (index of the first wrong step, or -1) and final-answer checks for lab solutions")
        .option("--data <file>", "problems JSONL (from `lab generate`): id, question, answer")
        .option("--samples <file>", "samples JSONL: a problem id (problemId|problem_id|questionId|id) or a question, and a text (text|response|completion|output|solution) or a samples array")
        .option("--out <file>", "write one verdict per sample text as JSONL (default: stdout)")
        .option("--steps", "include per-step verdicts in the JSONL output")
        .option("--question <text>", "single-text mode: the problem question")
        .option("--text <text>", 'single-text mode: the solution (a literal "\\n" is read as a line break)')
        .addHelpText("after", `
Examples:
  stepwise lab verify --question "3 + 4 * 2" --text "4 * 2 = 8, so 3 + 8.\n3 + 8 = 12.\nThe answer is 12."   # first error: step 1
  stepwise lab verify --data problems.jsonl --samples samples.jsonl --steps --out verdicts.jsonl`)
        .action(async (opts) => {
            if (opts.question !== undefined || opts.text !== undefined) {
                if (opts.question === undefined || opts.text === undefined) throw new StepwiseError("single-text mode needs both --question and --text");
                printVerdict(verifyProcess(opts.question, opts.text.replace(/\\n/g, "\n")));
                return;
            }
            if (!opts.samples) throw new StepwiseError("give --samples FILE (with --data FILE) or --question and --text");
            const {verifyLabFile} = await import("../../domains/lab/files.ts");
            const {total, byOps, firstReasons} = await verifyLabFile({...opts, samples: opts.samples, write: writeStdout});
            const pct = (a: number, b: number): string => `${b ? ((100 * a) / b).toFixed(1) : "0.0"}%`;
            const rows = [...byOps.entries()].sort((a, b) => String(a[0]).localeCompare(String(b[0]), undefined, {numeric: true}));
            console.error(`lab verify: ${total} texts${opts.out ? ` -> ${opts.out}` : ""}`);
            for (const [ops, s] of rows) console.error(`  ${ops} ops: ${s.n} texts, process-correct ${pct(s.correct, s.n)}, final answer correct ${pct(s.answer, s.n)}`);
            console.error(`  first errors: ${[...firstReasons.entries()].map(([r, c]) => `${r} ${c}`).join(", ")}`);
        });
}

/** Factories of the `lab` subcommands, in `--help` order. Append new ones here. */
/** `lab prmbench`: PRMBench's kinds of error made from exact truth, in PRMBench's file layout. */
export function prmbenchCommand(): Command {
    return new Command("prmbench")
        .description(
            "Write a lab PRMBench: canonical solutions of held-out lab problems perturbed by each of PRMBench's eight kinds of error (redundancy, circular logic, counterfactual, step contradiction, domain inconsistency, confidence, missing condition, deception) plus other valid solutions (multiple solutions), with the wrong steps known exactly; rows in the layout of PRMBench's classified subset, for `stepwise eval prmbench`",
        )
        .requiredOption("--out <file>", "output JSONL")
        .option("--per-category <n>", "rows per category (PRMBench's subset: 48)", intOption(1), 48)
        .option("--seed <int>", "seed of the problems and the perturbations", intOption(0), 0)
        .addOption(new Option("--preset <name>", "difficulty preset of the problems").choices(presetNames()).default(DEFAULT_PRESET))
        .addHelpText(
            "after",
            `
What each category is in the lab, and the figures of the shipped scorers: docs/judge.md, "The lab
PRMBench"; the metric is the reference's (docs/real-models.md, "PRMBench").

Examples:
  stepwise lab prmbench --out lab-prmbench.jsonl
  stepwise eval prmbench --data lab-prmbench.jsonl --prm llama:models/lab-prm.gguf --json`,
        )
        .action(async (opts) => {
            const {labPrmBenchRows, LAB_PRMBENCH_CATEGORIES} = await import("../../domains/lab/index.ts");
            const {writeFileAtomic} = await import("../../io/atomic.ts");
            const rows = labPrmBenchRows({perCategory: opts.perCategory, seed: opts.seed, preset: opts.preset});
            writeFileAtomic(opts.out, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
            const problems = new Set(rows.map((r) => r.idx)).size;
            console.error(`lab prmbench: ${plural(rows.length, "row")} (${opts.perCategory} of each of ${LAB_PRMBENCH_CATEGORIES.length} categories) from ${plural(problems, "held-out problem")} -> ${opts.out}`);
        });
}

export const LAB_SUBCOMMANDS: Array<() => Command> = [generateCommand, verifyCommand, prmbenchCommand];

/** The `lab` command group. */
export function labCommand(): Command {
    const lab = new Command("lab").description("Synthetic arithmetic lab: generate problems with exact step-level ground truth, verify solutions");
    for (const make of LAB_SUBCOMMANDS) lab.addCommand(make());
    return lab;
}

/** Add the `lab` group to the program. */
export function register(program: Command): void {
    program.addCommand(labCommand());
}
