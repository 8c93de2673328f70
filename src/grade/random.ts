/**
 * A tiny deterministic generator for the sample points of expression comparisons, so that a
 * grade never depends on the run (same inputs, same verdict).
 */
export class SeededRandom {
    private state: number;
    constructor(seed: number) {
        this.state = seed >>> 0 || 1;
    }
    /** Uniform in [0, 1) (mulberry32). */
    next(): number {
        let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }
    /** A sample value for a free variable: in [0.4, 2.4), away from 0 and 1 where identities degenerate. */
    sample(): number {
        return 0.4 + 2 * this.next();
    }
}
