/** `stepwise score`: PRM step scores for a steps file. */
import type {Command} from "@commander-js/extra-typings";
import {createProgress} from "../progress.ts";
import {intOption, reportTooLong} from "../options.ts";
import {plural} from "../../util/plural.ts";

export const PRM_SPEC_HELP = `PRM spec: an engine spec with format=stepwise-lab|math-shepherd|asprm|qwen-prm|verifier|implicit (and tag=, good=, bad= texts whose ids are read in context, or explicit tag_id=, good_id=, bad_id=; positive=, endpoint=pooling|embeddings; implicit: beta=, ref=, template=, step_prm=):
  llama:models/lab-prm.gguf                                   the shipped lab PRM, in-process: step scores from lab-tag-prm.gguf, TVD's token values
                                                              from an implicit PRM (stepwise pair-prm); ?format=stepwise-lab or ?format=implicit reads one
  llama:models/lab-implicit-prm.gguf                          an implicit PRM (train-prm --objective implicit): its GGUF names β and its reference;
                                                              with decode, a --policy that is that reference gives TVD πref from its own logprobs
  openai:http://127.0.0.1:8002/v1?model=prm&format=implicit&beta=0.05&ref=ENC   an implicit PRM served as a plain model; ENC = its reference's engine spec, URL-encoded
  …&format=implicit&beta=0.05&ref=ENC&step_prm=ENC2          the same with the step scores of another PRM spec (ENC2, URL-encoded): TVD reads the
                                                              implicit PRM, Best-of-N / beam search / ProcessBench the other (what pair-prm writes in one file)
  llama:models/lab-verifier.gguf?format=verifier              the lab verifier read as a PRM: P(right) after its check of each step
  llama:ms.gguf?format=math-shepherd                          a tag PRM GGUF, in-process
  openai:http://127.0.0.1:8001/v1?model=lab-prm&format=stepwise-lab  stepwise serve --prm models/lab-prm.gguf (it serves the file's name, or --name), or vLLM STEP pooling
  openai:http://gpu:8000/v1?model=Qwen/Qwen2.5-Math-PRM-7B&format=qwen-prm  a classifier PRM served by vLLM
model= is the name the server serves (vLLM: the model path, or --served-model-name; stepwise serve: the file name, or --name);
a wrong name is the server's 404 naming the model it serves.

Examples:
  stepwise split --samples samples.jsonl --strategy adaptive --threshold threshold.json --out steps.jsonl
  stepwise score --prm llama:models/lab-prm.gguf --in steps.jsonl --out scores.jsonl
  stepwise score --prm "openai:http://127.0.0.1:8001/v1?model=lab-prm&format=stepwise-lab" --in steps.jsonl --out scores.jsonl --skip-too-long`;

export function register(program: Command): void {
    program
        .command("score")
        .description("score every step of every record with a PRM (probability the step is correct); resumable")
        .requiredOption("--prm <spec>", "the PRM (see below)")
        .requiredOption("--in <file>", "JSONL with question and steps (output of split or label, or your own)")
        .requiredOption("--out <file>", "the records with step_scores added")
        .option("--id-field <f>", "id field", "id")
        .option("--question-field <f>", "question field (default: question, else problem)")
        .option("--steps-field <f>", "steps field (strings or {text} objects)", "steps")
        .option("--concurrency <n>", "records in flight", intOption(1, 1024), 4)
        .option("--limit <n>", "only the first n records", intOption(1))
        .option("--skip-too-long", "skip records longer than the PRM's context (counted and listed) instead of stopping")
        .addHelpText("after", `\n${PRM_SPEC_HELP}`)
        .action(async (o) => {
            const {createScorer} = await import("../../prm/index.ts");
            const {scoreFile} = await import("../../pipeline/score.ts");
            const progress = createProgress("score");
            try {
                const r = await scoreFile({
                    scorer: () => createScorer(o.prm, {stepsOnly: true}),
                    prmSpec: o.prm,
                    input: o.in,
                    out: o.out,
                    idField: o.idField,
                    questionField: o.questionField,
                    stepsField: o.stepsField,
                    concurrency: o.concurrency,
                    limit: o.limit,
                    skipTooLong: o.skipTooLong,
                    onProgress: (d, t) => progress.update(d, t),
                });
                progress.stop();
                console.error(
                    `score: ${plural(r.scored, "record")} scored (${plural(r.steps, "step")}), ${r.skipped} already in ${o.out}` +
                        (r.tooLong.length ? `; ${plural(r.tooLong.length, "record")} skipped: longer than the PRM's context` : ""),
                );
                reportTooLong("score", r.tooLong);
            } finally {
                progress.stop();
            }
        });
}
