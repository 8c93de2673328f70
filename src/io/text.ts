/**
 * Reading text files users bring: strict UTF-8 (invalid bytes are an error naming file, line
 * and byte, never a silent U+FFFD), a UTF-8 byte order mark at the start accepted and dropped,
 * and inputs that are folders or missing named in one line.
 */
import {openSync, readFileSync, statSync} from "node:fs";
import {StepwiseError, fsError} from "../util/errors.ts";

const decoder = new TextDecoder("utf-8", {fatal: true});

/** Byte index of the first invalid UTF-8 sequence in `b`, or −1 when it is all valid. */
export function firstInvalidUtf8(b: Uint8Array): number {
    let i = 0;
    while (i < b.length) {
        const c = b[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        let n: number;
        let min: number;
        if (c >= 0xc2 && c <= 0xdf) [n, min] = [1, 0x80];
        else if (c >= 0xe0 && c <= 0xef) [n, min] = [2, 0x800];
        else if (c >= 0xf0 && c <= 0xf4) [n, min] = [3, 0x10000];
        else return i;
        let cp = c & (0x3f >> n);
        for (let k = 1; k <= n; k++) {
            const d = b[i + k];
            if (d === undefined || (d & 0xc0) !== 0x80) return i;
            cp = (cp << 6) | (d & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
        i += n + 1;
    }
    return -1;
}

/**
 * Decode one line (or a whole file) as strict UTF-8. `where` is `file:line` (or `file`) for the
 * error; `fileOffset` the line's byte offset in the file, for the message.
 */
export function decodeUtf8(bytes: Uint8Array, where: string, fileOffset?: number): string {
    try {
        return decoder.decode(bytes);
    } catch {
        const at = firstInvalidUtf8(bytes);
        const bad = Array.from(bytes.subarray(Math.max(0, at), Math.max(0, at) + 4), (x) => x.toString(16).padStart(2, "0")).join(" ");
        throw new StepwiseError(
            `${where}: invalid UTF-8 at byte ${at + 1} of the line${fileOffset !== undefined ? ` (byte ${fileOffset + at} of the file)` : ""}: bytes ${bad}; stepwise reads UTF-8 text only (convert the file, e.g. iconv -f latin1 -t utf-8)`,
        );
    }
}

/** Drop a UTF-8 byte order mark (U+FEFF) at the start of a text. */
export function stripBom(text: string): string {
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Check that `file` can be read as an input file: it exists and is not a folder. Throws a
 * one-line StepwiseError naming the file and, when given, the flag (`--in`).
 */
export function checkInputFile(file: string, flag?: string): void {
    const name = flag ? `${flag} ${file}` : file;
    let st;
    try {
        st = statSync(file);
    } catch (e) {
        throw fsError(e, name);
    }
    if (st.isDirectory()) throw new StepwiseError(`${name}: is a folder, not a file (give a file inside it)`);
}

/**
 * Open `file` for reading and return its file descriptor (the caller closes it). A missing or
 * unreadable file is a one-line StepwiseError naming it ({@link fsError}).
 */
export function openForReading(file: string): number {
    try {
        return openSync(file, "r");
    } catch (e) {
        throw fsError(e, file);
    }
}

/** Read a whole input file's bytes; a missing file, a folder or a read error is one line naming the file. */
export function readFileBytes(file: string): Buffer {
    checkInputFile(file);
    try {
        return readFileSync(file);
    } catch (e) {
        throw fsError(e, file);
    }
}

/** Read a whole text file: strict UTF-8, BOM dropped; errors name the file (and line of a bad byte). */
export function readTextFile(file: string): string {
    const bytes = readFileBytes(file);
    try {
        return stripBom(decoder.decode(bytes));
    } catch {
        const at = firstInvalidUtf8(bytes);
        let line = 1;
        let lineStart = 0;
        for (let i = 0; i < at; i++)
            if (bytes[i] === 10) {
                line++;
                lineStart = i + 1;
            }
        return decodeUtf8(bytes.subarray(lineStart, bytes.indexOf(10, lineStart) < 0 ? bytes.length : bytes.indexOf(10, lineStart)), `${file}:${line}`, lineStart);
    }
}
