/**
 * Step statistics (`stepwise stats`): for one or more steps files (StepsRecord JSONL, e.g. the
 * same samples split adaptively and on line breaks), the distributions of steps per sample,
 * tokens per step and tokens per sample (AdaptiveStep, Figure 6), and — when the samples file is
 * given, since token texts and confidences live there — what kinds of tokens the decision tokens
 * are compared with all tokens (AdaptiveStep, Tables 7–10; categories in categories.ts).
 *
 * Decision tokens: for an adaptive file (records carry τ), the tokens with confidence < τ, as
 * the paper counts them; for any other strategy, the token that ends each step except the
 * sample's last step (the places a rule-based splitter cuts).
 *
 * Memory: per steps file, the step ends of every record (4 bytes per step) and one number per
 * step for the distributions; the samples file is streamed.
 */
import {basename} from "node:path";
import {StepwiseError} from "../../util/errors.ts";
import {readRecords, StepsRecordSchema} from "../../core/schemas.ts";
import {readSamples} from "../split/io.ts";
import {decisionCuts, tokenOffsets} from "../../steps/index.ts";
import {categoryScheme, classifyTokens, type CodeLanguage} from "../../domains/categories.ts";

export * from "../../domains/categories.ts";

/** A category table name: "math", "code", "code-c-like", or one added with registerCategoryScheme. */
export type StatsDomain = string;

/** Summary of a list of counts. */
export interface Distribution {
    count: number;
    mean: number;
    median: number;
    p10: number;
    p90: number;
    min: number;
    max: number;
}

export interface CategoryRow {
    category: string;
    /** Tokens of this category, and their share of all tokens. */
    tokens: number;
    token_share: number;
    /** Decision tokens of this category, and their share of all decision tokens. */
    decision: number;
    decision_share: number;
}

export interface CategoryTable {
    domain: StatsDomain;
    /** Samples of the steps file found in the samples file. */
    matched_samples: number;
    tokens: number;
    decision: number;
    rows: CategoryRow[];
}

export interface StrategyStats {
    /** Column name: the strategy (with the file name when two files share a strategy). */
    label: string;
    file: string;
    strategy: string;
    tau?: number;
    samples: number;
    steps: number;
    tokens: number;
    steps_per_sample: Distribution;
    tokens_per_step: Distribution;
    tokens_per_sample: Distribution;
    decision_rule: "confidence < tau" | "step ends";
    categories?: CategoryTable;
}

export interface StatsReport {
    domain: StatsDomain;
    samples_file?: string;
    strategies: StrategyStats[];
}

/** The raw per-sample / per-step numbers behind the distributions (for plots). */
export interface StatsSeries {
    label: string;
    stepsPerSample: number[];
    tokensPerStep: number[];
    tokensPerSample: number[];
}

export interface StatsOptions {
    /** Steps files (StepsRecord JSONL), compared side by side. */
    steps: string[];
    /** The samples file they were split from: enables the token-category table. */
    samples?: string;
    /** Category table (see categories.ts). Default math. */
    domain?: StatsDomain;
    /** Comment syntax for the built-in code table: python (default) or c-like (same as domain "code-c-like"). */
    language?: CodeLanguage;
}

/** Summary statistics of counts (nearest-rank percentiles). */
export function distribution(values: readonly number[]): Distribution {
    if (values.length === 0) return {count: 0, mean: 0, median: 0, p10: 0, p90: 0, min: 0, max: 0};
    const sorted = Float64Array.from(values).sort();
    const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
    let sum = 0;
    for (const v of sorted) sum += v;
    return {count: sorted.length, mean: sum / sorted.length, median: at(0.5), p10: at(0.1), p90: at(0.9), min: sorted[0], max: sorted[sorted.length - 1]};
}

interface FileState {
    stats: StrategyStats;
    series: StatsSeries;
    /** Per record: τ, and the token ends of its steps. */
    records: Map<string, {ends: Int32Array; where: string}>;
    counts?: {all: Float64Array; decision: Float64Array; matched: number};
}

async function readStepsFile(file: string): Promise<FileState> {
    const records = new Map<string, {ends: Int32Array; where: string}>();
    const stepsPerSample: number[] = [];
    const tokensPerStep: number[] = [];
    const tokensPerSample: number[] = [];
    let strategy: string | undefined;
    let tau: number | undefined;
    let steps = 0;
    let tokens = 0;
    for await (const {record: r, where} of readRecords(file, StepsRecordSchema)) {
        if (strategy === undefined) {
            strategy = r.strategy;
            tau = r.tau;
        } else if (r.strategy !== strategy || r.tau !== tau) {
            throw new StepwiseError(`${where}: field "strategy": "${r.strategy}" (τ ${r.tau}) differs from the file's first record ("${strategy}", τ ${tau})`);
        }
        if (records.has(r.id)) throw new StepwiseError(`${where}: field "id": duplicate id "${r.id}"`);
        const ends = new Int32Array(r.steps.length);
        let prev = 0;
        r.steps.forEach(({token_start: start, token_end: end}, i) => {
            if (start === undefined || end === undefined || start !== prev || end <= start)
                throw new StepwiseError(`${where}: field "steps[${i}]": token spans must tile the tokens (token_start ${start}, token_end ${end})`);
            ends[i] = end;
            tokensPerStep.push(end - start);
            prev = end;
        });
        records.set(r.id, {ends, where});
        stepsPerSample.push(r.steps.length);
        tokensPerSample.push(prev);
        steps += r.steps.length;
        tokens += prev;
    }
    if (strategy === undefined) throw new StepwiseError(`${file}: no records`);
    const stats: StrategyStats = {
        label: strategy,
        file,
        strategy,
        ...(tau !== undefined ? {tau} : {}),
        samples: records.size,
        steps,
        tokens,
        steps_per_sample: distribution(stepsPerSample),
        tokens_per_step: distribution(tokensPerStep),
        tokens_per_sample: distribution(tokensPerSample),
        decision_rule: tau !== undefined ? "confidence < tau" : "step ends",
    };
    return {stats, series: {label: strategy, stepsPerSample, tokensPerStep, tokensPerSample}, records};
}

/** Compute the statistics of one or more steps files (see the module docs). */
export async function computeStats(o: StatsOptions): Promise<{report: StatsReport; series: StatsSeries[]}> {
    if (o.steps.length === 0) throw new StepwiseError("stats: give at least one steps file");
    const domain = o.domain === "code" && o.language === "c-like" ? "code-c-like" : (o.domain ?? "math");
    const scheme = (() => {
        try {
            return categoryScheme(domain);
        } catch (e) {
            throw new StepwiseError(`stats: ${(e as Error).message}`);
        }
    })();
    const files: FileState[] = [];
    for (const f of o.steps) files.push(await readStepsFile(f));
    // Unique column labels.
    for (const f of files) {
        if (files.filter((g) => g.stats.label === f.stats.label).length > 1) f.stats.label = `${f.stats.strategy} (${basename(f.stats.file)})`;
        f.series.label = f.stats.label;
    }
    if (o.samples) {
        const cats: readonly string[] = scheme.categories;
        const index = new Map(cats.map((c, i) => [c, i]));
        for (const f of files) f.counts = {all: new Float64Array(cats.length), decision: new Float64Array(cats.length), matched: 0};
        for await (const {record: s, line} of readSamples(o.samples)) {
            const users = files.filter((f) => f.records.has(s.id));
            if (users.length === 0) continue;
            const offsets = tokenOffsets(s.tokens);
            const catIdx = classifyTokens(scheme, s.text, offsets).map((c) => index.get(c) ?? index.get("other")!);
            for (const f of users) {
                const {ends, where} = f.records.get(s.id)!;
                const T = ends.length ? ends[ends.length - 1] : 0;
                if (T !== s.tokens.length)
                    throw new StepwiseError(`${where}: record "${s.id}" covers ${T} tokens but the sample at ${o.samples}:${line} has ${s.tokens.length}`);
                const c = f.counts!;
                c.matched++;
                for (const k of catIdx) c.all[k]++;
                if (f.stats.tau !== undefined) {
                    // The decision tokens by the splitter's own rule (src/steps), as `stepwise split` found them.
                    for (const e of decisionCuts(s.tokens, f.stats.tau)) c.decision[catIdx[e - 1]]++;
                } else {
                    for (let i = 0; i + 1 < ends.length; i++) c.decision[catIdx[ends[i] - 1]]++;
                }
            }
        }
        for (const f of files) {
            const c = f.counts!;
            const tokens = c.all.reduce((a, b) => a + b, 0);
            const decision = c.decision.reduce((a, b) => a + b, 0);
            f.stats.categories = {
                domain,
                matched_samples: c.matched,
                tokens,
                decision,
                rows: cats.map((category, i) => ({
                    category,
                    tokens: c.all[i],
                    token_share: tokens ? c.all[i] / tokens : 0,
                    decision: c.decision[i],
                    decision_share: decision ? c.decision[i] / decision : 0,
                })),
            };
        }
    }
    return {report: {domain, ...(o.samples ? {samples_file: o.samples} : {}), strategies: files.map((f) => f.stats)}, series: files.map((f) => f.series)};
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
const num = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2));
const dist = (d: Distribution): string => `${num(d.mean)} (${num(d.median)}; ${num(d.p10)}–${num(d.p90)})`;

/** The report as Markdown: a length table, and the category table when there is one. */
export function statsMarkdown(report: StatsReport): string {
    const S = report.strategies;
    const row = (cells: string[]): string => `| ${cells.join(" | ")} |`;
    const lines: string[] = ["# Step statistics", ""];
    lines.push(row(["", ...S.map((s) => s.label)]), row(["---", ...S.map(() => "---:")]));
    lines.push(row(["file", ...S.map((s) => `\`${basename(s.file)}\``)]));
    lines.push(row(["τ", ...S.map((s) => (s.tau !== undefined ? s.tau.toPrecision(4) : "–"))]));
    lines.push(row(["samples", ...S.map((s) => String(s.samples))]));
    lines.push(row(["steps", ...S.map((s) => String(s.steps))]));
    lines.push(row(["steps per sample: mean (median; p10–p90)", ...S.map((s) => dist(s.steps_per_sample))]));
    lines.push(row(["tokens per step: mean (median; p10–p90)", ...S.map((s) => dist(s.tokens_per_step))]));
    lines.push(row(["tokens per sample: mean (median; p10–p90)", ...S.map((s) => dist(s.tokens_per_sample))]));
    const withCats = S.filter((s) => s.categories);
    if (withCats.length) {
        const sameBase = withCats.every((s) => s.categories!.rows.every((r, i) => r.tokens === withCats[0].categories!.rows[i].tokens));
        lines.push("", `## Token categories (${report.domain})`, "");
        lines.push(
            "Share of all tokens vs share of decision tokens per category. Decision tokens: " +
                withCats.map((s) => `${s.label}: ${s.decision_rule === "confidence < tau" ? "tokens with confidence < τ" : "the last token of each step but the last"} (${s.categories!.decision})`).join("; ") +
                ".",
            "",
        );
        const head = sameBase ? ["category", "all tokens", ...withCats.map((s) => s.label)] : ["category", ...withCats.flatMap((s) => [`all tokens (${s.label})`, s.label])];
        lines.push(row(head), row(["---", ...head.slice(1).map(() => "---:")]));
        withCats[0].categories!.rows.forEach((r, i) => {
            const cells = sameBase
                ? [pct(r.token_share), ...withCats.map((s) => pct(s.categories!.rows[i].decision_share))]
                : withCats.flatMap((s) => [pct(s.categories!.rows[i].token_share), pct(s.categories!.rows[i].decision_share)]);
            lines.push(row([r.category, ...cells]));
        });
        lines.push(row(["tokens", ...(sameBase ? [String(withCats[0].categories!.tokens), ...withCats.map((s) => String(s.categories!.decision))] : withCats.flatMap((s) => [String(s.categories!.tokens), String(s.categories!.decision)]))]));
    }
    return lines.join("\n") + "\n";
}
