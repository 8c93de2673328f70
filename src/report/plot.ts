/**
 * Plots for reports: Vega-Lite specs rendered headless to SVG (vega's own renderer, no browser)
 * and to PNG (resvg). Every chart is written as both `<base>.svg` and `<base>.png`.
 */
import {writeFileAtomic} from "../io/atomic.ts";

export type VegaLiteSpec = Record<string, unknown>;

export async function renderChart(spec: VegaLiteSpec, basePath: string): Promise<{svg: string; png: string}> {
    const vega = await import("vega");
    const {compile} = await import("vega-lite");
    const {Resvg} = await import("@resvg/resvg-js");
    const full = {$schema: "https://vega.github.io/schema/vega-lite/v5.json", background: "white", ...spec};
    const view = new vega.View(vega.parse(compile(full as never).spec), {renderer: "none"});
    const svg = await view.toSVG();
    view.finalize();
    const svgPath = `${basePath}.svg`;
    const pngPath = `${basePath}.png`;
    writeFileAtomic(svgPath, svg);
    writeFileAtomic(pngPath, new Resvg(svg, {background: "white", fitTo: {mode: "zoom", value: 2}, font: {loadSystemFonts: true}}).render().asPng());
    return {svg: svgPath, png: pngPath};
}

export interface HistogramBin {
    /** Lower edge (inclusive). */
    start: number;
    /** Upper edge (exclusive, except the last bin). */
    end: number;
    count: number;
}

/** Equal-width histogram of values in [lo, hi]. */
export function histogram(values: Iterable<number>, bins = 20, lo = 0, hi = 1): HistogramBin[] {
    const out: HistogramBin[] = Array.from({length: bins}, (_, i) => ({start: lo + ((hi - lo) * i) / bins, end: lo + ((hi - lo) * (i + 1)) / bins, count: 0}));
    for (const v of values) {
        if (!(v >= lo && v <= hi)) continue;
        const i = Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins));
        out[i].count++;
    }
    return out;
}

/** Ticks of a symlog count axis: 0 and the powers of ten up to `max` (so small bins get ticks too). */
export function symlogTicks(max: number): number[] {
    const ticks = [0];
    for (let t = 1; t <= Math.max(1, max); t *= 10) ticks.push(t);
    return ticks;
}

/**
 * A bar chart of a histogram, with optional vertical rule(s) (e.g. a threshold τ). With `logY`
 * the y axis is symlog (0 stays 0), titled "<yTitle> (symlog scale)", with ticks at 0, 1, 10,
 * 100, … up to the largest bin. `yTitle` defaults to "tokens".
 */
export function histogramSpec(bins: HistogramBin[], options: {title: string; xTitle: string; yTitle?: string; rules?: Array<{x: number; label: string}>; logY?: boolean}): VegaLiteSpec {
    const yTitle = options.yTitle ?? "tokens";
    const max = Math.max(0, ...bins.map((b) => b.count));
    const layers: unknown[] = [
        {
            data: {values: bins.map((b) => ({start: b.start, end: b.end, count: b.count}))},
            mark: {type: "bar", color: "#4c78a8"},
            encoding: {
                x: {field: "start", type: "quantitative", bin: {binned: true, step: bins[0] ? bins[0].end - bins[0].start : 0.05}, title: options.xTitle},
                x2: {field: "end"},
                y: {
                    field: "count",
                    type: "quantitative",
                    title: options.logY ? `${yTitle} (symlog scale)` : yTitle,
                    ...(options.logY ? {scale: {type: "symlog"}, axis: {values: symlogTicks(max), format: ",d"}} : {}),
                },
            },
        },
    ];
    if (options.rules?.length) {
        layers.push({
            data: {values: options.rules},
            layer: [
                {mark: {type: "rule", color: "#e45756", strokeWidth: 2}, encoding: {x: {field: "x", type: "quantitative"}}},
                {mark: {type: "text", color: "#e45756", align: "left", dx: 4, fontWeight: "bold"}, encoding: {x: {field: "x", type: "quantitative"}, y: {value: 8}, text: {field: "label"}}},
            ],
        });
    }
    return {title: options.title, width: 480, height: 220, layer: layers};
}
