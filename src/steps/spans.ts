/**
 * From step ends ("cuts", in tokens) to step spans: the one place that decides what a step is.
 *
 * A cut `e` (1 ≤ e ≤ T) ends a step after token e-1: the step's `token_end` is e. The end of the
 * text is always a cut, so a cut after the last token never creates an empty step. Then:
 * - a step with no text at all (e.g. a special token that decodes to "") is merged into the
 *   previous step (a leading one into the next);
 * - a step whose text is only whitespace follows {@link BlankSteps}: `"keep"` (a lone "\n"
 *   decision token is a step of its own; ASPRM's released data puts a tag after it) or
 *   `"merge"` (merged like an empty step; a text that is only whitespace is then one step);
 * - a sample with no tokens has no steps.
 * The steps' texts concatenate to the sample text, and their token spans tile [0, T).
 */

/** What happens to a step whose text is only whitespace (see the module docs). */
export type BlankSteps = "keep" | "merge";

/** One step: its text and where it sits in the sample's characters and tokens (ends exclusive). */
export interface StepSpan {
    /** The step's text (exactly text.slice(start, end)). */
    text: string;
    /** Character offsets into the sample text. */
    start: number;
    end: number;
    /** Token span into the sample's tokens. */
    token_start: number;
    token_end: number;
}

/** Character offsets of token boundaries: offsets[i] is where token i starts, offsets[T] = text length. */
export function tokenOffsets(tokens: ReadonlyArray<{text: string}>): number[] {
    const out = new Array<number>(tokens.length + 1);
    out[0] = 0;
    for (let i = 0; i < tokens.length; i++) out[i + 1] = out[i] + tokens[i].text.length;
    return out;
}

/**
 * Token spans `[token_start, token_end]` of the steps of the tokens `texts`, cut after the given
 * token ends (cuts outside 1..T are ignored; duplicates and order do not matter).
 *
 * Self-contained on purpose (no imports, no module-scope helpers): the viewer page serialises it
 * with `Function.prototype.toString` to re-split tokens live in the browser with this very rule.
 */
export function cutSpans(texts: readonly string[], cuts: Iterable<number>, blank: BlankSteps): Array<[number, number]> {
    const T = texts.length;
    if (T <= 0) return [];
    const ends = new Set<number>();
    for (const e of cuts) if (Number.isInteger(e) && e >= 1 && e <= T) ends.add(e);
    ends.add(T);
    const sorted = [...ends].sort((a, b) => a - b);
    const mergeable = (from: number, to: number): boolean => {
        let s = "";
        for (let i = from; i < to; i++) s += texts[i];
        return blank === "merge" ? s.trim() === "" : s === "";
    };
    // Merge empty (or, with "merge", blank) steps: into the previous one, or (leading) into the next one.
    const merged: Array<[number, number]> = [];
    let pendingStart: number | null = null;
    let start = 0;
    for (const e of sorted) {
        if (mergeable(start, e)) {
            if (merged.length > 0) merged[merged.length - 1][1] = e;
            else pendingStart ??= start;
        } else {
            merged.push([pendingStart ?? start, e]);
            pendingStart = null;
        }
        start = e;
    }
    // Nothing but whitespace (or nothing) in the whole text: one step, or none for an empty text.
    if (merged.length === 0) return texts.join("") === "" ? [] : [[0, T]];
    return merged;
}

/** The steps of `text` (tokens with boundaries `offsets`, see {@link tokenOffsets}) cut after the given token ends. */
export function stepsFromCuts(text: string, offsets: readonly number[], cuts: Iterable<number>, blank: BlankSteps): StepSpan[] {
    const texts: string[] = [];
    for (let i = 0; i + 1 < offsets.length; i++) texts.push(text.slice(offsets[i], offsets[i + 1]));
    return cutSpans(texts, cuts, blank).map(([tokenStart, tokenEnd]) => {
        const start = offsets[tokenStart];
        const end = offsets[tokenEnd];
        return {text: text.slice(start, end), start, end, token_start: tokenStart, token_end: tokenEnd};
    });
}
