/**
 * Whether a candidate token at a decision can be appended as text: not end-of-sequence or another
 * special token (empty text) and not a piece of a multi-byte character (U+FFFD: byte-fallback
 * tokens decode to it alone, and a text prompt cannot carry the byte). TVD (src/search/tvd.ts)
 * and the branch labels (src/pipeline/label/branches.ts) take the same candidates.
 */
export function usableCandidate(text: string): boolean {
    return text !== "" && !text.includes("\uFFFD");
}
