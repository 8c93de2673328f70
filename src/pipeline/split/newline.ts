/**
 * Rule-based splitting on line breaks. Steps end on token boundaries, so a step ends after the
 * token that holds the separator's last character ("\n", or the second "\n" of "\n\n"). Trailing
 * extra newlines form blank steps that stepsFromCuts merges back into the step they end.
 */

/** Token ends after each token that contains a "\n". */
export function newlineCuts(tokens: ReadonlyArray<{text: string}>): number[] {
    const cuts: number[] = [];
    for (let i = 0; i < tokens.length; i++) if (tokens[i].text.includes("\n")) cuts.push(i + 1);
    return cuts;
}

/** Token ends after each token holding the second "\n" of a "\n\n" (the pair may span two tokens). */
export function doubleNewlineCuts(text: string, offsets: readonly number[]): number[] {
    const cuts: number[] = [];
    for (let i = 0; i + 1 < offsets.length; i++) {
        for (let p = Math.max(1, offsets[i]); p < offsets[i + 1]; p++) {
            if (text.charCodeAt(p) === 10 && text.charCodeAt(p - 1) === 10) {
                cuts.push(i + 1);
                break;
            }
        }
    }
    return cuts;
}
