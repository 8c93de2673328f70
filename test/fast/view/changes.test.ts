/**
 * A file rewritten under the running viewer: the store notices (size, mtime, inode) and indexes
 * again, and never answers a key with the bytes of another record.
 */
import {test, after} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, renameSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {ViewStore, entryView, createViewerApp} from "../../../src/apps/view/index.ts";
import {StepwiseError} from "../../../src/util/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-view-changes-"));
after(() => rmSync(dir, {recursive: true, force: true}));
const sample = (id: string, text: string) => ({id, question_id: id.split("#")[0], question: `Question of ${id}`, text, tokens: [{text, confidence: 0.9}]});
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

test("a file rewritten in place is indexed again; a read before that refuses rather than answer another record", async () => {
    const file = join(dir, "samples.jsonl");
    writeFileSync(file, jsonl([sample("a#0", "first answer, long enough to move offsets"), sample("b#0", "second")]));
    const store = await ViewStore.open([file]);
    assert.equal(entryView(store, "b#0")!.text, "second");
    // Rewritten: b#0 first (at a's old offset), a#0 gone, c#0 new.
    writeFileSync(file, jsonl([sample("b#0", "second, rewritten"), sample("c#0", "third")]));
    assert.throws(() => entryView(store, "b#0"), (e: Error) => e instanceof StepwiseError && /samples\.jsonl: changed on disk since the viewer indexed it/.test(e.message));
    assert.equal(await store.refresh(), true);
    assert.equal(entryView(store, "b#0")!.text, "second, rewritten");
    assert.equal(entryView(store, "c#0")!.text, "third");
    assert.equal(entryView(store, "a#0"), undefined);
    assert.deepEqual(store.keys(), ["b#0", "c#0"]);
    assert.equal(store.files[0].records, 2);
    assert.equal(await store.refresh(), false, "nothing changed since");
});

test("the server re-indexes before answering: new records by key, a removed key 404, a broken file 409 naming it", async () => {
    const file = join(dir, "served.jsonl");
    writeFileSync(file, jsonl([sample("x#0", "one"), sample("y#0", "two")]));
    const app = createViewerApp(await ViewStore.open([file]));
    const entry = async (key: string) => {
        const r = await app.request(`/api/entry?key=${encodeURIComponent(key)}`);
        return {status: r.status, body: (await r.json()) as {text?: string; error?: {message: string}}};
    };
    assert.equal((await entry("y#0")).body.text, "two");
    // Replaced by a rename (a new inode), as atomic writers do.
    const next = join(dir, "served.next");
    writeFileSync(next, jsonl([sample("y#0", "two, replaced and longer"), sample("z#0", "three")]));
    renameSync(next, file);
    assert.deepEqual(await entry("y#0").then((r) => [r.status, r.body.text]), [200, "two, replaced and longer"]);
    assert.equal((await entry("x#0")).status, 404);
    const list = (await (await app.request("/api/list")).json()) as {total: number};
    assert.equal(list.total, 2);
    writeFileSync(file, '{"id":"y#0"}\n{broken\n');
    const broken = await entry("y#0");
    assert.equal(broken.status, 409);
    assert.match(broken.body.error!.message, /served\.jsonl:2: malformed JSON/);
    writeFileSync(file, jsonl([sample("y#0", "fixed")]));
    assert.equal((await entry("y#0")).body.text, "fixed");
});
