/**
 * The stepwise CLI as tests run it: the built dist/ when it holds a build of the current sources
 * (`npm test` builds it first, through scripts/ensure-deps.mjs), else the TypeScript sources through
 * tsx (`src/cli/main.ts`), so a test never runs a stale dist/: the same rule as bin/stepwise.mjs.
 * dist/ starts in about a quarter of tsx's time (each spawned CLI recompiles nothing). The built
 * bin as users install it is tested by test/pack/install.test.ts.
 */
import {spawn, spawnSync, type SpawnSyncOptions} from "node:child_process";
import {distStale} from "../../bin/dist-stale.mjs";

const root = new URL("../../", import.meta.url);
const main = new URL("src/cli/main.ts", root).pathname;
const built = new URL("dist/cli/main.js", root).pathname;

/** Decided once per test file (bin/dist-stale.mjs's rule): a build that goes stale during the run (an edit) is not noticed. */
const useDist = process.env.STEPWISE_TEST_CLI === "src" ? false : !distStale(root);

/** Arguments for `process.execPath` that run `stepwise ARGS…` (dist/ when fresh, else the sources; STEPWISE_TEST_CLI=src forces the sources). */
export function cliArgs(...args: string[]): string[] {
    return useDist ? [built, ...args] : ["--import", "tsx", main, ...args];
}

/** Run `stepwise ARGS…` to completion; stdout/stderr as text. */
export function runCli(args: string[], options: SpawnSyncOptions = {}): {status: number | null; stdout: string; stderr: string} {
    const r = spawnSync(process.execPath, cliArgs(...args), {encoding: "utf8", ...options});
    return {status: r.status, stdout: String(r.stdout), stderr: String(r.stderr)};
}

/**
 * `stepwise serve ARGS…` from source in a child process, resolved once its stderr matches `ready`
 * (rejected if it exits first or after `timeoutMs`, default 60 s, with what it printed). `stderr`
 * is what it printed up to then; `stop()` sends SIGTERM and waits for the exit.
 */
export async function serveCli(args: string[], ready: RegExp, timeoutMs = 60_000): Promise<{stderr: string; stop: () => Promise<void>}> {
    const child = spawn(process.execPath, cliArgs("serve", ...args), {stdio: ["ignore", "ignore", "pipe"]});
    const stop = async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
    };
    let err = "";
    try {
        const stderr = await new Promise<string>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), timeoutMs);
            child.stderr!.on("data", (d: Buffer) => {
                err += d.toString();
                if (ready.test(err)) {
                    clearTimeout(timer);
                    resolve(err);
                }
            });
            child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
        });
        return {stderr, stop};
    } catch (e) {
        await stop();
        throw e;
    }
}
