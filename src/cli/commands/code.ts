/**
 * `stepwise code ...`: the code domain.
 *
 *   stepwise code generate --n 200 --seed 1 [--split heldout] --out tasks.jsonl
 *   stepwise code run --problems problems.jsonl[.gz] --candidates candidates.jsonl --out verdicts.jsonl
 *   stepwise code grade --data samples.jsonl --out graded.jsonl [--problems problems.jsonl]
 *   stepwise code train-policy --out models/lab-code-policy.gguf --minutes 28 --checkpoint-dir DIR [--resume]
 */
import {Command} from "@commander-js/extra-typings";
import {StepwiseError} from "../../util/errors.ts";
import {floatOption, intOption, resumeOrFresh} from "../options.ts";
import {join} from "node:path";
import {plural} from "../../util/plural.ts";

function generateCommand(): Command {
    return new Command("generate")
        .description("write code-lab tasks (LeetCodeDataset shape plus `question`) as JSONL")
        .requiredOption("--n <k>", "number of tasks", intOption(1))
        .option("--seed <n>", "stream seed", intOption(0), 0)
        .option("--split <s>", "train or heldout", "train")
        .option("--min-ops <n>", "expression tasks: fewest operations", intOption(1), 2)
        .option("--max-ops <n>", "expression tasks: most operations", intOption(1), 4)
        .option("--loop-share <p>", "share of loop tasks", floatOption(0, 1), 0.4)
        .option("--out <file>", "output JSONL (default: stdout)")
        .addHelpText("after", `
Examples:
  stepwise code generate --n 100 --seed 1 --out train-tasks.jsonl
  stepwise code generate --n 40 --seed 2 --split heldout --out test-tasks.jsonl`)
        .action(async (o) => {
            if (o.split !== "train" && o.split !== "heldout") throw new StepwiseError(`--split must be train or heldout, got "${o.split}"`);
            if (o.out) (await import("../../io/output.ts")).prepareOutput(o.out, {allowDevice: true});
            const {generateCodeProblems} = await import("../../domains/code/lab/tasks.ts");
            const rows = generateCodeProblems(o.n, {seed: o.seed, split: o.split, minOps: o.minOps, maxOps: o.maxOps, loopShare: o.loopShare});
            const text = rows.map((r) => JSON.stringify({id: r.task_id, ...r})).join("\n") + "\n";
            // Atomic: `code run` never reads a half-written task file.
            if (o.out) (await import("../../io/atomic.ts")).writeFileAtomic(o.out, text);
            else process.stdout.write(text);
        });
}

function trainPolicyCommand(): Command {
    return new Command("train-policy")
        .description("train the code-lab policy (tiny char-level llama) on fresh code-lab tasks and write it as GGUF")
        .option("--out <path>", "output GGUF file", "models/lab-code-policy.gguf")
        .option("--init <gguf>", "start from this stepwise GGUF (same character vocabulary, e.g. models/lab-policy.gguf); its shape overrides --d-model/--layers/--heads (default: fresh weights)")
        .option("--minutes <m>", "wall-clock budget (schedule length estimated from the first steps unless --steps)", floatOption(0.01))
        .option("--steps <n>", "schedule length in steps", intOption(1))
        .option("--d-model <d>", "model width", intOption(8), 96)
        .option("--layers <n>", "transformer blocks", intOption(1), 3)
        .option("--heads <n>", "attention heads", intOption(1), 3)
        .option("--batch <n>", "tasks per step", intOption(1), 16)
        .option("--lr <x>", "peak learning rate (warmup + cosine)", floatOption(0), 2e-3)
        .option("--seed <n>", "seed of the initialization and of the task stream", intOption(0), 0)
        .option("--checkpoint-dir <dir>", "checkpoints and train.log", ".stepwise-cache/lab-code-policy")
        .option("--checkpoint-every <n>", "checkpoint (and GGUF export) every n steps", intOption(1), 100)
        .option("--resume", "continue from the checkpoint in --checkpoint-dir", false)
        .option("--fresh", "start over when --checkpoint-dir holds a checkpoint (deleting it); without --resume or --fresh an existing checkpoint is refused", false)
        .addHelpText("after", `
Examples:
  stepwise code train-policy --init models/lab-policy.gguf --steps 600 --batch 16 --lr 1e-3 --out models/lab-code-policy.gguf \\
      --checkpoint-dir .stepwise-cache/lab-code-policy                  # the shipped code policy (docs/code.md)`)
        .action(async (o) => {
            if (o.minutes === undefined && o.steps === undefined) throw new StepwiseError("give --minutes and/or --steps");
            // With --init the GGUF's shape wins over --d-model/--layers/--heads (their defaults included).
            if (!o.init && o.dModel % o.heads !== 0) throw new StepwiseError(`--d-model ${o.dModel} must be divisible by --heads ${o.heads}`);
            o.resume = resumeOrFresh("code train-policy", join(o.checkpointDir, "checkpoint.bin"), o);
            const {trainCodePolicy} = await import("../../apps/code/policy.ts");
            const r = await trainCodePolicy({
                out: o.out, init: o.init, minutes: o.minutes, steps: o.steps, dModel: o.dModel, nLayers: o.layers, nHeads: o.heads, batchSize: o.batch,
                lr: o.lr, seed: o.seed, checkpointDir: o.checkpointDir, resume: o.resume, checkpointEverySteps: o.checkpointEvery,
            });
            process.stderr.write(`${r.completed ? "done" : "stopped"}: ${r.steps.toLocaleString("en-US")}/${plural(r.totalSteps, "step")}, ${r.losses.length ? `final loss ${r.losses.at(-1)!.toFixed(4)}` : "no step left to run"}, model ${o.out}\n`);
        });
}

function runCommand(): Command {
    return new Command("run")
        .description("run candidate programs against their problems' unit tests in the sandbox; write one verdict per candidate")
        .requiredOption("--problems <file>", "problems in the LeetCodeDataset shape (JSONL or JSONL.gz): task_id, prompt, test, entry_point[, completion]")
        .option("--candidates <file>", "candidates JSONL {id, task_id, completion}; default: each problem's reference completion")
        .requiredOption("--out <file>", "verdicts JSONL {id, task_id, status, detail, wall_ms}; re-running the same command resumes it")
        .option("--concurrency <n>", "candidates run at once (default: cores, at most 4)", intOption(1, 256))
        .option("--timeout <s>", "wall-clock limit per candidate, seconds", floatOption(0.1), 10)
        .option("--cpu <s>", "CPU-time limit per candidate, seconds", intOption(1), 5)
        .option("--memory <mb>", "address-space limit per candidate, MiB", intOption(16), 512)
        .option("--processes <n>", "process limit inside the sandbox", intOption(1), 32)
        .option("--output <kb>", "stdout + stderr limit per candidate, KiB", intOption(1), 1024)
        .option("--limit <n>", "only the first n candidates", intOption(1))
        .option("--unsafe", "run WITHOUT a sandbox when bubblewrap is unavailable (only for code you trust)")
        .option("--json", "print the summary as one JSON object")
        .option("--quiet", "no progress output")
        .addHelpText(
            "after",
            `
Examples:
  stepwise code run --problems LeetCodeDataset-v0.3.1-test.jsonl.gz --out references.jsonl
  stepwise code run --problems problems.jsonl --candidates candidates.jsonl --out verdicts.jsonl --concurrency 2

Status: pass (check(candidate) returned), fail (an assert failed: detail is the assert line and the
value got), timeout (wall or CPU limit), memory (MemoryError at the memory limit), error (any other
exception, a syntax error, the output limit, an exit without a result). Each candidate runs in a
fresh bubblewrap sandbox (no network, host read-only, clean environment, resource limits); without
bubblewrap the command refuses unless --unsafe. Install it with: node scripts/install-sandbox.mjs

At the end it prints the counts per status of this run with its candidates/s, and the counts of the
whole --out file (earlier runs included) with the pass rate; --json prints them as one object
{out, written, skipped, run_counts, counts, pass_rate, seconds, per_second}.`,
        )
        .action(async (o) => {
            const {runCodeFile, formatStatusCounts} = await import("../../domains/code/run.ts");
            const {detectSandbox} = await import("../../domains/code/sandbox.ts");
            const {createProgress} = await import("../progress.ts");
            const sb = detectSandbox();
            if (sb.kind !== "bwrap" && o.unsafe) process.stderr.write(`code run: WARNING: no sandbox (${sb.reason}); running candidates unsandboxed because of --unsafe\n`);
            const progress = createProgress("code run", {quiet: o.quiet});
            try {
                const s = await runCodeFile({
                    problems: o.problems, candidates: o.candidates, out: o.out, concurrency: o.concurrency, limit: o.limit, unsafe: o.unsafe,
                    limits: {wallMs: Math.round(o.timeout * 1000), cpuSeconds: o.cpu, memoryBytes: o.memory * 1024 * 1024, processes: o.processes, outputBytes: o.output * 1024},
                    onProgress: (d, t) => progress.update(d, t),
                });
                progress.stop();
                if (o.json) console.log(JSON.stringify(s));
                else {
                    const done = s.skipped ? `; ${s.skipped} already done` : "";
                    process.stderr.write(
                        s.written === 0
                            ? `code run: nothing to run: ${s.skipped === 1 ? "the only candidate is" : `all ${s.skipped} candidates are`} already in ${o.out}\n`
                            : `code run: verified ${plural(s.written, "candidate")} in ${s.seconds.toFixed(1)} s (${s.per_second.toFixed(2)} candidates/s${done}): ${formatStatusCounts(s.run_counts)}\n`,
                    );
                    const total = Object.values(s.counts).reduce((a, b) => a + b, 0);
                    const pct = Number.isFinite(s.pass_rate) ? `pass rate ${(100 * s.pass_rate).toFixed(1)}%` : "no verdicts";
                    process.stderr.write(
                        `verdicts: ${o.out}, ${total} in all${total > s.written ? ` (${total - s.written} from earlier runs)` : ""}: ${formatStatusCounts(s.counts)}; ${pct}. Each line is {id, task_id, status, detail, wall_ms}; detail says why a candidate did not pass\n`,
                    );
                }
            } finally {
                progress.stop();
            }
        });
}

function gradeCommand(): Command {
    return new Command("grade")
        .description("run the program in each sample's text against its problem's unit tests (sandboxed); add correct, code_status and code_detail")
        .requiredOption("--data <file>", "samples-like JSONL with id, question, text (and gold = task_id when --problems is given)")
        .requiredOption("--out <file>", "output JSONL (the input records plus correct, code_status, code_detail); re-running resumes it")
        .option("--problems <file>", "problems in the LeetCodeDataset shape; default: code-lab questions (tests rebuilt from the question)")
        .option("--text-field <f>", "field holding the solution text", "text")
        .option("--concurrency <n>", "programs run at once", intOption(1, 256), 2)
        .option("--timeout <s>", "wall-clock limit per program, seconds", floatOption(0.1), 10)
        .option("--unsafe", "run WITHOUT a sandbox when bubblewrap is unavailable (only for code you trust)")
        .addHelpText("after", `
Examples:
  stepwise code grade --data scored.jsonl --out graded.jsonl                     # code-lab samples
  stepwise code grade --data samples.jsonl --problems LeetCodeDataset-v0.3.1-test.jsonl.gz --out graded.jsonl --timeout 30
Then Best-of-N by the tests' verdicts:
  stepwise eval bon --data graded.jsonl --out bon/      (the \`correct\` field is the verdict)`)
        .action(async (o) => {
            const {gradeCodeFile} = await import("../../domains/code/pipeline.ts");
            const r = await gradeCodeFile({input: o.data, out: o.out, problems: o.problems, textField: o.textField, concurrency: o.concurrency, unsafe: o.unsafe, limits: {wallMs: Math.round(o.timeout * 1000)}});
            process.stderr.write(`code grade: ${r.written} graded (${r.skipped} already done), ${r.correct} pass → ${o.out}\n`);
        });
}

function evalPolicyCommand(): Command {
    return new Command("eval-policy")
        .description("pass@1 (greedy), sample pass rate and pass@k of a code policy on held-out code-lab tasks, tests run in the sandbox")
        .option("--engine <spec>", "the policy (engine spec)", "llama:models/lab-code-policy.gguf")
        .option("--n <k>", "held-out tasks", intOption(1), 50)
        .option("--k <k>", "samples per task at temperature 1", intOption(0, 64), 8)
        .option("--seed <n>", "held-out stream seed", intOption(0), 12345)
        .option("--concurrency <n>", "tasks in flight", intOption(1, 64), 2)
        .option("--show <k>", "print the first k greedy programs and verdicts", intOption(0, 10), 0)
        .option("--json", "print the summary as one JSON object (pass_at_1_greedy, sample_pass_rate, pass_at_k, each with *_ci {value, low, high, n, method, level}, statuses, by_family)")
        .addHelpText("after", `
Examples:
  stepwise code eval-policy --engine llama:models/lab-code-policy.gguf --n 40 --k 8 --json`)
        .action(async (o) => {
            const {createEngine} = await import("../../engines/spec.ts");
            const {evaluateCodePolicy} = await import("../../apps/code/eval.ts");
            const {generateCodeProblems} = await import("../../domains/code/lab/tasks.ts");
            const {createProgress} = await import("../progress.ts");
            const engine = await createEngine(o.engine);
            const progress = createProgress("code eval-policy");
            try {
                const r = await evaluateCodePolicy({engine, problems: generateCodeProblems(o.n, {seed: o.seed, split: "heldout"}), k: o.k, concurrency: o.concurrency, onProgress: (d, t) => progress.update(d, t)});
                progress.stop();
                for (const e of r.examples.slice(0, o.show)) process.stderr.write(`--- ${e.verdict.status} ${e.verdict.detail}\n${e.question}\n${e.greedy}\n`);
                if (o.json) console.log(JSON.stringify({...r, examples: undefined}));
                else {
                    const {formatInterval} = await import("../../stats/intervals.ts");
                    const fam = Object.entries(r.by_family).map(([f, b]) => `${f} ${(100 * b.pass_at_1_greedy).toFixed(0)}% (n=${b.n})`).join(", ");
                    const pk = Object.entries(r.pass_at_k_ci).map(([kk, v]) => `pass@${kk} ${formatInterval(v)}`).join("; ");
                    process.stdout.write(
                        `${o.engine} on ${plural(r.n, "held-out task")}: greedy pass@1 ${formatInterval(r.pass_at_1_greedy_ci)} (${fam})\n` +
                            (r.sample_pass_rate_ci ? `samples at T=1: pass rate ${formatInterval(r.sample_pass_rate_ci)}; ${pk}\n` : "") +
                            `verdicts ${JSON.stringify(r.statuses)}\n`,
                    );
                }
            } finally {
                progress.stop();
                await engine.close();
            }
        });
}

/** The `code` command group. */
export function codeCommand(): Command {
    const group = new Command("code").description("the code domain: sandboxed test runs of Python candidates, the code lab and its policy");
    group.addCommand(runCommand());
    group.addCommand(gradeCommand());
    group.addCommand(generateCommand());
    group.addCommand(trainPolicyCommand());
    group.addCommand(evalPolicyCommand());
    return group;
}

export function register(program: Command): void {
    program.addCommand(codeCommand());
}
