/**
 * JSONL reading and appending. Every record error names the file and line; text is strict UTF-8
 * (an invalid byte is an error naming file, line and byte) and a UTF-8 byte order mark on the
 * first line is dropped. Appends are line-atomic (one write per record, completed if the kernel
 * writes it in parts) so that a killed run leaves only whole lines behind, except possibly a torn
 * last line (kill -9, full disk), which {@link readJsonlTolerant} drops and reports.
 */
import {createReadStream, existsSync, openSync, closeSync, writeSync, fsyncSync, truncateSync} from "node:fs";
import {StepwiseError, fsError} from "../util/errors.ts";
import {checkInputFile, decodeUtf8, readFileBytes, stripBom} from "./text.ts";
import {prepareOutput} from "./output.ts";
import {AtomicFile} from "./atomic.ts";

/** Parse one line; throw a StepwiseError naming file:line on bad JSON or a non-object. */
export function parseJsonlLine(line: string, file: string, lineNo: number): Record<string, unknown> {
    let value: unknown;
    try {
        value = JSON.parse(line);
    } catch (e) {
        throw new StepwiseError(`${file}:${lineNo}: malformed JSON (${(e as Error).message.split("\n")[0]})`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value))
        throw new StepwiseError(`${file}:${lineNo}: expected a JSON object, got ${Array.isArray(value) ? "an array" : value === null ? "null" : typeof value}`);
    return value as Record<string, unknown>;
}

/** Default longest line {@link readLines} accepts: 64 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

/** The line-length cap in bytes: the environment's `STEPWISE_MAX_LINE_BYTES` (a positive integer), else {@link DEFAULT_MAX_LINE_BYTES}. */
export function maxLineBytes(): number {
    const v = process.env.STEPWISE_MAX_LINE_BYTES;
    if (v === undefined || v === "") return DEFAULT_MAX_LINE_BYTES;
    if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new StepwiseError(`STEPWISE_MAX_LINE_BYTES: expected a positive number of bytes, got "${v}"`);
    return Number(v);
}

function showBytes(n: number): string {
    return n % 1024 ** 2 === 0 ? `${n / 1024 ** 2} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}

export interface ReadLinesOptions {
    /** Longest line accepted, in bytes (without its newline). Default {@link maxLineBytes}: `STEPWISE_MAX_LINE_BYTES`, else 64 MiB. */
    maxLineBytes?: number;
    /** The file's bytes already read (a pipe read into memory); `file` then only names it in errors. */
    from?: Iterable<Buffer> | AsyncIterable<Buffer>;
}

/**
 * Stream the lines of a text file as strict UTF-8 with their 1-based numbers (BOM dropped, a
 * trailing "\r" kept for JSON.parse to ignore), and where each line's text sits in the file
 * (`offset`, `bytes`: its byte range without the newline and BOM, for reading it back later). The
 * file must exist and not be a folder. A line longer than `maxLineBytes` (default 64 MiB, or
 * `STEPWISE_MAX_LINE_BYTES`) is a StepwiseError naming file, line and the cap, raised as soon as
 * that many bytes arrived without a line break (so an endless input without newlines is not
 * buffered without bound). `options.from`: the file's bytes already read (e.g. a pipe read into
 * memory), split the same way; `file` then only names it in errors.
 */
export async function* readLines(file: string, options: ReadLinesOptions = {}): AsyncGenerator<{text: string; line: number; offset: number; bytes: number}> {
    const from = options.from;
    if (!from) checkInputFile(file);
    const cap = options.maxLineBytes ?? maxLineBytes();
    const tooLong = () =>
        new StepwiseError(
            `${file}:${lineNo + 1}: line longer than ${showBytes(cap)} (the line-length cap) without a line break; is this a JSONL file? Raise the cap with STEPWISE_MAX_LINE_BYTES=<bytes>`,
        );
    let pendingBytes = 0;
    let pending: Buffer[] = [];
    let lineNo = 0;
    let offset = 0;
    let start = 0;
    let length = 0;
    const decode = (bytes: Buffer) => {
        lineNo++;
        const text = decodeUtf8(bytes, `${file}:${lineNo}`, offset);
        start = offset;
        length = bytes.length;
        offset += bytes.length + 1;
        if (lineNo !== 1) return text;
        if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
            start += 3;
            length -= 3;
        }
        return stripBom(text);
    };
    try {
        for await (const chunk of (from ?? createReadStream(file)) as AsyncIterable<Buffer>) {
            let pos = 0;
            for (;;) {
                const nl = chunk.indexOf(10, pos);
                if (nl < 0) break;
                const part = chunk.subarray(pos, nl);
                if (pendingBytes + part.length > cap) throw tooLong();
                const bytes = pending.length ? Buffer.concat([...pending, part]) : part;
                pending = [];
                pendingBytes = 0;
                const text = decode(bytes);
                yield {text, line: lineNo, offset: start, bytes: length};
                pos = nl + 1;
            }
            if (pos < chunk.length) {
                pending.push(chunk.subarray(pos));
                pendingBytes += chunk.length - pos;
                if (pendingBytes > cap) throw tooLong();
            }
        }
    } catch (e) {
        throw fsError(e, file);
    }
    if (pending.length) {
        const text = decode(Buffer.concat(pending));
        yield {text, line: lineNo, offset: start, bytes: length};
    }
}

/** Stream the records of a JSONL file with their 1-based line numbers. Blank lines are skipped. */
export async function* readJsonl(file: string, options: ReadLinesOptions = {}): AsyncGenerator<{record: Record<string, unknown>; line: number}> {
    for await (const {text, line} of readLines(file, options)) {
        if (text.trim() === "") continue;
        yield {record: parseJsonlLine(text, file, line), line};
    }
}

/** Read all records of a JSONL file into memory. */
export async function readJsonlAll<T = Record<string, unknown>>(file: string, options: ReadLinesOptions = {}): Promise<T[]> {
    const out: T[] = [];
    for await (const {record} of readJsonl(file, options)) out.push(record as T);
    return out;
}

/**
 * Read an output file that a killed run may have left with a torn last line: whole records are
 * returned (with their line numbers in `lines`), a torn final line (no trailing newline and not
 * parseable, or not valid UTF-8) is cut off the file so appends continue cleanly. A malformed
 * line anywhere else is an error.
 */
export function readJsonlTolerant<T = Record<string, unknown>>(file: string): {records: T[]; lines: number[]; droppedTornLine: boolean} {
    if (!existsSync(file)) return {records: [], lines: [], droppedTornLine: false};
    const bytes = readFileBytes(file);
    const records: T[] = [];
    const lines: number[] = [];
    let dropped = false;
    let start = 0;
    let lineNo = 0;
    while (start < bytes.length) {
        const nl = bytes.indexOf(10, start);
        const end = nl < 0 ? bytes.length : nl;
        const isLast = nl < 0;
        lineNo++;
        try {
            let text = decodeUtf8(bytes.subarray(start, end), `${file}:${lineNo}`, start);
            if (lineNo === 1) text = stripBom(text);
            if (text.trim() !== "") {
                records.push(parseJsonlLine(text, file, lineNo) as T);
                lines.push(lineNo);
            }
        } catch (e) {
            if (!isLast) throw e;
            try {
                truncateSync(file, start);
            } catch (err) {
                throw fsError(err, file, "cannot cut off a torn last line");
            }
            dropped = true;
            break;
        }
        start = end + 1;
    }
    if (!dropped && bytes.length > 0 && bytes[bytes.length - 1] !== 10) {
        // A whole record without its newline: add it so the next append starts on a new line.
        try {
            const fd = openSync(file, "a");
            writeAll(fd, Buffer.from("\n"), file);
            closeSync(fd);
        } catch (e) {
            throw fsError(e, file, "cannot write");
        }
    }
    return {records, lines, droppedTornLine: dropped};
}

/** Write a whole buffer (write(2) may write less than asked; retry the rest). Errors name `file`. */
function writeAll(fd: number, buf: Buffer, file: string): void {
    let off = 0;
    try {
        while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
        throw fsError(e, file, "cannot write");
    }
}

/**
 * Writes records to a JSONL file, one write(2) per record. The output location is checked first
 * (missing parent folders created; a folder, a read-only file system or an input given as the
 * output — `options.inputs` — refused in one line). Errors name the file.
 *
 * Modes: append (default; resumable stages, see pipeline/stage.ts); `atomic` for a final output
 * written as a whole (export, grade, filter, …): records go to a temporary file that
 * {@link commit} renames over the output (io/atomic.ts), and {@link close} without a commit drops
 * it, so a failed or killed run never leaves a partial file that looks complete; `truncate`
 * overwrites in place (prefer `atomic` for anything a later stage reads).
 */
export class JsonlWriter {
    private fd: number;
    private readonly atomic: AtomicFile | undefined;
    constructor(readonly file: string, options: {truncate?: boolean; atomic?: boolean; inputs?: ReadonlyArray<string | undefined>} = {}) {
        prepareOutput(file, {inputs: options.inputs, allowDevice: options.truncate || options.atomic});
        if (options.atomic) {
            this.atomic = new AtomicFile(file);
            this.fd = -1;
            return;
        }
        try {
            this.fd = openSync(file, options.truncate ? "w" : "a");
        } catch (e) {
            throw fsError(e, file, "cannot write");
        }
    }
    write(record: unknown): void {
        const line = Buffer.from(JSON.stringify(record) + "\n");
        if (this.atomic) this.atomic.write(line);
        else writeAll(this.fd, line, this.file);
    }
    /** Flush to disk (call at checkpoints; not needed per record). */
    sync(): void {
        if (this.atomic) return;
        try {
            fsyncSync(this.fd);
        } catch (e) {
            throw fsError(e, this.file, "cannot write");
        }
    }
    /** `atomic`: the output is complete; put it in place. Other modes: nothing to do (records are in the file). */
    commit(): void {
        this.atomic?.commit();
    }
    /** Close the file; an `atomic` output that was not committed is dropped (the previous file stays). */
    close(): void {
        if (this.atomic) {
            this.atomic.close();
            return;
        }
        if (this.fd < 0) return;
        try {
            closeSync(this.fd);
        } finally {
            this.fd = -1;
        }
    }
}
