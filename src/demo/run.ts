/**
 * `stepwise demo`: the whole lab pipeline on a laptop CPU in a few minutes, with the shipped
 * lab policy: generate held-out problems, sample solutions with per-token confidences, check
 * them with the exact verifiers, and write a report (Markdown + HTML + JSON + plots).
 */
import {mkdirSync, writeFileSync, existsSync, rmSync} from "node:fs";
import {join, resolve} from "node:path";
import {LlamaEngine} from "../engines/llama/engine.ts";
import {StepwiseError} from "../engines/types.ts";
import {generateProblems} from "../lab/domain/index.ts";
import {evaluatePolicy, labPrompt, LAB_MAX_TOKENS, type PolicyEval} from "../lab/eval/policy.ts";
import {JsonlWriter} from "../io/jsonl.ts";
import {renderChart, histogramSpec} from "../report/plot.ts";
import {escapeHtml, htmlPage, tokensHtml} from "../report/html.ts";
import {sampleId, type SampleRecord, type StepsRecord} from "../pipeline/records.ts";
import {plotThreshold, thresholdFromFile} from "../pipeline/threshold.ts";
import {parseStrategy, splitFile} from "../pipeline/split/index.ts";
import {computeStats, statsMarkdown} from "../pipeline/stats/index.ts";
import {writeStatsPlots} from "../pipeline/stats/plots.ts";
import {labelSample, summarizeLabels, type LabelledRecord, type LabelSummary} from "../pipeline/label/index.ts";
import {labTruth, labVerifier} from "../lab/verifier.ts";
import {readJsonlAll} from "../io/jsonl.ts";
import {trainPrm} from "../prm/train.ts";
import type {LabPrmEval} from "../lab/eval/prm.ts";
import {bonAtMaxN, defaultPolicyPath, defaultPrmPath, reportLabPrm} from "../lab/eval/run.ts";
import {bonMarkdown} from "../eval/bon/report.ts";

export interface DemoOptions {
    /** Output folder. Default `stepwise-out/demo-<timestamp>`. */
    out?: string;
    /** Policy GGUF. Default models/lab-policy.gguf of this package. */
    policy?: string;
    /** Held-out problems. Default 40. */
    problems?: number;
    /** Samples per problem. Default 8. */
    k?: number;
    seed?: number;
    /** Quantile for the decision-token threshold τ. Default 0.02. */
    quantile?: number;
    /** Samples labelled by Monte-Carlo rollouts (one per problem, at most this many). Default 40. */
    labelSamples?: number;
    /** Rollouts per step when labelling. Default 4. */
    rollouts?: number;
    /** PRM GGUF to evaluate. Default models/lab-prm.gguf (skipped when absent and trainPrmMinutes is not set). */
    prm?: string;
    /** Train a PRM from the demo's own labels for this many minutes instead of using the shipped one. */
    trainPrmMinutes?: number;
    onProgress?: (stage: string, done: number, total: number) => void;
    log?: (line: string) => void;
}

export interface DemoResult {
    out: string;
    summary: Record<string, unknown>;
}

export {defaultPolicyPath, defaultPrmPath} from "../lab/eval/run.ts";

export async function runDemo(o: DemoOptions = {}): Promise<DemoResult> {
    const log = o.log ?? (() => {});
    const out = resolve(o.out ?? join("stepwise-out", `demo-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}`));
    const policy = o.policy ?? defaultPolicyPath();
    if (!existsSync(policy)) throw new StepwiseError(`${policy}: lab policy not found (train one with \`stepwise lab train-policy\`)`);
    mkdirSync(out, {recursive: true});
    const nProblems = o.problems ?? 40;
    const k = o.k ?? 8;
    const seed = o.seed ?? 0;
    const q = o.quantile ?? 0.02;

    log(`demo: ${nProblems} held-out lab problems, ${k} samples each, policy ${policy}`);
    const problems = generateProblems(nProblems, {seed: 1000 + seed, split: "heldout"});
    const pw = new JsonlWriter(join(out, "problems.jsonl"), {truncate: true});
    for (const p of problems) pw.write(p);
    pw.close();

    const engine = await LlamaEngine.load(policy, {sequences: Math.min(16, k), contextSize: 1024});
    try {
        return await demoWithEngine(engine, policy, problems, out, k, seed, q, o, log);
    } finally {
        await engine.close();
    }
}

async function demoWithEngine(
    engine: LlamaEngine,
    policy: string,
    problems: ReturnType<typeof generateProblems>,
    out: string,
    k: number,
    seed: number,
    q: number,
    o: DemoOptions,
    log: (line: string) => void,
): Promise<DemoResult> {
    const ev: PolicyEval = await evaluatePolicy({engine, problems, k, seed, onProgress: (d, t) => o.onProgress?.("sample", d, t)});

    // Samples as pipeline records (the input of `stepwise threshold / split / label`).
    const samplesPath = join(out, "samples.jsonl");
    const sw = new JsonlWriter(samplesPath, {truncate: true});
    for (const r of ev.results)
        r.samples.forEach((s, i) => {
            const rec: SampleRecord & {correct: boolean; first_error_step: number} = {
                id: sampleId(r.problem.id, i),
                question_id: r.problem.id,
                sample_index: i,
                question: r.problem.question,
                prompt: labPrompt(r.problem),
                text: s.text,
                tokens: s.tokens,
                finish_reason: s.finishReason,
                gold: r.problem.answer,
                engine: `llama:${policy}`,
                seed: seed,
                temperature: 1,
                correct: r.sampleCorrect[i],
                first_error_step: r.sampleFirstError[i],
            };
            sw.write(rec);
        });
    sw.close();

    // AdaptiveStep data: τ from the confidences (one computation for the whole report), adaptive
    // vs newline steps, their statistics.
    const th = await thresholdFromFile(samplesPath, {quantile: q});
    const tau = th.tau;
    const chart = await renderChart(
        histogramSpec(ev.confidence.histogram, {
            title: `Token confidences of the lab policy (${th.tokens} tokens)`,
            xTitle: "confidence p(token | prefix)",
            rules: [{x: tau, label: `τ = ${tau.toFixed(3)} (${(q * 100).toFixed(0)}% quantile)`}],
            logY: true,
        }),
        join(out, "confidence-histogram"),
    );

    writeFileSync(join(out, "threshold.json"), JSON.stringify(th, null, 2) + "\n");
    await plotThreshold(th, join(out, "threshold"));
    const stepFiles: Record<string, string> = {};
    for (const name of ["adaptive", "newline"]) {
        stepFiles[name] = join(out, `steps-${name}.jsonl`);
        rmSync(stepFiles[name], {force: true}); // the demo rewrites its folder; split would resume an old file
        await splitFile({input: samplesPath, out: stepFiles[name], strategy: parseStrategy(name, {tau: th.tau})});
    }
    const stats = await computeStats({steps: [stepFiles.adaptive, stepFiles.newline], samples: samplesPath});
    writeFileSync(join(out, "stats.json"), JSON.stringify(stats.report, null, 2) + "\n");
    await writeStatsPlots(stats.report, stats.series, out);

    // Monte-Carlo labels (all savers) for one sample per problem, both splits, against the exact truth.
    const verify = await labVerifier.create();
    const labelCost: Record<string, LabelSummary> = {};
    const nLabel = o.labelSamples ?? 40;
    for (const name of ["adaptive", "newline"]) {
        const records = (await readJsonlAll<StepsRecord>(stepFiles[name])).filter((r) => r.sample_index === 0).slice(0, nLabel);
        const lw = new JsonlWriter(join(out, `labels-${name}.jsonl`), {truncate: true});
        const labelled: LabelledRecord[] = [];
        let done = 0;
        for (const r of records) {
            const rec = await labelSample(r, {engine, verifier: "lab", verify, k: o.rollouts ?? 4, earlyStop: true, chunk: 1, search: "hybrid", maxTokens: LAB_MAX_TOKENS, truth: labTruth, seed});
            lw.write(rec);
            labelled.push(rec);
            o.onProgress?.(`label ${name}`, ++done, records.length);
        }
        lw.close();
        labelCost[name] = summarizeLabels(labelled);
    }

    // The PRM: the shipped one, or one trained here on the adaptive labels; its quality against the truth.
    let prmPath = o.prm ?? defaultPrmPath();
    if (o.trainPrmMinutes) {
        prmPath = join(out, "demo-prm.gguf");
        log(`demo: training a PRM for ${o.trainPrmMinutes} min on the adaptive labels`);
        await trainPrm({data: [join(out, "labels-adaptive.jsonl")], out: prmPath, init: policy, minutes: o.trainPrmMinutes, quiet: true});
    }
    let prmEval: LabPrmEval | undefined;
    if (existsSync(prmPath)) {
        const samples = await readJsonlAll<SampleRecord>(samplesPath);
        prmEval = await reportLabPrm({samples, prm: `llama:${prmPath}`, tau: th.tau, greedyAccuracy: ev.greedy_accuracy, seed, out, onProgress: (d, t) => o.onProgress?.("score", d, t)});
    } else log(`demo: no PRM at ${prmPath}; skipping the PRM section`);

    const summary = {
        policy,
        problems: ev.n,
        samples_per_problem: k,
        greedy_accuracy: ev.greedy_accuracy,
        sample_accuracy: ev.sample_accuracy,
        pass_at_k: ev.pass_at_k,
        accuracy_by_ops: ev.accuracy_by_ops,
        right_answer_wrong_process: ev.right_answer_wrong_process,
        confidence: {tokens: ev.confidence.tokens, mean: ev.confidence.mean, quantiles: ev.confidence.quantiles, tau, tau_quantile: q},
        steps: Object.fromEntries(stats.report.strategies.map((st) => [st.label, {steps_per_sample: st.steps_per_sample.mean, tokens_per_step: st.tokens_per_step.mean}])),
        labelling: labelCost,
        ...(prmEval
            ? {
                  prm: {
                      path: prmPath,
                      step_auc: prmEval.step_auc,
                      processbench: prmEval.processbench,
                      bon_at_max_n: bonAtMaxN(prmEval),
                  },
              }
            : {}),
    };
    writeFileSync(join(out, "summary.json"), JSON.stringify(summary, null, 2) + "\n");

    // A few samples, their lowest-confidence tokens marked: some right, some wrong.
    const shown = pickExamples(ev, 6);
    const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : "–");
    const opsRows = Object.entries(ev.accuracy_by_ops).map(([ops, v]) => `| ${ops} | ${v.n} | ${pct(v.greedy_accuracy)} | ${pct(v.pass_at_k)} |`);
    const md = [
        `# stepwise demo: the lab policy`,
        ``,
        `Policy \`${policy.split("/").pop()}\` on ${ev.n} held-out lab problems, ${k} samples each at temperature 1.`,
        ``,
        `| metric | value |`,
        `|---|---|`,
        `| greedy accuracy | ${pct(ev.greedy_accuracy)} |`,
        `| sample accuracy (T=1) | ${pct(ev.sample_accuracy)} |`,
        ...Object.entries(ev.pass_at_k).map(([kk, v]) => `| pass@${kk} | ${pct(v)} |`),
        `| right answer, wrong process (of correct samples) | ${pct(ev.right_answer_wrong_process)} |`,
        `| τ (${(q * 100).toFixed(0)}% quantile of confidences) | ${tau.toFixed(4)} |`,
        ``,
        `## Accuracy by number of operations`,
        ``,
        `| ops | problems | greedy | pass@${k} |`,
        `|---|---|---|---|`,
        ...opsRows,
        ``,
        `## Token confidences`,
        ``,
        `![confidence histogram](confidence-histogram.png)`,
        ``,
        `## Steps: adaptive (τ = ${th.tau.toPrecision(3)}) vs newline`,
        ``,
        `![threshold](threshold.png)`,
        ``,
        statsMarkdown(stats.report),
        ``,
        `## Monte-Carlo labelling (${o.rollouts ?? 4} rollouts per step, all savers: hybrid search + early stop), against the lab's exact step truth`,
        ``,
        `| split | samples | rollouts / sample | tokens / sample | first negative = true first error | false negatives | false positives |`,
        `|---|---|---|---|---|---|---|`,
        ...Object.entries(labelCost).map(
            ([name, c]) =>
                `| ${name} | ${c.samples} | ${c.rollouts_per_sample.toFixed(1)} | ${c.generated_tokens_per_sample.toFixed(0)} | ${c.truth ? pct(c.truth.first_negative_match) : "-"} | ${c.truth ? pct(c.truth.false_negative_rate) : "-"} | ${c.truth ? pct(c.truth.false_positive_rate) : "-"} |`,
        ),
        ``,
        `## Samples (tokens with confidence < τ shown as [token|confidence])`,
        ``,
        ...shown.flatMap(({r, i}) => [
            `**${r.problem.question}** (answer ${r.problem.answer}; sample ${i}: ${r.sampleCorrect[i] ? "correct" : "wrong"}, first wrong step ${r.sampleFirstError[i]})`,
            ``,
            "```",
            markLow(r.samples[i].tokens, tau),
            "```",
            ``,
        ]),
        ...(prmEval ? prmSection(prmEval, prmPath, pct) : []),
        `Files: problems.jsonl, samples.jsonl (every token with its confidence), threshold.json, steps-*.jsonl, labels-*.jsonl, stats.json, summary.json, plots (.svg/.png), bon/ and analyze/ reports, report.html.`,
        ``,
    ].join("\n");
    writeFileSync(join(out, "report.md"), md);
    const html = htmlPage(
        "stepwise demo",
        [
            `<h1>stepwise demo: the lab policy</h1>`,
            `<p>${ev.n} held-out problems, ${k} samples each. Greedy ${pct(ev.greedy_accuracy)}, ${Object.entries(ev.pass_at_k)
                .map(([kk, v]) => `pass@${kk} ${pct(v)}`)
                .join(", ")}.</p>`,
            `<img src="confidence-histogram.svg" alt="confidence histogram">`,
            `<h2>Samples (confidence &lt; τ = ${tau.toFixed(4)} highlighted; hover for p)</h2>`,
            ...shown.map(
                ({r, i}) =>
                    `<p><b>${escapeHtml(r.problem.question)}</b> — ${r.sampleCorrect[i] ? "correct" : "wrong"}</p><div class="sample">${tokensHtml(r.samples[i].tokens, tau)}</div>`,
            ),
        ].join("\n"),
    );
    writeFileSync(join(out, "report.html"), html);
    log(`demo: report in ${out} (chart ${chart.png})`);
    return {out, summary};
}

function prmSection(ev: LabPrmEval, path: string, pct: (x: number) => string): string[] {
    const f = (m: {accError: number | null; accCorrect: number | null; f1: number | null; threshold: number}) =>
        `acc on erroneous ${m.accError === null ? "–" : pct(m.accError)}, acc on correct ${m.accCorrect === null ? "–" : pct(m.accCorrect)}, F1 ${m.f1 === null ? "–" : pct(m.f1)} (threshold ${m.threshold.toFixed(3)})`;
    return [
        `## The PRM (\`${path.split("/").pop()}\`) against the lab's exact step truth`,
        ``,
        `- step-level ROC-AUC: ${ev.step_auc.toFixed(3)} over ${ev.steps} adaptive steps`,
        `- lab-ProcessBench at 0.5: ${f(ev.processbench.at_half)}`,
        ...(ev.processbench.best ? [`- lab-ProcessBench at the F1-best threshold: ${f(ev.processbench.best)}`] : []),
        ``,
        `### Best-of-N (accuracy %, ${ev.bon.subsets} random subsets per N, 95% intervals in bon/summary.json)`,
        ``,
        bonMarkdown(ev.bon, "bon/accuracy-vs-n").replace(/^# .*\n+/, ""),
        ``,
        `The Qwen paper's analyses and AdaptiveStep's rating-position test: [analyze/report.md](analyze/report.md).`,
        ``,
    ];
}

function pickExamples(ev: PolicyEval, count: number): Array<{r: PolicyEval["results"][number]; i: number}> {
    const right: Array<{r: PolicyEval["results"][number]; i: number}> = [];
    const wrong: typeof right = [];
    for (const r of ev.results)
        r.samples.forEach((_, i) => {
            if (r.sampleCorrect[i]) right.push({r, i});
            else wrong.push({r, i});
        });
    const half = Math.ceil(count / 2);
    return [...right.slice(0, half), ...wrong.slice(0, count - Math.min(half, right.length))].slice(0, count);
}

function markLow(tokens: Array<{text: string; confidence: number}>, tau: number): string {
    return tokens.map((t) => (t.confidence < tau && t.text.trim() ? `[${t.text}|${t.confidence.toFixed(2)}]` : t.text)).join("");
}
