/**
 * Best-of-N reports: a JSON summary (percentages, two decimals), a Markdown report, and an
 * accuracy-vs-N chart (log2 x axis, one line per method, 95% CI bands) as SVG and PNG, all
 * written into one folder by {@link writeBonReport}.
 */
import {mkdirSync} from "node:fs";
import {writeFileAtomic} from "../../io/atomic.ts";
import {join} from "node:path";
import {renderChart, type VegaLiteSpec} from "../../report/plot.ts";
import {markdownTable, pctCell, percent} from "../format.ts";
import type {BonResult} from "./evaluate.ts";
import {differenceSentence, intervalJson, type IntervalJson} from "../../stats/intervals.ts";
import type {GradingStats} from "./load.ts";
import {plural} from "../../util/plural.ts";

/** The machine-readable summary: per method, accuracy and CI (percent) at each N. */
export interface BonSummary {
    questions: number;
    candidates: {min: number; max: number};
    sizes: number[];
    subsets: number;
    seed: number;
    /** The interval method: 95% Wilson intervals over the questions (src/stats). */
    ci: "wilson-95";
    /** Tie rule of maj, Best-of-N and the weighted vote ("random" or "first"). */
    ties: "random" | "first";
    /** Whether Best-of-N could pick unfinished candidates (no final answer); default false. */
    allow_unfinished: boolean;
    /** Per method and N: accuracy, its 95% Wilson interval (ci_low, ci_high), and the same as `accuracy_ci` {value, low, high, n = questions, method, level}; percent. */
    methods: Array<{id: string; label: string; points: Array<{n: number; accuracy: number; ci_low: number | null; ci_high: number | null; accuracy_ci?: IntervalJson}>}>;
    /**
     * Paired comparisons on the same questions (PRM method `b` − maj@N `a`, at subset size `size`):
     * `diff` in accuracy points with its 95% paired bootstrap interval over the questions, and the
     * sentence saying whether it is significant.
     */
    paired?: Array<{a: string; b: string; size: number; diff: IntervalJson; sentence: string}>;
    grading?: GradingStats;
    inputs?: Record<string, unknown>;
}

/** Build the JSON summary of a result. */
export function bonSummary(result: BonResult, extra: {grading?: GradingStats; inputs?: Record<string, unknown>} = {}): BonSummary {
    return {
        questions: result.questions,
        candidates: result.candidates,
        sizes: result.sizes,
        subsets: result.subsets,
        seed: result.seed,
        ci: "wilson-95",
        ties: result.ties,
        allow_unfinished: result.allowUnfinished,
        methods: result.methods.map((m) => ({
            id: m.id,
            label: m.label,
            points: m.points.map((p) => ({n: p.n, accuracy: percent(p.accuracy)!, ci_low: p.ci ? percent(p.ci[0]) : null, ci_high: p.ci ? percent(p.ci[1]) : null, ...(p.interval ? {accuracy_ci: intervalJson(p.interval, 100, 2)} : {})})),
        })),
        paired: result.paired.map((c) => {
            const label = (id: string) => result.methods.find((m) => m.id === id)?.label ?? id;
            return {a: c.a, b: c.b, size: c.size, diff: intervalJson(c.diff, 100, 2), sentence: differenceSentence(`${label(c.b)} − ${label(c.a)} at N = ${c.size}`, c.diff)};
        }),
        ...(extra.grading ? {grading: extra.grading} : {}),
        ...(extra.inputs ? {inputs: extra.inputs} : {}),
    };
}

/** A Markdown report: one row per method, one column per N (accuracy and its 95% interval, low–high). */
export function bonMarkdown(summary: BonSummary, chartBase?: string): string {
    const header = ["method", ...summary.sizes.map((n) => `N=${n}`)];
    const rows = summary.methods.map((m) => [
        m.label,
        ...m.points.map((p) => (p.ci_low !== null && p.ci_high !== null ? `${pctCell(p.accuracy)} (${p.ci_low.toFixed(2)}–${p.ci_high.toFixed(2)})` : pctCell(p.accuracy))),
    ]);
    const g = summary.grading;
    return [
        "# Best-of-N evaluation",
        "",
        `${plural(summary.questions, "question")}, ${summary.candidates.min === summary.candidates.max ? plural(summary.candidates.min, "candidate") : `${summary.candidates.min}–${summary.candidates.max} candidates`} per question; ` +
            `each N averages ${summary.subsets} random subsets per question (seed ${summary.seed}).`,
        "",
        "Accuracy in percent, with a 95% Wilson interval over the questions in parentheses (low–high).",
        "",
        markdownTable(header, rows),
        "",
        ...(g
            ? [
                  `Grading: ${plural(g.precomputed, "precomputed verdict")}, ${g.graded} graded against gold; ${plural(g.noAnswer, "candidate")} without an answer; ` +
                      `${g.unfinished ?? 0} unfinished (no final answer${summary.allow_unfinished ? "; allowed to be picked" : "; never picked by Best-of-N, never voting"}); ` +
                      `${g.meanClasses.toFixed(2)} answer classes per question on average${g.scored ? "" : "; no step scores, so no PRM methods"}.`,
                  "",
              ]
            : []),
        `Methods: *first sample* = one random candidate; *pass@N* = any of N correct; *maj@N* = most frequent answer class (ties ${summary.ties === "first" ? "to the answer seen first" : "at random"}); ` +
            "*PRM BoN (agg)* = candidate with the highest aggregated step score; *PRM-weighted vote (agg)* = answer class with the largest sum of aggregated scores.",
        "",
        ...pairedLines(summary),
        ...(chartBase ? [`![accuracy vs N](${chartBase}.svg)`, ""] : []),
    ].join("\n");
}

/** The paired comparisons at the largest N, one sentence each. */
function pairedLines(summary: BonSummary): string[] {
    const top = Math.max(...summary.sizes);
    const at = (summary.paired ?? []).filter((p) => p.size === top);
    if (at.length === 0) return [];
    return [`Paired against maj@N on the same ${plural(summary.questions, "question")} (95% paired bootstrap over the questions; every N in summary.json):`, "", ...at.map((p) => `- ${p.sentence}`), ""];
}

/** Methods that use no PRM (drawn dashed, in greys). */
const BASELINES = ["first sample", "pass@N", "maj@N"];
const BASELINE_COLORS = ["#9a9a9a", "#222222", "#6b6b6b"];
const PRM_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"];

/**
 * Vega-Lite spec answering "does picking by the PRM beat voting, and by how much?": on the left,
 * accuracy vs N (log2 x axis), one line per method, no bands (nine overlapping bands hid the
 * lines); baselines dashed in greys, PRM methods solid in colours, the legend drawn with the lines'
 * own colours. On the right, every method at the largest N with its 95% interval, one row each and
 * sorted, so methods whose lines coincide (e.g. product and weighted vote) are still told apart.
 */
export function bonChartSpec(summary: BonSummary): VegaLiteSpec {
    const values = summary.methods.flatMap((m) =>
        m.points.map((p) => ({method: m.label, baseline: BASELINES.includes(m.label) ? "baseline (no PRM)" : "PRM", n: p.n, accuracy: p.accuracy, lo: p.ci_low ?? p.accuracy, hi: p.ci_high ?? p.accuracy})),
    );
    const labels = summary.methods.map((m) => m.label);
    let prm = 0;
    const range = labels.map((l) => (BASELINES.includes(l) ? BASELINE_COLORS[BASELINES.indexOf(l)] : PRM_COLORS[prm++ % PRM_COLORS.length]));
    const color = {field: "method", type: "nominal", title: null, scale: {domain: labels, range}, legend: {symbolType: "stroke", symbolStrokeWidth: 3, labelLimit: 320, orient: "bottom", columns: 3}};
    const maxN = Math.max(...summary.sizes);
    const x = {field: "n", type: "quantitative", scale: {type: "log", base: 2}, axis: {values: summary.sizes, title: "N (candidates per question)"}};
    const y = {field: "accuracy", type: "quantitative", title: "accuracy (%)", scale: {zero: false}};
    const bySort = {field: "accuracy", op: "max", order: "descending"};
    const dash = {field: "baseline", type: "nominal", scale: {domain: ["PRM", "baseline (no PRM)"], range: [[1, 0], [5, 3]]}, legend: null};
    return {
        title: {text: `Best-of-N: accuracy vs N (${summary.questions} questions, ${summary.subsets} random subsets per N)`, subtitle: "dashed grey: no PRM (first sample, pass@N, maj@N); solid colour: picked or weighted by the PRM"},
        data: {values},
        hconcat: [
            {
                width: 420,
                height: 300,
                mark: {type: "line", point: {size: 40}, strokeWidth: 2.2},
                encoding: {x, y, color, strokeDash: dash, tooltip: [{field: "method"}, {field: "n"}, {field: "accuracy"}]},
            },
            {
                width: 260,
                height: 300,
                title: {text: `at N = ${maxN}, with 95% intervals`, fontSize: 12},
                transform: [{filter: `datum.n == ${maxN}`}],
                layer: [
                    {mark: {type: "rule", strokeWidth: 2}, encoding: {y: {field: "method", type: "nominal", sort: bySort, title: null, axis: {labelLimit: 240}}, x: {field: "lo", type: "quantitative", title: "accuracy (%)", scale: {zero: false}}, x2: {field: "hi"}, color}},
                    {mark: {type: "point", filled: true, size: 70}, encoding: {y: {field: "method", type: "nominal", sort: bySort}, x: {field: "accuracy", type: "quantitative"}, color}},
                    {mark: {type: "text", dx: 0, dy: -9, fontSize: 10}, encoding: {y: {field: "method", type: "nominal", sort: bySort}, x: {field: "accuracy", type: "quantitative"}, text: {field: "accuracy", type: "quantitative", format: ".1f"}}},
                ],
            },
        ],
        resolve: {scale: {color: "shared"}},
    };
}

/** Write summary.json, report.md and accuracy-vs-n.{svg,png} into `outDir` (created if needed). */
export async function writeBonReport(summary: BonSummary, outDir: string): Promise<{json: string; markdown: string; svg: string; png: string}> {
    mkdirSync(outDir, {recursive: true});
    const json = join(outDir, "summary.json");
    writeFileAtomic(json, JSON.stringify(summary, null, 2) + "\n");
    const chart = await renderChart(bonChartSpec(summary), join(outDir, "accuracy-vs-n"));
    const markdown = join(outDir, "report.md");
    writeFileAtomic(markdown, bonMarkdown(summary, "accuracy-vs-n"));
    return {json, markdown, ...chart};
}
