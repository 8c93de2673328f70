/**
 * `stepwise view` at the command line: an export never deletes what it did not write, inputs from
 * pipes are read, read-only output folders (view --export, stats --out) are named as such.
 */
import {test, after} from "node:test";
import assert from "node:assert/strict";
import {spawn, spawnSync} from "node:child_process";
import {copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {ViewStore, entryView} from "../../../src/apps/view/index.ts";
import {assertOneLineError, bin, stepwise} from "../../helpers/cli-run.ts";
import {writeFixture} from "../../helpers/view-fixture.ts";

const fx = writeFixture();
after(() => fx.cleanup());

test("view proj/data/samples.jsonl --export proj is refused and proj/data is intact", () => {
    const proj = join(fx.dir, "proj");
    mkdirSync(join(proj, "data"), {recursive: true});
    const input = join(proj, "data", "samples.jsonl");
    copyFileSync(fx.files.samples, input);
    writeFileSync(join(proj, "data", "train.jsonl"), '{"id":"t"}\n');
    assertOneLineError(stepwise(["view", input, "--export", proj]), /view --export .*proj: the folder holds the input file .*samples\.jsonl/);
    assert.deepEqual(readdirSync(join(proj, "data")).sort(), ["samples.jsonl", "train.jsonl"]);
    // Inputs elsewhere, an existing proj2/data of someone else: refused, kept (was: deleted, exit 0).
    const proj2 = join(fx.dir, "proj2");
    mkdirSync(join(proj2, "data"), {recursive: true});
    writeFileSync(join(proj2, "data", "notes.txt"), "mine");
    assertOneLineError(stepwise(["view", fx.files.samples, "--export", proj2]), /proj2: the folder is not empty and is not a previous `stepwise view --export`/);
    assert.equal(readFileSync(join(proj2, "data", "notes.txt"), "utf8"), "mine");
});

test("view reads a pipe: process substitution and /dev/stdin (a pipe, or the socket node gives a child)", () => {
    const out = join(fx.dir, "from-pipe");
    const r = spawnSync("bash", ["-c", `"${process.execPath}" "${bin}" view <(cat "${fx.files.samples}") --export "${out}"`], {encoding: "utf8"});
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /view: 4 entries from 1 file/);
    assert.match(readFileSync(join(out, "data", "entries-0.js"), "utf8"), /Compute 3 \+ 4/);
    const out1 = join(fx.dir, "from-stdin-pipe");
    const r1 = spawnSync("bash", ["-c", `cat "${fx.files.samples}" | "${process.execPath}" "${bin}" view /dev/stdin --export "${out1}"`], {encoding: "utf8"});
    assert.equal(r1.status, 0, r1.stderr);
    assert.match(r1.stderr, /view: 4 entries from 1 file/);
    const out2 = join(fx.dir, "from-stdin");
    const r2 = spawnSync(process.execPath, [bin, "view", "/dev/stdin", "--export", out2], {encoding: "utf8", input: readFileSync(fx.files.samples)});
    assert.equal(r2.status, 0, r2.stderr);
    assert.ok(existsSync(join(out2, "index.html")));
});

test("a pipe is read whole into memory, up to a limit that names it", async () => {
    const fifo = join(fx.dir, "fifo");
    const feed = () => {
        assert.equal(spawnSync("sh", ["-c", `rm -f "${fifo}" && mkfifo "${fifo}"`]).status, 0);
        spawn("sh", ["-c", `cat "${fx.files.samples}" > "${fifo}"`], {stdio: "ignore"});
    };
    feed();
    const store = await ViewStore.open([fifo]);
    assert.equal(entryView(store, "q1#0")!.text, "3 + 4 = 7.\nSo 7.\nThe answer is 7.");
    assert.equal(await store.refresh(), false);
    feed();
    await assert.rejects(ViewStore.open([fifo], {pipeLimit: 100}), /fifo: a pipe \(not a regular file\) is read into memory, and this one holds more than 100 bytes; save it to a file/);
});

const bwrap = spawnSync("bwrap", ["--dev-bind", "/", "/", "true"]).status === 0 ? false : "bubblewrap (bwrap) is not available to make a read-only file system";

test("a read-only output folder is named as read-only by view --export and stats (was: no such file)", {skip: bwrap}, () => {
    const ro = join(fx.dir, "ro");
    mkdirSync(ro);
    const under = (args: string[]) => {
        const r = spawnSync("bwrap", ["--dev-bind", "/", "/", "--ro-bind", ro, ro, process.execPath, bin, ...args], {encoding: "utf8"});
        return {status: r.status, stdout: r.stdout, stderr: r.stderr};
    };
    assertOneLineError(under(["view", fx.files.samples, "--export", join(ro, "x")]), /ro\/x: cannot create the folder: read-only file system/);
    assertOneLineError(under(["view", fx.files.samples, "--export", ro]), /ro: cannot write into this folder: read-only file system/);
    assertOneLineError(under(["stats", "--steps", fx.files.steps, "--out", join(ro, "st"), "--no-plot"]), /ro\/st: cannot create the folder: read-only file system/);
    assertOneLineError(under(["stats", "--steps", fx.files.steps, "--out", ro, "--no-plot"]), /ro: cannot write into this folder: read-only file system/);
});
