/**
 * A small fast seeded generator for the subset loop (sfc32: 128-bit state, 32-bit outputs),
 * seeded through {@link deriveSeed} so streams can be named. `below(k)` maps a 32-bit output to
 * 0..k-1 by multiplication (bias below k/2^32, irrelevant for k ≤ thousands of candidates).
 */
import {deriveSeed} from "../../lab/rng.ts";

export class FastRng {
    private a: number;
    private b: number;
    private c: number;
    private d: number;

    /** Seed from any list of numbers and strings (see `deriveSeed`). */
    constructor(...seed: Array<number | string>) {
        const s = deriveSeed(...seed);
        this.a = deriveSeed(s, 1);
        this.b = deriveSeed(s, 2);
        this.c = deriveSeed(s, 3);
        this.d = 1;
        for (let i = 0; i < 12; i++) this.uint32();
    }

    /** Next uniformly distributed unsigned 32-bit integer. */
    uint32(): number {
        const t = (((this.a + this.b) | 0) + this.d) | 0;
        this.d = (this.d + 1) | 0;
        this.a = this.b ^ (this.b >>> 9);
        this.b = (this.c + (this.c << 3)) | 0;
        this.c = (this.c << 21) | (this.c >>> 11);
        this.c = (this.c + t) | 0;
        return t >>> 0;
    }

    /** Uniform integer in 0..k-1 (k ≥ 1). */
    below(k: number): number {
        return Math.floor((this.uint32() / 4294967296) * k);
    }
}
