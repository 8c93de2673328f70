/**
 * PRMBench reports: the `--json` object, a Markdown table, per-item outcomes and a chart of
 * PRMScore per category, written into one folder by {@link writePrmBenchReport}.
 */
import {mkdirSync} from "node:fs";
import {join} from "node:path";
import {writeFileAtomic} from "../../io/atomic.ts";
import {renderChart, type VegaLiteSpec} from "../../report/plot.ts";
import {intervalJson, type IntervalJson} from "../../stats/intervals.ts";
import {markdownTable} from "../format.ts";
import {CATEGORY_GROUPS} from "./load.ts";
import {type PrmBenchMetrics, type PrmBenchResult} from "./metrics.ts";
import type {PrmBenchFilesResult} from "./run.ts";

/**
 * One row of the `--json` output: fractions (0..1, unrounded), null where the reference reports −1.
 * Intervals are `{value, low, high, n, method, level}` objects (src/stats intervalJson: fractions
 * rounded to 4 decimals; n = items), as in every other command's JSON.
 */
export interface PrmBenchMetricsJson {
    prmscore: number | null;
    /** PRMScore's 95% percentile bootstrap interval over items (2,000 resamples, seed 0); null with no PRMScore. */
    prmscore_ci: IntervalJson | null;
    f1: number | null;
    negative_f1: number | null;
    precision: number | null;
    recall: number | null;
    negative_precision: number | null;
    negative_recall: number | null;
    correct_step_acc: number | null;
    wrong_step_acc: number | null;
    total_step_acc: number | null;
    first_error_acc: number | null;
    /** First-error accuracy's 95% Wilson interval over the items that have a first error; null with none. */
    first_error_acc_ci: IntervalJson | null;
    similarity: number | null;
    items: number;
    steps: number;
    tp: number;
    fp: number;
    tn: number;
    fn: number;
}

/** The `--json` output. */
export interface PrmBenchJson {
    total: PrmBenchMetricsJson;
    categories: Record<string, PrmBenchMetricsJson>;
    groups: Record<string, number | null>;
    validity_rate: number;
    n_items: number;
    n_invalid: number;
    threshold?: number;
}

export function metricsJson(m: PrmBenchMetrics): PrmBenchMetricsJson {
    return {
        prmscore: m.prmscore,
        prmscore_ci: m.prmscoreInterval ? intervalJson(m.prmscoreInterval) : null,
        f1: m.f1,
        negative_f1: m.negativeF1,
        precision: m.precision,
        recall: m.recall,
        negative_precision: m.negativePrecision,
        negative_recall: m.negativeRecall,
        correct_step_acc: m.correctStepAcc,
        wrong_step_acc: m.wrongStepAcc,
        total_step_acc: m.totalStepAcc,
        first_error_acc: m.firstErrorAcc,
        first_error_acc_ci: m.firstErrorInterval ? intervalJson(m.firstErrorInterval) : null,
        similarity: m.similarity,
        items: m.items,
        steps: m.steps,
        tp: m.tp,
        fp: m.fp,
        tn: m.tn,
        fn: m.fn,
    };
}

export function prmBenchJson(result: PrmBenchResult, threshold?: number): PrmBenchJson {
    return {
        total: metricsJson(result.total),
        categories: Object.fromEntries(result.categories.map((c) => [c.name, metricsJson(c)])),
        groups: Object.fromEntries(result.groups.map((g) => [g.group, g.prmscore])),
        validity_rate: result.validityRate,
        n_items: result.nItems,
        n_invalid: result.nInvalid,
        ...(threshold !== undefined ? {threshold} : {}),
    };
}

/** A fraction as a percentage with one decimal (the paper's tables); "—" for null. */
const pct = (x: number | null): string => (x === null ? "—" : (x * 100).toFixed(1));

/** Markdown report: totals and one row per category, in percent. */
export function prmBenchMarkdown(result: PrmBenchResult, o: {threshold?: number; charts?: string[]} = {}): string {
    const row = (name: string, m: PrmBenchMetrics): string[] => [
        name,
        String(m.items),
        pct(m.prmscore),
        m.prmscoreInterval ? `${pct(m.prmscoreInterval.low)}–${pct(m.prmscoreInterval.high)}` : "—",
        pct(m.f1),
        pct(m.negativeF1),
        pct(m.correctStepAcc),
        pct(m.wrongStepAcc),
        pct(m.totalStepAcc),
        pct(m.firstErrorAcc),
        pct(m.similarity),
    ];
    const rows = [row("**total**", result.total), ...result.categories.map((c) => row(c.name, c))];
    const how = o.threshold !== undefined ? `A step is predicted valid when its score is > ${o.threshold}.` : "Step validity from the judge's first wrong step: steps before it valid, it and later steps invalid.";
    return [
        "# PRMBench evaluation",
        "",
        how,
        "",
        markdownTable(["category", "items", "PRMScore", "95% CI", "F1", "neg. F1", "acc (right steps)", "acc (wrong steps)", "acc (steps)", "first-error acc", "similarity"], rows),
        "",
        `Groups (mean PRMScore of their categories): ${result.groups.map((g) => `${g.group} ${pct(g.prmscore)}`).join(", ")}. ` +
            `Items: ${result.nItems}, without a prediction: ${result.nInvalid}; validity rate ${pct(result.validityRate)} (valid non-correct items / all items, as the reference computes it).`,
        "",
        "Percent. PRMScore = max(0, (F1 + negative F1) / 2) over pooled step counts (multi_solutions: F1 alone; correct: none), " +
            "as the reference's tables; F1 counts a valid step as positive, negative F1 an invalid one. Total: every item except the correct_ ones. " +
            "95% CI: percentile bootstrap over items (2000 resamples, seed 0). — : undefined (the reference's −1).",
        "",
        ...(o.charts ?? []).map((c) => `![${c}](${c}.svg)\n`),
    ].join("\n");
}

/** Bars: PRMScore per category (percent) with its bootstrap interval, coloured by group, and a rule at the total. */
export function prmBenchChartSpec(result: PrmBenchResult): VegaLiteSpec {
    const groupOf = (name: string): string => CATEGORY_GROUPS.find((g) => g.categories.includes(name))?.group ?? "other";
    const values = result.categories
        .filter((c) => c.prmscore !== null)
        .map((c) => ({category: c.name, group: groupOf(c.name), prmscore: c.prmscore! * 100, low: (c.prmscoreInterval?.low ?? c.prmscore!) * 100, high: (c.prmscoreInterval?.high ?? c.prmscore!) * 100}));
    const order = values.map((v) => v.category);
    const groups = [...new Set(values.map((v) => v.group))];
    const x = {field: "category", type: "nominal", sort: order, title: null, axis: {labelAngle: -40}};
    return {
        title: `PRMBench: PRMScore per category (total ${pct(result.total.prmscore)})`,
        width: {step: 36},
        height: 240,
        layer: [
            {data: {values}, mark: "bar", encoding: {x, y: {field: "prmscore", type: "quantitative", title: "PRMScore (%)", scale: {domain: [0, 100]}}, color: {field: "group", type: "nominal", title: null, scale: {domain: groups}}}},
            {data: {values}, mark: {type: "rule", color: "#333"}, encoding: {x, y: {field: "low", type: "quantitative"}, y2: {field: "high"}}},
            {data: {values: [{t: (result.total.prmscore ?? 0) * 100}]}, mark: {type: "rule", strokeDash: [4, 3], color: "#555"}, encoding: {y: {field: "t", type: "quantitative"}}},
        ],
    };
}

/** Write summary.json, report.md, items.jsonl and the chart (SVG + PNG) into `outDir`; returns the files written. */
export async function writePrmBenchReport(run: PrmBenchFilesResult, outDir: string, inputs: Record<string, unknown> = {}): Promise<string[]> {
    mkdirSync(outDir, {recursive: true});
    const written: string[] = [];
    const file = (name: string, text: string): void => {
        writeFileAtomic(join(outDir, name), text);
        written.push(join(outDir, name));
    };
    const {result, items} = run;
    file("summary.json", JSON.stringify({...prmBenchJson(result, run.threshold), ...(run.data.duplicates.length ? {duplicates_dropped: run.data.duplicates.length} : {}), ...(run.tooLong ? {too_long: run.tooLong.length} : {}), inputs}, null, 2) + "\n");
    const lines = items.map((it, i) => {
        const o = result.outcomes[i];
        return JSON.stringify({idx: it.id, classification: it.classification, valid: o !== null, ...(o ? {tp: o.tp, fp: o.fp, tn: o.tn, fn: o.fn, first_error_acc: o.firstError, response_acc: o.responseAcc} : {})});
    });
    file("items.jsonl", lines.length ? lines.join("\n") + "\n" : "");
    const c = await renderChart(prmBenchChartSpec(result), join(outDir, "prmbench-categories"));
    written.push(c.svg, c.png);
    file("report.md", prmBenchMarkdown(result, {threshold: run.threshold, charts: ["prmbench-categories"]}));
    return written;
}
