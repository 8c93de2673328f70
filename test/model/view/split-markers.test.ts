/**
 * Every first-error marker of the viewer sits in the index of the table it is drawn on: a sample
 * split two ways (adaptive: 5 steps, newline: 4), labelled with the exact truth on the adaptive
 * split and judged on it; the newline table gets the markers mapped by character offsets, and the
 * header names the split. Entry-level checks always run; the browser part needs chromium.
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {tmpdir} from "node:os";
import {ViewStore, startViewer, type RunningViewer} from "../../../src/apps/view/index.ts";
import {entryView, mapStepIndex} from "../../../src/apps/view/entry.ts";
// @ts-expect-error: a plain .mjs script without types
import {findChromium} from "../../../scripts/ensure-browser.mjs";

const chromiumPath: string | undefined = findChromium();
const skip = chromiumPath ? false : "no chromium (run `node scripts/ensure-browser.mjs` as root, or set STEPWISE_CHROMIUM)";

// "c = 4" is the wrong line: adaptive step 3 (" 4\n"), newline step 2 ("c = 4\n").
const text = "a = 1\nb = 2\nc = 4\nThe answer is 4.";
const cut = (pieces: string[]) => {
    let at = 0;
    return pieces.map((p) => {
        const s = {text: p, start: at, end: at + p.length};
        at += p.length;
        return s;
    });
};
const adaptive = cut(["a =", " 1\nb =", " 2\nc =", " 4\n", "The answer is 4."]);
const newline = cut(["a = 1\n", "b = 2\n", "c = 4\n", "The answer is 4."]);
const base = {id: "m#0", question_id: "m", sample_index: 0, question: "a = 1, b = a + 1, c = b + 1; c?", prompt: "", text, gold: "3"};
const dir = mkdtempSync(join(tmpdir(), "stepwise-view-markers-"));
const files = {
    samples: join(dir, "samples.jsonl"),
    adaptive: join(dir, "labels-adaptive.jsonl"),
    newline: join(dir, "steps-newline.jsonl"),
    verdicts: join(dir, "verdicts.jsonl"),
};
const line = (r: unknown) => JSON.stringify(r) + "\n";
writeFileSync(files.samples, line({...base, tokens: [...text].map((c) => ({text: c, confidence: 0.9})), finish_reason: "eos", correct: false, engine: "x", seed: 0, temperature: 1}));
writeFileSync(files.adaptive, line({...base, strategy: "adaptive", tau: 0.5, steps: adaptive, hard: [1, 1, 1, 0, null], soft: [1, 1, 1, 0, null], rollouts: [], first_negative: 3, method: "K=4", truth: {first_error: 3, correct: [true, true, true, false, null]}}));
writeFileSync(files.newline, line({...base, strategy: "newline", steps: newline}));
writeFileSync(files.verdicts, line({id: "m#0", steps: 5, first_error: 3, votes: [3, 3, 3], raw: ["\\boxed{3}"]}));

let viewer: RunningViewer | undefined;
let browser: import("playwright-core").Browser | undefined;
after(async () => {
    await browser?.close();
    await viewer?.close();
    rmSync(dir, {recursive: true, force: true});
});

test("mapStepIndex: the first step of the other split that overlaps the step's characters", () => {
    const a = {strategy: "adaptive", files: [], steps: adaptive};
    const n = {strategy: "newline", files: [], steps: newline};
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => mapStepIndex(a, i, n)), [0, 0, 1, 2, 3]);
    assert.deepEqual([0, 1, 2, 3].map((i) => mapStepIndex(n, i, a)), [0, 1, 2, 4]); // line 2 "c = 4\n" begins inside adaptive step 2 " 2\nc ="
    assert.equal(mapStepIndex(a, -1, n), -1);
    assert.equal(mapStepIndex({strategy: "pb", files: [], steps: [{text: "x"}]}, 0, n), undefined); // no offsets: not placed
});

test("entryView: truth and judge markers in each split's own index; the truth's split named", async () => {
    const store = await ViewStore.open(Object.values(files));
    const e = entryView(store, "m#0")!;
    assert.equal(e.gold_first_error, 3);
    assert.equal(e.gold_first_error_split, "adaptive");
    const by = Object.fromEntries(e.splits.map((s) => [s.strategy, s.markers]));
    assert.deepEqual(by.adaptive, {truth: {index: 3}, judges: [{index: 3, file: "verdicts.jsonl"}]});
    assert.deepEqual(by.newline, {truth: {index: 2, from: {split: "adaptive", index: 3}}, judges: [{index: 2, from: {split: "adaptive", index: 3}, file: "verdicts.jsonl"}]});
});

test("the page: every marker on the row of its own table; the header names the split", {skip}, async () => {
    viewer = await startViewer(await ViewStore.open(Object.values(files)), {port: 0});
    const {chromium} = await import("playwright-core");
    browser = await chromium.launch({executablePath: chromiumPath, args: ["--no-sandbox"]});
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(`${viewer.url}#${encodeURIComponent("m#0")}`);
    await page.waitForSelector("body[data-ready='1']", {timeout: 20_000});
    await page.waitForSelector("table.steps[data-strategy='newline']");
    const marks = async (strategy: string) =>
        page.$$eval(`table.steps[data-strategy='${strategy}'] tr.step-row`, (rows) => rows.map((r) => [...r.querySelectorAll("td:last-child .badge, td:last-child span")].map((b) => b.textContent).join("|")));
    const a = await marks("adaptive");
    const n = await marks("newline");
    assert.deepEqual(a.map((m) => m !== ""), [false, false, false, true, false], a.join(" / "));
    assert.match(a[3], /MC first −/);
    assert.match(a[3], /judge first error/);
    assert.match(a[3], /true first error/);
    assert.deepEqual(n.map((m) => m !== ""), [false, false, true, false], n.join(" / "));
    assert.match(n[2], /judge first error/);
    assert.match(n[2], /true first error/);
    assert.doesNotMatch(n[2], /MC first −/); // the newline split has no labels
    assert.equal((await page.textContent(".truth-fact"))?.trim(), "true first wrong step: adaptive step 3 (= newline step 2)");
    assert.deepEqual(errors, []);
    await page.close();
});
