import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {parquetWriteBuffer} from "hyparquet-writer";
import {readQuestions, type QuestionRow} from "../../../src/io/dataset.ts";
import {readJsonlTolerant} from "../../../src/io/jsonl.ts";

const DATA = new URL("../../../../shared/data/", import.meta.url).pathname;
const skipNoData = existsSync(DATA) ? false : `shared data not found at ${DATA}`;

async function all(file: string, fields = {}): Promise<QuestionRow[]> {
    const out: QuestionRow[] = [];
    for await (const r of readQuestions(file, fields)) out.push(r);
    return out;
}

test("real data shapes work with no flags: GSM8K, MATH500, ProcessBench", {skip: skipNoData}, async () => {
    const gsm = await all(join(DATA, "gsm8k/test.jsonl"));
    assert.equal(gsm.length, 1319);
    // GSM8K has no id field: ids are hashes of the question text, the same in every subset
    assert.match(gsm[0].id, /^q-[0-9a-f]{12}$/);
    assert.match(gsm[0].answer!, /#### /);
    const math = await all(join(DATA, "math500/test.jsonl"));
    assert.equal(math.length, 500);
    assert.match(math[0].id, /^test\//);
    assert.ok(math.every((r) => r.question.length > 0 && r.answer !== undefined));
    const pb = await all(join(DATA, "processbench/gsm8k.json"));
    assert.equal(pb.length, 400);
    assert.ok(pb[0].question.length > 0);
    assert.equal(pb[0].where, `${join(DATA, "processbench/gsm8k.json")}#0`);
});

test("rows without ids: one question has one id in every file and subset (GSM8K rows in two files); repeats get -2; the id field wins when present", {skip: skipNoData}, async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-ids-"));
    const lines = (await import("node:fs")).readFileSync(join(DATA, "gsm8k/test.jsonl"), "utf8").split("\n").filter(Boolean);
    writeFileSync(join(dir, "gsm8k20.jsonl"), lines.slice(0, 20).join("\n") + "\n");
    writeFileSync(join(dir, "gsm8k12.jsonl"), lines.slice(8, 20).join("\n") + "\n");
    const a = await all(join(dir, "gsm8k20.jsonl"));
    const b = await all(join(dir, "gsm8k12.jsonl"));
    assert.equal(b[0].question, a[8].question);
    assert.equal(b[0].id, a[8].id, "the same question, the same id");
    assert.deepEqual(b.map((r) => r.id), a.slice(8).map((r) => r.id));
    assert.equal(new Set(a.map((r) => r.id)).size, 20);
    writeFileSync(join(dir, "rep.jsonl"), [lines[0], lines[1], lines[0]].join("\n") + "\n");
    const rep = await all(join(dir, "rep.jsonl"));
    assert.equal(rep[2].id, `${rep[0].id}-2`);
    writeFileSync(join(dir, "withids.jsonl"), JSON.stringify({id: "janet", ...JSON.parse(lines[0])}) + "\n");
    assert.equal((await all(join(dir, "withids.jsonl")))[0].id, "janet");
});

test("Parquet rows, configurable fields, and errors that name file:line and field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-ds-"));
    const pq = join(dir, "rows.parquet");
    const buf = parquetWriteBuffer({
        columnData: [
            {name: "uid", data: ["q1", "q2"], type: "STRING"},
            {name: "prompt_text", data: ["Compute 1 + 2.", "Compute 3 * 4."], type: "STRING"},
            {name: "answer", data: ["3", "12"], type: "STRING"},
        ],
    });
    writeFileSync(pq, Buffer.from(buf));
    const rows = await all(pq, {question: "prompt_text", id: "uid"});
    assert.deepEqual(rows.map((r) => [r.id, r.question, r.answer]), [["q1", "Compute 1 + 2.", "3"], ["q2", "Compute 3 * 4.", "12"]]);

    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"question": "ok"}\n{"question": \n');
    await assert.rejects(all(bad), /bad\.jsonl:2: malformed JSON/);
    writeFileSync(bad, '{"question": "a", "id": 1}\n{"text": "b"}\n');
    await assert.rejects(all(bad), /bad\.jsonl:2: missing field "question"/);
    writeFileSync(bad, '{"question": "a", "id": 1}\n{"question": "b", "id": 1}\n');
    await assert.rejects(all(bad), /bad\.jsonl:2: duplicate id "1"/);
    await assert.rejects(all(join(dir, "nope.jsonl")), /nope\.jsonl: no such file/);
});

test("a torn last line left by a killed run is dropped; a bad middle line is an error", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-jsonl-"));
    const f = join(dir, "out.jsonl");
    writeFileSync(f, '{"id": "a"}\n{"id": "b"}\n{"id": "c", "te');
    const r = readJsonlTolerant(f);
    assert.equal(r.records.length, 2);
    assert.equal(r.droppedTornLine, true);
    assert.equal(readJsonlTolerant(f).droppedTornLine, false, "the file was repaired");
    writeFileSync(f, '{"id": "a"}\n{bad}\n{"id": "c"}\n');
    assert.throws(() => readJsonlTolerant(f), /out\.jsonl:2: malformed JSON/);
});
