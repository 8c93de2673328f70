/**
 * SIGTERM ends a process whose cleanups src/io/process-end.ts runs, even beside a library listener
 * that re-sends the signal only when it is alone (npm `signal-exit`'s rule; tsx loads it): the two,
 * each deferring to the other, once swallowed the signal and a killed `lab train-judge` ran on.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {spawn} from "node:child_process";
import {existsSync, mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";

const moduleUrl = new URL("../../../src/io/process-end.ts", import.meta.url).href;

/** Run `body` in a child (tsx, as the CLI runs from a clone), send it SIGTERM once it says "ready"; resolves with how it ended. */
function runAndTerm(body: string): Promise<{code: number | null; signal: NodeJS.Signals | null; out: string; dir: string}> {
    const dir = mkdtempSync(join(tmpdir(), "process-end-"));
    const file = join(dir, "child.mts");
    writeFileSync(file, body.replaceAll("MODULE", moduleUrl).replaceAll("DIR", dir));
    const [node, ...args] = [process.execPath, "--import", "tsx", file];
    return new Promise((resolve, reject) => {
        const child = spawn(node, args, {stdio: ["ignore", "pipe", "inherit"]});
        let out = "";
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            reject(new Error(`the child ignored SIGTERM (output: ${out})`));
        }, 10_000);
        child.stdout.on("data", (d) => {
            out += String(d);
            if (out.includes("ready")) child.kill("SIGTERM");
        });
        child.on("exit", (code, signal) => {
            clearTimeout(timer);
            resolve({code, signal, out, dir});
        });
    });
}

// signal-exit's rule: on a signal, re-send it only if this is the last listener left.
const politeListener = `
const polite = () => { if (process.listeners("SIGTERM").length === 1) { process.removeListener("SIGTERM", polite); process.kill(process.pid, "SIGTERM"); } };
process.on("SIGTERM", polite);`;

test("SIGTERM: cleanups run and the process ends, beside a listener that defers to others", async () => {
    const r = await runAndTerm(`
import {onProcessEnd} from "MODULE";
import {writeFileSync} from "node:fs";
${politeListener}
onProcessEnd(() => writeFileSync("DIR/cleaned", "1"));
setInterval(() => {}, 1000); // busy like a training: nothing else ends it
console.log("ready");
`);
    assert.equal(r.signal, "SIGTERM", JSON.stringify(r));
    assert.ok(existsSync(join(r.dir, "cleaned")), "the cleanup ran");
});

test("SIGTERM with a graceful shutdown claiming the signals: the cleanups run and the shutdown ends the process", async () => {
    const r = await runAndTerm(`
import {onProcessEnd, claimSignals} from "MODULE";
import {existsSync, writeFileSync} from "node:fs";
${politeListener}
onProcessEnd(() => writeFileSync("DIR/cleaned", "1"));
claimSignals();
process.once("SIGTERM", () => setTimeout(() => { console.log("shut down, cleaned " + existsSync("DIR/cleaned")); process.exit(0); }, 200));
setInterval(() => {}, 1000);
console.log("ready");
`);
    assert.deepEqual([r.code, r.signal], [0, null], JSON.stringify(r));
    assert.match(r.out, /shut down, cleaned true/);
});

// The real npm signal-exit (a dependency of node-llama-cpp's), not our imitation of its rule.
const signalExit = new URL("../../../node_modules/signal-exit/index.js", import.meta.url);
test("SIGTERM beside the real npm signal-exit: cleanups run and the process ends", {skip: existsSync(signalExit) ? false : "node_modules/signal-exit is not installed"}, async () => {
    const r = await runAndTerm(`
import {onProcessEnd} from "MODULE";
import {createRequire} from "node:module";
import {writeFileSync} from "node:fs";
const onExit = createRequire(import.meta.url)(${JSON.stringify(signalExit.pathname)});
(onExit.onExit ?? onExit)(() => {});
onProcessEnd(() => writeFileSync("DIR/cleaned", "1"));
setInterval(() => {}, 1000);
console.log("ready");
`);
    assert.equal(r.signal, "SIGTERM", JSON.stringify(r));
    assert.ok(existsSync(join(r.dir, "cleaned")), "the cleanup ran");
});
