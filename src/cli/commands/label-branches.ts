/** `stepwise label-branches`: Monte-Carlo labels of the top-k alternatives at decision tokens (for TVD). */
import {Option, type Command} from "@commander-js/extra-typings";
import {createEngine, ENGINE_SPEC_FORMS} from "../../engines/spec.ts";
import {StepwiseError} from "../../util/errors.ts";
import {getVerifier, verifierNames} from "../../pipeline/label/verifiers.ts";
import {createProgress} from "../progress.ts";
import {floatOption, intOption, parseShard} from "../options.ts";
import {plural} from "../../util/plural.ts";

export function register(program: Command): void {
    program
        .command("label-branches")
        .description("label the top-k alternatives at every decision token by rollouts from 'response so far + candidate' (what TVD ranks); train a PRM on them with `train-prm --branches` (a tag PRM, or an implicit PRM with --objective implicit); resumable")
        .requiredOption("--engine <spec>", `the policy that drew the samples and writes the rollouts: ${ENGINE_SPEC_FORMS}`)
        .requiredOption("--samples <file>", "samples with alternatives (`stepwise sample --top-logprobs 8`; greedy samples, --temperature 0, match TVD's path)")
        .requiredOption("--out <file>", "branch-label JSONL; re-running the same command resumes it")
        .option("--verifier <name>", `checks a rollout's final answer: ${verifierNames().map((n) => `${n} (${getVerifier(n).description})`).join("; ")}`, "math")
        .option("--tau <p>", "decision threshold on the top token's probability (AdaptiveStep's math τ)", floatOption(0, 1), 0.55)
        .addOption(new Option("--cutoff <how>", "how p is compared with τ: percent2 (the released TVD code: two-decimal percents) or raw (p < τ)").choices(["percent2", "raw"] as const).default("percent2" as const))
        .option("--k <k>", "candidates per decision: the top k (TVD's k)", intOption(1, 64), 8)
        .option("--min-prob <p>", "leave out candidates the policy gave less than p", floatOption(0, 1), 0)
        .option("--rollouts <n>", "rollouts per candidate", intOption(1, 1024), 1)
        .option("--temperature <t>", "rollout temperature (0: the greedy continuation TVD follows)", floatOption(0, 10), 0)
        .option("--max-tokens <n>", "most tokens per rollout", intOption(1), 256)
        .addOption(new Option("--labels <how>", "rollouts: each candidate's label is the outcome of its rollouts; truth: the domain's exact step truth (the lab's; --verifier lab) of 'response so far + candidate' once its line is completed greedily: wrong when an error is already decided at the candidate (the lab: junk inside a line is wrong at the first token no equation step can continue with), no outcome rollouts; level with rollout labels for TVD in the lab at about 0.28 of the tokens, docs/decoding.md; truth+rollouts: right only when the truth finds no error at the candidate and then its rollouts reach the right answer (the truth catches junk a rollout forgives, the rollout sees costs after the candidate's line; candidates the truth calls wrong are not rolled out)").choices(["rollouts", "truth", "truth+rollouts"] as const).default("rollouts" as const))
        .option("--max-decisions <n>", "label only the first n decisions of each sample", intOption(1))
        .option("--seed <s>", "seed of the rollouts (each derives its own from it, the sample, decision and candidate)", intOption(0), 0)
        .option("--concurrency <n>", "samples labelled at once", intOption(1, 1024), 2)
        .option("--limit <n>", "only the first n samples", intOption(1))
        .option("--shard <i/n>", "only records i, i+n, i+2n, … (0-based): run n processes side by side, each with its own --out")
        .option("--json", "print the summary as one JSON object")
        .addHelpText(
            "after",
            `
The shipped PRM's token values (scripts/make-lab-prm.sh: --labels truth+rollouts, then
train-prm --objective implicit --branches and pair-prm; TVD above greedy in the lab, docs/decoding.md).
Example (a tag PRM on rollout labels, scripts/make-lab-branch-prm.sh; below greedy in the lab):
  stepwise sample --engine llama:models/lab-policy.gguf --data problems.jsonl --n 1 --temperature 0 --top-logprobs 8 --out greedy.jsonl
  stepwise label-branches --engine llama:models/lab-policy.gguf --verifier lab --samples greedy.jsonl --out branches.jsonl
  stepwise train-prm --branches branches.jsonl --init models/lab-tag-prm.gguf --out branch-prm.gguf --minutes 25 --lr 3e-4

Each record: the sample's id, question, prompt, gold, tau, cutoff, method, cost {rollouts, generated_tokens,
prefix_evaluations}, and decisions [{position, offset, top_prob, candidates [{text, prob, steps, n, correct,
truncated}]}]; candidate 0 is the sample's own token, steps are the texts a tag PRM reads for the candidate.`,
        )
        .action(async (o) => {
            const shard = parseShard(o.shard);
            if (o.labels === "truth" && (o.rollouts !== 1 || o.temperature !== 0)) throw new StepwiseError(`--labels truth completes each candidate's line once, greedily: drop --rollouts and --temperature`);
            if (o.rollouts > 1 && o.temperature === 0) throw new StepwiseError(`--rollouts ${o.rollouts} at --temperature 0 would repeat one greedy completion: give --temperature (e.g. 1) for Monte-Carlo estimates`);
            const verifier = getVerifier(o.verifier);
            const {labelBranchesFile} = await import("../../pipeline/label/branches.ts");
            const progress = createProgress("label-branches");
            try {
                const s = await labelBranchesFile({
                    engine: () => createEngine(o.engine, {role: "policy"}),
                    engineSpec: o.engine,
                    verifier: verifier.name,
                    input: o.samples,
                    out: o.out,
                    tau: o.tau,
                    cutoff: o.cutoff,
                    k: o.k,
                    minProb: o.minProb,
                    rollouts: o.rollouts,
                    temperature: o.temperature,
                    maxTokens: o.maxTokens,
                    maxDecisions: o.maxDecisions,
                    labels: o.labels,
                    seed: o.seed,
                    concurrency: o.concurrency,
                    limit: o.limit,
                    shard,
                    onProgress: (d, t) => progress.update(d, t),
                });
                progress.stop();
                if (o.json) console.log(JSON.stringify(s));
                else
                    console.error(
                        `label-branches: ${plural(s.written, "sample")} labelled (${s.skipped} already done); ${plural(s.decisions, "decision")}, ${plural(s.candidates, "candidate")}; ${plural(s.mixed_decisions, "decision")} with right and wrong candidates (the sample's own token right in ${s.mixed_own_right}); ${s.generated_tokens_per_sample.toFixed(0)} rollout tokens per sample`,
                    );
            } finally {
                progress.stop();
            }
        });
}
