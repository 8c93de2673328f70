/**
 * `stepwise demo`: the whole lab pipeline on a laptop CPU in a few minutes, with the shipped
 * lab policy: generate held-out problems, sample solutions with per-token confidences, check
 * them with the exact verifiers, and write a report (Markdown + HTML + JSON + plots).
 */
import {mkdirSync, writeFileSync, existsSync} from "node:fs";
import {join, resolve} from "node:path";
import {LlamaEngine} from "../engines/llama/engine.ts";
import {StepwiseError} from "../engines/types.ts";
import {generateProblems} from "../lab/domain/index.ts";
import {evaluatePolicy, labPrompt, quantile, type PolicyEval} from "../lab/eval/policy.ts";
import {JsonlWriter} from "../io/jsonl.ts";
import {renderChart, histogramSpec} from "../report/plot.ts";
import {escapeHtml, htmlPage, tokensHtml} from "../report/html.ts";
import {sampleId, type SampleRecord} from "../pipeline/records.ts";

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
    /** Quantile for the decision-token threshold τ shown in the report. Default 0.02. */
    quantile?: number;
    onProgress?: (stage: string, done: number, total: number) => void;
    log?: (line: string) => void;
}

export interface DemoResult {
    out: string;
    summary: Record<string, unknown>;
}

export function defaultPolicyPath(): string {
    return resolve(new URL("../../models/lab-policy.gguf", import.meta.url).pathname);
}

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

    const engine = await LlamaEngine.load(policy, {sequences: Math.min(16, k), contextSize: 512});
    let ev: PolicyEval;
    try {
        ev = await evaluatePolicy({engine, problems, k, seed, onProgress: (d, t) => o.onProgress?.("sample", d, t)});
    } finally {
        await engine.close();
    }

    // Samples as pipeline records (the input of `stepwise threshold / split / label`).
    const sw = new JsonlWriter(join(out, "samples.jsonl"), {truncate: true});
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

    const confidences = Float64Array.from(ev.results.flatMap((r) => r.samples.flatMap((s) => s.tokens.map((t) => t.confidence)))).sort();
    const tau = quantile(confidences, q);
    const chart = await renderChart(
        histogramSpec(ev.confidence.histogram, {
            title: `Token confidences of the lab policy (${confidences.length} tokens)`,
            xTitle: "confidence p(token | prefix)",
            rules: [{x: tau, label: `τ = ${tau.toFixed(3)} (${(q * 100).toFixed(0)}% quantile)`}],
            logY: true,
        }),
        join(out, "confidence-histogram"),
    );

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
    };
    writeFileSync(join(out, "summary.json"), JSON.stringify(summary, null, 2) + "\n");

    // A few samples, their lowest-confidence tokens marked: some right, some wrong.
    const shown = pickExamples(ev, 6);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
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
        `Files: problems.jsonl, samples.jsonl (every token with its confidence), summary.json, confidence-histogram.svg/png, report.html.`,
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
