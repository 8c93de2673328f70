/**
 * The decision-token test: when is a token's probability p "below τ"?
 *
 * Two named comparisons ({@link Cutoff}):
 * - `"raw"`: p < τ, on the probability as recorded. What `stepwise split`, `threshold` and
 *   `stats` use, and what AdaptiveStep's training-data split does.
 * - `"percent2"`: the released TVD code (Lux0926/ASPRM `evaluation/{math,code}/TVD/detector.py`):
 *   `confidence = np.round(np.exp(logp) * 100, 2)` then `confidence < threshold`, with the
 *   threshold in percent (55 for math, 28 for code). numpy rounds to two decimals as
 *   `rint(x * 100) / 100` with round-half-to-even, so here p is a decision when
 *   `rint((p·100)·100) / 100 < T`, T = 100·τ read to 15 significant digits (τ = 0.55 is exactly
 *   the reference's 55, not 55.00000000000001). At τ = 0.55: p = 0.5499 → 54.99, a decision;
 *   p = 0.54995 → 5499.5 → 5500 (half to even) → 55.0, not one; p = 0.54996 → 55.0, not one.
 *
 * Both tests are monotone in p, so each is "p < b" for one bound b ({@link decisionBound}): the
 * number engines get as `stopBelowConfidence`, and the one every splitter compares with.
 */

/** How a probability is compared with τ (see the module docs). */
export type Cutoff = "raw" | "percent2";

export const CUTOFFS: readonly Cutoff[] = ["raw", "percent2"];

/** numpy's `rint`: round to the nearest integer, halves to the even neighbour. */
function rintHalfEven(x: number): number {
    const f = Math.floor(x);
    const d = x - f;
    if (d > 0.5) return f + 1;
    if (d < 0.5) return f;
    return f % 2 === 0 ? f : f + 1;
}

/** Whether a token of probability p is a decision token at τ under `cutoff` (default raw). */
export function isDecision(p: number, tau: number, cutoff: Cutoff = "raw"): boolean {
    if (cutoff === "raw") return p < tau;
    const percentTau = Number((100 * tau).toPrecision(15));
    return rintHalfEven(p * 100 * 100) / 100 < percentTau;
}

const bounds = new Map<string, number>();

/**
 * The bound b with `isDecision(p, tau, cutoff) ⇔ p < b` for every p ≥ 0: τ itself for `"raw"`,
 * the smallest double that is not a decision for `"percent2"` (about 0.549949999… at τ = 0.55).
 */
export function decisionBound(tau: number, cutoff: Cutoff = "raw"): number {
    if (cutoff === "raw") return tau;
    const key = `${cutoff}:${tau}`;
    const known = bounds.get(key);
    if (known !== undefined) return known;
    let b: number;
    if (!isDecision(0, tau, cutoff)) b = 0;
    else {
        // Bisect over doubles: isDecision(lo) and !isDecision(hi) throughout, until they are neighbours.
        let lo = 0;
        let hi = 1;
        while (isDecision(hi, tau, cutoff)) hi *= 2;
        for (;;) {
            const mid = lo + (hi - lo) / 2;
            if (mid <= lo || mid >= hi) break;
            if (isDecision(mid, tau, cutoff)) lo = mid;
            else hi = mid;
        }
        b = hi;
    }
    bounds.set(key, b);
    return b;
}
