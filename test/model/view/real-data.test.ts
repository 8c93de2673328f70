/**
 * Real-data rows in the viewer: a GSM8K gold solution (`<<…>>` calculator marks, final answer
 * after `#### `) shows its final answer plainly and its solution with the marks greyed; a candidate
 * without a `correct` field says "not graded", never "wrong"; the list's `gold N` badge names the
 * split its index is in. Entry-level checks run always (the GSM8K ones need ../shared/data); the
 * page checks need chromium. Each skip prints its reason.
 */
import {test, after} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {tmpdir} from "node:os";
import {ViewStore, startViewer, type RunningViewer} from "../../../src/apps/view/index.ts";
import {entryView, goldView, questionView} from "../../../src/apps/view/entry.ts";
// @ts-expect-error: a plain .mjs script without types
import {findChromium} from "../../../scripts/ensure-browser.mjs";

const chromiumPath: string | undefined = findChromium();
const noChromium = chromiumPath ? false : "no chromium (run `node scripts/ensure-browser.mjs` as root, or set STEPWISE_CHROMIUM)";
const GSM8K = new URL("../../../../shared/data/gsm8k/test.jsonl", import.meta.url).pathname;
const noGsm8k = existsSync(GSM8K) ? false : `no GSM8K test set at ${GSM8K} (the shared data folder is absent)`;
for (const why of [noChromium, noGsm8k]) if (why) console.log(`# skipping some viewer real-data tests: ${why}`);

// The first GSM8K test row (Janet's ducks): gold "… = <<16-3-4=9>>9 duck eggs … $<<9*2=18>>18 …\n#### 18".
const row: {question: string; answer: string} = noGsm8k ? {question: "", answer: ""} : JSON.parse(readFileSync(GSM8K, "utf8").split("\n")[0]);

const dir = mkdtempSync(join(tmpdir(), "stepwise-view-real-"));
const files = {samples: join(dir, "samples.jsonl"), labels: join(dir, "labels.jsonl")};
const tok = (text: string) => ({text, confidence: 0.9, top: []});
const sample = (k: number, text: string, extra: Record<string, unknown> = {}) => ({
    id: `gsm8k-0#${k}`, question_id: "gsm8k-0", sample_index: k, question: row.question || "Q?", prompt: "", text, tokens: [tok(text)],
    finish_reason: "eos", gold: row.answer || "x\n#### 18", engine: "x", seed: 0, temperature: 1, ...extra,
});
// Two candidates of `stepwise sample` (no `correct`: never graded), one graded record of another question.
const text0 = "She has 16 - 3 - 4 = 9 eggs left and sells them for 9 * 2 = 18 dollars.\nThe answer is 18.";
const text1 = "She sells 16 - 3 = 13 eggs for 26 dollars.\nThe answer is 26.";
const cut = (pieces: string[]) => {
    let at = 0;
    return pieces.map((p) => ({text: p, start: at, end: (at += p.length)}));
};
writeFileSync(files.samples, [sample(0, text0), sample(1, text1)].map((r) => JSON.stringify(r)).join("\n") + "\n");
// The exact truth on the newline split of candidate 1: its first step (index 0) is wrong.
writeFileSync(
    files.labels,
    JSON.stringify({...sample(1, text1), tokens: undefined, strategy: "newline", steps: cut(["She sells 16 - 3 = 13 eggs for 26 dollars.\n", "The answer is 26."]), hard: [0, 0], soft: [0, 0], rollouts: [], first_negative: 0, method: "K=4", truth: {first_error: 0, correct: [false, null]}}) + "\n",
);

let viewer: RunningViewer | undefined;
let browser: import("playwright-core").Browser | undefined;
after(async () => {
    await browser?.close();
    await viewer?.close();
    rmSync(dir, {recursive: true, force: true});
});

async function page(key: string) {
    viewer ??= await startViewer(await ViewStore.open(Object.values(files)), {port: 0});
    if (!browser) {
        const {chromium} = await import("playwright-core");
        browser = await chromium.launch({executablePath: chromiumPath, args: ["--no-sandbox"]});
    }
    const p = await browser.newPage();
    const errors: string[] = [];
    p.on("pageerror", (err) => errors.push(err.message));
    await p.goto(`${viewer.url}#${encodeURIComponent(key)}`);
    await p.waitForSelector("body[data-ready='1']", {timeout: 20_000});
    return {p, errors};
}

test("GSM8K gold: the final answer after #### apart, the solution before it (entry)", {skip: noGsm8k}, () => {
    const g = goldView(row.answer);
    assert.equal(g.answer, "18");
    assert.ok(g.solution!.startsWith("Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day."), g.solution);
    assert.doesNotMatch(g.solution!, /####/);
    assert.deepEqual(goldView("42"), {answer: "42"}, "a plain gold answer stays as given");
});

test("GSM8K gold on the page: answer shown plainly, calculator marks greyed, no #### line", {skip: noGsm8k || noChromium}, async () => {
    const {p, errors} = await page("gsm8k-0#0");
    assert.equal(await p.textContent(".facts .gold-answer"), "18");
    assert.doesNotMatch((await p.textContent(".facts")) ?? "", /<<|####/);
    const marks = await p.$$eval(".gold-solution .calc", (els) => els.map((e) => [e.textContent, getComputedStyle(e).color]));
    assert.deepEqual(marks.map((m) => m[0]), row.answer.match(/<<[^<>]*>>/g));
    assert.ok(marks.every((m) => m[1] === "rgb(160, 160, 160)"), `greyed: ${JSON.stringify(marks)}`);
    assert.equal((await p.textContent(".gold-solution"))!.trim(), row.answer.slice(0, row.answer.lastIndexOf("####")).trim());
    assert.deepEqual(errors, []);
    await p.close();
});

test("a candidate without a `correct` field is 'not graded', never 'wrong' (entry and page)", {skip: false}, async (t) => {
    const store = await ViewStore.open(Object.values(files));
    assert.equal(store.summary("gsm8k-0#0")!.correct, undefined);
    assert.deepEqual(questionView(store, "gsm8k-0").candidates.map((c) => c.correct), [undefined, undefined]);
    if (noChromium) return t.skip(noChromium);
    const {p, errors} = await page("gsm8k-0#0");
    const rowBadges = await p.$$eval("#list li .key", (els) => els.map((e) => e.textContent ?? ""));
    assert.ok(rowBadges.every((b) => b.includes("not graded") && !b.includes("✗")), rowBadges.join(" / "));
    const facts = (await p.textContent(".facts")) ?? "";
    assert.match(facts, /not graded/);
    assert.doesNotMatch(facts, /answer wrong|answer right/);
    // the Best-of-N table's "right" column and the majority line
    const right = await p.$$eval("section.bon table tr td:nth-child(3)", (els) => els.map((e) => e.textContent));
    assert.deepEqual(right, ["not graded", "not graded"]);
    assert.match((await p.textContent("section.bon p")) ?? "", /majority vote: 18 \(1 of 2\), not graded/);
    assert.deepEqual(errors, []);
    await p.close();
});

test("the list badge 'gold N' names the split its index is in", {skip: false}, async (t) => {
    const store = await ViewStore.open(Object.values(files));
    const s = store.summary("gsm8k-0#1")!;
    assert.deepEqual([s.gold_first_error, s.gold_first_error_split], [0, "newline"]);
    assert.equal(entryView(store, "gsm8k-0#1")!.gold_first_error_split, "newline", "the same split as the entry's header");
    if (noChromium) return t.skip(noChromium);
    const {p, errors} = await page("gsm8k-0#1");
    const badge = p.locator("#list li[data-key='gsm8k-0#1'] .badge", {hasText: "gold"});
    assert.equal(await badge.textContent(), "gold newline 0");
    assert.match((await badge.getAttribute("title")) ?? "", /index in the newline split/);
    // the header's counts are plural-aware too: one record is "1 record"
    assert.match((await p.textContent("#files")) ?? "", /labels\.jsonl \(1 record; kinds: labels 1\)/);
    assert.deepEqual(errors, []);
    await p.close();
});
