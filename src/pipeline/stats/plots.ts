/**
 * Plots of step statistics (AdaptiveStep Figure 6 style): overlaid histograms of steps per sample,
 * tokens per step and tokens per sample, one color per strategy, as shares so strategies with
 * different numbers of steps compare; and the category shares as grouped bars.
 */
import {renderChart, type VegaLiteSpec} from "../../report/plot.ts";
import type {StatsReport, StatsSeries} from "./index.ts";

/**
 * Integer histogram shares per series; values above the largest p99 fall into the last bin. With
 * one value per bin (width 1) each bar is centred on its integer and the axis ticks at integers
 * only, so a tick sits under the bar of its count (not at the edge between two counts).
 */
export function overlaidHistogramSpec(series: Array<{label: string; values: number[]}>, options: {title: string; xTitle: string; yTitle: string}): VegaLiteSpec {
    const p99 = (v: number[]): number => {
        if (v.length === 0) return 0;
        const s = Float64Array.from(v).sort();
        return s[Math.min(s.length - 1, Math.ceil(0.99 * s.length) - 1)];
    };
    const cap = Math.max(1, ...series.map((s) => p99(s.values)));
    const width = Math.max(1, Math.ceil((cap + 1) / 40));
    const bins = Math.floor(cap / width) + 1;
    const shift = width === 1 ? 0.5 : 0;
    const values: Array<{strategy: string; start: number; end: number; share: number}> = [];
    for (const s of series) {
        const counts = new Array<number>(bins).fill(0);
        for (const v of s.values) counts[Math.min(bins - 1, Math.floor(v / width))]++;
        counts.forEach((c, i) => values.push({strategy: s.label, start: i * width - shift, end: (i + 1) * width - shift, share: s.values.length ? c / s.values.length : 0}));
    }
    return {
        title: options.title,
        width: 480,
        height: 220,
        data: {values},
        mark: {type: "bar", opacity: 0.55, binSpacing: 0},
        encoding: {
            x: {
                field: "start",
                type: "quantitative",
                bin: {binned: true, step: width},
                title: options.xTitle,
                ...(width === 1 ? {axis: {values: Array.from({length: bins}, (_, i) => i).filter((i) => bins <= 25 || i % 5 === 0), format: "d"}} : {}),
            },
            x2: {field: "end"},
            y: {field: "share", type: "quantitative", stack: null, title: options.yTitle, axis: {format: "%"}},
            color: {field: "strategy", type: "nominal", title: "strategy"},
        },
    };
}

/** Grouped bars: share of all tokens and of each strategy's decision tokens, per category. */
export function categorySpec(report: StatsReport): VegaLiteSpec | null {
    const S = report.strategies.filter((s) => s.categories);
    if (S.length === 0) return null;
    const order = S[0].categories!.rows.map((r) => r.category);
    const values = [
        ...S[0].categories!.rows.map((r) => ({category: r.category, series: "all tokens", share: r.token_share})),
        ...S.flatMap((s) => s.categories!.rows.map((r) => ({category: r.category, series: `decision: ${s.label}`, share: r.decision_share}))),
    ];
    return {
        title: `Decision tokens vs all tokens by category (${report.domain})`,
        width: 520,
        height: 240,
        data: {values},
        mark: {type: "bar"},
        encoding: {
            x: {field: "category", type: "nominal", sort: order, title: null, axis: {labelAngle: -30}},
            xOffset: {field: "series"},
            y: {field: "share", type: "quantitative", title: "share", axis: {format: "%"}},
            color: {field: "series", type: "nominal", title: null},
        },
    };
}

/** Write every plot as `<dir>/<name>.svg` and `.png`; returns the base paths written. */
export async function writeStatsPlots(report: StatsReport, series: StatsSeries[], dir: string): Promise<string[]> {
    const out: string[] = [];
    const charts: Array<[string, VegaLiteSpec | null]> = [
        ["steps-per-sample", overlaidHistogramSpec(series.map((s) => ({label: s.label, values: s.stepsPerSample})), {title: "Steps per sample", xTitle: "steps", yTitle: "share of samples"})],
        ["tokens-per-step", overlaidHistogramSpec(series.map((s) => ({label: s.label, values: s.tokensPerStep})), {title: "Tokens per step", xTitle: "tokens", yTitle: "share of steps"})],
        ["tokens-per-sample", overlaidHistogramSpec(series.map((s) => ({label: s.label, values: s.tokensPerSample})), {title: "Sample length", xTitle: "tokens", yTitle: "share of samples"})],
        ["categories", categorySpec(report)],
    ];
    for (const [name, spec] of charts) {
        if (!spec) continue;
        await renderChart(spec, `${dir}/${name}`);
        out.push(`${dir}/${name}`);
    }
    return out;
}
