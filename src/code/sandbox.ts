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
 * - a fresh temporary working directory (`/work` inside, removed afterwards) and a private `/tmp`;
 * - a clean environment (`PATH`, `HOME`, `LANG`, `PYTHONHASHSEED`, `PYTHONDONTWRITEBYTECODE` only);
 * - when stepwise runs as root, the sandbox runs as an unprivileged host user (`setpriv`, uid
 *   65534 by default) because the kernel exempts root from RLIMIT_NPROC;
 * - resource limits: wall time (the run is killed), and inside the sandbox (set by the harness with
 *   Python's `resource` module, soft = hard, so code cannot raise them) CPU seconds, address space,
 *   processes (counted inside the sandbox's user namespace), file size and open files; output is
 *   capped by the parent, which kills the run when stdout + stderr exceed the limit.
 *
 * Known limits: disk use is bounded per file (RLIMIT_FSIZE) but not in total; a run can use CPU
 * up to its limits. Without bwrap, {@link runSandboxed} refuses unless `unsafe` is set, in which
 * case the program runs as a plain child process (clean environment and rlimits only).
 */
import {spawn, spawnSync} from "node:child_process";
import {chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync} from "node:fs";
import {lstatSync} from "node:fs";
import {tmpdir} from "node:os";
import {delimiter, join} from "node:path";
import {StepwiseError} from "../engines/types.ts";

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
}

export const DEFAULT_LIMITS: SandboxLimits = {
    wallMs: 10_000,
    cpuSeconds: 5,
    memoryBytes: 512 * 1024 * 1024,
    processes: 32,
    outputBytes: 1024 * 1024,
    fileBytes: 16 * 1024 * 1024,
    openFiles: 64,
};

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

/**
 * Where working directories are made. As root the sandbox user must reach them, and $TMPDIR may be
 * private (mode 700): use /tmp/stepwise-sandbox (root-owned, mode 711: enterable, not listable).
 */
function workBase(info: SandboxInfo): string {
    if (info.dropToUid === undefined) return tmpdir();
    const base = "/tmp/stepwise-sandbox";
    mkdirSync(base, {recursive: true, mode: 0o711});
    const st = lstatSync(base);
    if (!st.isDirectory() || st.uid !== 0) throw new StepwiseError(`${base} is not a directory owned by root: remove it`);
    chmodSync(base, 0o711);
    return base;
}
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
    const probe = mkdtempSync(join(workBase(info), "probe-"));
    try {
        if (info.dropToUid !== undefined) chownSync(probe, info.dropToUid, info.dropToUid);
        const argv = sandboxArgv({...info, kind: "bwrap"}, probe, ["-I", "-c", "import os; print(os.getpid())"]);
        const r = spawnSync(argv[0], argv.slice(1), {encoding: "utf8", timeout: 20_000, env: {}});
        if (r.status !== 0) info.reason = `bwrap does not work here: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split("\n").at(-1)}`;
        else info.kind = "bwrap";
    } finally {
        rmSync(probe, {recursive: true, force: true});
    }
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

/** The full command line of a sandboxed Python run with `workDir` as /work. */
export function sandboxArgv(info: SandboxInfo, workDir: string, pythonArgs: string[]): string[] {
    if (info.kind !== "bwrap" || !info.bwrap) throw new StepwiseError(`no sandbox: ${info.reason ?? "bwrap unavailable"}`);
    const env = Object.entries(SANDBOX_ENV).flatMap(([k, v]) => ["--setenv", k, v]);
    const bwrap = [
        info.bwrap,
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--hostname", "sandbox",
        ...hostViewArgs(info),
        "--proc", "/proc",
        "--dev", "/dev",
        "--tmpfs", "/tmp",
        "--bind", workDir, "/work",
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
    wallMs: number;
    /** Files the program left in its working directory that the caller asked to read back. */
    files: Record<string, string | undefined>;
    /** `bwrap` or `unsafe` (no sandbox). */
    isolation: "bwrap" | "unsafe";
}

export interface RunOptions {
    limits?: Partial<SandboxLimits>;
    /** Run without a sandbox when none is available (dangerous: for trusted code only). Default false. */
    unsafe?: boolean;
    /** Working-directory files to read back after the run (e.g. a result file). */
    readBack?: string[];
    /** Sandbox to use (default: {@link detectSandbox}). */
    sandbox?: SandboxInfo;
}

/**
 * Run `python <entry>` with `files` written into a fresh working directory, sandboxed (see the
 * module doc). Throws a StepwiseError when no sandbox is available and `unsafe` is not set.
 */
export async function runSandboxed(files: Record<string, string>, entry: string, options: RunOptions = {}): Promise<RunOutcome> {
    const limits = {...DEFAULT_LIMITS, ...options.limits};
    const info = options.sandbox ?? detectSandbox();
    if (info.kind !== "bwrap" && !options.unsafe)
        throw new StepwiseError(`refusing to run untrusted code without a sandbox: ${info.reason ?? "bwrap unavailable"}; pass --unsafe (unsafe: true) to run it anyway`);
    const work = mkdtempSync(join(info.kind === "bwrap" ? workBase(info) : tmpdir(), "run-"));
    try {
        for (const [name, text] of Object.entries(files)) writeFileSync(join(work, name), text);
        const sandboxed = info.kind === "bwrap";
        if (sandboxed && info.dropToUid !== undefined) {
            chownSync(work, info.dropToUid, info.dropToUid);
            for (const name of Object.keys(files)) chownSync(join(work, name), info.dropToUid, info.dropToUid);
        }
        const argv = sandboxed ? sandboxArgv(info, work, ["-I", entry]) : [info.python, "-I", entry];
        const outcome = await spawnLimited(argv, sandboxed ? work : work, sandboxed ? {} : {...SANDBOX_ENV, HOME: work}, limits);
        const filesBack: Record<string, string | undefined> = {};
        for (const name of options.readBack ?? []) {
            try {
                filesBack[name] = readFileSync(join(work, name), "utf8");
            } catch {
                filesBack[name] = undefined;
            }
        }
        return {...outcome, files: filesBack, isolation: sandboxed ? "bwrap" : "unsafe"};
    } finally {
        rmSync(work, {recursive: true, force: true});
    }
}

function spawnLimited(argv: string[], cwd: string, env: Record<string, string>, limits: SandboxLimits): Promise<Omit<RunOutcome, "files" | "isolation">> {
    return new Promise((resolve, reject) => {
        const started = performance.now();
        const child = spawn(argv[0], argv.slice(1), {cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true});
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let bytes = 0;
        let timedOut = false;
        let outputExceeded = false;
        const killAll = (): void => {
            try {
                if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
            } catch {
                child.kill("SIGKILL");
            }
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
        child.stdout.on("data", take(out));
        child.stderr.on("data", take(err));
        const timer = setTimeout(() => {
            timedOut = true;
            killAll();
        }, limits.wallMs);
        child.on("error", (e) => {
            clearTimeout(timer);
            reject(new StepwiseError(`cannot start ${argv[0]}: ${e.message}`));
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({
                exitCode: code,
                signal,
                timedOut,
                outputExceeded,
                stdout: Buffer.concat(out).toString("utf8"),
                stderr: Buffer.concat(err).toString("utf8"),
                wallMs: performance.now() - started,
            });
        });
    });
}
