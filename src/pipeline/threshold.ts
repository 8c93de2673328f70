/**
 * Threshold stage (AdaptiveStep): pool the confidences of every sampled token and take τ at a
 * low quantile, so that about `quantile` of the tokens (2% for math in the paper) fall below it
 * and become decision tokens.
 *
 * ## Memory and precision
 * Confidences go into a fixed-size log-scale histogram (a quantile sketch), never into a list, so
 * a file of tens of millions of tokens is read in one streaming pass with constant memory:
 * 83,969 buckets (≈ 0.7 MB). A bucket is a range of float64 values sharing their exponent and
 * top 11 mantissa bits, so every bucket is [x, x·(1 + 2⁻¹¹)) — a relative width of 0.05% —
 * for confidences down to 2⁻⁴⁰ (smaller ones share one bucket [0, 2⁻⁴⁰)).
 *
 * ## How τ is chosen
 * τ is the smallest bucket edge with at least ⌈quantile·N⌉ tokens below it. Bucket edges are
 * exact float64 numbers and a value's bucket is read from its bits, so the reported count and
 * share of tokens with confidence < τ are exact (the very rule `stepwise split` applies), and
 * are ≥ the requested quantile by at most one bucket's tokens. τ is within 0.05% (relative) of
 * the exact order statistic. Other reported quantiles are bucket midpoints (same precision).
 */
import {StepwiseError} from "../util/errors.ts";
import type {HistogramBin} from "../report/plot.ts";
import type {SampleRecord} from "../core/records.ts";
import {readRecords, SampleConfidencesSchema} from "../core/schemas.ts";
import {readTextFile} from "../io/text.ts";
import {renderChart, histogramSpec} from "../report/plot.ts";
import {plural} from "../util/plural.ts";
import {DOMAIN_QUANTILES, type ThresholdDomain} from "./threshold-presets.ts";

/** Quantile presets per domain (AdaptiveStep; defined in ./threshold-presets.ts). */
export {DOMAIN_QUANTILES, type ThresholdDomain};

/** Quantiles reported in the summary besides τ. */
export const REPORTED_QUANTILES = [0.001, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99] as const;

export interface ThresholdSummary {
    /** The threshold: tokens with confidence < tau are decision tokens. */
    tau: number;
    /** The requested quantile. */
    quantile: number;
    domain?: string;
    /** Tokens and samples pooled. */
    tokens: number;
    samples: number;
    /** Tokens with confidence < tau, and their share of all tokens (exact). */
    below_tau: number;
    share_below_tau: number;
    mean: number;
    min: number;
    max: number;
    /** Confidence at each of REPORTED_QUANTILES (keys like "0.02"). */
    quantiles: Record<string, number>;
    /** Equal-width histogram of confidences on [0, 1]. */
    histogram: HistogramBin[];
    /** How the quantiles were computed. */
    sketch: {buckets: number; relative_width: number; min_resolved: number};
}

const MANTISSA_BITS = 11;
const PER_OCTAVE = 1 << MANTISSA_BITS;
const MIN_EXPONENT = -40;
const OCTAVES = 1 - MIN_EXPONENT; // exponents -40..0
const BUCKETS = 1 + OCTAVES * PER_OCTAVE;
const MIN_RESOLVED = 2 ** MIN_EXPONENT;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // high word index (little-endian: 1)

function bucketOf(v: number): number {
    if (!(v >= MIN_RESOLVED)) return 0;
    if (v >= 1) return BUCKETS - 1;
    f64[0] = v;
    const hi = u32[HI];
    const exponent = ((hi >>> 20) & 0x7ff) - 1023;
    const mantissa = (hi >>> (20 - MANTISSA_BITS)) & (PER_OCTAVE - 1);
    return 1 + (exponent - MIN_EXPONENT) * PER_OCTAVE + mantissa;
}

/** Lower edge of a bucket (exact); the edge of bucket BUCKETS is 1 + 2⁻¹¹. */
function bucketLow(b: number): number {
    if (b <= 0) return 0;
    const k = b - 1;
    const exponent = Math.floor(k / PER_OCTAVE) + MIN_EXPONENT;
    return 2 ** exponent * (1 + (k % PER_OCTAVE) / PER_OCTAVE);
}

/**
 * Streaming accumulator of confidences (constant memory, see the module docs). Add tokens or
 * samples, then call {@link summary}.
 */
export class ConfidenceSketch {
    private counts = new Float64Array(BUCKETS);
    private bins: Float64Array;
    private n = 0;
    private sum = 0;
    private lo = Infinity;
    private hi = -Infinity;
    samples = 0;

    constructor(readonly histogramBins = 50) {
        this.bins = new Float64Array(histogramBins);
    }

    get tokens(): number {
        return this.n;
    }

    /** Add one confidence (values above 1 by rounding count as 1). Throws on NaN or negatives. */
    add(c: number): void {
        if (!(c >= 0)) throw new StepwiseError(`threshold: confidence must be a number ≥ 0, got ${c}`);
        const v = Math.min(c, 1);
        this.counts[bucketOf(v)]++;
        this.bins[Math.min(this.histogramBins - 1, Math.floor(v * this.histogramBins))]++;
        this.n++;
        this.sum += v;
        if (v < this.lo) this.lo = v;
        if (v > this.hi) this.hi = v;
    }

    addSample(s: Pick<SampleRecord, "tokens">): void {
        for (const t of s.tokens) this.add(t.confidence);
        this.samples++;
    }

    /** Smallest bucket index whose cumulative count reaches k (k ≥ 1). */
    private bucketOfRank(k: number): {bucket: number; below: number} {
        let cum = 0;
        for (let b = 0; b < BUCKETS; b++) {
            cum += this.counts[b];
            if (cum >= k) return {bucket: b, below: cum};
        }
        return {bucket: BUCKETS - 1, below: cum};
    }

    /** The value at quantile p: midpoint of the bucket holding the ⌈p·N⌉-th smallest, clamped to [min, max]. */
    quantileValue(p: number): number {
        if (this.n === 0) return NaN;
        const {bucket} = this.bucketOfRank(Math.max(1, Math.ceil(p * this.n)));
        const mid = (bucketLow(bucket) + bucketLow(bucket + 1)) / 2;
        return Math.min(this.hi, Math.max(this.lo, mid));
    }

    /** τ for a quantile, and the exact number of tokens below it. */
    tau(quantile: number): {tau: number; below: number} {
        if (this.n === 0) throw new StepwiseError("threshold: no tokens to pool (empty samples?)");
        const {bucket, below} = this.bucketOfRank(Math.max(1, Math.ceil(quantile * this.n)));
        return {tau: bucketLow(bucket + 1), below};
    }

    summary(quantile: number, domain?: string): ThresholdSummary {
        checkQuantile(quantile);
        const {tau, below} = this.tau(quantile);
        const quantiles: Record<string, number> = {};
        for (const p of REPORTED_QUANTILES) quantiles[String(p)] = this.quantileValue(p);
        return {
            tau,
            quantile,
            ...(domain ? {domain} : {}),
            tokens: this.n,
            samples: this.samples,
            below_tau: below,
            share_below_tau: below / this.n,
            mean: this.sum / this.n,
            min: this.lo,
            max: this.hi,
            quantiles,
            histogram: Array.from(this.bins, (count, i) => ({start: i / this.histogramBins, end: (i + 1) / this.histogramBins, count})),
            sketch: {buckets: BUCKETS, relative_width: 1 / PER_OCTAVE, min_resolved: MIN_RESOLVED},
        };
    }
}

function checkQuantile(q: number): void {
    if (!(q > 0 && q < 1)) throw new StepwiseError(`threshold: quantile must be in (0, 1), got ${q}`);
}

export interface ThresholdOptions {
    /** Share of tokens that should fall below τ, in (0, 1). Default: the domain's preset (math 2%, code 1.4%). */
    quantile?: number;
    domain?: ThresholdDomain;
    /** Equal-width histogram bins in the summary. Default 50. */
    bins?: number;
}

function resolveQuantile(o: ThresholdOptions): number {
    const q = o.quantile ?? DOMAIN_QUANTILES[o.domain ?? "math"];
    checkQuantile(q);
    return q;
}

/**
 * τ and the distribution summary of pooled confidences. `input` yields SampleRecords (their
 * tokens' confidences are pooled) or bare confidences.
 */
export function computeThreshold(input: Iterable<Pick<SampleRecord, "tokens"> | number>, o: ThresholdOptions = {}): ThresholdSummary {
    const q = resolveQuantile(o);
    const sketch = new ConfidenceSketch(o.bins);
    for (const x of input) {
        if (typeof x === "number") sketch.add(x);
        else sketch.addSample(x);
    }
    return sketch.summary(q, o.domain);
}

/** {@link computeThreshold} over a SampleRecord JSONL file, streamed (records are checked; errors name file:line). */
export async function thresholdFromFile(file: string, o: ThresholdOptions & {onProgress?: (samples: number) => void} = {}): Promise<ThresholdSummary> {
    const q = resolveQuantile(o);
    const sketch = new ConfidenceSketch(o.bins);
    const seen = new Map<string, number>();
    for await (const {record, line} of readRecords(file, SampleConfidencesSchema)) {
        const prev = seen.get(record.id);
        if (prev !== undefined) throw new StepwiseError(`${file}:${line}: field "id": duplicate sample id "${record.id}" (also on line ${prev}); its tokens would be counted twice`);
        seen.set(record.id, line);
        sketch.addSample(record);
        if (sketch.samples % 1000 === 0) o.onProgress?.(sketch.samples);
    }
    if (sketch.tokens === 0) throw new StepwiseError(`${file}: no tokens to pool`);
    return sketch.summary(q, o.domain);
}

/** Read τ from a file written by `stepwise threshold` (its "tau" field). */
export function readThresholdFile(file: string): number {
    let value: unknown;
    try {
        value = JSON.parse(readTextFile(file));
    } catch (e) {
        throw new StepwiseError(`${file}: cannot read a threshold file (${(e as Error).message.split("\n")[0]})`);
    }
    const tau = (value as {tau?: unknown} | null)?.tau;
    if (typeof tau !== "number" || !Number.isFinite(tau) || tau < 0 || tau > 2)
        throw new StepwiseError(`${file}: field "tau": expected a number in [0, 1] (a file written by \`stepwise threshold\`), got ${JSON.stringify(tau)}`);
    return tau;
}

/** The confidence histogram with τ marked (`<base>.svg` and `<base>.png`). */
export async function plotThreshold(summary: ThresholdSummary, base: string): Promise<{svg: string; png: string}> {
    return renderChart(
        histogramSpec(summary.histogram, {
            title: `Token confidence: ${plural(summary.tokens, "token")}, τ = ${summary.tau.toPrecision(3)} (${(100 * summary.share_below_tau).toFixed(2)}% below)`,
            xTitle: "confidence p(token | prefix)",
            rules: [{x: summary.tau, label: `τ = ${summary.tau.toPrecision(3)}`}],
            logY: true,
        }),
        base,
    );
}
