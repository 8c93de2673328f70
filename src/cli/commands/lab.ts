/**
 * `stepwise lab ...`: the synthetic arithmetic lab domain.
 *
 *   stepwise lab generate --n 1000 --seed 1 --preset policy [knobs] [--split heldout] [--out FILE]
 *   stepwise lab verify --data problems.jsonl --samples samples.jsonl [--out verdicts.jsonl]
 *   stepwise lab verify --question "Compute 2 + 3 * 4." --text "3 * 4 = 12, so 2 + 12.\n..."
 *
 * The group is built by {@link labCommand} from {@link LAB_SUBCOMMANDS}: to add a subcommand
 * (e.g. `train-policy`), write a factory returning a commander `Command` and append it there.
 */
import {Command, Option} from "commander";
import {StepwiseError} from "../../engines/types.ts";
import {JsonlWriter, readJsonl, readJsonlAll} from "../../io/jsonl.ts";
import {
    type LabKnobs, type LabProblem, type LabSplit, type ProcessVerdict, DEFAULT_HELDOUT_FRACTION, DEFAULT_PRESET,
    PRESETS, labStream, parseOperators, presetNames, verifyProcess,
} from "../../lab/domain/index.ts";

/** Parse an integer option value. */
function intArg(name: string): (v: string) => number {
    return (v: string): number => {
        const n = Number(v);
        if (!Number.isSafeInteger(n)) throw new StepwiseError(`--${name} must be an integer, got "${v}"`);
        return n;
    };
}

/** Parse a number option value. */
function numArg(name: string): (v: string) => number {
    return (v: string): number => {
        const n = Number(v);
        if (!Number.isFinite(n)) throw new StepwiseError(`--${name} must be a number, got "${v}"`);
        return n;
    };
}

/** Write one line to stdout, waiting when the pipe is full. */
async function writeStdout(line: string): Promise<void> {
    if (!process.stdout.write(line)) await new Promise<void>((resolve) => process.stdout.once("drain", () => resolve()));
}

interface GenerateOpts {
    n: number;
    seed: number;
    preset: string;
    split: LabSplit;
    heldoutFraction: number;
    ops?: number;
    minOps?: number;
    maxOps?: number;
    minOperand?: number;
    maxOperand?: number;
    operators?: string;
    parenProb?: number;
    maxValue?: number;
    allowNegative?: boolean;
    order?: LabKnobs["order"];
    style?: LabKnobs["style"];
    unique?: boolean;
    meta: boolean;
    out?: string;
    quiet?: boolean;
}

/** `lab generate`: write problems with canonical solutions as JSONL. */
export function generateCommand(): Command {
    return new Command("generate")
        .description("Write seeded arithmetic problems with step-by-step solutions as JSONL ({id, question, answer, steps, solution, ops, meta})")
        .option("--n <count>", "number of problems", intArg("n"), 100)
        .option("--seed <int>", "stream seed", intArg("seed"), 0)
        .addOption(new Option("--preset <name>", "difficulty preset").choices(presetNames()).default(DEFAULT_PRESET))
        .addOption(new Option("--split <split>", "train problems, or the held-out ones training never sees").choices(["train", "heldout"]).default("train"))
        .option("--heldout-fraction <f>", "share of the problem space held out (use the same value for train and held-out)", numArg("heldout-fraction"), DEFAULT_HELDOUT_FRACTION)
        .option("--ops <k>", "exactly k operations (sets --min-ops and --max-ops)", intArg("ops"))
        .option("--min-ops <k>", "fewest operations", intArg("min-ops"))
        .option("--max-ops <k>", "most operations", intArg("max-ops"))
        .option("--min-operand <v>", "smallest operand", intArg("min-operand"))
        .option("--max-operand <v>", "largest operand", intArg("max-operand"))
        .option("--operators <ops>", 'operators to use, e.g. "+-*/" or "+,-"')
        .option("--paren-prob <p>", "chance per operation of a shape that needs parentheses", numArg("paren-prob"))
        .option("--max-value <v>", "largest absolute intermediate value", intArg("max-value"))
        .option("--allow-negative", "allow negative intermediate results and answers")
        .addOption(new Option("--order <order>", "canonical reduction order").choices(["leftmost", "random"]))
        .addOption(new Option("--style <style>", "spaces around operators or not").choices(["spaced", "compact"]))
        .option("--unique", "never repeat a problem within the output")
        .option("--no-meta", "leave out the meta field")
        .option("--out <file>", "output JSONL file (default: stdout)")
        .option("--quiet", "no summary on stderr")
        .action(async (opts: GenerateOpts) => {
            const knobs: Partial<LabKnobs> = {
                minOps: opts.minOps, maxOps: opts.maxOps, minOperand: opts.minOperand, maxOperand: opts.maxOperand,
                operators: opts.operators !== undefined ? parseOperators(opts.operators) : undefined,
                parenProb: opts.parenProb, maxValue: opts.maxValue, allowNegative: opts.allowNegative, order: opts.order, style: opts.style,
            };
            if (opts.ops !== undefined) knobs.minOps = knobs.maxOps = opts.ops;
            // One bound given: move the preset's other bound only if it would cross it.
            const base = PRESETS[opts.preset] ?? PRESETS[DEFAULT_PRESET];
            if (knobs.minOps !== undefined && knobs.maxOps === undefined) knobs.maxOps = Math.max(knobs.minOps, base.maxOps);
            if (knobs.maxOps !== undefined && knobs.minOps === undefined) knobs.minOps = Math.min(knobs.maxOps, base.minOps);
            const stream = labStream({seed: opts.seed, preset: opts.preset, knobs, split: opts.split, heldoutFraction: opts.heldoutFraction, unique: opts.unique});
            const writer = opts.out ? new JsonlWriter(opts.out, {truncate: true}) : null;
            const byOps = new Map<number, {count: number; chars: number}>();
            let written = 0;
            try {
                if (opts.n > 0)
                    for (const p of stream) {
                        const record: LabProblem = opts.meta ? p : {...p, meta: undefined};
                        if (writer) writer.write(record);
                        else await writeStdout(JSON.stringify(record) + "\n");
                        const s = byOps.get(p.ops) ?? {count: 0, chars: 0};
                        s.count++;
                        s.chars += p.solution.length;
                        byOps.set(p.ops, s);
                        if (++written >= opts.n) break;
                    }
            } finally {
                writer?.close();
            }
            if (!opts.quiet) {
                const parts = [...byOps.entries()].sort((a, b) => a[0] - b[0]).map(([k, s]) => `${k} ops: ${s.count} (solution ${Math.round(s.chars / s.count)} chars)`);
                console.error(`lab generate: ${written} ${opts.split} problems, preset ${opts.preset}, seed ${opts.seed}${opts.out ? ` -> ${opts.out}` : ""}; ${parts.join(", ")}`);
            }
        });
}

/** Field names tried, in order, for a sample's text and for the id of its problem. */
const TEXT_FIELDS = ["text", "response", "completion", "output", "solution"];
const ID_FIELDS = ["problemId", "problem_id", "questionId", "question_id", "id"];

/** The texts of a sample row: a text field, or a `samples`/`texts` array of strings or {text}. */
function sampleTexts(row: Record<string, unknown>): string[] | null {
    for (const f of TEXT_FIELDS) if (typeof row[f] === "string") return [row[f] as string];
    for (const f of ["samples", "texts", "completions", "responses"]) {
        const arr = row[f];
        if (Array.isArray(arr)) {
            return arr.map((x) => {
                if (typeof x === "string") return x;
                if (x && typeof x === "object") for (const tf of TEXT_FIELDS) if (typeof (x as Record<string, unknown>)[tf] === "string") return (x as Record<string, string>)[tf];
                return "";
            });
        }
    }
    return null;
}

/** Print one verdict in a human-readable form. */
function printVerdict(v: ProcessVerdict): void {
    for (const s of v.steps) {
        const mark = s.correct === true ? "ok " : s.correct === false ? "BAD" : " - ";
        console.log(`${mark} [${s.index}] ${s.text}${s.correct === false ? `    <- ${s.reason}: ${s.detail ?? ""}` : ""}`);
    }
    console.log(`first error step: ${v.firstErrorStep}; answer ${v.answer ?? "(none)"} (expected ${v.expected}) ${v.finalAnswerCorrect ? "correct" : "wrong"}${v.complete ? "" : "; no answer line"}`);
}

interface VerifyOpts {
    data?: string;
    samples?: string;
    out?: string;
    question?: string;
    text?: string;
    steps?: boolean;
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
        .action(async (opts: VerifyOpts) => {
            if (opts.question !== undefined || opts.text !== undefined) {
                if (opts.question === undefined || opts.text === undefined) throw new StepwiseError("single-text mode needs both --question and --text");
                printVerdict(verifyProcess(opts.question, opts.text.replace(/\\n/g, "\n")));
                return;
            }
            if (!opts.samples) throw new StepwiseError("give --samples FILE (with --data FILE) or --question and --text");
            const problems = new Map<string, {question: string; answer?: string; ops?: number}>();
            if (opts.data)
                for (const r of await readJsonlAll(opts.data))
                    if (typeof r.id === "string" && typeof r.question === "string")
                        problems.set(r.id, {question: r.question, answer: typeof r.answer === "string" || typeof r.answer === "number" ? String(r.answer) : undefined, ops: typeof r.ops === "number" ? r.ops : undefined});
            const writer = opts.out ? new JsonlWriter(opts.out, {truncate: true, inputs: [opts.samples, opts.data]}) : null;
            const byOps = new Map<number | "?", {n: number; correct: number; answer: number}>();
            const firstReasons = new Map<string, number>();
            let total = 0;
            try {
                for await (const {record, line} of readJsonl(opts.samples)) {
                    let problem: {question: string; answer?: string; ops?: number} | undefined;
                    let id: string | undefined;
                    for (const f of ID_FIELDS)
                        if (typeof record[f] === "string" && problems.has(record[f] as string)) {
                            id = record[f] as string;
                            problem = problems.get(id);
                            break;
                        }
                    if (!problem && typeof record.question === "string") problem = {question: record.question, answer: typeof record.answer === "string" ? record.answer : undefined};
                    if (!problem) throw new StepwiseError(`${opts.samples}:${line}: no known problem id${opts.data ? ` in ${opts.data}` : " (give --data)"} and no question`);
                    id ??= ID_FIELDS.map((f) => record[f]).find((x): x is string => typeof x === "string");
                    const texts = sampleTexts(record);
                    if (!texts) throw new StepwiseError(`${opts.samples}:${line}: no text field (${TEXT_FIELDS.join("|")}) or samples array`);
                    for (let k = 0; k < texts.length; k++) {
                        const v = verifyProcess(problem, texts[k]);
                        const out: Record<string, unknown> = {
                            id, ...(texts.length > 1 || !TEXT_FIELDS.some((f) => typeof record[f] === "string") ? {sampleIndex: k} : {}),
                            firstErrorStep: v.firstErrorStep, finalAnswerCorrect: v.finalAnswerCorrect, correct: v.correct, complete: v.complete,
                            answer: v.answer, expected: v.expected, numSteps: v.steps.length,
                            firstErrorReason: v.firstErrorStep >= 0 ? v.steps[v.firstErrorStep].reason : null,
                        };
                        if (opts.steps) out.steps = v.steps.map((s) => ({index: s.index, correct: s.correct, reason: s.reason, detail: s.detail, start: s.start, end: s.end, decidedAt: s.decidedAt}));
                        if (writer) writer.write(out);
                        else await writeStdout(JSON.stringify(out) + "\n");
                        total++;
                        const key = problem.ops ?? "?";
                        const s = byOps.get(key) ?? {n: 0, correct: 0, answer: 0};
                        s.n++;
                        if (v.correct) s.correct++;
                        if (v.finalAnswerCorrect) s.answer++;
                        byOps.set(key, s);
                        const reason = v.firstErrorStep >= 0 ? v.steps[v.firstErrorStep].reason : v.complete ? "none" : "no-answer-line";
                        firstReasons.set(reason, (firstReasons.get(reason) ?? 0) + 1);
                    }
                }
            } finally {
                writer?.close();
            }
            const pct = (a: number, b: number): string => `${b ? ((100 * a) / b).toFixed(1) : "0.0"}%`;
            const rows = [...byOps.entries()].sort((a, b) => String(a[0]).localeCompare(String(b[0]), undefined, {numeric: true}));
            console.error(`lab verify: ${total} texts${opts.out ? ` -> ${opts.out}` : ""}`);
            for (const [ops, s] of rows) console.error(`  ${ops} ops: ${s.n} texts, process-correct ${pct(s.correct, s.n)}, final answer correct ${pct(s.answer, s.n)}`);
            console.error(`  first errors: ${[...firstReasons.entries()].map(([r, c]) => `${r} ${c}`).join(", ")}`);
        });
}

/** Factories of the `lab` subcommands, in `--help` order. Append new ones here. */
export const LAB_SUBCOMMANDS: Array<() => Command> = [generateCommand, verifyCommand];

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
