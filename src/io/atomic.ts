/**
 * Writing a final output atomically: into a temporary file next to it (`<out>.tmp-<pid>`), flushed
 * to disk, then renamed over `<out>` in one step. A run that is killed or fails part-way leaves
 * the previous `<out>` (or none) and never a half-written file that looks complete; a later stage
 * (train-prm reading an export, split reading a threshold file, eval reading graded records)
 * therefore only ever reads whole outputs.
 *
 * For outputs that are overwritten as a whole (export, grade, threshold, filter, reports).
 * Resumable stages append to their output instead (src/core/stage.ts).
 *
 * - `<out>` given as a symbolic link: the file it points to is replaced (the link is kept);
 * - a character device (`/dev/stdout`, `/dev/null`) is written directly;
 * - temporary files of this process are removed on failure, on exit and on SIGINT/SIGTERM, and
 *   those left by a killed run (its pid no longer running) are removed by the next write of `<out>`.
 */
import {closeSync, fsyncSync, openSync, readdirSync, realpathSync, renameSync, statSync, unlinkSync, writeSync} from "node:fs";
import {basename, dirname, join} from "node:path";
import {fsError} from "../util/errors.ts";
import {onProcessEnd, pidExists} from "./process-end.ts";

const live = new Set<string>();

function removeQuietly(path: string): void {
    try {
        unlinkSync(path);
    } catch {
        /* already gone */
    }
}

function removeAll(): void {
    for (const p of live) removeQuietly(p);
    live.clear();
}

/** The file a write of `path` replaces: the target of a symbolic link, else `path`. */
function target(path: string): string {
    try {
        return realpathSync(path);
    } catch {
        return path;
    }
}

function isDevice(path: string): boolean {
    try {
        return statSync(path).isCharacterDevice();
    } catch {
        return false;
    }
}

/** Remove `<file>.tmp-<pid>` files left by runs that no longer run. */
function removeStaleTemps(file: string): void {
    const prefix = `${basename(file)}.tmp-`;
    let names: string[];
    try {
        names = readdirSync(dirname(file));
    } catch {
        return;
    }
    for (const name of names) {
        if (!name.startsWith(prefix)) continue;
        const pid = Number(name.slice(prefix.length));
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !pidExists(pid)) removeQuietly(join(dirname(file), name));
    }
}

/**
 * A file being written atomically: bytes go to a temporary file; {@link commit} puts it in place,
 * {@link abort} (or {@link close} without a commit) drops it and leaves `path` as it was.
 * Errors name `path`. The caller checks the location first (io/output.ts `prepareOutput`).
 */
export class AtomicFile {
    private fd: number;
    private readonly final: string;
    private readonly tmp: string | undefined;
    private state: "open" | "committed" | "aborted" = "open";

    constructor(readonly path: string) {
        this.final = target(path);
        if (isDevice(this.final)) {
            this.tmp = undefined;
            try {
                this.fd = openSync(this.final, "w");
            } catch (e) {
                throw fsError(e, path, "cannot write");
            }
            return;
        }
        removeStaleTemps(this.final);
        this.tmp = `${this.final}.tmp-${process.pid}`;
        onProcessEnd(removeAll);
        try {
            this.fd = openSync(this.tmp, "w");
        } catch (e) {
            throw fsError(e, path, "cannot write");
        }
        live.add(this.tmp);
    }

    /** Append bytes (the whole buffer: write(2) may write less than asked, the rest is retried). */
    write(data: string | Uint8Array): void {
        if (this.state !== "open") throw new Error(`${this.path}: written after ${this.state === "committed" ? "commit" : "abort"}`);
        const buf = typeof data === "string" ? Buffer.from(data) : data;
        let off = 0;
        try {
            while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
        } catch (e) {
            this.abort();
            throw fsError(e, this.path, "cannot write");
        }
    }

    /** Flush to disk and put the file in place (rename over `path`). Idempotent. */
    commit(): void {
        if (this.state === "committed") return;
        if (this.state === "aborted") throw new Error(`${this.path}: commit after abort`);
        try {
            if (this.tmp) fsyncSync(this.fd);
            closeSync(this.fd);
            this.fd = -1;
            if (this.tmp) renameSync(this.tmp, this.final);
        } catch (e) {
            this.abort();
            throw fsError(e, this.path, "cannot write");
        }
        if (this.tmp) live.delete(this.tmp);
        this.state = "committed";
    }

    /** Drop what was written; `path` stays as it was. Idempotent; no effect after a commit. */
    abort(): void {
        if (this.state !== "open") return;
        this.state = "aborted";
        if (this.fd >= 0) {
            try {
                closeSync(this.fd);
            } catch {
                /* closing is best effort here */
            }
            this.fd = -1;
        }
        if (this.tmp) {
            removeQuietly(this.tmp);
            live.delete(this.tmp);
        }
    }

    /** Abort unless committed: call in `finally`, so a failed run never puts a partial file in place. */
    close(): void {
        this.abort();
    }
}

/** Write a whole file atomically (see the module docs). Errors name `path`. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
    const f = new AtomicFile(path);
    try {
        f.write(data);
        f.commit();
    } finally {
        f.close();
    }
}
