/**
 * The generator of the subset loop: the checkpointable sfc32 generator of src/model/rng.ts,
 * seeded through {@link deriveSeed} so streams can be named (seed, question id, N, method).
 */
import {Rng} from "../../model/rng.ts";
import {deriveSeed} from "../../util/rng.ts";

export class FastRng extends Rng {
    /** Seed from any list of numbers and strings (see `deriveSeed`). */
    constructor(...seed: Array<number | string>) {
        super(deriveSeed(...seed));
    }

    /** Uniform integer in 0..k-1 (k ≥ 1). */
    below(k: number): number {
        return this.int(k);
    }
}
