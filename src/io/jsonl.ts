/**
 * JSONL reading and appending. Every record error names the file and line; appends are
 * line-atomic (one write per record) so that a killed run leaves only whole lines behind,
 * except possibly a torn last line, which {@link readJsonlTolerant} drops and reports.
 */
import {createReadStream, existsSync, openSync, closeSync, writeSync, fsyncSync, readFileSync, truncateSync, statSync} from "node:fs";
import {createInterface} from "node:readline";
import {StepwiseError} from "../engines/types.ts";

/** Parse one line; throw a StepwiseError naming file:line on bad JSON or a non-object. */
export function parseJsonlLine(line: string, file: string, lineNo: number): Record<string, unknown> {
    let value: unknown;
    try {
        value = JSON.parse(line);
    } catch (e) {
        throw new StepwiseError(`${file}:${lineNo}: malformed JSON (${(e as Error).message.split("\n")[0]})`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value))
        throw new StepwiseError(`${file}:${lineNo}: expected a JSON object, got ${Array.isArray(value) ? "an array" : typeof value}`);
    return value as Record<string, unknown>;
}

/** Stream the records of a JSONL file with their 1-based line numbers. Blank lines are skipped. */
export async function* readJsonl(file: string): AsyncGenerator<{record: Record<string, unknown>; line: number}> {
    if (!existsSync(file)) throw new StepwiseError(`${file}: no such file`);
    const rl = createInterface({input: createReadStream(file, {encoding: "utf8"}), crlfDelay: Infinity});
    let lineNo = 0;
    for await (const line of rl) {
        lineNo++;
        if (line.trim() === "") continue;
        yield {record: parseJsonlLine(line, file, lineNo), line: lineNo};
    }
}

/** Read all records of a JSONL file into memory. */
export async function readJsonlAll<T = Record<string, unknown>>(file: string): Promise<T[]> {
    const out: T[] = [];
    for await (const {record} of readJsonl(file)) out.push(record as T);
    return out;
}

/**
 * Read an output file that a killed run may have left with a torn last line: whole records are
 * returned, a torn final line (no trailing newline and not parseable) is cut off the file so
 * appends continue cleanly. A malformed line anywhere else is an error.
 */
export function readJsonlTolerant<T = Record<string, unknown>>(file: string): {records: T[]; droppedTornLine: boolean} {
    if (!existsSync(file)) return {records: [], droppedTornLine: false};
    const text = readFileSync(file, "utf8");
    const lines = text.split("\n");
    const records: T[] = [];
    let dropped = false;
    let offset = 0;
    for (let i = 0; i < lines.length; i++) {
        const line = lines[i];
        const isLast = i === lines.length - 1;
        if (line.trim() !== "") {
            try {
                records.push(parseJsonlLine(line, file, i + 1) as T);
            } catch (e) {
                if (isLast) {
                    truncateSync(file, Buffer.byteLength(text.slice(0, offset)));
                    dropped = true;
                    break;
                }
                throw e;
            }
        }
        offset += line.length + 1;
    }
    if (!dropped && text.length > 0 && !text.endsWith("\n")) {
        // A whole record without its newline: add it so the next append starts on a new line.
        const fd = openSync(file, "a");
        writeSync(fd, "\n");
        closeSync(fd);
    }
    return {records, droppedTornLine: dropped};
}

/** Appends records to a JSONL file, one write(2) per record. */
export class JsonlWriter {
    private fd: number;
    constructor(readonly file: string, options: {truncate?: boolean} = {}) {
        this.fd = openSync(file, options.truncate ? "w" : "a");
    }
    write(record: unknown): void {
        writeSync(this.fd, JSON.stringify(record) + "\n");
    }
    /** Flush to disk (call at checkpoints; not needed per record). */
    sync(): void {
        fsyncSync(this.fd);
    }
    close(): void {
        closeSync(this.fd);
    }
}

export function fileSize(file: string): number {
    return existsSync(file) ? statSync(file).size : 0;
}
