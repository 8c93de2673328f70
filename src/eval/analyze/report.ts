/**
 * Reports of `stepwise eval analyze`: a JSON summary (percentages with two decimals), a Markdown
 * report and bar/line charts (SVG + PNG), written into one folder by {@link writeAnalyzeReport}.
 *
 * Intervals (src/stats), as `{value, low, high, n, method, level}` objects in JSON (percent for
 * shares and accuracies): 95% Wilson intervals for shares (flagged, lowest step at the last step)
 * and Best-of-N accuracies (n = questions); a 95% percentile bootstrap for mean steps per solution;
 * paired comparisons on the same questions (aggregations against each other and maj@N, rating
 * positions against adaptive) as a paired bootstrap of the accuracy difference, in points, with a
 * sentence saying whether it is significant.
 */
import {mkdirSync} from "node:fs";
import {writeFileAtomic} from "../../io/atomic.ts";
import {join} from "node:path";
import {renderChart, type VegaLiteSpec} from "../../report/plot.ts";
import {differenceSentence, type Interval, intervalJson, type IntervalJson, wilsonInterval} from "../../stats/intervals.ts";
import {bonChartSpec, bonSummary} from "../bon/report.ts";
import {intervalCell, markdownTable, pctCell, percent} from "../format.ts";
import type {PairedAccuracy} from "./aggregations.ts";
import {FP_GROUPS, FP_GROUP_LABELS, type FalsePositiveStats, type FlagStats} from "./false-positive.ts";
import type {AnalyzeResult} from "./index.ts";
import type {LowestStepResult, LowestStepStats} from "./lowest-step.ts";
import {plural} from "../../util/plural.ts";

/** A share k/n as a percent interval (95% Wilson), null when n = 0. */
const shareCi = (k: number, n: number): IntervalJson | null => (n === 0 ? null : intervalJson(wilsonInterval(k, n), 100, 2));

/** An accuracy interval (fractions) in percent. */
const pctCi = (iv: Interval): IntervalJson => intervalJson(iv, 100, 2);

function flagJson(c: FlagStats) {
    return {
        n: c.n,
        flagged: c.flagged,
        flagged_pct: percent(c.flaggedShare),
        flagged_ci: shareCi(c.flagged, c.n),
        located: c.located,
        exact: c.exact,
        exact_pct: percent(c.exactShare),
        exact_ci: shareCi(c.exact, c.located),
        early: c.early,
        late: c.late,
    };
}

function fpJson(s: FalsePositiveStats) {
    return {groups: Object.fromEntries(FP_GROUPS.map((g) => [g, flagJson(s.groups[g])])), unknown: s.unknown};
}

function lowJson(s: LowestStepStats) {
    return {n: s.n, multi_step: s.multiStep, at_last: s.atLast, tied_last: s.tiedLast, single_step: s.singleStep, empty: s.empty, at_last_pct: percent(s.share), at_last_ci: shareCi(s.atLast, s.multiStep)};
}

function lowResultJson(r: LowestStepResult) {
    return {correctness: r.correctness, all: lowJson(r.all), correct: lowJson(r.correct), incorrect: lowJson(r.incorrect), unknown: r.unknown};
}

/** A paired comparison for JSON: ids, the difference in points with its interval, and its sentence. */
const pairedJson = (p: PairedAccuracy) => ({a: p.a, b: p.b, diff: pctCi(p.diff), sentence: differenceSentence(p.what, p.diff)});

/** The machine-readable summary (percent values, counts as integers). */
export function analyzeJson(result: AnalyzeResult, inputs: Record<string, unknown> = {}): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const fp = result.falsePositive;
    if (fp) out.false_positive = {threshold: fp.threshold, ...(fp.calibratedOn ? {calibrated_on: fp.calibratedOn} : {}), overall: fpJson(fp.overall), splits: Object.fromEntries(fp.splits.map((s) => [s.name, fpJson(s)]))};
    const low: Record<string, unknown> = {};
    const pb = result.lowestStep.processBench;
    if (pb) low.process_bench = {overall: lowResultJson(pb.overall), splits: Object.fromEntries(pb.splits.map((s) => [s.name, lowResultJson(s)]))};
    const cand = result.lowestStep.candidates;
    if (cand) low.candidates = {source: cand.source, ...lowResultJson(cand)};
    if (pb || cand) out.lowest_step = low;
    const ag = result.aggregations;
    if (ag)
        out.aggregations = {
            source: ag.source,
            n: ag.n,
            questions: ag.questions,
            rows: ag.rows.map((r) => ({id: r.id, label: r.label, accuracy: percent(r.accuracy), accuracy_ci: pctCi(r.interval)})),
            baselines: ag.baselines.map((r) => ({id: r.id, label: r.label, accuracy: percent(r.accuracy), accuracy_ci: pctCi(r.interval)})),
            paired: ag.paired.map(pairedJson),
            curve: bonSummary(ag.bon).methods,
        };
    const po = result.positions;
    if (po)
        out.positions = {
            n: po.n,
            questions: po.questions,
            candidates: po.candidates,
            aggregations: po.aggregations,
            schemes: Object.fromEntries(
                po.schemes.map((s) => [
                    s.scheme,
                    {
                        mean_steps: Math.round(s.meanSteps * 100) / 100,
                        mean_steps_ci: intervalJson(s.meanStepsInterval, 1, 2),
                        lowest_at_last_pct: percent(s.lowestStep.share),
                        lowest_at_last_ci: shareCi(s.lowestStep.atLast, s.lowestStep.multiStep),
                        accuracy: Object.fromEntries(po.aggregations.map((a) => [a, {accuracy: percent(s.accuracy[a]!.accuracy), accuracy_ci: pctCi(s.accuracy[a]!.interval)}])),
                    },
                ]),
            ),
            paired: po.paired.map(pairedJson),
            baselines: {first: percent(po.baselines.first), pass: percent(po.baselines.pass), maj: percent(po.baselines.maj)},
            grading: po.grading,
        };
    if (Object.keys(inputs).length) out.inputs = inputs;
    return out;
}

/** A share for tables: `75.00 (30.06–95.44; 3/4)`, the percent with its 95% Wilson interval and the counts; "—" when n = 0. */
function share(k: number, n: number): string {
    const iv = shareCi(k, n);
    return iv === null ? "—" : `${iv.value.toFixed(2)} (${iv.low.toFixed(2)}–${iv.high.toFixed(2)}; ${k}/${n})`;
}

/** The sentences of paired comparisons, as a Markdown list. */
const pairedLines = (ps: readonly PairedAccuracy[]) => ps.map((p) => `- ${differenceSentence(p.what, p.diff)}`);

function fpSection(result: AnalyzeResult): string[] {
    const fp = result.falsePositive;
    if (!fp) return [];
    const row = (name: string, s: FalsePositiveStats) =>
        FP_GROUPS.map((g) => {
            const c = s.groups[g];
            return [name, FP_GROUP_LABELS[g], String(c.n), share(c.flagged, c.n), g === "fully-correct" ? "—" : share(c.exact, c.located), c.located ? `${c.early} / ${c.late}` : "—"];
        });
    const rows = [...fp.splits.flatMap((s) => row(s.name, s)), ...(fp.splits.length > 1 ? row("**all**", fp.overall) : [])];
    return [
        "## (a) Right answer, wrong process: does the PRM flag the error?",
        "",
        `Flagged: some step scores below ${fp.threshold.toPrecision(6)}${fp.calibratedOn ? ` (the threshold maximising ProcessBench F1 on ${fp.calibratedOn})` : ""}. ` +
            "Exact: the first flagged step is the labelled first error. A PRM that behaves like an outcome model flags few right-answer-wrong-process solutions. " +
            "Percentages with a 95% Wilson interval (low–high) and the counts in parentheses.",
        "",
        markdownTable(["split", "group", "n", "flagged %", "flagged at the error %", "flagged early / late"], rows),
        "",
        ...(fp.overall.unknown ? [`In no group: ${plural(fp.overall.unknown, "sample")} with an error but no \`final_answer_correct\`.`, ""] : []),
    ];
}

function lowSection(result: AnalyzeResult): string[] {
    const {processBench: pb, candidates: cand} = result.lowestStep;
    if (!pb && !cand) return [];
    const rows: string[][] = [];
    const add = (name: string, r: LowestStepResult) => {
        for (const [what, s] of [["all", r.all], ["correct", r.correct], ["incorrect", r.incorrect]] as const)
            rows.push([name, what, String(s.n), share(s.atLast, s.multiStep), String(s.tiedLast), String(s.singleStep)]);
    };
    if (pb) {
        for (const s of pb.splits) add(s.name, s);
        if (pb.splits.length > 1) add("**ProcessBench, all**", pb.overall);
    }
    if (cand) add(`candidates (${cand.source})`, cand);
    return [
        "## (b) Where the lowest step score falls",
        "",
        "Share of solutions with ≥ 2 steps whose lowest score is at the last step (strictly lower than every earlier step; ties are counted apart). " +
            "The Qwen paper finds > 40% for PRMs tuned for Best-of-N. Percentages with a 95% Wilson interval (low–high) and the counts in parentheses.",
        ...(pb ? [`ProcessBench: correct = ${pb.overall.correctness}.`] : []),
        ...(cand ? [`Candidates: correct = ${cand.correctness}.`] : []),
        "",
        markdownTable(["solutions", "subset", "n", "lowest at last %", "last ties the min", "single-step"], rows),
        "",
    ];
}

function aggSection(result: AnalyzeResult, chart: string | null): string[] {
    const ag = result.aggregations;
    if (!ag) return [];
    return [
        "## (c) Best-of-N by step-score aggregation",
        "",
        `${plural(ag.questions, "question")} (${ag.source}); accuracy in percent at N = ${ag.n}, with a 95% Wilson interval over the questions (low–high).`,
        "",
        markdownTable(["method", `N=${ag.n}`], [...ag.rows, ...ag.baselines].map((r) => [r.label, intervalCell(pctCi(r.interval))])),
        "",
        ...(ag.paired.length ? [`Paired on the same ${plural(ag.questions, "question")} at N = ${ag.n} (95% paired bootstrap over the questions):`, "", ...pairedLines(ag.paired), ""] : []),
        ...(chart ? [`![Best-of-N by aggregation](${chart}.svg)`, ""] : []),
    ];
}

function posSection(result: AnalyzeResult, chart: string | null): string[] {
    const po = result.positions;
    if (!po) return [];
    const rows = po.schemes.map((s) => [
        s.scheme,
        intervalCell(s.meanStepsInterval),
        ...po.aggregations.map((a) => intervalCell(pctCi(s.accuracy[a]!.interval))),
        share(s.lowestStep.atLast, s.lowestStep.multiStep),
    ]);
    return [
        "## (d) Rating position: confidence vs random vs line-break positions",
        "",
        `The same PRM scores the same ${plural(po.candidates, "candidate")} of ${plural(po.questions, "question")} cut at decision tokens (adaptive), at random token boundaries ` +
            `(seeded per sample) and after line breaks; Best-of-N at N = ${po.n}. References at that N: pass@N ${pctCell(percent(po.baselines.pass))}, ` +
            `maj@N ${pctCell(percent(po.baselines.maj))}, a single sample ${pctCell(percent(po.baselines.first))}. AdaptiveStep reports the schemes close (BoN@64 90.45 vs 90.22). ` +
            "Steps per solution with a 95% bootstrap interval over the candidates; accuracies with a 95% Wilson interval over the questions; lowest at last with its Wilson interval and counts.",
        "",
        markdownTable(["positions", "steps / solution", ...po.aggregations.map((a) => `BoN (${a}) %`), "lowest at last %"], rows),
        "",
        ...(po.paired.length ? [`Paired on the same ${plural(po.questions, "question")} (95% paired bootstrap over the questions):`, "", ...pairedLines(po.paired), ""] : []),
        ...(chart ? [`![rating positions](${chart}.svg)`, ""] : []),
    ];
}

/** The Markdown report; `charts` names chart files (without extension) already written next to it. */
export function analyzeMarkdown(result: AnalyzeResult, charts: Partial<Record<"falsePositive" | "lowestStep" | "aggregations" | "positions", string>> = {}): string {
    const fig = (k: "falsePositive" | "lowestStep") => (charts[k] ? [`![${k}](${charts[k]}.svg)`, ""] : []);
    const body = [...fpSection(result), ...fig("falsePositive"), ...lowSection(result), ...fig("lowestStep"), ...aggSection(result, charts.aggregations ?? null), ...posSection(result, charts.positions ?? null)];
    return ["# PRM analysis", "", ...(body.length ? body : ["No analysis ran: give ProcessBench data with scores, a candidates file, or samples with a PRM.", ""])].join("\n");
}

/** Grouped bars of (a): share flagged and share flagged at the error, per group (all splits). */
export function falsePositiveChartSpec(result: AnalyzeResult): VegaLiteSpec | null {
    const fp = result.falsePositive;
    if (!fp) return null;
    const values = FP_GROUPS.flatMap((g) => {
        const c = fp.overall.groups[g];
        return [
            {group: FP_GROUP_LABELS[g], measure: "flagged", value: percent(c.flaggedShare)},
            {group: FP_GROUP_LABELS[g], measure: "flagged at the error", value: percent(c.exactShare)},
        ].filter((v) => v.value !== null);
    });
    const groups = FP_GROUPS.map((g) => FP_GROUP_LABELS[g]);
    return {
        title: `Does the PRM flag an error? (threshold ${fp.threshold.toPrecision(3)}, all splits)`,
        width: 420,
        height: 240,
        data: {values},
        mark: "bar",
        encoding: {
            x: {field: "group", type: "nominal", title: null, sort: groups, axis: {labelAngle: 0, labelLimit: 300}},
            xOffset: {field: "measure", sort: ["flagged", "flagged at the error"]},
            y: {field: "value", type: "quantitative", title: "percent of solutions", scale: {domain: [0, 100]}},
            color: {field: "measure", type: "nominal", sort: ["flagged", "flagged at the error"], title: null, legend: {labelLimit: 240}},
        },
    };
}

/** Bars of (b): share with the lowest score at the last step, all / correct / incorrect. */
export function lowestStepChartSpec(result: AnalyzeResult): VegaLiteSpec | null {
    const sets: Array<[string, LowestStepResult]> = [];
    const pb = result.lowestStep.processBench;
    if (pb) {
        for (const sp of pb.splits) sets.push([sp.name, sp]);
        if (pb.splits.length > 1) sets.push(["all splits", pb.overall]);
    }
    if (result.lowestStep.candidates) sets.push(["candidates", result.lowestStep.candidates]);
    if (sets.length === 0) return null;
    const values = sets.flatMap(([name, r]) =>
        (
            [
                ["all", r.all],
                ["correct", r.correct],
                ["incorrect", r.incorrect],
            ] as const
        )
            .filter(([, s]) => s.share !== null)
            .map(([what, s]) => ({set: name, subset: what, value: percent(s.share)})),
    );
    return {
        title: "Lowest step score at the last step",
        width: 520,
        height: 240,
        layer: [
            {
                data: {values},
                mark: "bar",
                encoding: {
                    x: {field: "set", type: "nominal", title: null, sort: sets.map(([name]) => name), axis: {labelAngle: 0}},
                    xOffset: {field: "subset", sort: ["all", "correct", "incorrect"]},
                    y: {field: "value", type: "quantitative", title: "percent of solutions (≥ 2 steps)", scale: {domain: [0, 100]}},
                    color: {field: "subset", type: "nominal", sort: ["all", "correct", "incorrect"], title: null},
                },
            },
            {data: {values: [{y: 40}]}, mark: {type: "rule", strokeDash: [4, 3], color: "#555"}, encoding: {y: {field: "y", type: "quantitative"}}},
        ],
    };
}

/** Grouped bars of (d): Best-of-N accuracy per position scheme and aggregation. */
export function positionsChartSpec(result: AnalyzeResult): VegaLiteSpec | null {
    const po = result.positions;
    if (!po) return null;
    const values = po.schemes.flatMap((s) => po.aggregations.map((a) => ({positions: s.scheme, aggregation: a, accuracy: percent(s.accuracy[a]!.accuracy)})));
    return {
        title: `Best-of-${po.n} by rating position (${po.questions} questions)`,
        width: 480,
        height: 260,
        data: {values},
        mark: "bar",
        encoding: {
            x: {field: "aggregation", type: "nominal", title: "aggregation", sort: po.aggregations, axis: {labelAngle: 0}},
            xOffset: {field: "positions", sort: po.schemes.map((s) => s.scheme)},
            y: {field: "accuracy", type: "quantitative", title: "accuracy (%)", scale: {domain: [0, 100]}},
            color: {field: "positions", type: "nominal", sort: po.schemes.map((s) => s.scheme), title: "positions"},
        },
    };
}

/** Write summary.json, report.md and the charts (SVG + PNG) into `outDir`; returns the files written. */
export async function writeAnalyzeReport(result: AnalyzeResult, outDir: string, inputs: Record<string, unknown> = {}): Promise<string[]> {
    mkdirSync(outDir, {recursive: true});
    const written: string[] = [];
    const charts: Partial<Record<"falsePositive" | "lowestStep" | "aggregations" | "positions", string>> = {};
    const draw = async (key: keyof typeof charts, spec: VegaLiteSpec | null, base: string) => {
        if (!spec) return;
        const f = await renderChart(spec, join(outDir, base));
        written.push(f.svg, f.png);
        charts[key] = base;
    };
    await draw("falsePositive", falsePositiveChartSpec(result), "false-positive");
    await draw("lowestStep", lowestStepChartSpec(result), "lowest-step");
    await draw("aggregations", result.aggregations ? bonChartSpec(bonSummary(result.aggregations.bon)) : null, "bon-aggregations");
    await draw("positions", positionsChartSpec(result), "rating-positions");
    const json = join(outDir, "summary.json");
    writeFileAtomic(json, JSON.stringify(analyzeJson(result, inputs), null, 2) + "\n");
    const md = join(outDir, "report.md");
    writeFileAtomic(md, analyzeMarkdown(result, charts));
    return [json, md, ...written];
}
