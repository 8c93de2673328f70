import {test, after} from "node:test";
import assert from "node:assert/strict";
import {writeFileSync} from "node:fs";
import {join} from "node:path";
import {ViewStore, entryView, questionView, createViewerApp, exportViewer, recordKinds} from "../../../src/apps/view/index.ts";
import {StepwiseError} from "../../../src/util/errors.ts";
import {writeFixture} from "../../helpers/view-fixture.ts";

const fx = writeFixture();
after(() => fx.cleanup());
const all = () => ViewStore.open(Object.values(fx.files));

test("record kinds come from the fields, several per record where they overlap", () => {
    assert.deepEqual(recordKinds({text: "a", tokens: []}), ["sample"]);
    assert.deepEqual(recordKinds({steps: [], strategy: "adaptive"}), ["steps"]);
    assert.deepEqual(recordKinds({steps: [], strategy: "adaptive", hard: [], rollouts: [], step_scores: []}), ["labels", "scores"]);
    assert.deepEqual(recordKinds({first_error: 1, votes: {}}), ["judge"]);
    assert.deepEqual(recordKinds({strategy: "tvd", trace: []}), ["decode"]);
    assert.deepEqual(recordKinds({steps: ["a"], label: -1}), ["gold"]);
    assert.deepEqual(recordKinds({id: 1}), ["record"]);
});

test("files are joined by id; summaries carry answer, scores, MC, judge and gold first errors", async () => {
    const store = await all();
    assert.equal(store.files.length, 7);
    const s = store.summary("q1#1")!;
    assert.deepEqual([...s.kinds].sort(), ["judge", "labels", "sample", "scores", "steps"].sort());
    assert.equal(s.correct, false);
    assert.equal(s.min_score, 0.2);
    assert.equal(s.mc_first_negative, 0);
    assert.equal(s.judge_first_error, 1);
    assert.equal(s.gold_first_error, 0);
    assert.equal(store.summary("pb-1")!.gold_first_error, 0);
    assert.equal(store.summary("q1@tvd")!.interventions, 1);
});

test("list: search, filters and pages", async () => {
    const store = await all();
    assert.equal(store.list().total, store.size);
    assert.deepEqual(store.list({filter: "wrong"}).rows.map((r) => r.key).sort(), ["pb-1", "q1#1", "q1#2"]);
    assert.deepEqual(store.list({filter: "low", low: 0.5}).rows.map((r) => r.key), ["q1#1"]);
    assert.deepEqual(store.list({filter: "disagree"}).rows.map((r) => r.key), ["q1#1"]);
    assert.deepEqual(store.list({filter: "intervened"}).rows.map((r) => r.key), ["q1@tvd"]);
    assert.deepEqual(store.list({q: "ANSWER IS 8"}).rows.map((r) => r.key), ["q1#1"]);
    assert.equal(store.list({offset: 1, limit: 2}).rows.length, 2);
    assert.throws(() => store.list({filter: "nope"}), StepwiseError);
});

test("an entry joins tokens, the split with its labels, scores and truth, and the judge", async () => {
    const store = await all();
    const e = entryView(store, "q1#1")!;
    assert.equal(e.tokens!.length, 2);
    assert.equal(e.tau, 0.5);
    const sp = e.splits.find((s) => s.strategy === "adaptive")!;
    assert.deepEqual(sp.files.sort(), ["labels.jsonl", "scored.jsonl", "steps.jsonl"]);
    assert.deepEqual(sp.steps.map((s) => [s.hard, s.score, s.truth, s.rollouts?.correct]), [[0, 0.2, false, 0], [null, 0.3, undefined, 0]]);
    assert.equal(sp.first_negative, 0);
    assert.equal(e.judges[0].first_error, 1);
    assert.equal(e.gold_first_error, 0);
    assert.equal(entryView(store, "../../etc/passwd"), undefined);
});

test("Best-of-N view: each aggregation's pick, never an unfinished candidate", async () => {
    const store = await all();
    const qv = questionView(store, "q1");
    assert.equal(qv.candidates.length, 3);
    // q1#2 has the highest scores (0.99) but no final answer: never picked.
    assert.equal(qv.candidates.find((c) => c.key === "q1#2")!.answer, null);
    for (const a of ["min", "max", "mean", "product", "last"] as const) assert.equal(qv.picks[a], "q1#0", a);
    assert.equal(qv.majority?.votes, 1);
});

test("the server answers only its routes, by key; everything else is a JSON 404", async () => {
    const store = await all();
    const app = createViewerApp(store);
    const get = async (path: string) => {
        const r = await app.request(path);
        return {status: r.status, body: r.headers.get("content-type")?.includes("json") ? await r.json() : await r.text()};
    };
    assert.equal((await get("/")).status, 200);
    assert.equal((await get("/api/entry?key=q1%230")).status, 200);
    for (const path of ["/api/entry?key=../../etc/passwd", "/../../etc/passwd", "/etc/passwd", `/api/entry?key=${encodeURIComponent(fx.files.samples)}`, "/data/index.js", "/%2e%2e/%2e%2e/etc/passwd"]) {
        const r = await get(path);
        assert.equal(r.status, 404, path);
        assert.equal(typeof (r.body as {error?: unknown}).error, "object", path);
    }
    assert.equal((await get("/api/list?offset=abc")).status, 400);
    assert.equal((await get("/api/list?filter=zzz")).status, 400);
});

test("bad input: a missing file, a folder, a malformed line name the file and line", async () => {
    await assert.rejects(ViewStore.open([join(fx.dir, "missing.jsonl")]), /missing\.jsonl: no such file/);
    await assert.rejects(ViewStore.open([fx.dir]), /is a folder/);
    const bad = join(fx.dir, "bad.jsonl");
    writeFileSync(bad, '{"id":"a"}\n{oops\n');
    await assert.rejects(ViewStore.open([bad]), /bad\.jsonl:2: malformed JSON/);
    const bom = join(fx.dir, "bom.jsonl");
    writeFileSync(bom, '\ufeff{"id":"b","text":"x","tokens":[]}\r\n');
    const store = await ViewStore.open([bom]);
    assert.equal(entryView(store, "b")!.text, "x");
});

test("static export writes the page and chunked data that holds every entry", async () => {
    const store = await all();
    const page = exportViewer(store, join(fx.dir, "static"));
    const {readFileSync, readdirSync} = await import("node:fs");
    assert.match(readFileSync(page, "utf8"), /data\/index\.js/);
    const index = readFileSync(join(fx.dir, "static/data/index.js"), "utf8");
    assert.ok(!index.includes("<script>"), "model text is escaped inside data files");
    const w: {STEPWISE_VIEW?: {summaries: unknown[]; chunkOf: Record<string, number>}} = {};
    new Function("window", index)(w);
    assert.equal(w.STEPWISE_VIEW!.summaries.length, store.size);
    assert.deepEqual(readdirSync(join(fx.dir, "static/data")).sort(), ["entries-0.js", "index.js"]);
});
