/**
 * The decoding table of docs/decoding.md: every strategy on the same held-out lab problems with the
 * shipped policy and PRM, each run through the library's `stepwise decode` stage (resumable: a
 * killed run continues where it stopped), then accuracy with 95% intervals and the paired
 * difference to greedy.
 *
 *   node --import tsx scripts/decode-lab-eval.ts [--n 200] [--dir .stepwise-cache/decode-eval] [--only "greedy|tvd|TVD, k 3|..." (strategies or row names)]
 *       [--prm models/lab-prm.gguf] [--seed 3000 (problems: held-out lab problems of this seed; tune on another)]
 *       [--offset 0 (skip the first problems of the seed)] [--concurrency 2]
 *
 * The rows named "TVD, prior weight …" are for implicit PRMs (logit(score) + w·log p; w = β ranks by πθ).
 *
 * Prints the markdown table on stdout; progress on stderr.
 */
import {existsSync, mkdirSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {parseArgs} from "node:util";
import {LlamaEngine} from "../src/engines/llama/engine.ts";
import {createScorer, resolveFormat, type StepScorer} from "../src/prm/index.ts";
import {checkAnswer, generateProblems} from "../src/domains/lab/index.ts";
import {readJsonlAll} from "../src/io/jsonl.ts";
import {decodeFile, pairedDifference, SearchPrm, summarizeDecode, type DecodeRecord, type SearchConfig, type StrategyName} from "../src/search/index.ts";
import {LAB_MAX_TOKENS} from "../src/apps/lab/eval/policy.ts";

const {values} = parseArgs({
    options: {
        n: {type: "string", default: "200"},
        dir: {type: "string", default: ".stepwise-cache/decode-eval"},
        only: {type: "string"},
        prm: {type: "string", default: "models/lab-prm.gguf"},
        seed: {type: "string", default: "3000"},
        offset: {type: "string", default: "0"},
        concurrency: {type: "string", default: "2"},
    },
});
const n = Number(values.n);
const seed = Number(values.seed);
const offset = Number(values.offset);
const dir = values.dir!;
mkdirSync(dir, {recursive: true});
const data = join(dir, `problems-${seed}-${offset}-${n}.jsonl`);
if (!existsSync(data)) writeFileSync(data, generateProblems(offset + n, {seed, split: "heldout"}).slice(offset).map((p) => JSON.stringify(p)).join("\n") + "\n");

/** The rows of the table: name, strategy, settings (oracle: the rollout-value scorer below instead of the PRM). */
const RUNS: Array<{name: string; strategy: StrategyName; config: Partial<SearchConfig>; oracle?: boolean}> = [
    {name: "greedy", strategy: "greedy", config: {}},
    {name: "TVD (released: τ 0.55, k 8)", strategy: "tvd", config: {}},
    {name: "TVD, k 3", strategy: "tvd", config: {topK: 3}},
    {name: "TVD, τ 0.30", strategy: "tvd", config: {tau: 0.3}},
    {name: "TVD, margin 0.02", strategy: "tvd", config: {scoreMargin: 0.02}},
    {name: "TVD, min-prob 0.05", strategy: "tvd", config: {minCandidateProb: 0.05}},
    {name: "TVD, min-prob 0.01", strategy: "tvd", config: {minCandidateProb: 0.01}},
    {name: "TVD, prior weight 0.05", strategy: "tvd", config: {priorWeight: 0.05}},
    {name: "TVD, prior weight 0.025", strategy: "tvd", config: {priorWeight: 0.025}},
    {name: "TVD, prior weight 0.1", strategy: "tvd", config: {priorWeight: 0.1}},
    {name: "TVD with a rollout-value oracle instead of the PRM (min-prob 0.01)", strategy: "tvd", config: {minCandidateProb: 0.01}, oracle: true},
    {name: "Best-of-8 (mean)", strategy: "best-of-n", config: {n: 8}},
    {name: "PRM-weighted vote, 8 (product)", strategy: "weighted-vote", config: {n: 8}},
    {name: "beam search (N 8, M 4)", strategy: "beam", config: {n: 8, beamWidth: 4}},
    {name: "DVTS (N 8, M 4)", strategy: "dvts", config: {n: 8, beamWidth: 4}},
];
const only = values.only?.split("|");
const runs = RUNS.filter((r) => !only || only.includes(r.strategy) || only.includes(r.name));

const policy = await LlamaEngine.load("models/lab-policy.gguf", {sequences: 4});
const prm = new SearchPrm(await createScorer(`llama:${values.prm}`));

/**
 * What an ideal value PRM would say: 1 when the policy's greedy completion of "question + steps"
 * reaches the right answer, else 0 (only the last step is scored; TVD reads only that one). The
 * shipped PRM was trained to imitate this kind of target (MC rollouts), so this bounds what TVD can
 * gain with a PRM that learned it perfectly.
 */
class RolloutValueScorer implements StepScorer {
    readonly format = resolveFormat("stepwise-lab");
    async scoreSteps(question: string, steps: string[]): Promise<number[]> {
        const prefix = steps.join("");
        const [s] = await policy.generate({prompt: question + "\n" + prefix, temperature: 0, maxTokens: LAB_MAX_TOKENS, topLogprobs: 0});
        const ok = checkAnswer(question, prefix + s.text).correct;
        return steps.map((_, i) => (i < steps.length - 1 ? 1 : ok ? 1 : 0));
    }
    async scoreMany(items: Array<{question: string; steps: string[]}>): Promise<number[][]> {
        const out: number[][] = [];
        for (const it of items) out.push(await this.scoreSteps(it.question, it.steps));
        return out;
    }
    async close() {}
}
const oracle = new SearchPrm(new RolloutValueScorer());
// One file per row; rows that use the PRM are per PRM file, so several PRMs share one greedy run.
const prmBase = values.prm!.split("/").pop()!.replace(/\.gguf$/, "");
const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9.]+/g, "-").replace(/^-|-$/g, "");
const files = RUNS.map((r) => join(dir, `${slug(r.name)}${r.strategy === "greedy" || r.oracle ? "" : `-${prmBase}`}.jsonl`));
for (const r of runs) {
    const i = RUNS.indexOf(r);
    const t0 = Date.now();
    let last = 0;
    await decodeFile({
        strategy: r.strategy,
        policy,
        prm: r.oracle ? oracle : prm,
        config: {maxTokens: LAB_MAX_TOKENS, ...r.config},
        data,
        out: files[i],
        concurrency: Number(values.concurrency),
        onProgress: (d, t) => {
            if (d === t || Date.now() - last > 30_000) {
                last = Date.now();
                process.stderr.write(`decode ${r.name}: ${d}/${t} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
            }
        },
    });
}
await prm.close();
await policy.close();

const pct = (x: number) => (100 * x).toFixed(1);
const greedyRecords = existsSync(files[0]) ? await readJsonlAll<DecodeRecord>(files[0]) : [];
console.log("| decoder | n | accuracy (95% CI) | − greedy, paired (95% CI) | won / lost vs greedy | policy tokens / q | PRM calls / q | requests / q | TVD interventions / q | s / q |");
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const [i, r] of RUNS.entries()) {
    if (!existsSync(files[i])) continue;
    const records = await readJsonlAll<DecodeRecord>(files[i]);
    if (!records.length) continue;
    const s = summarizeDecode(r.strategy, records, 0);
    const d = i > 0 && greedyRecords.length ? pairedDifference(greedyRecords, records) : undefined;
    const interventions = records.reduce((a, x) => a + x.trace.filter((t) => t.type === "tvd").length, 0) / records.length;
    const wall = records.reduce((a, x) => a + x.wall_s, 0) / records.length;
    console.log(
        `| ${r.name} | ${s.n} | ${pct(s.accuracy!)} (${pct(s.ci95![0])}–${pct(s.ci95![1])}) | ${d ? `${d.diff >= 0 ? "+" : ""}${pct(d.diff)} (${pct(d.ci95[0])} to ${pct(d.ci95[1])})` : "–"} | ${d ? `${d.b_only} / ${d.a_only}` : "–"} | ${s.policy_tokens_per_question.toFixed(0)} | ${s.prm_calls_per_question.toFixed(1)} | ${s.requests_per_question.toFixed(1)} | ${r.strategy === "tvd" ? interventions.toFixed(2) : "–"} | ${wall.toFixed(2)} |`,
    );
}
