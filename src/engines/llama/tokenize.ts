/**
 * Special tokens in linear time, for the llama engine's tokenizer calls.
 *
 * llama.cpp splits a text at its special tokens (`tokenizer_st_partition`) before tokenizing the
 * pieces between them, and that split is quadratic in the number of tags: for every special
 * token and every fragment it searches (`std::string::find`) from the fragment to the end of the
 * whole text, and it walks its fragment list from the start at every match. 80,000 `<|step|>`
 * tags (640 KB) took 40 s in one call. This module finds the special tokens itself in one pass (a
 * trie over their texts) so that:
 *
 * - {@link SpecialTokenIndex.scan} gives, before any tokenization, a lower bound on the tokens a
 *   text needs (each special token certainly matched is one token; every other token covers at
 *   most the longest vocabulary entry's bytes), so a text that cannot fit the context is refused
 *   in linear time;
 * - {@link SpecialTokenIndex.tokenize} cuts the text right after special tokens that llama.cpp
 *   certainly matches and tokenizes the pieces one call each, which gives llama.cpp's own result
 *   (it tokenizes the text between special tokens separately anyway: a piece that starts after a
 *   special token is tokenized as the fragment after it is) in time linear in the text.
 *
 * "Certainly matched": an occurrence that overlaps no other special-token occurrence (llama.cpp
 * matches longer tokens first and each token left to right, so only overlapping occurrences are
 * ambiguous), of a token without the rstrip attribute (which would eat whitespace after it).
 * Ambiguous occurrences are never cut at, and count as ordinary text in the bound.
 */
import type {LlamaModel, Token} from "node-llama-cpp";

interface TrieNode {
    next: Map<number, TrieNode>;
    /** The special token ending here, if any. */
    token?: {id: number; bytes: number; rstrip: boolean; /** Matched also without special-token parsing (user-defined tokens, as llama.cpp does). */ always: boolean};
}

/** What {@link SpecialTokenIndex.scan} finds in a text. */
export interface SpecialScan {
    /** Special tokens certainly matched as one token each (undefined: not counted, the bytes alone exceeded the limit). */
    specialTags?: number;
    /** UTF-8 bytes of the text. */
    bytes: number;
    /** A lower bound on the text's tokens (without BOS). */
    minTokens: number;
    /** UTF-16 offsets right after certainly matched special tokens without rstrip: safe places to cut. */
    cuts: number[];
}

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);

export class SpecialTokenIndex {
    private readonly root: TrieNode = {next: new Map()};
    /** Whether any special token strips whitespace next to it (lstrip / rstrip attributes). */
    private readonly strips: boolean;
    /** 1 at the UTF-16 code units that begin a special token (a fast test before the trie). */
    private readonly firstChars = new Uint8Array(65536);

    private constructor(
        specials: Array<{id: number; text: string; control: boolean; lstrip: boolean; rstrip: boolean}>,
        /** UTF-8 bytes of the longest vocabulary entry: no token covers more input bytes (see {@link fromModel}). */
        readonly maxTokenBytes: number,
        /** Whether that byte bound holds for this tokenizer type; else the bound counts special tokens only. */
        private readonly byteBound: boolean,
    ) {
        let strips = false;
        for (const s of specials) {
            if (s.text === "") continue;
            let node = this.root;
            for (let i = 0; i < s.text.length; i++) {
                const c = s.text.charCodeAt(i);
                let child = node.next.get(c);
                if (!child) node.next.set(c, (child = {next: new Map()}));
                node = child;
            }
            node.token = {id: s.id, bytes: Buffer.byteLength(s.text), rstrip: s.rstrip, always: !s.control};
            this.firstChars[s.text.charCodeAt(0)] = 1;
            strips ||= s.lstrip || s.rstrip;
        }
        this.strips = strips;
    }

    /**
     * The special tokens of a loaded model: tokens with the control, user-defined or unknown
     * attribute (the ones llama.cpp splits on), with their vocabulary texts. The byte bound is
     * used for SentencePiece ("llama") and byte-level BPE ("gpt2") vocabularies, where a token
     * never covers more input bytes than its vocabulary entry has (SPM writes a space as the
     * 3-byte "▁", byte-level BPE a byte as a 1–2-byte character, byte tokens as "<0xAB>"); other
     * tokenizers (WordPiece, Unigram) drop whitespace or accents, so there only tags are counted.
     */
    static fromModel(model: LlamaModel): SpecialTokenIndex {
        const ggml = model.fileInfo.metadata.tokenizer?.ggml as {model?: string; tokens?: readonly string[]} | undefined;
        const tokens = ggml?.tokens ?? [];
        const specials = [];
        let maxBytes = 1;
        for (let id = 0; id < tokens.length; id++) {
            const text = tokens[id];
            maxBytes = Math.max(maxBytes, Buffer.byteLength(text));
            const a = model.getTokenAttributes(id as Token);
            if (a.control || a.userDefined || a.unknown) specials.push({id, text, control: a.control || a.unknown, lstrip: a.lstrip, rstrip: a.rstrip});
        }
        return new SpecialTokenIndex(specials, maxBytes, ggml?.model === "llama" || ggml?.model === "gpt2");
    }

    /**
     * Find the special tokens of `text` (with `special` false, only user-defined ones, as
     * llama.cpp). One pass. With `limit`, a text whose bytes alone need more than `limit` tokens
     * is answered at once, without the pass (`specialTags` then undefined, `cuts` empty).
     */
    scan(text: string, special = true, limit?: number): SpecialScan {
        const bytes = Buffer.byteLength(text);
        if (limit !== undefined && this.byteBound && !this.strips && Math.ceil(bytes / this.maxTokenBytes) > limit)
            return {bytes, minTokens: Math.ceil(bytes / this.maxTokenBytes), cuts: []};
        const starts: number[] = [];
        const ends: number[] = [];
        const tokens: Array<NonNullable<TrieNode["token"]>> = [];
        const root = this.root.next;
        const first = this.firstChars;
        let whitespace = 0;
        for (let i = 0; i < text.length; i++) {
            const c = text.charCodeAt(i);
            if (isSpace(c)) whitespace++;
            if (first[c] === 0) continue;
            let node = root.get(c);
            for (let j = i + 1; node; j++) {
                if (node.token && (special || node.token.always)) {
                    starts.push(i);
                    ends.push(j);
                    tokens.push(node.token);
                }
                if (j >= text.length) break;
                node = node.next.get(text.charCodeAt(j));
            }
        }
        // Occurrences come sorted by start; one is certain when none other overlaps it.
        const cuts: number[] = [];
        let specialTags = 0;
        let specialBytes = 0;
        let reach = 0; // furthest end of the occurrences before k
        for (let k = 0; k < starts.length; k++) {
            const alone = starts[k] >= reach && (k + 1 >= starts.length || starts[k + 1] >= ends[k]);
            reach = Math.max(reach, ends[k]);
            if (!alone) continue;
            specialTags++;
            specialBytes += tokens[k].bytes;
            if (!tokens[k].rstrip && ends[k] < text.length) cuts.push(ends[k]);
        }
        // Whitespace next to an lstrip/rstrip token can vanish: then it is not counted.
        const rest = bytes - specialBytes - (this.strips ? whitespace : 0);
        const minTokens = specialTags + (this.byteBound && rest > 0 ? Math.ceil(rest / this.maxTokenBytes) : 0);
        return {specialTags, bytes, minTokens, cuts};
    }

    /**
     * llama.cpp's tokenization of `text` (no BOS), in linear time: the text is cut at
     * {@link SpecialScan.cuts} and each piece tokenized by one native call.
     */
    tokenize(model: LlamaModel, text: string, special: boolean, scan = this.scan(text, special)): number[] {
        if (scan.cuts.length === 0) return Array.from(model.tokenize(text, special) as number[]);
        const out: number[] = [];
        let from = 0;
        for (const cut of [...scan.cuts, text.length]) {
            if (cut <= from) continue;
            const ids = model.tokenize(text.slice(from, cut), special) as number[];
            for (let i = 0; i < ids.length; i++) out.push(ids[i]);
            from = cut;
        }
        return out;
    }
}

/** "N special tags in B bytes", or "B bytes" when the tags were not counted: how a bound was found, for error messages. */
export function describeBound(b: {specialTags?: number; bytes: number}): string {
    return b.specialTags === undefined ? `${b.bytes} bytes` : `${b.specialTags} special tags in ${b.bytes} bytes`;
}
