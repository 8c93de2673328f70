/**
 * The stepwise CLI as tests run it: the TypeScript sources through tsx (`src/cli/main.ts`), so a
 * test never runs a stale dist/. The built bin is tested by test/pack/install.test.ts.
 */
import {spawnSync, type SpawnSyncOptions} from "node:child_process";

const main = new URL("../../src/cli/main.ts", import.meta.url).pathname;

/** Arguments for `process.execPath` that run `stepwise ARGS…` from source. */
export function cliArgs(...args: string[]): string[] {
    return ["--import", "tsx", main, ...args];
}

/** Run `stepwise ARGS…` to completion; stdout/stderr as text. */
export function runCli(args: string[], options: SpawnSyncOptions = {}): {status: number | null; stdout: string; stderr: string} {
    const r = spawnSync(process.execPath, cliArgs(...args), {encoding: "utf8", ...options});
    return {status: r.status, stdout: String(r.stdout), stderr: String(r.stderr)};
}
