/** `stepwise decode`: answer every question of a data set with a PRM-guided decoding strategy. */
import {Option, type Command} from "@commander-js/extra-typings";
import {createEngine, ENGINE_SPEC_FORMS} from "../../engines/spec.ts";
import {StepwiseError} from "../../util/errors.ts";
import {AGGREGATIONS, type Aggregation} from "../../select/aggregate.ts";
import {STRATEGIES, TVD_DOMAIN_DEFAULTS, TVD_DOMAIN_TAU, DEFAULT_SEARCH_CONFIG as D, type SearchConfig, type StrategyName} from "../../search/types.ts";
import {CUTOFFS, type Cutoff} from "../../steps/index.ts";
import {createProgress} from "../progress.ts";
import {collect, floatOption, intOption, questionInput, questionOptions, reportTooLong, unescape} from "../options.ts";
import {PRM_SPEC_HELP} from "./score.ts";
import {formatInterval} from "../../stats/intervals.ts";
import {plural} from "../../util/plural.ts";

/**
 * How decode compares p with τ: --cutoff, or --exact-tau (raw); by default "raw" when τ comes from
 * --threshold (compared as `stepwise split` compares it, so TVD reads the PRM where it was trained),
 * else "percent2" (the released TVD code). StepwiseError when --exact-tau contradicts --cutoff.
 */
export function decodeCutoff(o: {cutoff?: Cutoff; exactTau?: boolean; threshold?: string}): Cutoff {
    if (o.exactTau && o.cutoff !== undefined && o.cutoff !== "raw") throw new StepwiseError(`decode: --exact-tau contradicts --cutoff ${o.cutoff}`);
    return o.exactTau ? "raw" : (o.cutoff ?? (o.threshold !== undefined ? "raw" : "percent2"));
}

export function register(program: Command): void {
    const command = program
        .command("decode")
        .description("answer every question with a decoding strategy: greedy, TVD (token-level value-guided), Best-of-N, PRM-weighted vote, step-level beam search or DVTS; resumable")
        .addOption(new Option("--strategy <name>", "decoding strategy").choices([...STRATEGIES]).makeOptionMandatory())
        .requiredOption("--policy <spec>", `the policy model: ${ENGINE_SPEC_FORMS}`)
        .option("--prm <spec>", "the PRM (all strategies but greedy; see below)")
        .requiredOption("--data <file>", "questions: JSONL, JSON array or Parquet (lab problems from `stepwise lab generate`, GSM8K, MATH500 shapes work as they are)")
        .requiredOption("--out <file>", "output JSONL, one record per question; re-running the same command resumes it")
        .option("--json", "print one summary object on stdout when done")
        .option("--paired-with <file>", "another decode output on the same questions (e.g. greedy's): print this run − that one, paired by question, with its 95% interval")
        .option("--max-tokens <n>", `most policy tokens per solution (default ${D.maxTokens}; with --domain, the domain's total bound)`, intOption(1))
        .option("--max-total-tokens <n>", "TVD: most tokens of prompt plus response, the prompt counted with the policy's tokenizer (default none; --domain math 1024, code 2048 as the released code)", intOption(1))
        .option("--stop <s>", "stop string ending a solution (repeatable; \\n escapes allowed)", collect, [])
        .option("--tau <p>", `decision threshold τ on a token's probability (default ${D.tau}, the released TVD math value)`, floatOption(0, 1))
        .option("--threshold <file>", "read τ from a `stepwise threshold` output file")
        .addOption(new Option("--domain <d>", `released TVD settings: math τ ${TVD_DOMAIN_TAU.math}, --max-total-tokens 1024; code τ ${TVD_DOMAIN_TAU.code}, --max-total-tokens 2048, --code-blocks-only, --prm-context prompt (each flag given overrides)`).choices(["math", "code"]))
        .addOption(new Option("--cutoff <how>", 'how p is compared with τ: "percent2" np.round(100·p, 2) < 100·τ as the released TVD code (default with --tau, --domain or the default τ), "raw" p < τ as `stepwise split` (default with --threshold)').choices([...CUTOFFS]))
        .option("--exact-tau", "same as --cutoff raw")
        .option("--top-k <k>", "TVD: candidate tokens scored at a decision token (at most 20 on OpenAI servers)", intOption(1, 1000), D.topK)
        .option("--min-prob <p>", "TVD: skip candidates less likely than this (the greedy token is always scored)", floatOption(0, 1), D.minCandidateProb)
        .option("--margin <m>", "TVD: keep the greedy token unless a candidate scores more than this above it", floatOption(0, 1), D.scoreMargin)
        .option("--prior-weight <w>", "TVD: choose by logit(PRM score) + w·log p(candidate) instead of the score alone (0)", floatOption(0, 1000), D.priorWeight)
        .option("--code-blocks-only", "TVD: intervene only inside code: an open ``` or ~~~ fence at a line start, in the answer or opened by the prompt (a ``` inside a prose line is no fence), or an answer that reads as raw code from its first line (the released code domain; default with --domain code)")
        .option("--no-code-blocks-only", "TVD: intervene at every decision token, also with --domain code")
        .addOption(new Option("--prm-context <what>", 'TVD: what the PRM input starts with: "question" (default; released math) or "prompt", the whole policy prompt with its template (default with --domain code, as the released code)').choices(["question", "prompt"]))
        .option("--no-eos-candidate", "TVD: end-of-sequence is not a candidate at decision tokens (default: it is, as in the released code; if the PRM picks it the response ends)")
        .option("--n <n>", "Best-of-N / weighted vote: samples; beam / DVTS: beams (N)", intOption(1, 4096), D.n)
        .option("--beam-width <m>", "beam search / DVTS: beam width M", intOption(1, 1024), D.beamWidth)
        .option("--max-steps <n>", "beam search / DVTS: most step iterations", intOption(1, 10_000), D.maxSteps)
        .option("--step <end>", 'where a step ends for beam / DVTS / scoring samples: "adaptive" (after a decision token) or a delimiter such as "\\n\\n"', "adaptive")
        .option("--temperature <t>", "sampling temperature of the sampling strategies", floatOption(0, 10), D.temperature)
        .option("--top-p <p>", "nucleus mass of the sampling strategies", floatOption(0, 1), D.topP)
        .addOption(new Option("--aggregation <a>", "Best-of-N ranking (beam / DVTS: --beam-aggregation)").choices([...AGGREGATIONS]).default(D.aggregation))
        .addOption(new Option("--beam-aggregation <a>", "beam search / DVTS: ranking of beams, DVTS's best child and the final pick (search-and-learn's agg_strategy)").choices([...AGGREGATIONS]).default(D.beamAggregation))
        .addOption(new Option("--beam-stop <when>", "beam search: stop when no beam is active (all-done, search-and-learn) or once N beams completed (n-completed: the same pick, fewer tokens, unless --sort-completed)").choices(["all-done", "n-completed"]).default(D.beamStop))
        .option("--sort-completed", "beam search: pick among the N best completed beams, not the first N completed (search-and-learn's sort_completed)")
        .addOption(new Option("--dvts-pool <p>", "DVTS: pick among all M children of each subtree's last expansion (siblings, search-and-learn) or each subtree's kept child (best)").choices(["siblings", "best"]).default(D.dvtsPool))
        .addOption(new Option("--vote-aggregation <a>", "weighted vote: weight of a candidate").choices([...AGGREGATIONS]).default(D.voteAggregation))
        .option("--allow-unfinished", "let Best-of-N / vote / beam / DVTS pick a candidate without a final answer")
        .option("--seed <s>", "base seed; each question derives its own from it and its id", intOption(0), D.seed);
    questionOptions(command, "policy")
        .option("--concurrency <c>", "questions in flight at once", intOption(1, 1024), 2)
        .option("--skip-too-long", "skip questions whose prompt alone fills the policy's context (counted and listed; no record, a re-run tries them again) instead of stopping")
        .option("--prm-concurrency <c>", "PRM inputs of one question in flight at once (default 1 in-process, 8 for openai: PRMs)", intOption(1, 1024))
        .option("--quiet", "no progress output")
        .addHelpText(
            "after",
            `
Examples:
  stepwise lab generate --n 200 --split heldout --seed 3000 --out problems.jsonl
  stepwise decode --strategy greedy --policy llama:models/lab-policy.gguf --data problems.jsonl --out greedy.jsonl --json
  stepwise decode --strategy tvd --policy llama:models/lab-policy.gguf --prm llama:models/lab-prm.gguf \\
      --data problems.jsonl --out tvd.jsonl --paired-with greedy.jsonl --json
  stepwise decode --strategy beam --n 8 --beam-width 4 --policy "openai:http://127.0.0.1:8000/v1" \\
      --prm "openai:http://127.0.0.1:8001/v1?model=lab-prm&format=stepwise-lab" --data problems.jsonl --out beam.jsonl

Strategies (docs/decoding.md):
  greedy          temperature 0, no PRM (the baseline)
  tvd             greedy; at each token whose top-1 probability is below τ, the PRM scores the top-k candidates
                  as "response so far + candidate + step tag" and the best is kept (AdaptiveStep TVD)
  best-of-n       N samples scored by the PRM, the best aggregated one is returned
  weighted-vote   N samples; equal answers pool their PRM weights; the heaviest answer wins
  beam            step-level beam search: N beams, the best N/M kept after every step and repeated back up to N
                  (search-and-learn); the best of the first N completed by its last step's score
  dvts            N/M independent subtrees, each keeping the best of M sampled steps; the best of the M
                  children of every subtree's last expansion (search-and-learn)

At a context end a solution ends there, unfinished (no answer), and the run goes on: when prompt + response
fills the policy's context (context_end "policy"), or when the PRM input is longer than the PRM's context
(context_end "prm": TVD ends before that decision token, a beam or DVTS child ends there, a Best-of-N or
vote candidate is left out; its trace score is null). Only a question whose prompt alone fills the policy's
context stops the run, or is skipped with --skip-too-long.

Each record: {id, question, strategy, text, answer, finished, tokens, prm_calls, requests, trace, gold, correct,
method, wall_s, context_end?}; --json prints {strategy, n, accuracy, ci95, accuracy_ci: {value, low, high, n, method, level},
policy_tokens_per_question, prm_calls_per_question, requests_per_question, wall_s, decoded, skipped, tooLong? (with --skip-too-long)}, and with
--paired-with FILE also paired: {n, a, b, diff, interval, sentence, a_only, b_only, mcnemar_p, against} (this run − FILE).

${PRM_SPEC_HELP}`,
        )
        .action(async (o) => {
            const strategy = o.strategy as StrategyName;
            if (strategy !== "greedy" && !o.prm) throw new StepwiseError(`decode --strategy ${strategy} needs --prm SPEC`);
            if ([o.tau !== undefined, o.threshold !== undefined, o.domain !== undefined].filter(Boolean).length > 1)
                throw new StepwiseError("decode: give at most one of --tau, --threshold and --domain");
            const {readThresholdFile} = await import("../../pipeline/threshold.ts");
            const tau: number = o.tau ?? (o.threshold ? readThresholdFile(o.threshold) : o.domain ? TVD_DOMAIN_TAU[o.domain as "math" | "code"] : D.tau);
            const cutoff = decodeCutoff(o);
            const domain = o.domain ? TVD_DOMAIN_DEFAULTS[o.domain as "math" | "code"] : undefined;
            const step = unescape(o.step);
            const config: Partial<SearchConfig> = {
                maxTokens: o.maxTokens ?? domain?.maxTotalTokens ?? D.maxTokens,
                maxTotalTokens: o.maxTotalTokens ?? domain?.maxTotalTokens ?? D.maxTotalTokens,
                eosCandidate: o.eosCandidate !== false,
                prmContext: (o.prmContext ?? domain?.prmContext ?? D.prmContext) as SearchConfig["prmContext"],
                stop: (o.stop as string[]).map(unescape),
                tau,
                cutoff,
                topK: o.topK,
                minCandidateProb: o.minProb,
                scoreMargin: o.margin,
                priorWeight: o.priorWeight,
                codeBlocksOnly: o.codeBlocksOnly ?? domain?.codeBlocksOnly ?? D.codeBlocksOnly,
                n: o.n,
                beamWidth: o.beamWidth,
                maxSteps: o.maxSteps,
                beamAggregation: o.beamAggregation as Aggregation,
                beamStop: o.beamStop as SearchConfig["beamStop"],
                sortCompleted: !!o.sortCompleted,
                dvtsPool: o.dvtsPool as SearchConfig["dvtsPool"],
                stepEnd: step === "adaptive" ? {kind: "adaptive"} : {kind: "delimiter", text: step},
                temperature: o.temperature,
                topP: o.topP,
                aggregation: o.aggregation as Aggregation,
                voteAggregation: o.voteAggregation as Aggregation,
                allowUnfinished: !!o.allowUnfinished,
                seed: o.seed,
            };
            const {createScorer, HybridPrmScorer, checkPrmFile, splitPrmSpec, stepScoresSpec} = await import("../../prm/index.ts");
            const {decodeFile, SearchPrm} = await import("../../search/index.ts");
            const policy = await createEngine(o.policy, {role: "policy"});
            const scorer = o.prm && strategy !== "greedy" ? await createScorer(o.prm, {policySpec: o.policy, stepsOnly: strategy !== "tvd"}) : undefined;
            // The spec the step scores come from (read once): o.prm itself unless it is read two ways.
            const stepsSpec = scorer ? stepScoresSpec(o.prm!) : undefined;
            // A PRM read two ways (a pair, step_prm=, tag+implicit): say which reading this strategy uses
            // (the other strategies open only the step scores' model: stepsOnly).
            if (stepsSpec !== undefined && stepsSpec !== o.prm && !o.quiet) {
                const {engineSpec, params} = splitPrmSpec(o.prm!);
                const tagFile = params.step_prm === undefined ? checkPrmFile(engineSpec, "stepwise-lab").tagFile : undefined; // the tag reading only (needs no reference); {} for a served PRM
                const tagName = params.step_prm !== undefined ? `step_prm=${params.step_prm}` : tagFile ? `the tag PRM ${tagFile.split("/").pop()}` : "its own tags";
                console.error(`decode ${strategy}: ${strategy === "tvd" ? `TVD's candidates scored by the PRM's token values (implicit reading${scorer instanceof HybridPrmScorer ? `, β ${scorer.implicit.beta}` : ""}); its step scores (${tagName}) are not used by TVD` : `step scores from ${tagName}; the PRM's token values are for TVD only (not loaded)`}`);
            }
            // In-process PRMs score shared-prefix inputs one after the other (KV reuse); servers get them in parallel.
            const prm = scorer ? new SearchPrm(scorer, {concurrency: o.prmConcurrency ?? ((strategy === "tvd" ? o.prm! : stepsSpec!).startsWith("openai:") ? 8 : 1)}) : undefined;
            const progress = createProgress(`decode ${strategy}`, {quiet: o.quiet});
            try {
                const summary = await decodeFile({
                    strategy,
                    policy,
                    prm,
                    config,
                    data: o.data,
                    out: o.out,
                    policySpec: o.policy,
                    prmSpec: prm ? o.prm : undefined,
                    ...questionInput(o),
                    pairedWith: o.pairedWith,
                    concurrency: o.concurrency,
                    skipTooLong: !!o.skipTooLong,
                    onProgress: (d, t) => progress.update(d, t),
                });
                progress.stop();
                reportTooLong(`decode ${strategy}`, summary.tooLong ?? []);
                const acc = summary.accuracy_ci === null ? "no gold answers" : `accuracy ${formatInterval(summary.accuracy_ci)}`;
                console.error(
                    `decode ${strategy}: ${plural(summary.decoded, "question")} decoded, ${summary.skipped} already in ${o.out}` +
                        `${summary.tooLong ? `, ${plural(summary.tooLong.length, "question")} skipped: prompt longer than the policy's context` : ""}; ${acc}; ` +
                        `${summary.policy_tokens_per_question.toFixed(1)} policy tokens, ${summary.prm_calls_per_question.toFixed(1)} PRM calls, ${summary.requests_per_question.toFixed(1)} requests per question`,
                );
                if (summary.paired) console.error(`decode ${strategy}: paired with ${summary.paired.against}: ${summary.paired.sentence}`);
                // An implicit PRM whose reference is the policy: say how often the policy's own probabilities stood in for it.
                const readings = prm?.referenceReadings;
                if (readings) {
                    const {reused, run} = readings;
                    if (reused + run) console.error(`decode ${strategy}: πref from the policy's own probabilities at ${reused} of ${plural(reused + run, "decision")}${run ? ` (the reference model ran at the other ${run}: their tokens did not line up)` : ""}`);
                }
                if (o.json) console.log(JSON.stringify(summary));
            } finally {
                progress.stop();
                await prm?.close();
                await policy.close();
            }
        });
}
