/**
 * The viewer in a real browser (Debian's chromium driven by playwright-core; installed by
 * scripts/ensure-browser.mjs from `npm test`'s pretest; skipped with a reason when absent).
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {ViewStore, startViewer, exportViewer, type RunningViewer} from "../../../src/apps/view/index.ts";
import {writeFixture, XSS_TEXT} from "../../helpers/view-fixture.ts";
// @ts-expect-error: a plain .mjs script without types
import {findChromium} from "../../../scripts/ensure-browser.mjs";

const chromiumPath: string | undefined = findChromium();
const skip = chromiumPath ? false : "no chromium (run `node scripts/ensure-browser.mjs` as root, or set STEPWISE_CHROMIUM)";
if (skip) console.log(`# skipping the viewer's browser tests: ${skip}`);

const fx = writeFixture();
let viewer: RunningViewer;
let browser: import("playwright-core").Browser;

before(async () => {
    if (skip) return;
    const store = await ViewStore.open(Object.values(fx.files));
    viewer = await startViewer(store, {port: 0});
    const {chromium} = await import("playwright-core");
    browser = await chromium.launch({executablePath: chromiumPath, args: ["--no-sandbox"]});
});
after(async () => {
    await browser?.close();
    await viewer?.close();
    fx.cleanup();
});

async function open(url: string) {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForSelector("body[data-ready='1']", {timeout: 20_000});
    return {page, errors};
}

test("the page loads the list and the first entry", {skip}, async () => {
    const {page, errors} = await open(viewer.url);
    assert.equal(await page.locator("#list li").count(), 6);
    assert.match((await page.textContent("#count")) ?? "", /6 entries/);
    assert.match((await page.textContent("#detail h2")) ?? "", /q1#0/);
    assert.deepEqual(errors, []);
    await page.close();
});

test("the τ slider re-splits the tokens live", {skip}, async () => {
    const {page} = await open(`${viewer.url}#${encodeURIComponent("q1#0")}`);
    await page.waitForSelector("#tokens .tok");
    const stepsAt = async (tau: number) => {
        await page.locator("#tau").fill(String(tau));
        return {label: await page.textContent("#steps-count"), spans: await page.locator("#tokens .step").count(), decisions: await page.locator("#tokens .tok.decision").count()};
    };
    // Confidences 0.9 0.2 0.95 0.3 0.9 0.6 0.99: decision tokens below τ end steps.
    assert.deepEqual(await stepsAt(0.25), {label: "2 steps", spans: 2, decisions: 1});
    assert.deepEqual(await stepsAt(0.5), {label: "3 steps", spans: 3, decisions: 2});
    assert.deepEqual(await stepsAt(0.7), {label: "4 steps", spans: 4, decisions: 3});
    // A file's split draws its own boundaries.
    await page.selectOption("#boundaries", "adaptive");
    assert.equal(await page.locator("#tokens .step").count(), 3);
    await page.close();
});

test("a click on a step shows its rollouts", {skip}, async () => {
    const {page} = await open(`${viewer.url}#${encodeURIComponent("q1#0")}`);
    await page.locator("table.steps[data-strategy='adaptive'] tr.step-row").first().click();
    const detail = (await page.textContent("tr.step-detail")) ?? "";
    assert.match(detail, /4 run, 3 reached the gold answer, 1 did not/);
    assert.equal(await page.locator("tr.step-detail .dot.pos").count(), 3);
    assert.match(detail, /Last token " =" confidence 0\.2000/);
    await page.close();
});

test("model output with <script> and <img onerror> is shown as text, never run", {skip}, async () => {
    const {page, errors} = await open(`${viewer.url}#${encodeURIComponent("q2#0")}`);
    await page.waitForSelector("#tokens .tok");
    assert.equal(await page.evaluate(() => (window as unknown as {__pwned?: number}).__pwned), undefined);
    assert.equal(await page.locator("#detail img").count(), 0);
    assert.equal(await page.locator("#detail script").count(), 0);
    const shown = ((await page.textContent("#tokens")) ?? "").replace(/↵/g, "");
    assert.equal(shown, XSS_TEXT);
    assert.deepEqual(errors, []);
    await page.close();
});

test("filters, search and the Best-of-N and TVD panels", {skip}, async () => {
    const {page} = await open(viewer.url);
    await page.selectOption("#filter", "disagree");
    await page.waitForFunction(() => document.querySelector("#count")?.textContent === "1 entry");
    assert.equal(await page.getAttribute("#list li", "data-key"), "q1#1");
    await page.selectOption("#filter", "all");
    await page.fill("#q", "untrusted");
    await page.waitForFunction(() => document.querySelector("#count")?.textContent === "1 entry");
    await page.goto(`${viewer.url}#${encodeURIComponent("q1#1")}`);
    await page.waitForSelector("section.bon table");
    assert.match((await page.textContent("section.bon")) ?? "", /Best-of-3 for q1/);
    assert.equal(await page.locator("section.bon td.picked").count(), 5);
    await page.goto(`${viewer.url}#${encodeURIComponent("q1@tvd")}`);
    await page.waitForSelector("section.decode table.cands");
    assert.match((await page.textContent("section.decode tr.chosen")) ?? "", /" 7" ← chosen/);
    await page.close();
});

test("the static export works from file:// with no server", {skip}, async () => {
    const store = await ViewStore.open(Object.values(fx.files));
    const indexHtml = exportViewer(store, join(fx.dir, "static"));
    const {page, errors} = await open(`${pathToFileURL(indexHtml).href}#${encodeURIComponent("q1#0")}`);
    await page.waitForSelector("#tokens .tok");
    assert.equal(await page.locator("#list li").count(), 6);
    await page.locator("#tau").fill("0.7");
    assert.equal(await page.textContent("#steps-count"), "4 steps");
    await page.locator("table.steps tr.step-row").first().click();
    assert.match((await page.textContent("tr.step-detail")) ?? "", /4 run/);
    assert.deepEqual(errors, []);
    await page.close();
});
