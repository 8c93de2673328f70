/**
 * The lab evaluations as the CLI runs them (`stepwise lab eval-policy`, `stepwise lab eval-prm`)
 * and as the demo reuses them: each loads the models, runs the measurement and writes its files.
 */
import {createHash} from "node:crypto";
import {existsSync, mkdirSync, readFileSync} from "node:fs";
import {writeFileAtomic} from "../../../io/atomic.ts";
import {basename, join, resolve} from "node:path";
import {StepwiseError} from "../../../util/errors.ts";
import {checkModelKind} from "../../../engines/spec.ts";
import type {SampleRecord} from "../../../core/records.ts";
import {computeThreshold} from "../../../pipeline/threshold.ts";
import {createScorer, type StepScorer} from "../../../prm/index.ts";
import {engineFingerprint, resolveLazy} from "../../../core/stage.ts";
import {readRecordsAll, SampleRecordSchema} from "../../../core/schemas.ts";
import {sampleDataset} from "../../../pipeline/sample.ts";
import {writeBonReport} from "../../../eval/bon/report.ts";
import {writeAnalyzeReport} from "../../../eval/analyze/report.ts";
import {generateProblems, type LabProblem} from "../../../domains/lab/index.ts";
import {labCandidates} from "./candidates.ts";
import {comparePolicies, evaluatePolicyRecords, LAB_MAX_TOKENS, type PolicyEval, type PolicyPairing} from "./policy.ts";
import {evaluateLabPrm, type LabPrmEval} from "./prm.ts";

/** The shipped lab policy (models/lab-policy.gguf of this package). */
export function defaultPolicyPath(): string {
    return resolve(new URL("../../../../models/lab-policy.gguf", import.meta.url).pathname);
}

/** The shipped lab PRM (models/lab-prm.gguf of this package). */
export function defaultPrmPath(): string {
    return resolve(new URL("../../../../models/lab-prm.gguf", import.meta.url).pathname);
}

async function loadPolicy(path: string, sequences: number, contextSize: number) {
    const {LlamaEngine} = await import("../../../engines/llama/engine.ts");
    return LlamaEngine.load(path, {sequences, contextSize});
}

export interface EvalLabPolicyOptions {
    /** Policy GGUF (A). Default {@link defaultPolicyPath}. */
    policy?: string;
    /** Baseline GGUF (B): decoded on the same problems with the same settings and paired with A (A − B). */
    baseline?: string;
    /** Held-out problems. Default 500. */
    n?: number;
    /** Samples per problem at temperature 1 (pass@k, maj@k; 0: greedy only). Default 16. */
    samples?: number;
    /** Problem and sampling seed: the problems are the held-out stream of seed 2000 + seed. Default 0. */
    seed?: number;
    /** Lab preset of the problems. Default "policy". */
    preset?: string;
    /** Most tokens per solution. Default {@link LAB_MAX_TOKENS} (200). */
    maxTokens?: number;
    /**
     * Write summary.json (what `--json` prints) and the confidence histograms (SVG and PNG) here,
     * and keep the decoded outputs under `<out>/decoded/`. Default: nothing written but the
     * decoded outputs, under `.stepwise-cache/eval-policy/`.
     */
    out?: string;
    /** Progress per stage: `greedy (A.gguf)`, `samples (A.gguf)`, then the baseline's. */
    onProgress?: (stage: string, done: number, total: number) => void;
}

/** One policy's measurement: its GGUF, the cache folder of its decoded outputs, and the figures. */
export interface MeasuredPolicy {
    model: string;
    /** Folder of problems.jsonl, greedy.jsonl and samples.jsonl (SampleRecords; resumable). */
    decoded: string;
    eval: PolicyEval;
}

/** What {@link evalLabPolicy} returns: the policy, the baseline when given, and the paired differences A − B. */
export interface LabPolicyComparison {
    policy: MeasuredPolicy;
    baseline?: MeasuredPolicy;
    paired?: PolicyPairing;
}

/**
 * The folder of a policy's decoded outputs under `root`: `<model name>-<16 hex>`, the hex from the
 * model's path and SHA-256 (a retrained file at the same path gets a new folder) and every setting
 * that changes the outputs except the counts (more problems or samples extend the same files:
 * problems are a prefix of one stream and sample i depends only on the seed and i).
 * @throws StepwiseError when the model file is missing or no GGUF (engineFingerprint's message).
 */
export function decodedFolder(root: string, model: string, o: {seed: number; preset: string; maxTokens: number}): string {
    const fp = engineFingerprint(`llama:${model}`) as {sha256?: string};
    const key = createHash("sha256").update(JSON.stringify({model: resolve(model), sha256: fp.sha256, seed: o.seed, preset: o.preset, max_tokens: o.maxTokens})).digest("hex").slice(0, 16);
    return join(root, `${basename(model).replace(/\.gguf$/i, "")}-${key}`);
}

/**
 * Decode `problems` with one policy (greedy and `samples` samples at T=1 per problem, through
 * `stepwise sample`'s resumable stage into `dir`) and evaluate the records.
 */
async function measurePolicy(model: string, dir: string, problems: LabProblem[], o: {samples: number; seed: number; maxTokens: number; onProgress?: EvalLabPolicyOptions["onProgress"]}): Promise<PolicyEval> {
    mkdirSync(dir, {recursive: true});
    const data = join(dir, "problems.jsonl");
    const text = problems.map((p) => JSON.stringify(p)).join("\n") + "\n";
    if (!existsSync(data) || readFileSync(data, "utf8") !== text) writeFileAtomic(data, text);
    const name = basename(model);
    const engine = await loadPolicy(model, Math.max(2, Math.min(16, o.samples)), 512);
    const paths = {greedy: join(dir, "greedy.jsonl"), samples: join(dir, "samples.jsonl")};
    try {
        const common = {engine, engineSpec: `llama:${model}`, data, maxTokens: o.maxTokens, topLogprobs: 0, seed: o.seed, concurrency: 2};
        await sampleDataset({...common, out: paths.greedy, n: 1, temperature: 0, onProgress: (d, t) => o.onProgress?.(`greedy (${name})`, d, t)});
        if (o.samples > 0) await sampleDataset({...common, out: paths.samples, n: o.samples, temperature: 1, onProgress: (d, t) => o.onProgress?.(`samples (${name})`, d, t)});
    } finally {
        await engine.close();
    }
    // The files may hold more problems or samples (an earlier, larger run): keep what this run asks.
    const ids = new Set(problems.map((p) => p.id));
    const greedy = (await readRecordsAll(paths.greedy, SampleRecordSchema)).filter((r) => ids.has(r.question_id) && r.sample_index === 0);
    const samples = o.samples > 0 ? (await readRecordsAll(paths.samples, SampleRecordSchema)).filter((r) => ids.has(r.question_id) && r.sample_index < o.samples) : [];
    return evaluatePolicyRecords(problems, greedy, samples, o.samples);
}

/**
 * `stepwise lab eval-policy`: a lab policy (and optionally a baseline) on held-out problems —
 * greedy accuracy, pass@k and maj@k over `samples` samples at T=1, accuracy by operations, the
 * confidence spread, and the share of right answers reached through a wrong step (exact lab truth),
 * each rate with its 95% Wilson interval ({@link evaluatePolicyRecords}); with a baseline, the
 * paired differences A − B of greedy accuracy, maj@k and pass@k ({@link comparePolicies}).
 * Resumable: each policy's decoded outputs are SampleRecords in its {@link decodedFolder}, so a
 * killed run continues where it stopped and a baseline decoded once serves every comparison.
 * Errors (StepwiseError): a missing or non-GGUF model file, a decoded file held by another run.
 */
export async function evalLabPolicy(o: EvalLabPolicyOptions = {}): Promise<LabPolicyComparison> {
    const settings = {seed: o.seed ?? 0, preset: o.preset ?? "policy", maxTokens: o.maxTokens ?? LAB_MAX_TOKENS};
    const samples = o.samples ?? 16;
    const root = o.out ? join(o.out, "decoded") : join(".stepwise-cache", "eval-policy");
    const models = [o.policy ?? defaultPolicyPath(), ...(o.baseline !== undefined ? [o.baseline] : [])];
    // A stepwise GGUF of another kind (a PRM, a judge) would decode garbage and report 0 %: refused, naming it.
    for (const m of models) if (existsSync(m)) checkModelKind(m, "policy");
    // Both files checked (and hashed) before any decoding, so a bad baseline path fails at once.
    const dirs = models.map((m) => decodedFolder(root, m, settings));
    const problems = generateProblems(o.n ?? 500, {seed: 2000 + settings.seed, split: "heldout", preset: settings.preset});
    const measured: MeasuredPolicy[] = [];
    for (let i = 0; i < models.length; i++)
        measured.push({model: models[i], decoded: dirs[i], eval: await measurePolicy(models[i], dirs[i], problems, {...settings, samples, onProgress: o.onProgress})});
    const [policy, baseline] = measured;
    const names = {a: basename(policy.model), b: baseline ? basename(baseline.model) : "B"};
    if (baseline && names.a === names.b) Object.assign(names, {a: policy.model, b: baseline.model});
    const result: LabPolicyComparison = {policy, ...(baseline ? {baseline, paired: comparePolicies(policy.eval, baseline.eval, names)} : {})};
    if (o.out) {
        const {renderChart, histogramSpec} = await import("../../../report/plot.ts");
        mkdirSync(o.out, {recursive: true});
        writeFileAtomic(join(o.out, "summary.json"), JSON.stringify(comparisonJson(result), null, 2) + "\n");
        for (const [m, file] of [[policy, "confidence-histogram"], ...(baseline ? [[baseline, "baseline-confidence-histogram"]] : [])] as Array<[MeasuredPolicy, string]>)
            await renderChart(
                histogramSpec(m.eval.confidence.histogram, {title: `Token confidences of ${basename(m.model)} (${m.eval.confidence.tokens} tokens, T=1 samples)`, xTitle: "confidence p(token | prefix)", logY: true}),
                join(o.out, file),
            );
    }
    return result;
}

/** A measured policy for JSON: `{model, decoded, ...figures}` (the per-problem results left out). */
function measuredJson(m: MeasuredPolicy): Record<string, unknown> {
    const {results, ...figures} = m.eval;
    void results;
    return {model: m.model, decoded: m.decoded, ...figures};
}

/** What `lab eval-policy --json` prints and summary.json holds: `{policy, baseline?, paired?}`. */
export function comparisonJson(c: LabPolicyComparison): Record<string, unknown> {
    return {policy: measuredJson(c.policy), ...(c.baseline ? {baseline: measuredJson(c.baseline)} : {}), ...(c.paired ? {paired: c.paired} : {})};
}

export interface PolicyEvalRunOptions {
    /** Policy GGUF. Default {@link defaultPolicyPath}. */
    model?: string;
    /** Held-out problems. Default 500. */
    n?: number;
    /** Samples per problem at temperature 1 (pass@k). Default 16. */
    k?: number;
    /** Problem and sampling seed. Default 0. */
    seed?: number;
    /** Lab preset of the problems. Default "policy". */
    preset?: string;
    /** Write summary.json and the confidence histogram (SVG and PNG) here. */
    out?: string;
    onProgress?: (done: number, total: number) => void;
}

/** One policy through {@link evalLabPolicy} (kept for callers of the single-policy form). */
export async function runPolicyEval(o: PolicyEvalRunOptions = {}): Promise<{model: string; eval: PolicyEval}> {
    const r = await evalLabPolicy({policy: o.model, n: o.n, samples: o.k, seed: o.seed, preset: o.preset, out: o.out, onProgress: o.onProgress && ((_stage, d, t) => o.onProgress!(d, t))});
    return {model: r.policy.model, eval: r.policy.eval};
}

export interface LabPrmReportOptions {
    /** Policy samples of lab problems (SampleRecords with question and gold). */
    samples: SampleRecord[];
    /** PRM spec (createScorer), e.g. `llama:models/lab-prm.gguf`; named in the analysis report. */
    prm: string;
    /** The PRM already loaded (e.g. shared with other stages): used, not closed. Default: loaded from `prm`, closed at the end. */
    scorer?: StepScorer;
    /** τ of the adaptive split. */
    tau: number;
    /** Where scores are read: adaptive steps (default) or line breaks. */
    scheme?: "adaptive" | "newline";
    greedyAccuracy?: number;
    seed?: number;
    /** Writes bon/ (Best-of-N report) and analyze/ (the Qwen analyses) here. */
    out: string;
    onProgress?: (done: number, total: number) => void;
}

/** Best-of-N methods at the largest N (accuracy and accuracy_ci, percent), and the PRM methods paired against maj@N there, for summaries. */
export function bonAtMaxN(ev: LabPrmEval): Record<string, unknown> {
    const top = Math.max(...ev.bon.sizes);
    return {n: top, ...Object.fromEntries(ev.bon.methods.map((m) => [m.id, m.points.find((p) => p.n === top)])), paired: (ev.bon.paired ?? []).filter((p) => p.size === top)};
}

/**
 * Score lab samples with a PRM against the exact step truth ({@link evaluateLabPrm}) and write
 * the Best-of-N and analysis reports under `out`. Shared by `lab eval-prm` and the demo.
 */
export async function reportLabPrm(o: LabPrmReportOptions): Promise<LabPrmEval> {
    const {value: scorer, created} = await resolveLazy<StepScorer>(o.scorer ?? (() => createScorer(o.prm, {stepsOnly: true})));
    let ev: LabPrmEval;
    try {
        ev = await evaluateLabPrm({samples: o.samples, scorer, tau: o.tau, scheme: o.scheme, greedyAccuracy: o.greedyAccuracy, seed: o.seed ?? 0, onProgress: o.onProgress});
    } finally {
        if (created) await scorer.close();
    }
    await writeBonReport(ev.bon, join(o.out, "bon"));
    await writeAnalyzeReport(ev.analyses, join(o.out, "analyze"), {prm: o.prm});
    return ev;
}

export interface PrmEvalRunOptions {
    /** PRM spec (createScorer), e.g. `llama:models/lab-prm.gguf`. */
    prm: string;
    /** Policy GGUF that writes the candidates. Default {@link defaultPolicyPath}. */
    policy?: string;
    /** Held-out problems. Default 200. */
    problems?: number;
    /** Candidates per problem. Default 16. */
    k?: number;
    /** Sampling temperature of the candidates. Default 1. */
    temperature?: number;
    /** Where scores are read. Default adaptive. */
    positions?: "adaptive" | "newline";
    seed?: number;
    /** Report folder; candidates.jsonl there is reused by later runs with the same settings. */
    out: string;
    /** Progress per stage ("candidates", "scoring"). */
    onProgress?: (stage: string, done: number, total: number) => void;
}

/**
 * `stepwise lab eval-prm`: candidates from the policy on held-out problems (cached in `out`), τ at
 * the 2% quantile of their confidences, then {@link reportLabPrm}; writes summary.json and
 * scores.jsonl (`{id, question_id, correct, step_scores}` per candidate, in candidate order).
 * Errors: StepwiseError for a bad `positions`.
 */
export async function runPrmEval(o: PrmEvalRunOptions): Promise<{summary: Record<string, unknown>; eval: LabPrmEval}> {
    const positions = o.positions ?? "adaptive";
    if (positions !== "adaptive" && positions !== "newline") throw new StepwiseError(`--positions: expected adaptive or newline, got "${positions}"`);
    const k = o.k ?? 16;
    const seed = o.seed ?? 0;
    const temperature = o.temperature ?? 1;
    mkdirSync(o.out, {recursive: true});
    const policy = o.policy ?? defaultPolicyPath();
    const engine = await loadPolicy(policy, Math.min(16, k), 1024);
    let cands;
    try {
        cands = await labCandidates({engine, engineSpec: `llama:${policy}`, dir: o.out, problems: o.problems ?? 200, k, seed, temperature, onProgress: (d, t) => o.onProgress?.("candidates", d, t)});
    } finally {
        await engine.close();
    }
    const tau = computeThreshold(cands.samples, {quantile: 0.02}).tau;
    const ev = await reportLabPrm({samples: cands.samples, prm: o.prm, tau, scheme: positions, greedyAccuracy: cands.greedyAccuracy, seed, out: o.out, onProgress: (d, t) => o.onProgress?.("scoring", d, t)});
    const summary = {prm: o.prm, policy, temperature, positions: ev.scheme, tau, samples: ev.samples, questions: ev.questions, k: ev.candidates_per_question, step_auc: ev.step_auc, step_auc_ci: ev.step_auc_ci, steps: ev.steps, greedy_accuracy: ev.greedy_accuracy, processbench: ev.processbench, bon_at_max_n: bonAtMaxN(ev)};
    writeFileAtomic(join(o.out, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
    // Per-candidate scores, so PRMs evaluated on the same candidates can be compared question by
    // question (paired), e.g. by scripts/qwen-experiment-table.mjs.
    writeFileAtomic(join(o.out, "scores.jsonl"), ev.sample_scores.map((x) => JSON.stringify(x)).join("\n") + "\n");
    return {summary, eval: ev};
}
