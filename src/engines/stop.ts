/**
 * Stop-string matching over streamed token texts. Generation ends at the first occurrence of any
 * stop string; the stop string and anything after it are cut from the sample. A token that
 * straddles the stop string keeps only its part before it (so token texts always concatenate to
 * the sample text).
 */
export class StopMatcher {
    private text = "";
    private cut = -1;
    /** The stop string that ended generation, once one has. */
    matched: string | undefined;

    constructor(private readonly stops: string[]) {}

    /** Append a token's text; true when a stop string is now complete. */
    push(piece: string): boolean {
        if (this.stops.length === 0) return false;
        const from = Math.max(0, this.text.length - Math.max(...this.stops.map((s) => s.length)) + 1);
        this.text += piece;
        let best = -1;
        for (const s of this.stops) {
            if (!s) continue;
            const at = this.text.indexOf(s, from);
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
                this.matched = s;
            }
        }
        if (best >= 0) this.cut = best;
        return best >= 0;
    }

    /**
     * How many characters of the text pushed so far are final: no stop string can cut them any
     * more (a match found so far cuts at its start; a later match must end in text not yet pushed,
     * so it starts at most `longest stop − 1` characters before the current end). What a
     * streaming caller may send; the rest is held back. Infinity without stop strings.
     */
    finalLength(): number {
        if (this.cut >= 0) return this.cut;
        if (this.stops.length === 0) return Infinity;
        return Math.max(0, this.text.length - Math.max(...this.stops.map((s) => s.length)) + 1);
    }

    /** Remove the stop string (and what follows it) from the token list. */
    trim<T extends {text: string}>(tokens: T[]): void {
        if (this.cut < 0) return;
        let offset = 0;
        let keep = 0;
        for (; keep < tokens.length; keep++) {
            const t = tokens[keep];
            if (offset + t.text.length > this.cut) {
                const part = this.cut - offset;
                if (part > 0) {
                    t.text = t.text.slice(0, part);
                    keep++;
                }
                break;
            }
            offset += t.text.length;
        }
        tokens.length = keep;
    }
}
