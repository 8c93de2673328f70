/**
 * A training stops when asked: SIGINT or SIGTERM after the first checkpoint ends the process at
 * once (a step is synchronous work; the trainer yields between steps so the signal handler runs),
 * the checkpoint stays, and `--resume` continues from it. Before the fix, a training signalled
 * after its first checkpoint trained on to its last step.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {spawn} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, statSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {cliArgs, runCli} from "../../helpers/cli.ts";

async function stopAfterFirstCheckpoint(signal: "SIGINT" | "SIGTERM"): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-train-signal-"));
    const ck = join(dir, "ck");
    const args = ["lab", "train-policy", "--out", join(dir, "p.gguf"), "--steps", "100000", "--d-model", "16", "--layers", "1", "--heads", "1", "--batch", "2", "--checkpoint-dir", ck, "--checkpoint-every", "5"];
    const child = spawn(process.execPath, cliArgs(...args), {stdio: ["ignore", "ignore", "pipe"]});
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const exited = new Promise<{code: number | null; signal: string | null}>((r) => child.once("exit", (code, sig) => r({code, signal: sig})));
    const checkpoint = join(ck, "checkpoint.bin");
    for (let i = 0; i < 600 && !existsSync(checkpoint); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(checkpoint), `no checkpoint after 60 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 300)); // a few more steps, so the signal lands between steps
    const sent = Date.now();
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const end = await exited;
    clearTimeout(timer);
    assert.ok(Date.now() - sent < 10_000, `${signal}: the training took ${Date.now() - sent} ms to stop`);
    assert.ok(end.signal === signal || end.code === 128 + (signal === "SIGINT" ? 2 : 15), `${signal}: ended with ${JSON.stringify(end)}\n${stderr}`);
    assert.doesNotMatch(stderr, /finished at step 100000/);
    // It says where a resume continues from, on stderr and in train.log.
    assert.match(stderr, /train: stopped at step \d+; the checkpoint at step \d+ in \S*checkpoint\.bin is kept \(--resume continues from it\)/);
    assert.match(readFileSync(join(ck, "train.log"), "utf8"), /stopped at step \d+; the checkpoint at step \d+/);
    assert.ok(statSync(checkpoint).size > 0, "the checkpoint stays");
    const again = runCli([...args.map((a) => (a === "100000" ? "12" : a)), "--resume"]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /resumed from .*checkpoint\.bin at step \d+/);
}

test("lab train-policy: SIGTERM after the first checkpoint ends the training at once; --resume continues", () => stopAfterFirstCheckpoint("SIGTERM"));
test("lab train-policy: SIGINT (Ctrl-C) after the first checkpoint ends the training at once", () => stopAfterFirstCheckpoint("SIGINT"));
