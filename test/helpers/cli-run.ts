/** Running the real `stepwise` CLI (bin/stepwise.mjs) in a child process, as a user would. */
import assert from "node:assert/strict";
import {spawn, spawnSync, type SpawnSyncOptions} from "node:child_process";

export const bin = new URL("../../bin/stepwise.mjs", import.meta.url).pathname;
export const root = new URL("../../", import.meta.url).pathname;
export const policy = new URL("../../models/lab-policy.gguf", import.meta.url).pathname;
/** The shipped PRM: an implicit PRM paired with the tag PRM (`stepwise pair-prm`). */
export const prm = new URL("../../models/lab-prm.gguf", import.meta.url).pathname;
/** The shipped tag PRM: the pair's step scores. */
export const tagPrm = new URL("../../models/lab-tag-prm.gguf", import.meta.url).pathname;

export interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
}

/** `stepwise ARGS…`, waited for. */
export function stepwise(args: string[], options: SpawnSyncOptions = {}): Run {
    const r = spawnSync(process.execPath, [bin, ...args], {encoding: "utf8", timeout: 300_000, ...options});
    return {status: r.status, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "")};
}

/** `stepwise ARGS…` in the background. */
export function stepwiseAsync(args: string[]) {
    const child = spawn(process.execPath, [bin, ...args], {stdio: ["ignore", "pipe", "pipe"]});
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const done = new Promise<Run>((resolve) => child.once("exit", (status) => resolve({status, stdout: "", stderr})));
    return {child, done};
}

/**
 * The run failed the way stepwise promises: exit code 1 and a `stepwise: …` line matching
 * `pattern`, no stack trace, no "internal error".
 */
export function assertOneLineError(r: Run, pattern: RegExp): void {
    assert.equal(r.status, 1, `exit code 1 expected, got ${r.status}; stderr:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at .+[:(].*\d+:\d+\)?\n|internal error/, `no stack trace expected:\n${r.stderr}`);
    const line = r.stderr.split("\n").find((l) => l.startsWith("stepwise: "));
    assert.ok(line, `a "stepwise: …" line expected:\n${r.stderr}`);
    assert.match(line!, pattern);
}
