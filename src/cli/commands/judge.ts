/** `stepwise judge`: LLM-as-a-judge verdicts (earliest wrong step) for step-by-step solutions. */
import {Option, type Command} from "@commander-js/extra-typings";
import {createEngine} from "../../engines/spec.ts";
import {JUDGE_TEMPLATES} from "../../core/constants.ts";
import {createProgress} from "../progress.ts";
import {floatOption, intOption, reportTooLong, unescape} from "../options.ts";
import {plural} from "../../util/plural.ts";

export function register(program: Command): void {
    program
        .command("judge")
        .description("ask a judge model for each solution's earliest wrong step (n answers in \\boxed{}, majority vote); one verdict per solution")
        .requiredOption("--engine <spec>", "the judge: a chat model (openai:URL?model=NAME for vLLM / stepwise serve, or llama:FILE.gguf with a chat template, e.g. llama:models/lab-judge.gguf)")
        .requiredOption("--in <file>", "solutions cut into steps: the output of `stepwise split` or `label` (question, steps[].text), or ProcessBench rows (problem, steps[])")
        .requiredOption("--out <file>", "verdicts JSONL; re-running the same command resumes it (other settings are refused: see <out>.settings.json)")
        .addOption(new Option("--template <name>", "prompt, parser and vote (see below); default: verify for a lab verifier GGUF, compact for another stepwise lab judge GGUF, else processbench").choices([...JUDGE_TEMPLATES]))
        .option("--n <n>", "answers per solution (majority vote); default 8 (processbench), 5 (compact) or 1 (verify)", intOption(1, 64))
        .option("--temperature <t>", "sampling temperature of the answers; default 1 (0 for verify)", floatOption(0, 10))
        .option("--top-p <p>", "nucleus sampling mass in (0, 1], 1 = off; default 0.9 (processbench) or 1 (compact)", floatOption(0, 1))
        .option("--top-k <k>", "keep the k most likely tokens, 0 = off; default 0", intOption(0))
        .option("--max-tokens <n>", "most tokens per answer; default 8192 (processbench) or 1024 (compact)", intOption(1))
        .option("--seed <s>", "seed; each solution derives its own from it and its id", intOption(0), 0)
        .option("--system <text>", "system message (\\n escapes allowed)")
        .option("--concurrency <n>", "solutions judged at once", intOption(1, 1024), 2)
        .option("--limit <n>", "only the first n solutions", intOption(1))
        .option("--skip-too-long", "skip solutions whose prompt does not fit the judge's context (counted and listed; no verdict, a re-run tries them again) instead of stopping")
        .option("--json", "print the summary as one JSON object")
        .option("--quiet", "no progress output")
        .addHelpText(
            "after",
            `
Templates (--template):
  processbench  ProcessBench's protocol (QwenLM/ProcessBench code/run_eval.py --use_voting): its
                critique prompt, each step verbatim in a <paragraph_i> block, asking for a
                paragraph-by-paragraph critique and the index in \\boxed{}; each answer is read
                from its LAST \\boxed{…} (content up to the first "}", as Python int(): "+2",
                "02" read as 2; "2.5", "\\text{2}", "- 1" are no integer); answers without a box
                do not vote, the others vote with their box text and the most common text wins,
                ties going to the text given first; a winner that is no index in −1…steps−1
                gives no verdict. Defaults: n 8, temperature 1, top-p 0.9, 8192 tokens.
  compact       stepwise's short prompt ("Problem: …", "Step 0: …" lines, line breaks folded),
                the one the first lab judge was trained on; an answer needs exactly one clear integer
                in −1…steps−1 in \\boxed{} (no box, differing boxes, an unclosed box, a
                non-integer or an index out of range: unparsable, does not vote); a tie gives no
                verdict (never guessed). Defaults: n 5, temperature 1, no top-p, 1024 tokens.
  verify        the lab verifier's (a GGUF from \`lab train-judge --critique verify\`, e.g.
                models/lab-verifier.gguf; llama engine): the problem, then each step quoted in
                the verifier's turn and checked on the next line ("<check> | right/wrong"),
                stopping at the first "wrong"; stepwise then gives the box (the step marked
                wrong, or -1), read like every answer; votes as compact. Defaults: n 1,
                temperature 0, 1024 tokens.
Default template: verify or compact when --engine is llama:FILE.gguf and the GGUF's metadata says
stepwise.kind = "judge" (every GGUF \`stepwise lab train-judge\` writes): verify when its
stepwise.judge_template is "verify" (e.g. models/lab-verifier.gguf), else compact; processbench for
every other engine (OpenAI-compatible servers, other GGUFs).
Unparsable answers are kept with their raw text and reason. The template, n, temperature, top-p,
top-k and max tokens are recorded in <out>.settings.json and in each record's "protocol".

Examples:
  stepwise judge --engine llama:models/lab-judge.gguf --in steps.jsonl --out verdicts.jsonl
  stepwise judge --engine "openai:http://gpu1:8000/v1?model=Qwen/Qwen2.5-72B-Instruct" \\
      --in labels.jsonl --out verdicts.jsonl --concurrency 64          # ProcessBench's protocol
  stepwise filter --consensus --labels labels.jsonl --verdicts verdicts.jsonl --out consensus.jsonl

Each record: {id, steps, first_error (index, −1, or null), votes, boxes (processbench), raw,
parse_failures, agreement, no_verdict?, generated_tokens, protocol, method}.`,
        )
        .action(async (o) => {
            const {judgeFile} = await import("../../judge/judge.ts");
            const progress = createProgress("judge", {quiet: o.quiet});
            try {
                // The judge loads only after the output checks (lock, settings) passed.
                const s = await judgeFile({
                    engine: () => createEngine(o.engine),
                    engineSpec: o.engine,
                    input: o.in,
                    out: o.out,
                    template: o.template,
                    n: o.n,
                    temperature: o.temperature,
                    topP: o.topP,
                    topK: o.topK,
                    maxTokens: o.maxTokens,
                    seed: o.seed,
                    system: o.system === undefined ? undefined : unescape(o.system),
                    concurrency: o.concurrency,
                    limit: o.limit,
                    skipTooLong: o.skipTooLong,
                    onProgress: (d, t) => progress.update(d, t),
                });
                progress.stop();
                if (o.json) console.log(JSON.stringify(s));
                else {
                    const p = s.protocol;
                    console.error(
                        `judge (template ${p.template}, n ${p.n}, T ${p.temperature}, top-p ${p.top_p}${p.top_k ? `, top-k ${p.top_k}` : ""}): ${plural(s.written, "solution")} judged (${s.skipped} already done): ${s.verdict_error} with a wrong step, ${s.verdict_correct} all correct, ${s.no_verdict} without a verdict; ${s.unparsable_answers} of ${plural(s.answers, "answer")} unparsable; ${s.prompt_tokens} prompt + ${s.generated_tokens} generated tokens in ${plural(s.requests, "request")}` +
                            (s.tooLong.length ? `; ${plural(s.tooLong.length, "solution")} skipped: prompt longer than the judge's context` : ""),
                    );
                }
                reportTooLong("judge", s.tooLong);
            } finally {
                progress.stop();
            }
        });
}
