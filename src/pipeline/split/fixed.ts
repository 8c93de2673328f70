/** Fixed-length splitting: a step ends after every `n` tokens (the last step may be shorter). */

/** Token ends n, 2n, ... below `tokenCount`. */
export function fixedCuts(tokenCount: number, n: number): number[] {
    const cuts: number[] = [];
    for (let e = n; e < tokenCount; e += n) cuts.push(e);
    return cuts;
}
