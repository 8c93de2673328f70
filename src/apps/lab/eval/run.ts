/**
 * The lab evaluations as the CLI runs them (`stepwise lab eval-policy`, `stepwise lab eval-prm`)
 * and as the demo reuses them: each loads the models, runs the measurement and writes its files.
 */
import {mkdirSync} from "node:fs";
import {writeFileAtomic} from "../../../io/atomic.ts";
import {join, resolve} from "node:path";
import {StepwiseError} from "../../../util/errors.ts";
import type {SampleRecord} from "../../../core/records.ts";
import {computeThreshold} from "../../../pipeline/threshold.ts";
import {createScorer, type StepScorer} from "../../../prm/index.ts";
import {resolveLazy} from "../../../core/stage.ts";
import {writeBonReport} from "../../../eval/bon/report.ts";
import {writeAnalyzeReport} from "../../../eval/analyze/report.ts";
import {generateProblems} from "../../../domains/lab/index.ts";
import {labCandidates} from "./candidates.ts";
import {evaluatePolicy, type PolicyEval} from "./policy.ts";
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

/**
 * `stepwise lab eval-policy`: greedy accuracy, pass@k at T=1, accuracy by operations and the
 * confidence spread of a lab policy on held-out problems ({@link evaluatePolicy}).
 */
export async function runPolicyEval(o: PolicyEvalRunOptions = {}): Promise<{model: string; eval: PolicyEval}> {
    const model = o.model ?? defaultPolicyPath();
    const k = o.k ?? 16;
    const seed = o.seed ?? 0;
    const problems = generateProblems(o.n ?? 500, {seed: 2000 + seed, split: "heldout", preset: o.preset ?? "policy"});
    const engine = await loadPolicy(model, Math.max(1, Math.min(16, k)), 512);
    let ev: PolicyEval;
    try {
        ev = await evaluatePolicy({engine, problems, k, seed, onProgress: o.onProgress});
    } finally {
        await engine.close();
    }
    if (o.out) {
        const {renderChart, histogramSpec} = await import("../../../report/plot.ts");
        const {results, ...figures} = ev;
        void results;
        mkdirSync(o.out, {recursive: true});
        writeFileAtomic(join(o.out, "summary.json"), JSON.stringify({model, ...figures}, null, 2) + "\n");
        await renderChart(
            histogramSpec(ev.confidence.histogram, {title: `Token confidences of ${model.split("/").pop()} (${ev.confidence.tokens} tokens, T=1 samples)`, xTitle: "confidence p(token | prefix)", logY: true}),
            join(o.out, "confidence-histogram"),
        );
    }
    return {model, eval: ev};
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
    const {value: scorer, created} = await resolveLazy<StepScorer>(o.scorer ?? (() => createScorer(o.prm)));
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
