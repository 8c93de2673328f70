/**
 * The code verifier: runs candidate Python programs against unit tests in the sandbox.
 *
 * Problems come in the LeetCodeDataset shape (newfacade/LeetCodeDataset, `data/*.jsonl`):
 * `{task_id, prompt, test, entry_point, completion?}` where `prompt` is a preamble of imports and
 * helpers, `test` defines `def check(candidate)` with `assert` lines, `entry_point` is an
 * expression naming the function under test (e.g. `Solution().twoSum`) and `completion` is a
 * reference solution. Candidates are `{id, task_id, completion}`; a verdict is
 * `{id, task_id, status, detail, wall_ms}` with status one of pass, fail, timeout, memory, error.
 *
 * The verdict comes from the harness (./harness.ts) over the sandbox's result channel, fd 3, which
 * only the host reads (./sandbox.ts), never from a file of the candidate's working directory. It counts
 * only when the channel holds exactly one line with this run's nonce and the sandbox exited 0; a
 * run without one is classified from how it ended (timeout, memory, error), never as a pass.
 */
import pLimit from "p-limit";
import {randomBytes} from "node:crypto";
import {availableParallelism} from "node:os";
import type {z} from "zod";
import {StepwiseError} from "../../util/errors.ts";
import {CODE_STATUSES, type CodeVerdictSchema} from "../../core/schemas.ts";
import {HARNESS_PY} from "./harness.ts";
import {DEFAULT_LIMITS, runSandboxed, type RunOptions, type SandboxLimits} from "./sandbox.ts";

/** A problem in the LeetCodeDataset shape (other fields are ignored). */
export interface CodeTestProblem {
    task_id: string;
    /** Preamble run before the candidate (imports, helpers). */
    prompt?: string;
    /** Python defining `def check(candidate)`. */
    test: string;
    /** Expression naming the function under test. */
    entry_point: string;
    /** Reference solution. */
    completion?: string;
}

/** A candidate program for a problem. */
export interface CodeCandidate {
    id: string;
    task_id: string;
    /** The program text (like the dataset's reference `completion`). */
    completion: string;
}

export type CodeStatus = (typeof CODE_STATUSES)[number];
export {CODE_STATUSES};

/** One verdict of `stepwise code run` (schema: core/schemas.ts {@link CodeVerdictSchema}). */
export type CodeVerdict = z.output<typeof CodeVerdictSchema>;

export interface VerifyOptions extends Pick<RunOptions, "unsafe" | "sandbox"> {
    limits?: Partial<SandboxLimits>;
}

type Verdict = Pick<CodeVerdict, "status" | "detail">;

/**
 * The harness's verdict from the result channel: `undefined` when the channel is empty, `"forged"`
 * when it holds anything but exactly one line `<nonce> {"status", "detail"}`.
 */
function channelVerdict(channel: string, nonce: string): Verdict | "forged" | undefined {
    if (channel === "") return undefined;
    const prefix = `${nonce} `;
    if (!channel.startsWith(prefix) || !channel.endsWith("\n") || channel.indexOf("\n") !== channel.length - 1) return "forged";
    try {
        const r = JSON.parse(channel.slice(prefix.length)) as {status?: unknown; detail?: unknown};
        if (typeof r === "object" && r !== null && CODE_STATUSES.includes(r.status as CodeStatus) && typeof r.detail === "string") return {status: r.status as CodeStatus, detail: r.detail};
    } catch {
        // not JSON: forged
    }
    return "forged";
}

/** Run one program against one problem's tests. */
export async function verifyProgram(problem: CodeTestProblem, program: string, options: VerifyOptions = {}): Promise<Omit<CodeVerdict, "id" | "task_id">> {
    const limits = {...DEFAULT_LIMITS, ...options.limits};
    const nonce = randomBytes(16).toString("hex");
    const config = {prompt: problem.prompt ?? "", candidate: program, test: problem.test, entry_point: problem.entry_point, limits, nonce};
    const run = await runSandboxed({"harness.py": HARNESS_PY}, "harness.py", {
        limits,
        unsafe: options.unsafe,
        sandbox: options.sandbox,
        stdin: JSON.stringify(config),
        channel: true,
    });
    const wall_ms = Math.round(run.wallMs);
    if (run.outputExceeded) return {status: "error", detail: `output limit: more than ${limits.outputBytes} bytes written to stdout/stderr`, wall_ms};
    if (run.timedOut) return {status: "timeout", detail: `wall time limit (${limits.wallMs} ms)`, wall_ms};
    if (run.channelExceeded) return {status: "error", detail: "the result channel (fd 3) got more than a verdict: the program wrote to it", wall_ms};
    const verdict = channelVerdict(run.channel ?? "", nonce);
    if (verdict === "forged") return {status: "error", detail: "the result channel (fd 3) held something other than the harness's verdict: the program wrote to it", wall_ms};
    if (verdict && run.exitCode === 0) return {...verdict, wall_ms};
    const tail = run.stderr.trim().split("\n").slice(-1)[0] ?? "";
    // RLIMIT_CPU: SIGXCPU at the soft limit (exit 128 + 24 through bwrap) or SIGKILL at the hard one.
    if (run.signal === "SIGXCPU" || run.exitCode === 128 + 24 || run.exitCode === -24) return {status: "timeout", detail: `cpu time limit (${limits.cpuSeconds} s)`, wall_ms};
    if (/MemoryError|Cannot allocate memory|std::bad_alloc/.test(run.stderr)) return {status: "memory", detail: tail.slice(0, 500), wall_ms};
    // Inside the sandbox only the kernel sends SIGKILL: RLIMIT_CPU's hard limit (one second after the soft one).
    if (run.exitCode === 128 + 9 || run.signal === "SIGKILL") return {status: "timeout", detail: `cpu time limit (${limits.cpuSeconds} s, killed)`, wall_ms};
    const how = verdict ? `exited (code ${run.exitCode ?? run.signal}) after the harness's verdict` : `exited (code ${run.exitCode ?? run.signal}) without a verdict`;
    return {status: "error", detail: `${how}${tail ? `: ${tail.slice(0, 300)}` : ""}`, wall_ms};
}

/** Default number of candidates run at once: the cores, at most 4. */
export function defaultConcurrency(): number {
    return Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * Verify many candidates, at most `concurrency` at once (default {@link defaultConcurrency}).
 * A candidate whose `task_id` has no problem gets status error (`unknown task_id`). `onVerdict`
 * is called as each verdict arrives (any order); the result is in input order.
 */
export async function verifyCandidates(
    problems: ReadonlyMap<string, CodeTestProblem>,
    candidates: readonly CodeCandidate[],
    options: VerifyOptions & {concurrency?: number; onVerdict?: (v: CodeVerdict) => void | Promise<void>} = {},
): Promise<CodeVerdict[]> {
    const limit = pLimit(options.concurrency ?? defaultConcurrency());
    return Promise.all(
        candidates.map((c) =>
            limit(async () => {
                const problem = problems.get(c.task_id);
                const v: CodeVerdict = problem
                    ? {id: c.id, task_id: c.task_id, ...(await verifyProgram(problem, c.completion, options))}
                    : {id: c.id, task_id: c.task_id, status: "error", detail: `unknown task_id "${c.task_id}"`, wall_ms: 0};
                await options.onVerdict?.(v);
                return v;
            }),
        ),
    );
}

/** Check the fields of a problem row; throws a StepwiseError naming the row. */
export function asCodeProblem(row: unknown, where: string): CodeTestProblem {
    const r = row as Record<string, unknown>;
    for (const f of ["task_id", "test", "entry_point"]) if (typeof r?.[f] !== "string") throw new StepwiseError(`${where}: field \`${f}\` must be a string`);
    if (r.prompt !== undefined && typeof r.prompt !== "string") throw new StepwiseError(`${where}: field \`prompt\` must be a string`);
    if (!/def\s+check\s*\(/.test(r.test as string)) throw new StepwiseError(`${where}: field \`test\` must define check(candidate)`);
    return {task_id: r.task_id as string, prompt: r.prompt as string | undefined, test: r.test as string, entry_point: r.entry_point as string, completion: typeof r.completion === "string" ? r.completion : undefined};
}

/** Check the fields of a candidate row; throws a StepwiseError naming the row. */
export function asCodeCandidate(row: unknown, where: string): CodeCandidate {
    const r = row as Record<string, unknown>;
    for (const f of ["id", "task_id", "completion"]) if (typeof r?.[f] !== "string") throw new StepwiseError(`${where}: field \`${f}\` must be a string`);
    return {id: r.id as string, task_id: r.task_id as string, completion: r.completion as string};
}
