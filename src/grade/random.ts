/**
 * A tiny deterministic generator for the sample points of expression comparisons, so that a
 * grade never depends on the run (same inputs, same verdict).
 */
import {mulberry32} from "../util/rng.ts";

export class SeededRandom {
    /** Uniform in [0, 1) (mulberry32, src/util/rng.ts). */
    readonly next: () => number;
    constructor(seed: number) {
        this.next = mulberry32(seed >>> 0 || 1);
    }
    /** A sample value in [0.4, 2.4), away from 0 and 1 where identities degenerate. */
    sample(): number {
        return 0.4 + 2 * this.next();
    }
    /**
     * The k-th kind of sample value: alternately small positive [0.4, 2.4), small negative
     * (-2.4, -0.4], large positive [3, 30) and large negative (-30, -3], so that `|x|` ≠ `x` and
     * `\sqrt{x^2}` ≠ `x` show.
     */
    sampleKind(k: number): number {
        const r = this.next();
        switch (((k % 4) + 4) % 4) {
            case 0:
                return 0.4 + 2 * r;
            case 1:
                return -(0.4 + 2 * r);
            case 2:
                return 3 + 27 * r;
            default:
                return -(3 + 27 * r);
        }
    }
}

/** Number of points at which expressions with variables are compared. */
export const SAMPLE_POINTS = 12;

/**
 * Deterministic sample points for the given variables: {@link SAMPLE_POINTS} points mixing small
 * and large, positive and negative values (variable j at point k takes kind k + j, so variables
 * get different signs at some points); with `integers`, positive integers 1..12 instead (for
 * factorials of a variable).
 */
export function samplePoints(vars: readonly string[], seed: number, integers = false): Array<Map<string, number>> {
    const rng = new SeededRandom(seed);
    const out: Array<Map<string, number>> = [];
    for (let k = 0; k < SAMPLE_POINTS; k++) {
        const env = new Map<string, number>();
        vars.forEach((v, j) => env.set(v, integers ? ((k * 7 + j * 5) % 12) + 1 : rng.sampleKind(k + j)));
        out.push(env);
    }
    return out;
}
