/**
 * The character vocabulary of stepwise's tiny models, in llama.cpp's SPM ("llama") tokenizer
 * format, and a JS tokenizer that gives the same ids as llama.cpp on ASCII text and the specials.
 *
 * Layout (ids):
 *   0 `<unk>` (UNKNOWN), 1 `<s>` BOS (CONTROL), 2 `</s>` EOS (CONTROL),
 *   3 `<|step|>`, 4 `<|good|>`, 5 `<|bad|>` (USER_DEFINED: llama.cpp matches them in raw text
 *     even without special-token parsing, so the text "<|step|>" is always that one token),
 *   6..261 the byte tokens `<0x00>`..`<0xFF>` (BYTE: fallback for any other character),
 *   262 "\n" (NORMAL), 263..357 printable ASCII 0x20..0x7E (NORMAL; the space is stored as
 *     SentencePiece's "▁", U+2581, because llama.cpp escapes spaces to "▁" before lookup).
 *
 * Every token of length > 1 is special or a byte token, so no SPM bigram merge ever applies: any
 * ASCII text is one token per character. All scores are 0.
 */

/** llama.cpp token types (`tokenizer.ggml.token_type`). */
export const TokenType = {NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6} as const;

/** SentencePiece's whitespace marker. */
export const SPM_SPACE = "\u2581";

export interface CharVocab {
    /** Token texts as stored in GGUF (`tokenizer.ggml.tokens`). */
    tokens: string[];
    scores: number[];
    tokenTypes: number[];
    unkId: number;
    bosId: number;
    eosId: number;
    /** The step tag text and id. */
    stepTag: string;
    stepTagId: number;
    /** The PRM label tokens. */
    goodToken: string;
    goodId: number;
    badToken: string;
    badId: number;
}

/** Texts of the special tokens. */
export const STEP_TAG = "<|step|>";
export const GOOD_TOKEN = "<|good|>";
export const BAD_TOKEN = "<|bad|>";

/** Build the (fixed) stepwise character vocabulary. */
export function buildCharVocab(): CharVocab {
    const tokens: string[] = [];
    const types: number[] = [];
    const add = (text: string, type: number): number => {
        tokens.push(text);
        types.push(type);
        return tokens.length - 1;
    };
    const unkId = add("<unk>", TokenType.UNKNOWN);
    const bosId = add("<s>", TokenType.CONTROL);
    const eosId = add("</s>", TokenType.CONTROL);
    const stepTagId = add(STEP_TAG, TokenType.USER_DEFINED);
    const goodId = add(GOOD_TOKEN, TokenType.USER_DEFINED);
    const badId = add(BAD_TOKEN, TokenType.USER_DEFINED);
    for (let b = 0; b < 256; b++) add(byteTokenText(b), TokenType.BYTE);
    add("\n", TokenType.NORMAL);
    for (let c = 0x20; c <= 0x7e; c++) add(c === 0x20 ? SPM_SPACE : String.fromCharCode(c), TokenType.NORMAL);
    return {
        tokens,
        scores: tokens.map(() => 0),
        tokenTypes: types,
        unkId,
        bosId,
        eosId,
        stepTag: STEP_TAG,
        stepTagId,
        goodToken: GOOD_TOKEN,
        goodId,
        badToken: BAD_TOKEN,
        badId,
    };
}

function byteTokenText(b: number): string {
    return `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;
}

export interface EncodeOptions {
    /** Prepend BOS. Default false. */
    addBos?: boolean;
    /** Append EOS. Default false. */
    addEos?: boolean;
    /** Also parse control tokens (`<s>`, `</s>`, `<unk>`) in the text, like llama.cpp's `parse_special`. Default false. */
    parseSpecial?: boolean;
}

/**
 * Tokenizer for a {@link CharVocab} (or any single-character SPM vocab of the same shape), matching
 * llama.cpp with `add_space_prefix = false`: user-defined tokens are matched first (longest first),
 * control tokens only with `parseSpecial`, then each character maps to its token (a space to "▁"),
 * and characters not in the vocabulary fall back to their UTF-8 byte tokens.
 */
export class CharTokenizer {
    private readonly charToId = new Map<string, number>();
    private readonly byteIds: number[] = [];
    private readonly userDefined: Array<{text: string; id: number}> = [];
    private readonly control: Array<{text: string; id: number}> = [];

    constructor(readonly vocab: CharVocab) {
        vocab.tokens.forEach((text, id) => {
            const type = vocab.tokenTypes[id];
            if (type === TokenType.NORMAL) this.charToId.set(text, id);
            else if (type === TokenType.BYTE) this.byteIds[parseInt(text.slice(3, 5), 16)] = id;
            else if (type === TokenType.USER_DEFINED) this.userDefined.push({text, id});
            else if (type === TokenType.CONTROL || type === TokenType.UNKNOWN) this.control.push({text, id});
        });
        const byLength = (a: {text: string}, b: {text: string}): number => b.text.length - a.text.length;
        this.userDefined.sort(byLength);
        this.control.sort(byLength);
    }

    /** Token ids of `text`. */
    encode(text: string, options: EncodeOptions = {}): number[] {
        const out: number[] = [];
        if (options.addBos) out.push(this.vocab.bosId);
        const specials = options.parseSpecial ? [...this.userDefined, ...this.control].sort((a, b) => b.text.length - a.text.length) : this.userDefined;
        let i = 0;
        outer: while (i < text.length) {
            for (const s of specials) {
                if (text.startsWith(s.text, i)) {
                    out.push(s.id);
                    i += s.text.length;
                    continue outer;
                }
            }
            const cp = text.codePointAt(i)!;
            const ch = String.fromCodePoint(cp);
            const id = this.charToId.get(ch === " " ? SPM_SPACE : ch);
            if (id !== undefined) out.push(id);
            else for (const b of Buffer.from(ch, "utf8")) out.push(this.byteIds[b]);
            i += ch.length;
        }
        if (options.addEos) out.push(this.vocab.eosId);
        return out;
    }

    /** Text of token ids; control tokens are dropped unless `special` is set. */
    decode(ids: readonly number[], options: {special?: boolean} = {}): string {
        let text = "";
        let bytes: number[] = [];
        const flush = (): void => {
            if (bytes.length) text += Buffer.from(bytes).toString("utf8");
            bytes = [];
        };
        for (const id of ids) {
            const type = this.vocab.tokenTypes[id];
            const piece = this.vocab.tokens[id];
            if (type === TokenType.BYTE) {
                bytes.push(parseInt(piece.slice(3, 5), 16));
                continue;
            }
            flush();
            if (type === TokenType.NORMAL) text += piece.replaceAll(SPM_SPACE, " ");
            else if (type === TokenType.USER_DEFINED) text += piece;
            else if (options.special) text += piece;
        }
        flush();
        return text;
    }

    /** Text of one token (control tokens give their text). */
    piece(id: number): string {
        const type = this.vocab.tokenTypes[id];
        if (type === TokenType.BYTE) return String.fromCharCode(parseInt(this.vocab.tokens[id].slice(3, 5), 16));
        return this.vocab.tokens[id].replaceAll(SPM_SPACE, " ");
    }
}
