/**
 * `view --export` never deletes what it did not write: a non-empty folder that is not a previous
 * export, or a folder holding an input, is refused before anything is written; a previous export
 * loses only the files its own marker lists.
 */
import {test, after} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, copyFileSync} from "node:fs";
import {join} from "node:path";
import {ViewStore, exportViewer, EXPORT_MARKER} from "../../../src/apps/view/index.ts";
import {StepwiseError} from "../../../src/util/errors.ts";
import {writeFixture} from "../../helpers/view-fixture.ts";

const fx = writeFixture();
after(() => fx.cleanup());

test("an export into the folder that holds its input is refused and deletes nothing", async () => {
    // The reported case: `stepwise view proj/data/samples.jsonl --export proj`.
    const proj = join(fx.dir, "proj");
    mkdirSync(join(proj, "data"), {recursive: true});
    const input = join(proj, "data", "samples.jsonl");
    copyFileSync(fx.files.samples, input);
    writeFileSync(join(proj, "data", "train.jsonl"), '{"id":"t"}\n');
    // Even with a marker (a previous export there), a folder holding an input is refused.
    writeFileSync(join(proj, EXPORT_MARKER), JSON.stringify({files: ["data/entries-0.js"]}));
    const store = await ViewStore.open([input]);
    assert.throws(() => exportViewer(store, proj), (e: Error) => e instanceof StepwiseError && /proj: the folder holds the input file .*samples\.jsonl/.test(e.message));
    assert.deepEqual(readdirSync(join(proj, "data")).sort(), ["samples.jsonl", "train.jsonl"]);
    assert.equal(readFileSync(input, "utf8"), readFileSync(fx.files.samples, "utf8"));
});

test("a non-empty folder that is not a previous export is refused, untouched", async () => {
    const proj2 = join(fx.dir, "proj2");
    mkdirSync(join(proj2, "data"), {recursive: true});
    writeFileSync(join(proj2, "data", "notes.txt"), "mine");
    const store = await ViewStore.open([fx.files.samples]);
    assert.throws(() => exportViewer(store, proj2), /proj2: the folder is not empty and is not a previous `stepwise view --export` \(no \.stepwise-view-export\.json in it\)/);
    assert.deepEqual(readdirSync(proj2), ["data"]);
    assert.equal(readFileSync(join(proj2, "data", "notes.txt"), "utf8"), "mine");
    // a file where the folder should be
    const file = join(fx.dir, "afile");
    writeFileSync(file, "x");
    assert.throws(() => exportViewer(store, file), /afile: is a file, not a folder/);
    // an unreadable marker
    const bad = join(fx.dir, "bad-marker");
    mkdirSync(bad);
    writeFileSync(join(bad, EXPORT_MARKER), "{oops");
    assert.throws(() => exportViewer(store, bad), /bad-marker: \.stepwise-view-export\.json is unreadable/);
});

test("a new or empty folder takes the export; a previous export loses only the files its marker lists", async () => {
    const out = join(fx.dir, "out");
    mkdirSync(out);
    const store = await ViewStore.open(Object.values(fx.files));
    exportViewer(store, out);
    const marker = JSON.parse(readFileSync(join(out, EXPORT_MARKER), "utf8"));
    assert.deepEqual(marker.files, ["index.html", "data/index.js", "data/entries-0.js"]);
    // A larger old export (entries-1.js, entries-2.js), a user's file in data/, and a hand-edited
    // marker naming files outside the export's own names: only entries-1 and entries-2 go.
    writeFileSync(join(out, "data", "entries-1.js"), "old");
    writeFileSync(join(out, "data", "entries-2.js"), "old");
    writeFileSync(join(out, "data", "mine.txt"), "mine");
    writeFileSync(join(out, "keep.txt"), "keep");
    writeFileSync(join(out, EXPORT_MARKER), JSON.stringify({files: [...marker.files, "data/entries-1.js", "data/entries-2.js", "data/mine.txt", "keep.txt", "../samples.jsonl", fx.files.steps]}));
    exportViewer(store, out);
    assert.deepEqual(readdirSync(join(out, "data")).sort(), ["entries-0.js", "index.js", "mine.txt"]);
    assert.ok(existsSync(join(out, "keep.txt")) && existsSync(fx.files.samples) && existsSync(fx.files.steps));
    assert.deepEqual(JSON.parse(readFileSync(join(out, EXPORT_MARKER), "utf8")).files, ["index.html", "data/index.js", "data/entries-0.js"]);
    // A link among the export's names is refused (a write would follow it out of the folder).
    const {symlinkSync, unlinkSync} = await import("node:fs");
    unlinkSync(join(out, "index.html"));
    symlinkSync(fx.files.steps, join(out, "index.html"));
    const before = readFileSync(fx.files.steps, "utf8");
    assert.throws(() => exportViewer(store, out), /out: index\.html is not a regular file \(a link or a folder\)/);
    assert.equal(readFileSync(fx.files.steps, "utf8"), before);
    // A new nested folder is created.
    assert.ok(existsSync(exportViewer(store, join(fx.dir, "new", "deeper"))));
});
