/**
 * A 200,000-token sample in a real browser (headless chromium via playwright-core, as in
 * browser.test.ts): the page is interactive within seconds because tokens and step rows are drawn
 * in batches behind "show more" (it froze the tab for minutes when every token was drawn).
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {ViewStore, startViewer, TOKENS_SHOWN, ROWS_SHOWN, type RunningViewer} from "../../../src/apps/view/index.ts";
// @ts-expect-error: a plain .mjs script without types
import {findChromium} from "../../../scripts/ensure-browser.mjs";

const chromiumPath: string | undefined = findChromium();
const skip = chromiumPath ? false : "no chromium (run `node scripts/ensure-browser.mjs` as root, or set STEPWISE_CHROMIUM)";
if (skip) console.log(`# skipping the long-entry browser test: ${skip}`);

const N = 200_000;
const STEP = 50;
const dir = mkdtempSync(join(tmpdir(), "stepwise-view-long-"));
let viewer: RunningViewer;
let browser: import("playwright-core").Browser;

before(async () => {
    if (skip) return;
    const tokens = Array.from({length: N}, (_, i) => {
        const text = i % 40 === 39 ? "\n" : ` w${i % 997}`;
        const confidence = i % STEP === STEP - 1 ? 0.2 : 0.9;
        return {text, confidence, top: [{text, prob: confidence}, {text: " x", prob: 0.05}]};
    });
    const text = tokens.map((t) => t.text).join("");
    const sample = {id: "long#0", question_id: "long", sample_index: 0, question: "A very long answer", prompt: "p", text, tokens, finish_reason: "length", engine: "x", seed: 0, temperature: 1};
    const steps = Array.from({length: N / STEP}, (_, k) => ({text: "…", start: 0, end: 0, token_start: k * STEP, token_end: (k + 1) * STEP}));
    const split = {id: "long#0", question_id: "long", question: sample.question, text, strategy: "adaptive", tau: 0.5, steps};
    writeFileSync(join(dir, "samples.jsonl"), JSON.stringify(sample) + "\n");
    writeFileSync(join(dir, "steps.jsonl"), JSON.stringify(split) + "\n");
    viewer = await startViewer(await ViewStore.open([join(dir, "samples.jsonl"), join(dir, "steps.jsonl")]), {port: 0});
    const {chromium} = await import("playwright-core");
    browser = await chromium.launch({executablePath: chromiumPath, args: ["--no-sandbox"]});
});
after(async () => {
    await browser?.close();
    await viewer?.close();
    rmSync(dir, {recursive: true, force: true});
});

test("a 200,000-token sample: interactive within seconds, tokens and steps in batches", {skip}, async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const t0 = Date.now();
    await page.goto(`${viewer.url}#${encodeURIComponent("long#0")}`);
    await page.waitForSelector("body[data-ready='1']", {timeout: 60_000});
    const ready = Date.now() - t0;
    console.log(`# ready after ${ready} ms`);
    assert.ok(ready < 15_000, `ready after ${ready} ms`);
    assert.equal(await page.locator("#tokens .tok").count(), TOKENS_SHOWN);
    // Counts are over the whole sample, not the drawn part.
    assert.equal(await page.textContent("#steps-count"), `${(N / STEP).toLocaleString("en-US")} steps`);
    assert.match((await page.textContent("#tokens button.more")) ?? "", new RegExp(`show ${TOKENS_SHOWN} more tokens \\(${TOKENS_SHOWN} of ${N} shown\\)`));
    assert.equal(await page.locator("table.steps tr.step-row").count(), ROWS_SHOWN);
    // The page answers: each move of τ re-splits and paints within 2 s (it took ~6.5 s per
    // input event on this machine when all 200,000 tokens were redrawn, and a drag sends dozens).
    const frame = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
    await frame();
    for (const [tau, steps] of [["0.1", "1 step"], ["0.5", `${(N / STEP).toLocaleString("en-US")} steps`]]) {
        const t1 = Date.now();
        await page.locator("#tau").fill(tau);
        await frame();
        const took = Date.now() - t1;
        assert.equal(await page.textContent("#steps-count"), steps);
        assert.ok(took < 2_000, `moving τ to ${tau} took ${took} ms`);
    }
    // "show more" draws the next batch; moving τ keeps what was shown.
    await page.locator("#tokens button.more").click();
    assert.equal(await page.locator("#tokens .tok").count(), 2 * TOKENS_SHOWN);
    await page.locator("#tau").fill("0.3");
    assert.equal(await page.locator("#tokens .tok").count(), 2 * TOKENS_SHOWN);
    // 80 steps end in the drawn tokens; the 81st goes on in the next batch.
    assert.equal(await page.locator("#tokens .step").count(), (2 * TOKENS_SHOWN) / STEP + 1);
    await page.locator("table.steps + .more-rows button.more").click();
    assert.equal(await page.locator("table.steps tr.step-row").count(), 2 * ROWS_SHOWN);
    // The raw record is serialised on opening, and cut.
    await page.locator("details.raw summary").click();
    assert.match((await page.locator("details.raw pre").first().textContent()) ?? "", /… \(cut: 200000 of \d+ characters shown\)$/);
    assert.deepEqual(errors, []);
    await page.close();
});
