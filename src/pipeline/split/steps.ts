/**
 * Turning step ends ("cuts", in tokens) into {@link Step}s, shared by every strategy.
 *
 * A cut `e` (1 ≤ e ≤ T) ends a step after token e-1: the step's `token_end` is e. The end of the
 * text is always a cut, so a cut after the last token never creates an empty step. Then:
 * - a step with no text at all (e.g. a special token that decodes to "") is merged into the
 *   previous step (a leading one into the next);
 * - a step whose text is only whitespace is KEPT by default: a lone "\n" decision token is a step
 *   of its own, and ASPRM's released data puts a tag after it. With `mergeBlank` (the line-break
 *   strategies, whose references drop blank lines) such steps are merged like empty ones, and a
 *   text that is only whitespace is one step;
 * - a sample with no tokens has no steps.
 * The steps' texts concatenate to the sample text, and their token spans tile [0, T).
 */
import type {Step} from "../records.ts";

const isBlank = (s: string): boolean => s.trim() === "";

/**
 * Steps of `text` (tokenized with boundaries `offsets`, see tokenOffsets) cut after the given
 * token ends. Cuts outside 1..T are ignored; duplicates and order do not matter.
 */
export function stepsFromCuts(text: string, offsets: readonly number[], cuts: Iterable<number>, options: {mergeBlank?: boolean} = {}): Step[] {
    const merge = options.mergeBlank ? isBlank : (s: string): boolean => s === "";
    const T = offsets.length - 1;
    if (T <= 0) return [];
    const ends = new Set<number>();
    for (const e of cuts) if (Number.isInteger(e) && e >= 1 && e <= T) ends.add(e);
    ends.add(T);
    const sorted = [...ends].sort((a, b) => a - b);
    const raw: Array<{token_start: number; token_end: number}> = [];
    let start = 0;
    for (const e of sorted) {
        raw.push({token_start: start, token_end: e});
        start = e;
    }
    // Merge empty (or, with mergeBlank, blank) steps: into the previous one, or (leading) into the next one.
    const merged: Array<{token_start: number; token_end: number}> = [];
    let pendingStart: number | null = null;
    for (const r of raw) {
        const s = text.slice(offsets[r.token_start], offsets[r.token_end]);
        if (merge(s)) {
            if (merged.length > 0) merged[merged.length - 1].token_end = r.token_end;
            else pendingStart ??= r.token_start;
            continue;
        }
        merged.push({token_start: pendingStart ?? r.token_start, token_end: r.token_end});
        pendingStart = null;
    }
    if (merged.length === 0) {
        // Only whitespace (or nothing) in the whole text.
        return text.length === 0 ? [] : [makeStep(text, offsets, 0, T)];
    }
    return merged.map((m) => makeStep(text, offsets, m.token_start, m.token_end));
}

function makeStep(text: string, offsets: readonly number[], tokenStart: number, tokenEnd: number): Step {
    const start = offsets[tokenStart];
    const end = offsets[tokenEnd];
    return {text: text.slice(start, end), start, end, token_start: tokenStart, token_end: tokenEnd};
}
