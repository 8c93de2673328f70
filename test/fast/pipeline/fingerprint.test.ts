/**
 * Models are identified in settings by the SHA-256 of their bytes (cached by stat), so a
 * retrained checkpoint of the same file name and size is not resumed into an output; settings
 * files from before hashes still resume when the rest matches.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {copyFileSync, existsSync, rmSync, mkdtempSync, openSync, readFileSync, statSync, utimesSync, writeFileSync, writeSync, closeSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {createHash} from "node:crypto";
import {engineFingerprint, modelHashCachePath, modelSha256} from "../../../src/core/fingerprint.ts";
import {openStage, settingsPath} from "../../../src/core/stage.ts";
import {realPathOf} from "../../../src/io/output.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-fingerprint-"));
process.env.STEPWISE_CACHE_DIR = join(dir, "cache");
const source = new URL("../../../models/lab-policy.gguf", import.meta.url).pathname;

/** Overwrite the file's last byte in place (same name, same size: a "retrained" checkpoint). */
function retrain(file: string): void {
    const size = statSync(file).size;
    const fd = openSync(file, "r+");
    const last = readFileSync(file).subarray(size - 1);
    writeSync(fd, Buffer.from([last[0] ^ 0xff]), 0, 1, size - 1);
    closeSync(fd);
}

test("a retrained model of the same name and size is another model: resuming into its output is refused", () => {
    const model = join(dir, "policy.gguf");
    copyFileSync(source, model);
    const out = join(dir, "samples.jsonl");
    const before = engineFingerprint(`llama:${model}`);
    assert.equal(before.sha256, createHash("sha256").update(readFileSync(model)).digest("hex"));
    const s = openStage({name: "sample", out, settings: {engine: before, seed: 0}});
    s.write({id: "q#0"});
    s.close();
    const size = statSync(model).size;
    retrain(model);
    assert.equal(statSync(model).size, size);
    const after = engineFingerprint(`llama:${model}`);
    assert.equal(after.model, before.model);
    assert.equal(after.model_bytes, before.model_bytes);
    assert.throws(() => openStage({name: "sample", out, settings: {engine: after, seed: 0}}), /made with other settings \(engine: \{.*"sha256":"[0-9a-f]{64}"\} → \{.*"sha256":"[0-9a-f]{64}"\}\)/);
});

test("model hashes are cached by real path and stat: reused while the file is unchanged, recomputed when it is written", () => {
    const model = join(dir, "cached.gguf");
    copyFileSync(source, model);
    const real = modelSha256(model);
    const cache = JSON.parse(readFileSync(modelHashCachePath(), "utf8"));
    const key = realPathOf(model);
    assert.equal(cache[key].sha256, real);
    // A planted hash for the same stat is returned: the file is not read again.
    cache[key].sha256 = "0".repeat(64);
    writeFileSync(modelHashCachePath(), JSON.stringify(cache));
    assert.equal(modelSha256(model), "0".repeat(64));
    // Touching the file (new mtime and ctime) makes the entry stale.
    const t = new Date(Date.now() + 5000);
    utimesSync(model, t, t);
    assert.equal(modelSha256(model), real);
    // Entries of deleted files are dropped when the cache is rewritten.
    const gone = join(dir, "gone.gguf");
    copyFileSync(source, gone);
    modelSha256(gone);
    rmSync(gone);
    utimesSync(model, new Date(Date.now() + 9000), new Date(Date.now() + 9000));
    modelSha256(model);
    assert.deepEqual(Object.keys(JSON.parse(readFileSync(modelHashCachePath(), "utf8"))).sort(), [key, realPathOf(join(dir, "policy.gguf"))].filter((k) => existsSync(k)).sort());
    // An unreadable cache is ignored.
    writeFileSync(modelHashCachePath(), "{not json");
    assert.equal(modelSha256(model), real);
});

test("a settings file from before model hashes resumes when name and size match, and gets the hash; a size change is still refused", () => {
    const model = join(dir, "legacy.gguf");
    copyFileSync(source, model);
    const out = join(dir, "legacy.jsonl");
    const now = engineFingerprint(`llama:${model}`);
    const {sha256: _drop, ...old} = now;
    writeFileSync(out, JSON.stringify({id: "q#0"}) + "\n");
    writeFileSync(settingsPath(out), JSON.stringify({stage: "sample", fingerprint: "x", settings: {engine: old, seed: 0}, created: "2025-01-01T00:00:00Z"}));
    const notes: string[] = [];
    const s = openStage({name: "sample", out, settings: {engine: now, seed: 0}, log: (l) => notes.push(l)});
    assert.equal(s.done.size, 1);
    s.close();
    assert.match(notes.join("\n"), /predates model content hashes: the model \(engine\) was checked by file name and size only/);
    const upgraded = JSON.parse(readFileSync(settingsPath(out), "utf8"));
    assert.equal(upgraded.settings.engine.sha256, now.sha256);
    assert.equal(upgraded.created, "2025-01-01T00:00:00Z");
    // from now on the content is checked
    retrain(model);
    assert.throws(() => openStage({name: "sample", out, settings: {engine: engineFingerprint(`llama:${model}`), seed: 0}}), /other settings \(engine:/);
    // an old settings file whose size differs is refused as before
    writeFileSync(settingsPath(out), JSON.stringify({stage: "sample", fingerprint: "x", settings: {engine: {...old, model_bytes: 12}, seed: 0}, created: "2025-01-01T00:00:00Z"}));
    assert.throws(() => openStage({name: "sample", out, settings: {engine: now, seed: 0}}), /model_bytes/);
    assert.ok(existsSync(out));
});
