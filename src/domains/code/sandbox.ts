/**
 * A sandbox for untrusted Python on bubblewrap (`bwrap`, Debian package `bubblewrap`).
 *
 * Each run gets:
 * - new user, PID, network, mount, IPC, UTS and cgroup namespaces (`bwrap --unshare-all`): no
 *   network at all (not even the host's loopback), no view of host processes; when the sandbox's
 *   PID 1 exits every process left inside is killed by the kernel, so nothing outlives a run;
 * - a minimal read-only view of the host: `/usr` (and the `/bin`, `/lib*`, `/sbin` links or
 *   directories), plus the Python installation's prefix when it lives elsewhere. No `/home`,
 *   `/root`, `/etc`, `/work`, `/tmp` of the host: files outside the working directory are not there;
 * - a working directory `/work` and a private `/tmp`, both fresh tmpfs mounts of at most
 *   `tmpfsBytes` each (`bwrap --size`; writing more fails inside with ENOSPC). A tmpfs is host
 *   **memory**, not disk: a run can hold up to 2 × `tmpfsBytes` of RAM on top of `memoryBytes`.
 *   The program's files are copied into `/work` by bwrap from fds (`--file FD`): there is no
 *   host directory behind `/work`, so nothing the program leaves there is ever seen by the host,
 *   and everything vanishes with the sandbox's mount namespace;
 * - a clean environment (`PATH`, `HOME`, `LANG`, `PYTHONHASHSEED`, `PYTHONDONTWRITEBYTECODE` only);
 * - when stepwise runs as root, the sandbox runs as an unprivileged host user (`setpriv`, uid
 *   65534 by default) because the kernel exempts root from RLIMIT_NPROC;
 * - resource limits: wall time (the sandbox's process group is killed), and inside the sandbox
 *   (set by the harness with Python's `resource` module, soft = hard, so code cannot raise them)
 *   CPU seconds, address space, processes (counted inside the sandbox's user namespace), file size
 *   and open files; output is capped by the parent, which kills the run when stdout + stderr
 *   exceed the limit.
 *
 * How results come back (the host never opens a path the program controls): the program's fd 3
 * (`channel: true`) is one end of a Unix socket pair (what Node gives a child for a `"pipe"`
 * stdio entry) whose other end only this process holds; bwrap and setpriv pass it through, and
 * the host reads it with plain reads (file descriptors sent over it are dropped by the kernel). The host reads it asynchronously, at most `channelBytes` (more kills
 * the run), like stdout and stderr. A symlink, FIFO, device or huge file named like a result in
 * `/work` is therefore nothing to the host. Input goes the other way: `stdin` is written to the
 * program's stdin and closed. Nothing is read synchronously from the sandbox, so a hostile
 * program cannot block the event loop (SIGTERM still ends the process) and every run ends by the
 * wall-clock limit. While a run is alive its process group is killed if this process ends.
 *
 * Known limits: a run can use CPU up to its limits and RAM up to `memoryBytes` + 2 × `tmpfsBytes`.
 * Without bwrap, {@link runSandboxed} refuses unless `unsafe` is set, in which case the program
 * runs as a plain child process in a host temporary directory (clean environment, rlimits and the
 * result channel only; no tmpfs limit, and a process that leaves the process group is not killed).
 */
import {spawn, spawnSync} from "node:child_process";
import {chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {delimiter, join} from "node:path";
import {Readable, type Writable} from "node:stream";
import {onProcessEnd} from "../../io/process-end.ts";
import {StepwiseError} from "../../util/errors.ts";

/** Resource limits of one run. */
export interface SandboxLimits {
    /** Wall-clock limit in ms; the whole sandbox is killed when it is reached. Default 10,000. */
    wallMs: number;
    /** CPU seconds (RLIMIT_CPU). Default 5. */
    cpuSeconds: number;
    /** Address space in bytes (RLIMIT_AS). Default 512 MiB. */
    memoryBytes: number;
    /** Processes (threads included) inside the sandbox (RLIMIT_NPROC). Default 32. */
    processes: number;
    /** stdout + stderr bytes kept; the run is killed when more is written. Default 1 MiB. */
    outputBytes: number;
    /** Largest file the program may write (RLIMIT_FSIZE). Default 16 MiB. */
    fileBytes: number;
    /** Open files (RLIMIT_NOFILE). Default 64. */
    openFiles: number;
    /**
     * Size in bytes of each of the sandbox's two tmpfs mounts, `/work` (which also holds the
     * program's files) and `/tmp`; writing more fails inside with ENOSPC. Host memory, not disk:
     * a run may hold up to twice this in RAM besides `memoryBytes`. Default 32 MiB. (Without
     * bwrap, `unsafe` runs, it is not enforced.)
     */
    tmpfsBytes: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
    wallMs: 10_000,
    cpuSeconds: 5,
    memoryBytes: 512 * 1024 * 1024,
    processes: 32,
    outputBytes: 1024 * 1024,
    fileBytes: 16 * 1024 * 1024,
    openFiles: 64,
    tmpfsBytes: 32 * 1024 * 1024,
};

/** The program's fd that is the write end of the result channel ({@link RunOptions.channel}). */
export const CHANNEL_FD = 3;
/** Default cap of the result channel in bytes. */
const CHANNEL_BYTES = 64 * 1024;
/** The first fd bwrap copies a program file from (`--file FD /work/NAME`); one per file. */
const FIRST_FILE_FD = 4;

/** What {@link detectSandbox} found. */
export interface SandboxInfo {
    /** `bwrap` when the sandbox works here, `none` otherwise (see `reason`). */
    kind: "bwrap" | "none";
    /** Path of bwrap. */
    bwrap?: string;
    /** Path of setpriv, used to drop root. */
    setpriv?: string;
    /** Python interpreter used (a real path). */
    python: string;
    /** Python prefix to bind read-only when it lives outside /usr. */
    pythonPrefix?: string;
    /** Why the sandbox is unavailable. */
    reason?: string;
    /** Host uid the sandbox runs as when stepwise is root. */
    dropToUid?: number;
}

function which(name: string): string | undefined {
    for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(delimiter)) {
        const p = join(dir, name);
        if (dir && existsSync(p)) return p;
    }
    return undefined;
}

/** The Python interpreter: $STEPWISE_PYTHON, else /usr/bin/python3, else python3 on PATH (resolved through shims). */
export function findPython(): {python: string; prefix: string} | undefined {
    const candidates = [process.env.STEPWISE_PYTHON, "/usr/bin/python3", which("python3")].filter((p): p is string => !!p && existsSync(p));
    for (const c of candidates) {
        const r = spawnSync(c, ["-I", "-c", "import sys, json; print(json.dumps([sys.executable, sys.base_prefix]))"], {encoding: "utf8", timeout: 20_000});
        if (r.status !== 0) continue;
        try {
            const [exe, prefix] = JSON.parse(r.stdout.trim()) as [string, string];
            return {python: realpathSync(exe), prefix: realpathSync(prefix)};
        } catch {
            continue;
        }
    }
    return undefined;
}

const SANDBOX_UID = 65534;

let cached: SandboxInfo | undefined;

/**
 * Find bwrap and Python and check, once per process, that a trivial sandboxed run works.
 * Never throws: an unusable sandbox is reported as `kind: "none"` with a reason.
 */
export function detectSandbox(options: {refresh?: boolean} = {}): SandboxInfo {
    if (cached && !options.refresh) return cached;
    const py = findPython();
    const info: SandboxInfo = {kind: "none", python: py?.python ?? "python3"};
    if (!py) {
        info.reason = "python3 not found (install it: apt-get install python3, or set STEPWISE_PYTHON)";
        return (cached = info);
    }
    if (!py.prefix.startsWith("/usr/") && py.prefix !== "/usr") info.pythonPrefix = py.prefix;
    const bwrap = which("bwrap");
    if (!bwrap) {
        info.reason = "bubblewrap (bwrap) not found (install it: apt-get install bubblewrap, or run scripts/install-sandbox.mjs)";
        return (cached = info);
    }
    info.bwrap = bwrap;
    if (process.getuid?.() === 0) {
        const setpriv = which("setpriv");
        if (!setpriv) {
            info.reason = "running as root and setpriv (util-linux) is missing: cannot drop root inside the sandbox";
            return (cached = info);
        }
        info.setpriv = setpriv;
        info.dropToUid = SANDBOX_UID;
    }
    const argv = sandboxArgv({...info, kind: "bwrap"}, ["-I", "-c", "import os; print(os.getpid())"]);
    const r = spawnSync(argv[0], argv.slice(1), {encoding: "utf8", timeout: 20_000, env: {}, stdio: ["ignore", "pipe", "pipe"]});
    if (r.status !== 0) info.reason = `bwrap does not work here: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split("\n").at(-1)}`;
    else info.kind = "bwrap";
    return (cached = info);
}

/** Host paths that are read-only inside: /usr plus the usual top-level links (or directories) into it. */
function hostViewArgs(info: SandboxInfo): string[] {
    const args = ["--ro-bind", "/usr", "/usr"];
    for (const top of ["/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"]) {
        let st;
        try {
            st = lstatSync(top);
        } catch {
            continue;
        }
        if (st.isSymbolicLink()) {
            const target = readlinkSafe(top);
            if (target) args.push("--symlink", target, top);
        } else if (st.isDirectory()) args.push("--ro-bind", top, top);
    }
    if (info.pythonPrefix) args.push("--ro-bind", info.pythonPrefix, info.pythonPrefix);
    return args;
}

function readlinkSafe(p: string): string | undefined {
    try {
        return (spawnSync("readlink", [p], {encoding: "utf8"}).stdout || "").trim() || undefined;
    } catch {
        return undefined;
    }
}

/** The clean environment of a run. */
export const SANDBOX_ENV: Readonly<Record<string, string>> = {
    PATH: "/usr/bin:/bin",
    HOME: "/work",
    LANG: "C.UTF-8",
    PYTHONHASHSEED: "0",
    PYTHONDONTWRITEBYTECODE: "1",
};

/** Where a program's files come from: `files[i]` is copied into `/work` from fd {@link FIRST_FILE_FD} + i. */
export interface SandboxArgvOptions {
    /** Size of each of the `/work` and `/tmp` tmpfs mounts in bytes. Default {@link DEFAULT_LIMITS}.tmpfsBytes. */
    tmpfsBytes?: number;
    /** File names (plain names, no `/`) bwrap creates in `/work`, read from fds 4, 5, … in order. */
    files?: readonly string[];
}

/**
 * The full command line of a sandboxed Python run: `/work` and `/tmp` are tmpfs mounts of
 * `tmpfsBytes` each, `/work` holding `files` copied from fds 4, 5, … (the caller must pass those
 * fds, each a stdio pipe it writes the file's bytes into and closes). Throws a StepwiseError when `info`
 * is not a working bwrap sandbox.
 */
export function sandboxArgv(info: SandboxInfo, pythonArgs: string[], options: SandboxArgvOptions = {}): string[] {
    if (info.kind !== "bwrap" || !info.bwrap) throw new StepwiseError(`no sandbox: ${info.reason ?? "bwrap unavailable"}`);
    const env = Object.entries(SANDBOX_ENV).flatMap(([k, v]) => ["--setenv", k, v]);
    const size = String(Math.floor(options.tmpfsBytes ?? DEFAULT_LIMITS.tmpfsBytes));
    const files = (options.files ?? []).flatMap((name, i) => ["--file", String(FIRST_FILE_FD + i), `/work/${checkFileName(name)}`]);
    const bwrap = [
        info.bwrap,
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--hostname", "sandbox",
        ...hostViewArgs(info),
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", size, "--tmpfs", "/tmp",
        "--size", size, "--tmpfs", "/work",
        ...files,
        "--chdir", "/work",
        "--clearenv",
        ...env,
        "--",
        info.python,
        ...pythonArgs,
    ];
    if (info.dropToUid === undefined) return bwrap;
    const id = String(info.dropToUid);
    return [info.setpriv!, "--reuid", id, "--regid", id, "--clear-groups", "--", ...bwrap];
}

/** A program file name: a plain name in the working directory. */
function checkFileName(name: string): string {
    if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(name)) throw new StepwiseError(`sandbox file name ${JSON.stringify(name)}: expected a plain file name (letters, digits, ._-; no /)`);
    return name;
}

/** The outcome of one run. */
export interface RunOutcome {
    /** Exit code of the sandbox (bwrap passes the program's), null when killed. */
    exitCode: number | null;
    signal: NodeJS.Signals | null;
    /** Killed at the wall-clock limit. */
    timedOut: boolean;
    /** Killed because stdout + stderr exceeded the output limit. */
    outputExceeded: boolean;
    stdout: string;
    stderr: string;
    /**
     * What the program wrote to fd 3 when `channel` was set (UTF-8, at most `channelBytes`),
     * `undefined` without a channel. It is only as trustworthy as the program: see the harness.
     */
    channel?: string;
    /** Killed because more than `channelBytes` were written to the channel. */
    channelExceeded: boolean;
    wallMs: number;
    /** `bwrap` or `unsafe` (no sandbox). */
    isolation: "bwrap" | "unsafe";
}

export interface RunOptions {
    limits?: Partial<SandboxLimits>;
    /** Run without a sandbox when none is available (dangerous: for trusted code only). Default false. */
    unsafe?: boolean;
    /** Text written to the program's stdin, which is then closed. Default: empty stdin. */
    stdin?: string;
    /**
     * Give the program a result channel: its fd 3 is one end of a socket pair whose other end only
     * this process holds; what it writes comes back as {@link RunOutcome.channel}. Default false.
     */
    channel?: boolean;
    /** Most bytes kept from the channel; the run is killed when more are written. Default 64 KiB. */
    channelBytes?: number;
    /** Sandbox to use (default: {@link detectSandbox}). */
    sandbox?: SandboxInfo;
}

/**
 * Run `python -I <entry>` with `files` (name → text; plain names) in a fresh working directory,
 * sandboxed (see the module doc). Resolves when the sandbox has ended; never reads a file of the
 * working directory. Throws a StepwiseError when no sandbox is available and `unsafe` is not set,
 * when a file name is not a plain name, or when the files do not fit `tmpfsBytes`.
 */
export async function runSandboxed(files: Record<string, string>, entry: string, options: RunOptions = {}): Promise<RunOutcome> {
    const limits = {...DEFAULT_LIMITS, ...options.limits};
    const info = options.sandbox ?? detectSandbox();
    if (info.kind !== "bwrap" && !options.unsafe)
        throw new StepwiseError(`refusing to run untrusted code without a sandbox: ${info.reason ?? "bwrap unavailable"}; pass --unsafe (unsafe: true) to run it anyway`);
    const names = Object.keys(files).map(checkFileName);
    const io = {stdin: options.stdin ?? "", channel: !!options.channel, channelBytes: options.channelBytes ?? CHANNEL_BYTES};
    if (info.kind === "bwrap") {
        const bytes = names.reduce((n, name) => n + Buffer.byteLength(files[name]), 0);
        if (bytes > limits.tmpfsBytes) throw new StepwiseError(`the program's files (${bytes} bytes) do not fit the sandbox's /work (limits.tmpfsBytes = ${limits.tmpfsBytes})`);
        const argv = sandboxArgv(info, ["-I", entry], {tmpfsBytes: limits.tmpfsBytes, files: names});
        const outcome = await spawnLimited(argv, "/", {}, limits, {...io, files: names.map((n) => files[n])});
        return {...outcome, isolation: "bwrap"};
    }
    // Unsafe: a plain child process in a host temporary directory, removed afterwards (and if this process ends first).
    const work = mkdtempSync(join(tmpdir(), "stepwise-run-"));
    liveDirs.add(work);
    onProcessEnd(removeLiveDirs);
    try {
        for (const name of names) writeFileSync(join(work, name), files[name]);
        const outcome = await spawnLimited([info.python, "-I", entry], work, {...SANDBOX_ENV, HOME: work}, limits, {...io, files: []});
        return {...outcome, isolation: "unsafe"};
    } finally {
        liveDirs.delete(work);
        removeTree(work);
    }
}

/** Working directories of unsafe runs still alive: removed when this process ends. */
const liveDirs = new Set<string>();
function removeLiveDirs(): void {
    for (const dir of liveDirs) rmSync(dir, {recursive: true, force: true});
    liveDirs.clear();
}

/**
 * Remove a directory tree a program wrote, without following its symlinks; directories the
 * program made unreadable (chmod 000) are made accessible first. Throws a StepwiseError naming
 * the directory when it cannot be removed.
 */
function removeTree(dir: string): void {
    try {
        rmSync(dir, {recursive: true, force: true});
        return;
    } catch {
        // fall through: open up the directories, then try again
    }
    const openUp = (d: string): void => {
        try {
            chmodSync(d, 0o700);
            for (const name of readdirSync(d)) {
                const p = join(d, name);
                if (lstatSync(p).isDirectory()) openUp(p);
            }
        } catch {
            // best effort; rmSync below reports what is left
        }
    };
    openUp(dir);
    try {
        rmSync(dir, {recursive: true, force: true});
    } catch (e) {
        throw new StepwiseError(`cannot remove the sandbox's working directory ${dir}: ${(e as Error).message.split("\n")[0]}`);
    }
}

/** Process groups of runs still alive: killed when this process ends (SIGTERM, SIGINT, exit). */
const liveGroups = new Set<number>();
function killGroup(pid: number): void {
    try {
        process.kill(-pid, "SIGKILL");
    } catch {
        // already gone
    }
}

interface SpawnIo {
    stdin: string;
    channel: boolean;
    channelBytes: number;
    /** Contents written to fds 4, 5, … (bwrap's `--file`). */
    files: string[];
}

function spawnLimited(argv: string[], cwd: string, env: Record<string, string>, limits: SandboxLimits, io: SpawnIo): Promise<Omit<RunOutcome, "isolation">> {
    return new Promise((resolve, reject) => {
        const started = performance.now();
        // fd 3 exists only with a channel; bwrap's file fds start at 4 either way.
        const stdio: ("pipe" | "ignore")[] = ["pipe", "pipe", "pipe", io.channel ? "pipe" : "ignore", ...io.files.map(() => "pipe" as const)];
        const child = spawn(argv[0], argv.slice(1), {cwd, env, stdio, detached: true});
        const pid = child.pid;
        if (pid !== undefined) {
            liveGroups.add(pid);
            onProcessEnd(killAllLive);
        }
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        const chan: Buffer[] = [];
        let bytes = 0;
        let chanBytes = 0;
        let timedOut = false;
        let outputExceeded = false;
        let channelExceeded = false;
        // The whole process group: setpriv/bwrap, and with --die-with-parent everything inside.
        const killAll = (): void => {
            if (pid !== undefined) killGroup(pid);
            else child.kill("SIGKILL");
        };
        const take = (into: Buffer[]) => (chunk: Buffer) => {
            if (outputExceeded) return;
            const room = limits.outputBytes - bytes;
            if (chunk.length > room) {
                into.push(chunk.subarray(0, Math.max(0, room)));
                bytes = limits.outputBytes;
                outputExceeded = true;
                killAll();
                return;
            }
            into.push(chunk);
            bytes += chunk.length;
        };
        child.stdout!.on("data", take(out));
        child.stderr!.on("data", take(err));
        if (io.channel) {
            const readable = child.stdio[3];
            if (!(readable instanceof Readable)) throw new Error("sandbox: the result channel (fd 3) is not a readable pipe");
            readable.on("data", (chunk: Buffer) => {
                if (channelExceeded) return;
                if (chanBytes + chunk.length > io.channelBytes) {
                    channelExceeded = true;
                    killAll();
                    return;
                }
                chan.push(chunk);
                chanBytes += chunk.length;
            });
            readable.on("error", () => {});
        }
        // Input: stdin and bwrap's file pipes. A program that exits without reading them is not an error here.
        const feed = (stream: Writable | null | undefined, text: string): void => {
            if (!stream) return;
            stream.on("error", () => {});
            stream.end(text);
        };
        feed(child.stdin, io.stdin);
        io.files.forEach((text, i) => feed(child.stdio[FIRST_FILE_FD + i] as Writable, text));
        const timer = setTimeout(() => {
            timedOut = true;
            killAll();
        }, limits.wallMs);
        const done = (): void => {
            clearTimeout(timer);
            if (pid !== undefined) {
                // Whatever is left of the group (the sandbox is gone, but a stray process may remain).
                killGroup(pid);
                liveGroups.delete(pid);
            }
        };
        child.on("error", (e) => {
            done();
            reject(new StepwiseError(`cannot start ${argv[0]}: ${e.message}`));
        });
        // A straggler outside the process group (unsafe runs) may hold stdout or fd 3 open after the
        // program exited: stop waiting for it a second later.
        child.on("exit", () => {
            setTimeout(() => {
                for (const stream of child.stdio) stream?.destroy();
            }, 1000).unref();
        });
        child.on("close", (code, signal) => {
            done();
            resolve({
                exitCode: code,
                signal,
                timedOut,
                outputExceeded,
                stdout: Buffer.concat(out).toString("utf8"),
                stderr: Buffer.concat(err).toString("utf8"),
                channel: io.channel ? Buffer.concat(chan).toString("utf8") : undefined,
                channelExceeded,
                wallMs: performance.now() - started,
            });
        });
    });
}

function killAllLive(): void {
    for (const pid of liveGroups) killGroup(pid);
    liveGroups.clear();
}
