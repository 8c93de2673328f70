/**
 * An exclusive lock on an output file, so two runs never append to one file at once.
 *
 * The lock is a file `<out>.lock` next to the real file (symbolic links to the output resolved,
 * so every name of one file takes one lock) created with O_EXCL (atomic on local file systems) holding the
 * owner's pid, host, start time and command. A second writer is refused with a message naming
 * the owner. A lock left behind by a process that no longer runs (kill -9, a crash, a reboot) is
 * stale: on the same host the owner's pid is checked (and its start time from /proc, so a reused
 * pid is not mistaken for the owner) and a stale lock is taken over at once, so a killed run can
 * be resumed immediately. A lock from another host cannot be checked and is reported instead.
 *
 * Why not a lock library: proper-lockfile (the well-kept choice) detects staleness by mtime
 * (default 10 s, refreshed by a timer), so resuming right after a kill -9 is refused for that
 * long; checking the owner's pid gives the same safety with an immediate resume.
 */
import {closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync} from "node:fs";
import {hostname} from "node:os";
import {StepwiseError, fsError} from "../util/errors.ts";
import {onProcessEnd, pidExists} from "./process-end.ts";
import {realPathOf} from "./output.ts";

export interface LockOwner {
    pid: number;
    host: string;
    started: string;
    command: string;
    /** Process start time (clock ticks since boot, /proc/PID/stat field 22) where known. */
    proc_start?: string;
}

export interface Lock {
    readonly path: string;
    release(): void;
}

function procStart(pid: number): string | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    } catch {
        return undefined;
    }
}

function alive(owner: LockOwner): boolean {
    if (!pidExists(owner.pid)) return false;
    if (owner.proc_start !== undefined) {
        const now = procStart(owner.pid);
        if (now !== undefined && now !== owner.proc_start) return false;
    }
    return true;
}

function readOwner(path: string): LockOwner | undefined {
    try {
        const o = JSON.parse(readFileSync(path, "utf8")) as LockOwner;
        return typeof o.pid === "number" ? o : undefined;
    } catch {
        return undefined;
    }
}

const held = new Set<string>();

/**
 * Take the lock of `file` (the lock file is `<real path of file>.lock`). `what` describes the writer for
 * messages (e.g. "sample"). Throws a StepwiseError naming the owner when another live process
 * holds it. The lock is released by `release()`, and on process exit or SIGINT/SIGTERM.
 */
export function acquireLock(file: string, what = "stepwise"): Lock {
    // Keyed by the real path: a writer reaching the file through a symbolic link takes the same lock.
    const path = `${realPathOf(file)}.lock`;
    const me: LockOwner = {
        pid: process.pid,
        host: hostname(),
        started: new Date().toISOString(),
        command: `${what}: ${process.argv.slice(2).join(" ")}`.slice(0, 500),
        proc_start: procStart(process.pid),
    };
    for (let attempt = 0; ; attempt++) {
        let fd: number;
        try {
            fd = openSync(path, "wx");
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw fsError(e, path, "cannot create the lock file");
            const owner = readOwner(path);
            const stale = owner ? owner.host === me.host && !alive(owner) : false;
            if (owner && owner.pid === process.pid && owner.host === me.host && held.has(path))
                throw new StepwiseError(`${file}: already being written by this process`);
            if (!stale || attempt >= 2) {
                const who = owner ? `pid ${owner.pid}${owner.host !== me.host ? ` on ${owner.host}` : ""}, started ${owner.started}, "${owner.command}"` : "an unreadable lock";
                throw new StepwiseError(
                    `${file}: another run is writing this file (${who}); two writers would duplicate records. Wait for it to finish or choose another --out (if no such run exists, delete ${path})`,
                );
            }
            // Stale: move it aside atomically (only one taker succeeds), then retry.
            try {
                const aside = `${path}.stale-${process.pid}`;
                renameSync(path, aside);
                unlinkSync(aside);
                process.stderr.write(`[stepwise] ${file}: took over a stale lock of pid ${owner!.pid} (no longer running)\n`);
            } catch {
                /* someone else took it over first: retry */
            }
            continue;
        }
        try {
            writeSync(fd, JSON.stringify(me) + "\n");
        } catch (e) {
            closeSync(fd);
            try {
                unlinkSync(path);
            } catch {
                /* ignore */
            }
            throw fsError(e, path, "cannot write the lock file");
        }
        closeSync(fd);
        break;
    }
    held.add(path);
    onProcessEnd(releaseAll);
    return {
        path,
        release() {
            if (!held.delete(path)) return;
            removeIfMine(path);
        },
    };
}

function removeIfMine(path: string): void {
    const owner = readOwner(path);
    if (owner && owner.pid !== process.pid) return;
    try {
        unlinkSync(path);
    } catch {
        /* already gone */
    }
}

function releaseAll(): void {
    for (const p of held) removeIfMine(p);
    held.clear();
}
