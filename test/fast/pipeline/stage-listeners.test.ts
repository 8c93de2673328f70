/**
 * No MaxListenersExceededWarning at high concurrency (`label --concurrency 64`, the docs' value):
 * every request an engine has in flight adds an abort listener to the signal it is given, so the
 * stage runner gives each item its own signal instead of one shared by all items in flight; a
 * failure still aborts every item in flight.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {setTimeout as sleep} from "node:timers/promises";
import {runOrdered} from "../../../src/core/stage.ts";

/** What an engine request does with its signal: listen while in flight (OpenAIEngine.chunked + HttpClient.attempt: two listeners). */
async function request(signal: AbortSignal, ms: number): Promise<void> {
    const onAbort = () => {};
    signal.addEventListener("abort", onAbort, {once: true});
    signal.addEventListener("abort", onAbort, {once: true});
    try {
        await sleep(ms, undefined, {signal});
    } finally {
        signal.removeEventListener("abort", onAbort);
    }
}

test("64 items in flight, each with its requests listening to its signal: no MaxListenersExceededWarning", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
        const items = Array.from({length: 128}, (_, i) => i);
        const out: number[] = [];
        await runOrdered(items, async (i, _index, signal) => {
            await Promise.all([request(signal, 5), request(signal, 3)]);
            return i;
        }, (r) => out.push(r), {concurrency: 64});
        assert.deepEqual(out, items);
        await sleep(10); // warnings are emitted on the next tick
        assert.deepEqual(warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message), []);
    } finally {
        process.off("warning", onWarning);
    }
});

test("a failing item still aborts every item in flight, and its error is the one reported", async () => {
    let aborted = 0;
    const items = Array.from({length: 20}, (_, i) => i);
    await assert.rejects(
        runOrdered(items, async (i, _index, signal) => {
            if (i === 3) {
                await sleep(5);
                throw new Error("boom at 3");
            }
            try {
                await sleep(1000, undefined, {signal});
            } catch (e) {
                aborted++;
                throw e;
            }
            return i;
        }, () => {}, {concurrency: 8}),
        /boom at 3/,
    );
    assert.equal(aborted, 7);
});
