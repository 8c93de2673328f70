/** `stepwise judge`: LLM-as-a-judge verdicts (earliest wrong step) for step-by-step solutions. */
import type {Command} from "commander";
import {createEngine} from "../../engines/spec.ts";
import {judgeFile} from "../../judge/judge.ts";
import {createProgress} from "../progress.ts";
import {floatOption, intOption, unescape} from "../options.ts";

export function register(program: Command): void {
    program
        .command("judge")
        .description("ask a judge model for each solution's earliest wrong step (n answers in \\boxed{}, majority vote); one verdict per solution")
        .requiredOption("--engine <spec>", "the judge: a chat model (openai:URL?model=NAME for vLLM / stepwise serve, or llama:FILE.gguf with a chat template, e.g. llama:models/lab-judge.gguf)")
        .requiredOption("--in <file>", "solutions cut into steps: the output of `stepwise split` or `label` (question, steps[].text), or ProcessBench rows (problem, steps[])")
        .requiredOption("--out <file>", "verdicts JSONL; re-running the same command resumes it (other settings are refused: see <out>.settings.json)")
        .option("--n <n>", "answers per solution (majority vote)", intOption(1, 64), 5)
        .option("--temperature <t>", "sampling temperature of the answers", floatOption(0, 10), 1)
        .option("--max-tokens <n>", "most tokens per answer (reasoning models need more)", intOption(1), 1024)
        .option("--seed <s>", "seed; each solution derives its own from it and its id", intOption(0), 0)
        .option("--system <text>", "system message (\\n escapes allowed)")
        .option("--concurrency <n>", "solutions judged at once", intOption(1, 1024), 2)
        .option("--limit <n>", "only the first n solutions", intOption(1))
        .option("--json", "print the summary as one JSON object")
        .option("--quiet", "no progress output")
        .addHelpText(
            "after",
            `
The prompt (one user message) shows the problem and the steps as "Step 0: …", "Step 1: …" and asks
for the number of the earliest wrong step in \\boxed{}, or \\boxed{-1} if every step is correct.
An answer with no box, differing boxes, an unclosed box, a non-integer or an index outside
−1…steps−1 is unparsable: it is kept with its raw text and does not vote. A tie, or no parsed
answer, leaves first_error null (never guessed).

Examples:
  stepwise judge --engine llama:models/lab-judge.gguf --in steps.jsonl --out verdicts.jsonl
  stepwise judge --engine "openai:http://gpu1:8000/v1?model=Qwen/Qwen2.5-72B-Instruct" \\
      --in labels.jsonl --out verdicts.jsonl --n 5 --temperature 0.7 --concurrency 64
  stepwise filter --consensus --labels labels.jsonl --verdicts verdicts.jsonl --out consensus.jsonl

Each record: {id, steps, first_error (index, −1, or null), votes, raw, parse_failures, agreement,
no_verdict?, generated_tokens, method}.`,
        )
        .action(async (o) => {
            const progress = createProgress("judge", {quiet: o.quiet});
            try {
                // The judge loads only after the output checks (lock, settings) passed.
                const s = await judgeFile({
                    engine: () => createEngine(o.engine),
                    engineSpec: o.engine,
                    input: o.in,
                    out: o.out,
                    n: o.n,
                    temperature: o.temperature,
                    maxTokens: o.maxTokens,
                    seed: o.seed,
                    system: o.system === undefined ? undefined : unescape(o.system),
                    concurrency: o.concurrency,
                    limit: o.limit,
                    onProgress: (d, t) => progress.update(d, t),
                });
                progress.stop();
                if (o.json) console.log(JSON.stringify(s));
                else
                    console.error(
                        `judge: ${s.written} solutions judged (${s.skipped} already done): ${s.verdict_error} with a wrong step, ${s.verdict_correct} all correct, ${s.no_verdict} without a verdict; ${s.unparsable_answers} of ${s.answers} answers unparsable; ${s.prompt_tokens} prompt + ${s.generated_tokens} generated tokens in ${s.requests} requests`,
                    );
            } finally {
                progress.stop();
            }
        });
}
