/**
 * Random subsets of a question's candidates, drawn without replacement by a partial
 * Fisher–Yates shuffle of one reusable index array: each draw costs O(N) time and no memory,
 * so the number of subsets drawn never changes memory use.
 */
import type {FastRng} from "../../util/rng.ts";

/** Draws random N-subsets of 0..n-1 into a reused buffer. */
export class SubsetSampler {
    /** A permutation of 0..n-1; after {@link draw}(N), its first N entries are the subset, in random order. */
    readonly order: Int32Array;
    constructor(
        readonly n: number,
        private readonly rng: FastRng,
    ) {
        this.order = Int32Array.from({length: n}, (_, i) => i);
    }

    /** Draw a uniformly random N-subset (in uniformly random order) into `order[0..N)`. */
    draw(size: number): Int32Array {
        if (!(size >= 1 && size <= this.n)) throw new RangeError(`subset size ${size} is not in 1..${this.n}`);
        const o = this.order;
        for (let i = 0; i < size; i++) {
            const j = i + this.rng.below(this.n - i);
            const t = o[i];
            o[i] = o[j];
            o[j] = t;
        }
        return o;
    }
}

/**
 * The subset sizes reported by default: 1, 2, 4, … up to `maxN`, and `maxN` itself when it is
 * not a power of two.
 */
export function defaultSizes(maxN: number): number[] {
    const out: number[] = [];
    for (let n = 1; n <= maxN; n *= 2) out.push(n);
    if (maxN >= 1 && out[out.length - 1] !== maxN) out.push(maxN);
    return out;
}
