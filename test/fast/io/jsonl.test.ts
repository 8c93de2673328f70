import {test} from "node:test";
import assert from "node:assert/strict";
import {createWriteStream, mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {DEFAULT_MAX_LINE_BYTES, readJsonlAll, readLines} from "../../../src/io/jsonl.ts";
import {StepwiseError} from "../../../src/util/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-jsonl-"));

test("readLines: a line longer than the cap is an error naming file, line and cap; shorter lines read as before", async () => {
    const file = join(dir, "long.jsonl");
    writeFileSync(file, `{"a":1}\n{"b":"${"x".repeat(5000)}"}\n{"c":3}\n`);
    await assert.rejects(readJsonlAll(file, {maxLineBytes: 4096}), (e: Error) => e instanceof StepwiseError && e.message.startsWith(`${file}:2: line longer than 4 KiB (the line-length cap) without a line break`) && /STEPWISE_MAX_LINE_BYTES/.test(e.message));
    assert.equal((await readJsonlAll(file, {maxLineBytes: 6000})).length, 3);
    assert.equal(DEFAULT_MAX_LINE_BYTES, 64 * 1024 * 1024);
});

test("readLines: input without any newline stops at the cap instead of buffering it all (env STEPWISE_MAX_LINE_BYTES)", async () => {
    const file = join(dir, "no-newline.jsonl");
    const w = createWriteStream(file);
    const block = Buffer.alloc(1024 * 1024, 0x61);
    for (let i = 0; i < 24; i++) w.write(block); // 24 MiB, no line break
    await new Promise((r) => w.end(r));
    const before = process.env.STEPWISE_MAX_LINE_BYTES;
    process.env.STEPWISE_MAX_LINE_BYTES = String(2 * 1024 * 1024);
    try {
        const seen: number[] = [];
        await assert.rejects(
            (async () => {
                for await (const l of readLines(file)) seen.push(l.line);
            })(),
            (e: Error) => e instanceof StepwiseError && e.message.startsWith(`${file}:1: line longer than 2 MiB`),
        );
        assert.deepEqual(seen, []);
        process.env.STEPWISE_MAX_LINE_BYTES = "lots";
        await assert.rejects(readJsonlAll(file), /STEPWISE_MAX_LINE_BYTES: expected a positive number of bytes, got "lots"/);
    } finally {
        if (before === undefined) delete process.env.STEPWISE_MAX_LINE_BYTES;
        else process.env.STEPWISE_MAX_LINE_BYTES = before;
    }
});
