/**
 * The one statistics module: confidence intervals and a paired test, each result naming its method
 * so a report says how its numbers were made. Every interval is an {@link Interval}
 * `{value, low, high, n, method, level}`; bootstrap results add `resamples` and `seed`. Seeds are
 * fixed (default 0), so the same inputs give the same interval on every run and machine.
 *
 * - {@link wilsonInterval}: proportions (accuracy, pass@k, ProcessBench's acc_error/acc_correct).
 *   Unlike mean ± 1.96·sd/√n it does not collapse to a zero-width interval at 0/n or n/n
 *   (0/20 → [0, 0.1611]).
 * - {@link bootstrapInterval}: any statistic of n items (F1, ROC-AUC, …), percentile method;
 *   {@link bootstrapMean} for means.
 * - {@link pairedBootstrap}: the difference of two means on the same items (B − A), resampling items.
 * - {@link mcnemarExact}: exact two-sided McNemar test of two 0/1 outcomes on the same items.
 *
 * Imports nothing above src/util.
 */
import {FastRng} from "../util/rng.ts";

/** An estimate with its confidence interval. */
export interface Interval {
    /** The estimate on the full sample. */
    value: number;
    /** Interval bounds (same unit as `value`). */
    low: number;
    high: number;
    /** Items the estimate is computed over. */
    n: number;
    /** How the interval was made. */
    method: "wilson" | "bootstrap-percentile" | "paired-bootstrap-percentile";
    /** Confidence level, e.g. 0.95. */
    level: number;
    /** Bootstrap only: resamples used (those whose statistic is a number) and the seed. */
    resamples?: number;
    seed?: number;
}

export interface BootstrapOptions {
    /** Resamples. Default 2000. */
    resamples?: number;
    /** Seed of the resampling. Default 0. */
    seed?: number;
    /** Confidence level in (0, 1). Default 0.95. */
    level?: number;
    /**
     * Stratum of each item (any integers, length n): a resample then draws, for every position i,
     * an item of i's own stratum, so each stratum keeps its size (e.g. the splits of a benchmark,
     * averaged). Default: one stratum.
     */
    strata?: ArrayLike<number>;
}

const checkLevel = (level: number): void => {
    if (!(level > 0 && level < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${level}`);
};

/**
 * The standard normal quantile Φ⁻¹(p) for p in (0, 1) (Acklam's rational approximation, relative
 * error below 1.2e-9; Φ⁻¹(0.975) = 1.959964).
 */
export function normalQuantile(p: number): number {
    if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
    const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
    const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
    const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
    const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
    const lowTail = 0.02425;
    if (p < lowTail) {
        const q = Math.sqrt(-2 * Math.log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - lowTail) return -normalQuantile(1 - p);
    const q = p - 0.5;
    const r = q * q;
    return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Wilson score interval of a proportion `successes / n`.
 *
 * `successes` may be fractional: a mean of per-item fractions in [0, 1] (e.g. Best-of-N's
 * per-question accuracy over random subsets) is passed as `mean · n`. Values in [0, 1] with mean p
 * have variance at most p(1 − p), so the interval is then conservative.
 *
 * @returns `{value: successes/n, low, high, n, method: "wilson", level}`, bounds in [0, 1].
 * @throws RangeError when n < 1, successes is outside [0, n], or level is outside (0, 1).
 */
export function wilsonInterval(successes: number, n: number, level = 0.95): Interval {
    checkLevel(level);
    if (!(Number.isFinite(n) && n >= 1)) throw new RangeError(`wilsonInterval: n must be at least 1, got ${n}`);
    if (!(successes >= 0 && successes <= n)) throw new RangeError(`wilsonInterval: successes must be in [0, ${n}], got ${successes}`);
    const z = normalQuantile(1 - (1 - level) / 2);
    const p = successes / n;
    const z2 = z * z;
    const denom = 1 + z2 / n;
    const center = (p + z2 / (2 * n)) / denom;
    const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
    // At 0/n and n/n the exact bound is 0 (1); floating point leaves ~1e-17.
    const low = successes === 0 ? 0 : Math.max(0, center - half);
    const high = successes === n ? 1 : Math.min(1, center + half);
    return {value: p, low, high, n, method: "wilson", level};
}

/** The q-quantile (0..1) of sorted values, linear interpolation between order statistics (NumPy's default). */
function quantileSorted(sorted: Float64Array, q: number): number {
    const h = (sorted.length - 1) * q;
    const lo = Math.floor(h);
    const hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Percentile bootstrap interval of any statistic of n items: `statistic` receives the item
 * indices of one resample (n indices drawn with replacement; the identity for the estimate
 * itself) and returns a number; with `strata`, each position draws within its item's stratum.
 * Resamples whose statistic is NaN (e.g. ROC-AUC of a resample
 * with one class only) are left out and `resamples` counts those kept.
 *
 * @returns `{value, low, high, n, method: "bootstrap-percentile", level, resamples, seed}`.
 * @throws RangeError when n < 1, resamples < 1, level is outside (0, 1), or no resample gives a number.
 */
export function bootstrapInterval(n: number, statistic: (indices: Int32Array) => number, options: BootstrapOptions = {}): Interval {
    const {resamples, seed, level} = bootstrapSettings(options);
    if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`bootstrap: needs at least one item, got ${n}`);
    const value = statistic(Int32Array.from({length: n}, (_, i) => i));
    const rng = new FastRng(seed, "bootstrap");
    const idx = new Int32Array(n);
    const stats = new Float64Array(resamples);
    const members = stratumMembers(n, options.strata);
    let kept = 0;
    for (let r = 0; r < resamples; r++) {
        if (members) for (let i = 0; i < n; i++) idx[i] = members[i][rng.below(members[i].length)];
        else for (let i = 0; i < n; i++) idx[i] = rng.below(n);
        const s = statistic(idx);
        if (s === s) stats[kept++] = s;
    }
    if (kept === 0) throw new RangeError("bootstrap: the statistic is NaN on every resample");
    const sorted = stats.subarray(0, kept).sort();
    const alpha = 1 - level;
    return {value, low: quantileSorted(sorted, alpha / 2), high: quantileSorted(sorted, 1 - alpha / 2), n, method: "bootstrap-percentile", level, resamples: kept, seed};
}

/** For each item, the items of its stratum (shared arrays), or null for one stratum. */
function stratumMembers(n: number, strata: ArrayLike<number> | undefined): Int32Array[] | null {
    if (strata === undefined) return null;
    if (strata.length !== n) throw new RangeError(`bootstrap: ${strata.length} strata for ${n} items`);
    const groups = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
        const g = groups.get(strata[i]);
        if (g) g.push(i);
        else groups.set(strata[i], [i]);
    }
    const arrays = new Map([...groups].map(([k, v]) => [k, Int32Array.from(v)]));
    return Array.from({length: n}, (_, i) => arrays.get(strata[i])!);
}

function bootstrapSettings(o: BootstrapOptions): {resamples: number; seed: number; level: number} {
    const resamples = o.resamples ?? 2000;
    if (!(Number.isInteger(resamples) && resamples >= 1)) throw new RangeError(`bootstrap: resamples must be a positive integer, got ${resamples}`);
    const level = o.level ?? 0.95;
    checkLevel(level);
    return {resamples, seed: o.seed ?? 0, level};
}

/** Percentile bootstrap interval of the mean of `values` (see {@link bootstrapInterval}). */
export function bootstrapMean(values: ArrayLike<number>, options: BootstrapOptions = {}): Interval {
    return bootstrapInterval(
        values.length,
        (idx) => {
            let s = 0;
            for (let k = 0; k < idx.length; k++) s += values[idx[k]];
            return s / idx.length;
        },
        options,
    );
}

/**
 * Paired percentile bootstrap of the difference of means, mean(b) − mean(a), where `a[i]` and
 * `b[i]` are two methods' outcomes on the same item i; items are resampled, keeping pairs together.
 *
 * @returns `{value, low, high, n, method: "paired-bootstrap-percentile", level, resamples, seed}` (may be negative).
 * @throws RangeError when the arrays differ in length or are empty.
 */
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, options: BootstrapOptions = {}): Interval {
    if (a.length !== b.length) throw new RangeError(`paired bootstrap: ${a.length} outcomes for A but ${b.length} for B`);
    const r = bootstrapInterval(
        a.length,
        (idx) => {
            let s = 0;
            for (let k = 0; k < idx.length; k++) s += b[idx[k]] - a[idx[k]];
            return s / idx.length;
        },
        options,
    );
    return {...r, method: "paired-bootstrap-percentile"};
}

/** Result of {@link mcnemarExact}. */
export interface McNemarResult {
    /** Two-sided p-value. */
    value: number;
    /** Paired items. */
    n: number;
    /** Items only A got right / only B got right (the discordant pairs). */
    a_only: number;
    b_only: number;
    method: "mcnemar-exact";
}

/**
 * Exact (binomial) two-sided McNemar test of two 0/1 outcomes on the same items: under the null,
 * the discordant pairs split Binomial(a_only + b_only, 1/2); p = min(1, 2·P(X ≤ min(a_only, b_only))),
 * and 1 when there is no discordant pair.
 *
 * @throws RangeError when the arrays differ in length.
 */
export function mcnemarExact(a: ArrayLike<number | boolean>, b: ArrayLike<number | boolean>): McNemarResult {
    if (a.length !== b.length) throw new RangeError(`McNemar: ${a.length} outcomes for A but ${b.length} for B`);
    let aOnly = 0;
    let bOnly = 0;
    for (let i = 0; i < a.length; i++) {
        if (a[i] && !b[i]) aOnly++;
        else if (b[i] && !a[i]) bOnly++;
    }
    const m = aOnly + bOnly;
    const k = Math.min(aOnly, bOnly);
    // P(X ≤ k) for X ~ Binomial(m, 1/2), summed in log space (m may be large).
    let logC = 0; // log C(m, 0)
    let tail = 0;
    for (let i = 0; i <= k; i++) {
        if (i > 0) logC += Math.log(m - i + 1) - Math.log(i);
        tail += Math.exp(logC - m * Math.LN2);
    }
    return {value: m === 0 ? 1 : Math.min(1, 2 * tail), n: a.length, a_only: aOnly, b_only: bOnly, method: "mcnemar-exact"};
}

/** An {@link Interval} as quoted in `--json` outputs and summary files: `{value, low, high, n, method, level}`. */
export interface IntervalJson {
    value: number;
    low: number;
    high: number;
    n: number;
    method: Interval["method"];
    level: number;
}

/**
 * An interval for JSON: value and bounds multiplied by `scale` (100 for percent, 1 for fractions
 * and AUCs) and rounded to `digits` decimals; bootstrap bookkeeping (resamples, seed) left out.
 */
export function intervalJson(iv: Interval, scale = 1, digits = 4): IntervalJson {
    const r = (x: number): number => Math.round(x * scale * 10 ** digits) / 10 ** digits;
    return {value: r(iv.value), low: r(iv.low), high: r(iv.high), n: iv.n, method: iv.method, level: iv.level};
}

/** Options of {@link formatInterval} and {@link differenceSentence}. */
export interface FormatOptions {
    /** Multiply by this (100: fractions shown as percent / points). Default 100. */
    scale?: number;
    /** Decimals. Default 1. */
    digits?: number;
    /** Unit after the value: "%" (default for formatInterval), "points" (default for differences) or "" (AUC). */
    unit?: string;
}

/** A signed number with a true minus sign; no sign when it rounds to 0. */
const signed = (x: number, digits: number): string => {
    const a = Math.abs(x).toFixed(digits);
    return (Number(a) === 0 ? "" : x > 0 ? "+" : "−") + a;
};

/**
 * One quoted figure: `72.5% (95% CI 61.0–82.1, n 40)`; with unit "" (e.g. an AUC, scale 1,
 * digits 3): `0.812 (95% CI 0.771–0.850, n 1,204)`.
 */
export function formatInterval(iv: Interval | IntervalJson, o: FormatOptions = {}): string {
    const scale = o.scale ?? 100;
    const digits = o.digits ?? 1;
    const unit = o.unit ?? "%";
    const f = (x: number): string => (x * scale).toFixed(digits);
    const sep = unit === "%" || unit === "" ? "" : " ";
    return `${f(iv.value)}${sep}${unit} (${Math.round(iv.level * 100)}% CI ${f(iv.low)}–${f(iv.high)}, n ${iv.n.toLocaleString("en-US")})`;
}

/**
 * The plain sentence of a paired difference B − A (an interval of a difference, e.g. from
 * {@link pairedBootstrap}): `Best-of-N − maj@N: +2.5 points; the difference is not significant at
 * 95%: interval −3.1 to +8.2 points, n 40` — "significant" exactly when the interval excludes 0.
 * `what` names the difference ("TVD − greedy").
 */
export function differenceSentence(what: string, d: Interval | IntervalJson, o: FormatOptions = {}): string {
    const scale = o.scale ?? 100;
    const digits = o.digits ?? 1;
    const unit = o.unit ?? "points";
    const u = unit ? ` ${unit}` : "";
    const significant = d.low > 0 || d.high < 0;
    const level = `${Math.round(d.level * 100)}%`;
    return (
        `${what}: ${signed(d.value * scale, digits)}${u}; the difference is ${significant ? "" : "not "}significant at ${level}: ` +
        `interval ${signed(d.low * scale, digits)} to ${signed(d.high * scale, digits)}${u}, n ${d.n.toLocaleString("en-US")}`
    );
}
