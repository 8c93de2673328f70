import {test} from "node:test";
import assert from "node:assert/strict";
import {spawn} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from "node:fs";
import {hostname, tmpdir} from "node:os";
import {join} from "node:path";
import {z} from "zod";
import {openStage, runOrdered, settingsPath} from "../../../src/core/stage.ts";
import {ContextOverflowError, StepwiseError} from "../../../src/util/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-stage-"));
test.after(() => rmSync(dir, {recursive: true, force: true}));

const lines = (f: string) => readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("stage: records written in input order whatever order the work finishes in; resume skips done ids", async () => {
    const out = join(dir, "order.jsonl");
    const items = Array.from({length: 20}, (_, i) => i);
    const work = async (i: number) => {
        await sleep((i * 7) % 5);
        return {id: `r${i}`, v: i * i};
    };
    let s = openStage({name: "t", out, settings: {a: 1}});
    await s.runOrdered(items.slice(0, 12), work, {concurrency: 5});
    s.close();
    s = openStage({name: "t", out, settings: {a: 1}});
    assert.equal(s.done.size, 12);
    const r = await s.runOrdered(items.filter((i) => !s.done.has(`r${i}`)), work, {concurrency: 5});
    s.close();
    assert.equal(r.written, 8);
    assert.deepEqual(lines(out).map((x) => x.v), items.map((i) => i * i));
    assert.ok(!existsSync(`${out}.lock`), "lock released");
});

test("stage: resuming with other settings is refused, naming every difference; the same settings resume", () => {
    const out = join(dir, "fp.jsonl");
    let s = openStage({name: "sample", out, settings: {engine: {kind: "llama", model: "a.gguf"}, seed: 0, max_tokens: 256}});
    s.write({id: "x"});
    s.close();
    assert.throws(
        () => openStage({name: "sample", out, settings: {engine: {kind: "llama", model: "b.gguf"}, seed: 1, max_tokens: 256}}),
        (e: Error) => e instanceof StepwiseError && /engine: \{"kind":"llama","model":"a.gguf"\} → \{"kind":"llama","model":"b.gguf"\}; seed: 0 → 1\)/.test(e.message),
    );
    assert.throws(() => openStage({name: "label", out, settings: {}}), /holds the output of `sample`, not `label`/);
    s = openStage({name: "sample", out, settings: {max_tokens: 256, seed: 0, engine: {model: "a.gguf", kind: "llama"}}});
    assert.equal(s.done.size, 1);
    s.close();
});

test("stage: an output without a settings file is checked record by record, then adopted", () => {
    const out = join(dir, "legacy.jsonl");
    writeFileSync(out, JSON.stringify({id: "a", temperature: 1}) + "\n" + JSON.stringify({id: "b", temperature: 0.7}) + "\n");
    const schema = z.object({id: z.string(), temperature: z.number()});
    const check = (r: {temperature: number}) => (r.temperature !== 1 ? `temperature ${r.temperature}, now 1` : undefined);
    assert.throws(() => openStage({schema, name: "sample", out, settings: {temperature: 1}, checkExisting: check}), /legacy\.jsonl:2: this record was made with other settings \(temperature 0\.7, now 1\)/);
    writeFileSync(out, JSON.stringify({id: "a", temperature: 1}) + "\n");
    openStage({schema, name: "sample", out, settings: {temperature: 1}, checkExisting: check}).close();
    assert.equal(JSON.parse(readFileSync(settingsPath(out), "utf8")).settings.temperature, 1);
});

test("stage: a second writer is refused while the first runs; a lock left by a dead process is taken over", async () => {
    const out = join(dir, "lock.jsonl");
    const s = openStage({name: "sample", out, settings: {}});
    assert.throws(() => openStage({name: "sample", out, settings: {}}), /already being written by this process/);
    s.close();
    // another live process holds the lock
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], {stdio: "ignore"});
    await new Promise((r) => other.once("spawn", r));
    writeFileSync(`${out}.lock`, JSON.stringify({pid: other.pid, host: hostname(), started: "2026-01-01T00:00:00Z", command: "sample: --out lock.jsonl"}));
    assert.throws(() => openStage({name: "sample", out, settings: {}}), /another run is writing this file \(pid \d+, started 2026-01-01T00:00:00Z, "sample: --out lock\.jsonl"\); two writers would duplicate records/);
    // the owner dies (kill -9): its lock is stale and taken over at once
    other.kill("SIGKILL");
    await new Promise((r) => other.once("exit", r));
    const notes: string[] = [];
    const t = openStage({name: "sample", out, settings: {}, log: (l) => notes.push(l)});
    t.close();
    assert.ok(!existsSync(`${out}.lock`));
});

test("stage: a second writer reaching the output through a symbolic link is refused too (one lock per real file)", () => {
    const out = join(dir, "real.jsonl");
    const link = join(dir, "link.jsonl");
    const dangling = join(dir, "dangling-link.jsonl");
    symlinkSync(out, link); // the output does not exist yet: a link to a file not yet created
    symlinkSync("real.jsonl", dangling);
    const s = openStage({name: "sample", out, settings: {a: 1}});
    try {
        assert.throws(() => openStage({name: "sample", out: link, settings: {a: 1}}), /link\.jsonl: already being written by this process/);
        assert.throws(() => openStage({name: "sample", out: dangling, settings: {a: 1}}), /already being written/);
        s.write({id: "x"});
    } finally {
        s.close();
    }
    const t = openStage({name: "sample", out: link, settings: {a: 1}});
    assert.equal(t.done.size, 1, "the same file, resumed through the link with its settings file");
    t.close();
});

test("stage: input = output, an output folder and duplicate ids are refused; missing parent folders are created", () => {
    const input = join(dir, "in.jsonl");
    writeFileSync(input, "{}\n");
    assert.throws(() => openStage({name: "score", out: input, inputs: [input], settings: {}}), /is the input file .*writing it would destroy the input/);
    assert.throws(() => openStage({name: "score", out: dir, inputs: [input], settings: {}}), /is a folder; give a file name/);
    assert.throws(() => openStage({name: "score", out: join(dir, "o.jsonl"), inputs: [dir], settings: {}}), /is a folder, not a file/);
    const deep = join(dir, "a", "b", "c.jsonl");
    openStage({name: "score", out: deep, inputs: [input], settings: {}}).close();
    assert.ok(existsSync(join(dir, "a", "b")));
    const dup = join(dir, "dup.jsonl");
    writeFileSync(dup, '{"id":"q#0"}\n{"id":"q#1"}\n{"id":"q#0"}\n');
    assert.throws(() => openStage({name: "sample", out: dup, settings: {}}), /dup\.jsonl:3: duplicate id "q#0" \(also on line 1\): two runs wrote this file at once/);
});

test("runOrdered: a failure names its item, records before it are kept; too-long items stop the run or are skipped and counted", async () => {
    const got: number[] = [];
    await assert.rejects(
        runOrdered(
            [0, 1, 2, 3, 4],
            async (i) => {
                await sleep(5 - i);
                if (i === 3) throw new StepwiseError("boom");
                return i;
            },
            (r) => got.push(r),
            {concurrency: 3, where: (i) => `in.jsonl:${i + 1} id "q${i}"`},
        ),
        /^StepwiseError: in\.jsonl:4 id "q3": boom$/,
    );
    assert.deepEqual(got, [0, 1, 2]);
    const tooLong = async (i: number) => {
        if (i % 2) throw new ContextOverflowError("prompt is 900 tokens, longer than the context (512 tokens)");
        return i;
    };
    await assert.rejects(runOrdered([0, 1, 2], tooLong, () => {}, {where: (i) => `q.jsonl:${i + 1}`}), /q\.jsonl:2: prompt is 900 tokens.*--skip-too-long skips such records/);
    const kept: number[] = [];
    const r = await runOrdered([0, 1, 2, 3], tooLong, (x) => kept.push(x), {where: (i) => `q.jsonl:${i + 1}`, skipTooLong: true});
    assert.deepEqual(kept, [0, 2]);
    assert.deepEqual(r.tooLong.map((t) => t.where), ["q.jsonl:2", "q.jsonl:4"]);
});

test("outputs that are devices: refused for a resumable stage (it is read back), accepted for a file written once", async () => {
    assert.throws(() => openStage({name: "sample", out: "/dev/null", settings: {}}), /--out \/dev\/null: is not a regular file \(a resumable output is read back\)/);
    const {JsonlWriter} = await import("../../../src/io/jsonl.ts");
    const w = new JsonlWriter("/dev/null", {truncate: true});
    w.write({a: 1});
    w.close();
});
