/**
 * `stepwise demo`: the whole lab pipeline on a laptop CPU, with the shipped lab models, in named
 * stages: held-out problems → samples with per-token confidences → τ → adaptive and newline steps
 * (with statistics) → Monte-Carlo labels against the exact truth → the PRM (AUC, lab-ProcessBench,
 * Best-of-N, analyses) → decoding with the PRM (greedy, TVD, Best-of-N, beam) → report
 * (`report.md`, `report.html`, `report.json`, plots, every intermediate JSONL file, and the static
 * viewer in `viewer/`).
 *
 * Each stage runs the library function its CLI command runs, on files, so the demo exercises what
 * users run: `sampleDataset` (sample), `splitFile` (split), `labelFile` (label), `scoreFile`
 * (score), `decodeFile` (decode), `judgeFile` (judge), `consensusFilter` (filter --consensus),
 * `evaluateCodePolicy` (code eval). Each model is loaded once and its engine passed to every stage
 * that uses it (the policy to sample, label and decode; the PRM to score, the lab evaluation and
 * decode). The demo rewrites its output folder: each stage output is removed first (a stage would
 * resume it).
 *
 * Each stage's figures land in {@link DemoReport}; a stage whose model is missing is skipped with
 * the reason recorded in `report.skipped`, never silently.
 */
import {mkdirSync, existsSync, rmSync} from "node:fs";
import {writeFileAtomic} from "../../io/atomic.ts";
import {basename, join, resolve} from "node:path";
import "../domains.ts"; // registers the lab verifier that the label stage names
import {LlamaEngine} from "../../engines/llama/engine.ts";
import {StepwiseError} from "../../util/errors.ts";
import {plural} from "../../util/plural.ts";
import {generateProblems} from "../../domains/lab/index.ts";
import {evaluatePolicyRecords, LAB_MAX_TOKENS, type PolicyEval} from "../lab/eval/policy.ts";
import {JsonlWriter} from "../../io/jsonl.ts";
import {settingsPath} from "../../core/stage.ts";
import {DecodeRecordSchema, readRecords, readRecordsAll, SampleRecordSchema, StepsRecordSchema, VerdictRecordSchema} from "../../core/schemas.ts";
import {sampleId, type StepsRecord} from "../../core/records.ts";
import {sampleDataset} from "../../pipeline/sample.ts";
import {plotThreshold, thresholdFromFile, type ThresholdSummary} from "../../pipeline/threshold.ts";
import {parseStrategy, splitFile} from "../../pipeline/split/index.ts";
import {computeStats, type StatsReport} from "../../pipeline/stats/index.ts";
import {writeStatsPlots} from "../../pipeline/stats/plots.ts";
import {labelFile, type LabelSummary} from "../../pipeline/label/index.ts";
import {labTruth} from "../../domains/lab/verifier.ts";
import {scoreFile} from "../../pipeline/score.ts";
import {trainPrm} from "../../pipeline/train-prm.ts";
import {createScorer, scoresContinuations, type StepScorer} from "../../prm/index.ts";
import {defaultPolicyPath, defaultPrmPath, reportLabPrm} from "../lab/eval/run.ts";
import {decodeFile, pairedDifference, SearchPrm, type DecodeRecord, type DecodeSummary, type StrategyName} from "../../search/index.ts";
import {ViewStore, exportViewer} from "../view/index.ts";
import {bonComparisons, bonFraction, decodeComparison, firstErrorPairing, writeDemoReports, type DemoReport, type DemoFigures} from "./report.ts";
import {intervalJson, wilsonInterval} from "../../stats/intervals.ts";
import {firstBelow} from "../../eval/processbench/threshold.ts";

export type {DemoReport, DemoComparison} from "./report.ts";
export {demoSummary} from "./report.ts";

export interface DemoOptions {
    /** Output folder. Default `stepwise-out/demo-<timestamp>`. */
    out?: string;
    /** Policy GGUF. Default models/lab-policy.gguf of this package. */
    policy?: string;
    /** Held-out problems. Default 40. */
    problems?: number;
    /** Samples per problem (Best-of-N and maj@N are reported at this N). Default 16. */
    k?: number;
    seed?: number;
    /** Quantile for the decision-token threshold τ. Default 0.02 (AdaptiveStep, math). */
    quantile?: number;
    /** Samples labelled by Monte-Carlo rollouts (one per problem, at most this many). Default 40. */
    labelSamples?: number;
    /** Rollouts per step when labelling. Default 4. */
    rollouts?: number;
    /** PRM GGUF to evaluate. Default models/lab-prm.gguf (skipped when absent and trainPrmMinutes is not set). */
    prm?: string;
    /** Train a PRM from the demo's own labels for this many minutes instead of using the shipped one. */
    trainPrmMinutes?: number;
    /** Problems decoded by each decoding strategy (greedy, TVD, Best-of-N, beam). Default 40; 0 skips decoding. */
    decodeProblems?: number;
    /** Candidates of the Best-of-N and beam decoders. Default 4. */
    decodeN?: number;
    /**
     * Lab judge GGUF. Default models/lab-verifier.gguf, the lab verifier (it checks each quoted step, then
     * names the first wrong one; lab-ProcessBench F1 66.0 greedy on 200 held-out solutions where the
     * compact models/lab-judge.gguf gets 33.0 with 5 votes, docs/judge.md). Its template comes from the GGUF (defaultJudgeTemplate). The judge
     * stage is skipped, with the reason, when the file is absent.
     */
    judge?: string;
    /** Solutions the judge reads for its lab-ProcessBench F1 (the first samples of each problem). Default 160. */
    judgeSamples?: number;
    /**
     * Answers per solution, sampled at T=1 and majority-voted (1 = one greedy answer). Default: the
     * judge's template protocol (JUDGE_PROTOCOLS): 1 for the verifier (greedy), 5 for the compact lab
     * judge (its F1 is 33% with 5 votes vs 20% greedy, docs/judge.md).
     */
    judgeN?: number;
    /** Code-lab policy GGUF. Default models/lab-code-policy.gguf (the code stage is skipped, with the reason, when absent). */
    codePolicy?: string;
    /** Held-out code-lab tasks. Default 20. */
    codeTasks?: number;
    /** Stages to leave out: any of "label", "prm", "decode", "judge", "code". */
    skip?: string[];
    /** Write the static viewer into `viewer/`. Default true. */
    viewer?: boolean;
    /** Progress of the current stage (its name, items done, items in all). */
    onProgress?: (stage: string, done: number, total: number) => void;
    /** One line per stage start and per notable event. */
    log?: (line: string) => void;
}

export interface DemoResult {
    out: string;
    report: DemoReport;
}

export {defaultPolicyPath, defaultPrmPath} from "../lab/eval/run.ts";

/** The demo's stages, in order (the names progress lines and `report.stages` use). */
export const DEMO_STAGES = ["problems", "sample", "threshold", "split", "label", "prm", "decode", "judge", "code", "report"] as const;

/** The demo's judge: the shipped lab verifier (models/lab-verifier.gguf). */
export function defaultJudgePath(): string {
    return resolve(new URL("../../../models/lab-verifier.gguf", import.meta.url).pathname);
}

/** The shipped code-lab policy (models/lab-code-policy.gguf). */
export function defaultCodePolicyPath(): string {
    return resolve(new URL("../../../models/lab-code-policy.gguf", import.meta.url).pathname);
}

/**
 * Run the demo (see the module docs).
 * @throws StepwiseError when the policy file is missing or the output folder cannot be written.
 */
export async function runDemo(o: DemoOptions = {}): Promise<DemoResult> {
    const log = o.log ?? (() => {});
    const out = resolve(o.out ?? join("stepwise-out", `demo-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`));
    const policy = o.policy ?? defaultPolicyPath();
    if (!existsSync(policy)) throw new StepwiseError(`${policy}: lab policy not found (train one with \`stepwise lab train-policy\`)`);
    try {
        mkdirSync(out, {recursive: true});
    } catch (e) {
        throw new StepwiseError(`${out}: cannot create the output folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    const skip = new Set(o.skip ?? []);
    const report: DemoReport = {
        out,
        policy,
        settings: {problems: o.problems ?? 40, k: o.k ?? 16, seed: o.seed ?? 0, quantile: o.quantile ?? 0.02, label_samples: o.labelSamples ?? 40, rollouts: o.rollouts ?? 4, decode_problems: o.decodeProblems ?? 40, decode_n: o.decodeN ?? 4},
        stages: [],
        skipped: {},
        greedy_accuracy: null,
        greedy_accuracy_ci: null,
        maj_at_16: null,
        maj_at_16_ci: null,
        bon_at_16: null,
        bon_at_16_ci: null,
        tvd_accuracy: null,
        tvd_accuracy_ci: null,
        beam_accuracy: null,
        beam_accuracy_ci: null,
        step_auc: null,
        step_auc_ci: null,
        lab_processbench_f1: null,
        lab_processbench_f1_ci: null,
        judge_f1: null,
        judge_f1_ci: null,
        consensus_kept_share: null,
        consensus_kept_share_ci: null,
        label_tokens_per_sample: null,
        threshold: null,
        code_pass_at_1: null,
        code_pass_at_1_ci: null,
        comparisons: [],
    };
    const t0 = Date.now();
    let index = 0;
    const stage = async <T>(name: (typeof DEMO_STAGES)[number], what: string, fn: () => Promise<T>): Promise<T> => {
        index++;
        log(`demo [${index}/${DEMO_STAGES.length}] ${name}: ${what}`);
        const start = Date.now();
        const value = await fn();
        report.stages.push({name, seconds: +((Date.now() - start) / 1000).toFixed(1)});
        return value;
    };
    const skipStage = (name: (typeof DEMO_STAGES)[number], why: string) => {
        index++;
        report.skipped[name] = why;
        log(`demo [${index}/${DEMO_STAGES.length}] ${name}: not run (${why})`);
    };
    const progress = (name: string) => (done: number, total: number) => o.onProgress?.(name, done, total);
    const figures: DemoFigures = {};

    const nProblems = report.settings.problems;
    const k = report.settings.k;
    const seed = report.settings.seed;
    const q = report.settings.quantile;
    const problems = await stage("problems", `${nProblems} held-out lab problems`, async () => {
        const problems = generateProblems(nProblems, {seed: 1000 + seed, split: "heldout"});
        const pw = new JsonlWriter(join(out, "problems.jsonl"), {atomic: true});
        for (const p of problems) pw.write(p);
        pw.commit();
        return problems;
    });

    // One engine per model, shared by every stage that uses it (the stage functions do not close what they are given).
    const policySpec = `llama:${policy}`;
    const problemsPath = join(out, "problems.jsonl");
    const engine = await LlamaEngine.load(policy, {sequences: Math.min(16, k), contextSize: 1024});
    let scorer: StepScorer | undefined;
    try {
        // Samples, with every token's confidence (`stepwise sample`), checked by the lab's exact verifier.
        const samplesPath = join(out, "samples.jsonl");
        const greedyPath = join(out, "greedy.jsonl");
        const ev = await stage("sample", `greedy and ${k} samples per problem (T=1), every token with its confidence`, async () => {
            const common = {engine, engineSpec: policySpec, data: problemsPath, maxTokens: LAB_MAX_TOKENS, topLogprobs: 0, seed, concurrency: 2};
            await sampleDataset({...common, out: fresh(greedyPath), n: 1, temperature: 0, onProgress: progress("sample (greedy)")});
            await sampleDataset({...common, out: fresh(samplesPath), n: k, temperature: 1, onProgress: progress("sample")});
            const ev = evaluatePolicyRecords(problems, await readRecordsAll(greedyPath, SampleRecordSchema), await readRecordsAll(samplesPath, SampleRecordSchema), k);
            writeTruth(join(out, "truth.jsonl"), ev);
            return ev;
        });
        figures.policy = ev;
        report.greedy_accuracy = ev.greedy_accuracy;
        report.greedy_accuracy_ci = ev.greedy_accuracy_ci;

        // τ from the confidences (one computation for the whole report).
        const th = await stage("threshold", `τ at the ${(q * 100).toFixed(0)}% quantile of the confidences`, async () => {
            const th = await thresholdFromFile(samplesPath, {quantile: q});
            writeFileAtomic(join(out, "threshold.json"), JSON.stringify(th, null, 2) + "\n");
            // One confidence histogram, with τ: the plot `stepwise threshold` writes.
            await plotThreshold(th, join(out, "threshold"));
            return th;
        });
        figures.threshold = th;
        report.threshold = th.tau;

        // Adaptive vs newline steps and their statistics.
        const stepFiles = {adaptive: join(out, "steps-adaptive.jsonl"), newline: join(out, "steps-newline.jsonl")};
        figures.stats = await stage("split", "adaptive steps (after every token below τ) and newline steps, with statistics", async () => {
            for (const [name, file] of Object.entries(stepFiles)) await splitFile({input: samplesPath, out: fresh(file), strategy: parseStrategy(name, {tau: th.tau})});
            const stats = await computeStats({steps: [stepFiles.adaptive, stepFiles.newline], samples: samplesPath});
            writeFileAtomic(join(out, "stats.json"), JSON.stringify(stats.report, null, 2) + "\n");
            await writeStatsPlots(stats.report, stats.series, out);
            return stats.report;
        });

        // Monte-Carlo labels (all savers) for one sample per problem, both splits, against the exact truth.
        if (skip.has("label")) skipStage("label", "skipped by the caller");
        else {
            const nLabel = report.settings.label_samples;
            const rollouts = report.settings.rollouts;
            figures.labels = await stage("label", `Monte-Carlo labels, ${rollouts} rollouts per step, all savers, ${nLabel} samples per split`, async () => {
                const cost: Record<string, LabelSummary> = {};
                for (const [name, file] of Object.entries(stepFiles)) {
                    // `stepwise label` on the first sample of each of the first nLabel problems.
                    const input = join(out, `label-input-${name}.jsonl`);
                    await selectRecords(file, input, (r) => r.sample_index === 0, nLabel);
                    cost[name] = await labelFile({
                        engine,
                        engineSpec: policySpec,
                        verifier: "lab",
                        truth: labTruth,
                        k: rollouts,
                        earlyStop: true,
                        chunk: 1,
                        search: "hybrid",
                        maxTokens: LAB_MAX_TOKENS,
                        seed,
                        input,
                        out: fresh(join(out, `labels-${name}.jsonl`)),
                        onProgress: progress(`label (${name} steps)`),
                    });
                }
                return cost;
            });
            report.label_tokens_per_sample = Object.fromEntries(Object.entries(figures.labels).map(([name, c]) => [name, +c.generated_tokens_per_sample.toFixed(1)]));
        }

        // The PRM: the shipped one, or one trained here on the adaptive labels; its quality against the truth.
        let prmPath = o.prm ?? defaultPrmPath();
        if (skip.has("prm")) skipStage("prm", "skipped by the caller");
        else if (!o.trainPrmMinutes && !existsSync(prmPath)) skipStage("prm", `no PRM at ${prmPath}`);
        else {
            figures.prm = await stage("prm", o.trainPrmMinutes ? `train a PRM for ${o.trainPrmMinutes} min on the adaptive labels, then score every sample` : `score every sample with ${prmPath.split("/").pop()}: step AUC, lab-ProcessBench, Best-of-${k}`, async () => {
                if (o.trainPrmMinutes) {
                    if (!figures.labels) throw new StepwiseError("demo: --train-prm needs the label stage");
                    prmPath = join(out, "demo-prm.gguf");
                    await trainPrm({data: [join(out, "labels-adaptive.jsonl")], out: prmPath, init: policy, minutes: o.trainPrmMinutes, quiet: true});
                }
                const prmSpec = `llama:${prmPath}`;
                // The policy is named so that an implicit reading whose reference is this policy (the shipped pair) takes πref from the policy's own probabilities in TVD.
                scorer = await createScorer(prmSpec, {policySpec: `llama:${policy}`});
                // `stepwise score` of the adaptive steps, then the lab evaluation against the exact truth.
                await scoreFile({scorer, prmSpec, input: stepFiles.adaptive, out: fresh(join(out, "scored-adaptive.jsonl")), onProgress: progress("score")});
                const samples = await readRecordsAll(samplesPath, SampleRecordSchema);
                const prmEval = await reportLabPrm({samples, prm: prmSpec, scorer, tau: th.tau, greedyAccuracy: ev.greedy_accuracy, seed, out, onProgress: progress("prm scoring")});
                return {path: prmPath, eval: prmEval};
            });
            const bon = figures.prm.eval.bon;
            const at = (id: string) => bon.methods.find((m) => m.id === id)?.points.find((p) => p.n === 16);
            const maj = at("maj");
            report.maj_at_16 = maj === undefined ? null : maj.accuracy / 100;
            report.maj_at_16_ci = maj?.accuracy_ci ? bonFraction(maj.accuracy_ci) : null;
            const aggs = ["min", "max", "mean", "product", "last"];
            report.bon_at_16 = maj === undefined ? null : Object.fromEntries(aggs.map((a) => [a, (at(`bon-${a}`)?.accuracy ?? NaN) / 100]));
            report.bon_at_16_ci = maj === undefined ? null : Object.fromEntries(aggs.flatMap((a) => {
                const iv = at(`bon-${a}`)?.accuracy_ci;
                return iv ? [[a, bonFraction(iv)]] : [];
            }));
            if (maj === undefined) report.skipped.bon_at_16 = `Best-of-N is reported at N = ${k} (run with --k 16 for maj@16 and BoN@16)`;
            report.comparisons.push(...bonComparisons(bon));
            const e = figures.prm.eval;
            report.step_auc = Number.isFinite(e.step_auc) ? e.step_auc : null;
            report.step_auc_ci = e.step_auc_ci;
            report.lab_processbench_f1 = e.processbench.at_half.f1;
            report.lab_processbench_f1_ci = e.processbench.at_half.f1_ci;
        }

        // Decoding with the PRM on the first problems: greedy, TVD, Best-of-N, beam search.
        const nDecode = Math.min(report.settings.decode_problems, nProblems);
        if (skip.has("decode") || nDecode === 0) skipStage("decode", "skipped by the caller");
        else if (!figures.prm) skipStage("decode", "needs the PRM stage");
        else {
            const prmScorer = scorer!;
            const tokenValues = scoresContinuations(prmScorer);
            const tvdTau = tokenValues ? 0.55 : 0.3;
            figures.decode = await stage("decode", `greedy, TVD, Best-of-${report.settings.decode_n} and beam search on ${nDecode} problems with the PRM`, async () => {
                const prm = new SearchPrm(prmScorer);
                const runs: Array<{strategy: StrategyName; config: Record<string, unknown>}> = [
                    {strategy: "greedy", config: {}},
                    // A PRM with token values (the shipped pair, an implicit PRM): TVD at the released settings (τ 0.55,
                    // k 8), where the shipped pair was measured (docs/decoding.md). A tag PRM alone (a --prm of the user's,
                    // --train-prm) barely separates candidate tokens and derails TVD at 0.55 (−41 points on 200 problems):
                    // τ 0.30, its best measured setting.
                    {strategy: "tvd", config: {tau: tvdTau}},
                    {strategy: "best-of-n", config: {n: report.settings.decode_n, temperature: 1}},
                    {strategy: "beam", config: {n: report.settings.decode_n, beamWidth: 2, temperature: 1, tau: th.tau}},
                ];
                const summaries: Record<string, DecodeSummary> = {};
                const records: Record<string, DecodeRecord[]> = {};
                for (const r of runs) {
                    const file = fresh(join(out, `decode-${r.strategy}.jsonl`));
                    summaries[r.strategy] = await decodeFile({
                        strategy: r.strategy,
                        policy: engine,
                        prm,
                        config: {maxTokens: LAB_MAX_TOKENS, seed, ...r.config},
                        data: problemsPath,
                        out: file,
                        limit: nDecode,
                        concurrency: 1,
                        onProgress: progress(`decode ${r.strategy}`),
                    });
                    records[r.strategy] = await readRecordsAll(file, DecodeRecordSchema);
                }
                const tvdVsGreedy = pairedDifference(records.greedy, records.tvd, ["greedy", "TVD"]);
                return {summaries, records, tvdVsGreedy, tvdTau, tokenValues};
            });
            report.tvd_accuracy = figures.decode.summaries.tvd.accuracy;
            report.tvd_accuracy_ci = figures.decode.summaries.tvd.accuracy_ci;
            report.beam_accuracy = figures.decode.summaries.beam.accuracy;
            report.beam_accuracy_ci = figures.decode.summaries.beam.accuracy_ci;
            report.comparisons.unshift(decodeComparison(figures.decode.tvdVsGreedy, "greedy", "TVD"));
        }
        // LLM-as-a-judge with the lab judge, and consensus filtering of the MC labels (Qwen).
        const judgePath = o.judge ?? defaultJudgePath();
        if (skip.has("judge")) skipStage("judge", "skipped by the caller");
        else if (!existsSync(judgePath)) skipStage("judge", `no lab judge at ${judgePath} (make one with scripts/make-lab-judge.sh)`);
        else {
            const nJudge = o.judgeSamples ?? 160;
            const perProblem = Math.max(1, Math.ceil(nJudge / nProblems));
            const {judgeFile, resolveJudgeSettings} = await import("../../judge/index.ts");
            const spec = `llama:${judgePath}`;
            // The template and its protocol come from the GGUF, as `stepwise judge` picks them; --judge-n overrides n (T 1 when it votes).
            const settings = resolveJudgeSettings(spec, {n: o.judgeN, temperature: o.judgeN === undefined ? undefined : o.judgeN > 1 ? 1 : 0});
            const what = settings.template === "verify" ? `checks each step of ${nJudge} solutions and names the first wrong one` : `names the first wrong step of ${nJudge} solutions`;
            figures.judge = await stage("judge", `the lab judge (${basename(judgePath)}) ${what}; consensus filtering of the MC labels`, async () => {
                const {createEngine} = await import("../../engines/spec.ts");
                const {consensusFilter} = await import("../../filter/index.ts");
                const {processIntervals, processMetrics} = await import("../../eval/processbench/metrics.ts");
                // `stepwise judge` on the first samples of each problem (and the labelled ones, for consensus filtering).
                const input = join(out, "judge-input.jsonl");
                const rows = await selectRecords(stepFiles.adaptive, input, (r) => r.sample_index < perProblem || (figures.labels !== undefined && r.sample_index === 0), Math.max(nJudge, nProblems));
                const verdictsPath = join(out, "verdicts.jsonl");
                // The compact judge's answers are short (80 tokens); a verifier writes a check per step (its protocol's budget, bounded by its context).
                const maxTokens = settings.template === "compact" ? 80 : settings.maxTokens;
                const judge = await createEngine(spec);
                let summary;
                try {
                    summary = await judgeFile({engine: judge, engineSpec: spec, template: settings.template, n: settings.n, temperature: settings.temperature, maxTokens, seed, input, out: fresh(verdictsPath), skipTooLong: true, onProgress: progress("judge")});
                } finally {
                    await judge.close();
                }
                if (summary.tooLong.length) log(`judge: ${plural(summary.tooLong.length, "solution")} left out, longer than the judge's context (first: ${summary.tooLong[0].where})`);
                const verdicts = new Map((await readRecordsAll(verdictsPath, VerdictRecordSchema)).map((v) => [v.id, v.first_error]));
                // lab-ProcessBench for the judge on the solutions it read (as `eval processbench --skip-too-long`): its first wrong step vs the exact one; no verdict counts as a wrong prediction.
                const read = rows.filter((r) => verdicts.has(r.id));
                if (read.length + summary.tooLong.length !== rows.length) throw new StepwiseError(`${verdictsPath}: ${verdicts.size} verdicts and ${summary.tooLong.length} left out for ${rows.length} solutions in ${input}`);
                const truth = read.map((r) => labTruth(r).first_error);
                const predictions = read.map((r) => verdicts.get(r.id) ?? -2);
                const metrics = processMetrics(truth, predictions);
                const iv = processIntervals(truth, predictions);
                const j = (x: typeof iv.f1) => (x ? intervalJson(x) : null);
                const consensus = figures.labels ? await consensusFilter({labels: [join(out, "labels-adaptive.jsonl")], verdicts: [verdictsPath], out: join(out, "consensus-adaptive.jsonl")}) : undefined;
                // The PRM on the same solutions (its first step below 0.5), paired with the judge.
                const prmScores = new Map((figures.prm?.eval.sample_scores ?? []).map((s) => [s.id, s.step_scores]));
                const paired = read.flatMap((r, i) => {
                    const sc = prmScores.get(r.id);
                    return sc ? [{truth: truth[i], prm: firstBelow(sc, 0.5), judge: predictions[i]}] : [];
                });
                const vsPrm = paired.length ? firstErrorPairing(paired.map((p) => p.truth), paired.map((p) => p.prm), paired.map((p) => p.judge)) : undefined;
                return {
                    path: judgePath,
                    template: settings.template,
                    n: settings.n,
                    solutions: verdicts.size,
                    too_long: summary.tooLong.length,
                    generated_tokens_per_solution: summary.written ? summary.generated_tokens / summary.written : 0,
                    metrics,
                    intervals: {acc_error: j(iv.accError), acc_correct: j(iv.accCorrect), f1: j(iv.f1)},
                    no_verdict: [...verdicts.values()].filter((v) => v === null).length,
                    consensus,
                    vsPrm,
                };
            });
            report.judge_f1 = figures.judge.metrics.f1;
            report.judge_f1_ci = figures.judge.intervals.f1;
            if (figures.judge.vsPrm) report.comparisons.push(figures.judge.vsPrm.comparison);
            const consensus = figures.judge.consensus;
            if (consensus) {
                report.consensus_kept_share = consensus.kept_share;
                report.consensus_kept_share_ci = consensus.total ? intervalJson(wilsonInterval(consensus.kept, consensus.total)) : null;
            } else report.skipped.consensus = "needs the label stage";
        }

        // The code lab: a tiny code policy's programs run against their unit tests in the sandbox.
        const codePolicy = o.codePolicy ?? defaultCodePolicyPath();
        if (skip.has("code")) skipStage("code", "skipped by the caller");
        else if (!existsSync(codePolicy)) skipStage("code", `no code-lab policy at ${codePolicy}`);
        else {
            const nTasks = o.codeTasks ?? 20;
            const code = await stage("code", `the code-lab policy writes programs for ${nTasks} held-out tasks; each runs against its unit tests in the sandbox`, async () => {
                const {detectSandbox, evaluateCodePolicy} = await import("../code/index.ts");
                const sandbox = detectSandbox();
                if (sandbox.kind === "none") return {skipped: `no sandbox for untrusted code: ${sandbox.reason ?? "bubblewrap missing"}`};
                const engine = await LlamaEngine.load(codePolicy, {sequences: 4, contextSize: 1024});
                try {
                    return {eval: await evaluateCodePolicy({engine, n: nTasks, k: 4, seed, onProgress: progress("code")})};
                } finally {
                    await engine.close();
                }
            });
            if ("skipped" in code) report.skipped.code = code.skipped!;
            else {
                figures.code = code.eval;
                report.code_pass_at_1 = code.eval.pass_at_k["1"] ?? code.eval.sample_pass_rate;
                report.code_pass_at_1_ci = code.eval.pass_at_k_ci["1"] ?? code.eval.sample_pass_rate_ci;
            }
        }

        await stage("report", "report.md, report.html, report.json, the static viewer", async () => {
            report.seconds = +((Date.now() - t0) / 1000).toFixed(1);
            await writeDemoReports(out, report, figures);
            if (o.viewer !== false) {
                const files = ["samples.jsonl", "truth.jsonl", "steps-adaptive.jsonl", "steps-newline.jsonl", "labels-adaptive.jsonl", "labels-newline.jsonl", "scored-adaptive.jsonl", "verdicts.jsonl", ...Object.keys(figures.decode?.summaries ?? {}).map((s) => `decode-${s}.jsonl`)]
                    .map((f) => join(out, f))
                    .filter((f) => existsSync(f));
                const store = await ViewStore.open(files);
                exportViewer(store, join(out, "viewer"), {tau: th.tau});
            }
        });
        report.seconds = +((Date.now() - t0) / 1000).toFixed(1);
        writeFileAtomic(join(out, "report.json"), JSON.stringify(report, null, 2) + "\n");
        log(`demo: done in ${report.seconds} s; report in ${out}`);
        return {out, report};
    } finally {
        await scorer?.close();
        await engine.close();
    }
}

/** `file`, removed first with its stage settings: the demo rewrites its folder, and a stage would resume an old file. */
function fresh(file: string): string {
    rmSync(file, {force: true});
    rmSync(settingsPath(file), {force: true});
    return file;
}

/**
 * The steps records of `input` that `keep` accepts, at most `limit` of them, in file order,
 * copied unchanged into `out` (the input of a stage that reads a whole file). Returns them.
 */
async function selectRecords(input: string, out: string, keep: (r: StepsRecord) => boolean, limit: number): Promise<StepsRecord[]> {
    const kept: StepsRecord[] = [];
    for await (const {record} of readRecords(input, StepsRecordSchema)) {
        if (kept.length >= limit) break;
        if (keep(record)) kept.push(record);
    }
    const w = new JsonlWriter(out, {atomic: true});
    for (const r of kept) w.write(r);
    w.commit();
    return kept;
}

/** The lab's exact verdict of every sample (`correct`, `first_error_step`, from the policy evaluation), joined to the samples by id in the viewer. */
function writeTruth(path: string, ev: PolicyEval): void {
    const w = new JsonlWriter(path, {atomic: true});
    for (const r of ev.results)
        r.samples.forEach((s, i) => w.write({id: sampleId(r.problem.id, s.index), question_id: r.problem.id, sample_index: s.index, correct: r.sampleCorrect[i], first_error_step: r.sampleFirstError[i]}));
    w.commit();
}

export type {ThresholdSummary, StatsReport};
