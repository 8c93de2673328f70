/**
 * A small seeded PRNG (sfc32) whose whole state is four uint32 numbers, so that training runs can
 * checkpoint it and resume with the exact same random stream.
 */

/** Serializable RNG state. */
export type RngState = [number, number, number, number];

export class Rng {
    private a: number;
    private b: number;
    private c: number;
    private d: number;

    /** Seed from an integer (any number; only its low 32 bits matter for the mix) or a saved state. */
    constructor(seed: number | RngState) {
        if (Array.isArray(seed)) {
            [this.a, this.b, this.c, this.d] = seed;
        } else {
            // splitmix32 expands the seed into four well-mixed words.
            let s = seed >>> 0;
            const next = (): number => {
                s = (s + 0x9e3779b9) >>> 0;
                let z = s;
                z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
                z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
                return (z ^ (z >>> 16)) >>> 0;
            };
            this.a = next();
            this.b = next();
            this.c = next();
            this.d = next();
            for (let i = 0; i < 12; i++) this.nextUint32();
        }
    }

    /** The current state; `new Rng(state)` continues the same stream. */
    state(): RngState {
        return [this.a, this.b, this.c, this.d];
    }

    /** Uniform 32-bit unsigned integer. */
    nextUint32(): number {
        const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
        this.d = (this.d + 1) >>> 0;
        this.a = this.b ^ (this.b >>> 9);
        this.b = (this.c + (this.c << 3)) >>> 0;
        this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
        this.c = (this.c + t) >>> 0;
        return t;
    }

    /** Uniform float in [0, 1). */
    next(): number {
        return this.nextUint32() / 4294967296;
    }

    /** Uniform integer in [0, n). */
    int(n: number): number {
        return Math.floor(this.next() * n);
    }

    /** Standard normal sample (Box-Muller). */
    normal(): number {
        const u = 1 - this.next();
        const v = this.next();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
