/**
 * ProcessBench reports: the `--json` object, a fuller summary.json, a Markdown table,
 * per-sample predictions, and charts (metrics per split; F1 against the threshold when step
 * scores were given), all written into one folder by {@link writeProcessBenchReport}.
 */
import {mkdirSync} from "node:fs";
import {writeFileAtomic} from "../../io/atomic.ts";
import {join} from "node:path";
import {renderChart, type VegaLiteSpec} from "../../report/plot.ts";
import {markdownTable, pctCell, percent} from "../format.ts";
import {intervalJson, type Interval, type IntervalJson} from "../../stats/intervals.ts";
import type {ProcessBenchResult} from "./evaluate.ts";
import type {ProcessSplit} from "./load.ts";
import {plural} from "../../util/plural.ts";

/**
 * The `--json` output, in percent (two decimals; null when undefined): `{splits: {NAME: {acc_error,
 * acc_correct, f1, n, acc_error_ci, acc_correct_ci, f1_ci}}, average_f1, average_f1_ci}`, each
 * `*_ci` a 95% interval `{value, low, high, n, method, level}` (Wilson over the split's erroneous /
 * correct samples; F1: bootstrap over its samples; average: bootstrap within each split); with a
 * calibrated threshold also `threshold`, `calibrated_on`, `calibration_rows` and
 * `calibration_warning` (null, or the warning when fewer than 50 rows calibrated it).
 */
export interface ProcessBenchJson {
    splits: Record<string, {acc_error: number | null; acc_correct: number | null; f1: number | null; n: number; acc_error_ci: IntervalJson | null; acc_correct_ci: IntervalJson | null; f1_ci: IntervalJson | null}>;
    average_f1: number | null;
    average_f1_ci: IntervalJson | null;
    threshold?: number;
    calibrated_on?: string;
    calibration_rows?: number;
    calibration_warning?: string | null;
}

const pctInterval = (iv: Interval | null): IntervalJson | null => (iv ? intervalJson(iv, 100, 2) : null);

export function processBenchJson(result: ProcessBenchResult): ProcessBenchJson {
    return {
        splits: Object.fromEntries(
            result.splits.map((s) => [
                s.name,
                {acc_error: percent(s.accError), acc_correct: percent(s.accCorrect), f1: percent(s.f1), n: s.n, acc_error_ci: pctInterval(s.intervals.accError), acc_correct_ci: pctInterval(s.intervals.accCorrect), f1_ci: pctInterval(s.intervals.f1)},
            ]),
        ),
        average_f1: percent(result.averageF1),
        average_f1_ci: pctInterval(result.averageF1Interval),
        ...(result.calibratedOn !== undefined ? {threshold: result.threshold, calibrated_on: result.calibratedOn, calibration_rows: result.calibrationRows, calibration_warning: result.calibrationWarning ?? null} : {}),
    };
}

/** A Markdown cell: the percentage and its interval, "62.30 (55.10–69.00)". */
function ciCell(value: number | null, iv: IntervalJson | null): string {
    return value === null ? "—" : iv ? `${pctCell(value)} (${iv.low.toFixed(2)}–${iv.high.toFixed(2)})` : pctCell(value);
}

/** summary.json: the `--json` object plus counts, files, threshold and inputs. */
export function processBenchSummary(result: ProcessBenchResult, inputs: Record<string, unknown> = {}): Record<string, unknown> {
    const json = processBenchJson(result);
    return {
        ...json,
        details: Object.fromEntries(result.splits.map((s) => [s.name, {file: s.file, n_error: s.nError, n_correct: s.nCorrect}])),
        ...(result.threshold !== undefined ? {threshold: result.threshold} : {}),
        ...(result.calibratedOn !== undefined ? {calibrated_on: result.calibratedOn} : {}),
        inputs,
    };
}

/** Markdown report. */
export function processBenchMarkdown(result: ProcessBenchResult, charts: string[] = []): string {
    const j = processBenchJson(result);
    const rows = result.splits.map((s) => {
        const m = j.splits[s.name];
        return [s.name, String(s.n), `${s.nError} / ${s.nCorrect}`, ciCell(m.acc_error, m.acc_error_ci), ciCell(m.acc_correct, m.acc_correct_ci), ciCell(m.f1, m.f1_ci)];
    });
    rows.push(["**average**", "", "", "", "", `**${ciCell(j.average_f1, j.average_f1_ci)}**`]);
    const how =
        result.threshold !== undefined
            ? `Prediction: the first step whose score is below ${result.threshold.toPrecision(6)}${result.calibratedOn ? ` (the threshold maximising F1 on ${result.calibratedOn}, ${plural(result.calibrationRows ?? 0, "sample")})` : ""}; −1 when none is.`
            : "Predictions given directly (first-error index or −1).";
    return [
        "# ProcessBench evaluation",
        "",
        how,
        "",
        ...(result.calibrationWarning ? [`**Warning:** ${result.calibrationWarning}.`, ""] : []),
        markdownTable(["split", "n", "erroneous / correct", "acc (erroneous)", "acc (correct)", "F1"], rows),
        "",
        "Percent. acc (erroneous): predicted index = label on samples with an error; acc (correct): predicted −1 on samples without one; " +
            "F1: their harmonic mean; average: mean F1 over splits where it is defined (— when a split lacks erroneous or correct samples). " +
            "In parentheses: 95% intervals (accuracies: Wilson over the split's erroneous / correct samples; F1: percentile bootstrap over the split's samples, 2,000 resamples, seed 0; average: the same bootstrap within each split).",
        "",
        ...charts.map((c) => `![${c}](${c}.svg)\n`),
    ].join("\n");
}

/** Grouped bars: acc (erroneous), acc (correct) and F1 per split. */
export function metricsChartSpec(result: ProcessBenchResult): VegaLiteSpec {
    const j = processBenchJson(result);
    const values = result.splits.flatMap((s) => {
        const m = j.splits[s.name];
        return [
            {split: s.name, metric: "acc (erroneous)", value: m.acc_error},
            {split: s.name, metric: "acc (correct)", value: m.acc_correct},
            {split: s.name, metric: "F1", value: m.f1},
        ].filter((v) => v.value !== null);
    });
    const order = ["acc (erroneous)", "acc (correct)", "F1"];
    return {
        title: `ProcessBench (average F1 ${pctCell(j.average_f1)})`,
        data: {values},
        mark: "bar",
        width: {step: 18},
        height: 240,
        encoding: {
            column: {field: "split", type: "nominal", title: null, sort: result.splits.map((s) => s.name)},
            x: {field: "metric", type: "nominal", sort: order, axis: null},
            y: {field: "value", type: "quantitative", title: "percent", scale: {domain: [0, 100]}},
            color: {field: "metric", type: "nominal", sort: order, title: null},
        },
    };
}

/** F1 against the threshold, one line per split, with a rule at the threshold used. At most `maxPoints` points per split. */
export function thresholdChartSpec(result: ProcessBenchResult, maxPoints = 300): VegaLiteSpec | null {
    const values: Array<{split: string; threshold: number; f1: number}> = [];
    for (const s of result.splits) {
        const curve = (s.curve ?? []).filter((p) => p.f1 !== null && Number.isFinite(p.threshold));
        const step = Math.max(1, Math.ceil(curve.length / maxPoints));
        for (let i = 0; i < curve.length; i += step) values.push({split: s.name, threshold: curve[i].threshold, f1: percent(curve[i].f1)!});
    }
    if (values.length === 0 || result.threshold === undefined) return null;
    return {
        title: "F1 against the step-score threshold",
        width: 480,
        height: 260,
        layer: [
            {data: {values}, mark: {type: "line", interpolate: "step-after"}, encoding: {x: {field: "threshold", type: "quantitative", title: "threshold"}, y: {field: "f1", type: "quantitative", title: "F1 (%)"}, color: {field: "split", type: "nominal"}}},
            {data: {values: [{t: result.threshold}]}, mark: {type: "rule", strokeDash: [4, 3], color: "#555"}, encoding: {x: {field: "t", type: "quantitative"}}},
        ],
    };
}

/** Write summary.json, report.md, predictions.jsonl and charts (SVG + PNG) into `outDir`. */
export async function writeProcessBenchReport(result: ProcessBenchResult, splits: readonly ProcessSplit[], outDir: string, inputs: Record<string, unknown> = {}): Promise<string[]> {
    mkdirSync(outDir, {recursive: true});
    const written: string[] = [];
    const file = (name: string, text: string): void => {
        writeFileAtomic(join(outDir, name), text);
        written.push(join(outDir, name));
    };
    file("summary.json", JSON.stringify(processBenchSummary(result, inputs), null, 2) + "\n");
    const lines: string[] = [];
    result.splits.forEach((r, i) => {
        splits[i].samples.forEach((s, k) => lines.push(JSON.stringify({split: r.name, id: s.id, label: s.label, prediction: r.predictions[k], correct: r.predictions[k] === s.label})));
    });
    file("predictions.jsonl", lines.length ? lines.join("\n") + "\n" : "");
    const charts: string[] = [];
    const m = await renderChart(metricsChartSpec(result), join(outDir, "processbench-metrics"));
    written.push(m.svg, m.png);
    charts.push("processbench-metrics");
    const t = thresholdChartSpec(result);
    if (t) {
        const c = await renderChart(t, join(outDir, "f1-vs-threshold"));
        written.push(c.svg, c.png);
        charts.push("f1-vs-threshold");
    }
    file("report.md", processBenchMarkdown(result, charts));
    return written;
}
