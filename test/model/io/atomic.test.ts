import {test} from "node:test";
import assert from "node:assert/strict";
import {spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Command} from "@commander-js/extra-typings";
import {AtomicFile, writeFileAtomic} from "../../../src/io/atomic.ts";
import {JsonlWriter} from "../../../src/io/jsonl.ts";
import {exportFile} from "../../../src/pipeline/export/index.ts";
import {consensusFilter} from "../../../src/filter/consensus.ts";
import {register as registerGrade} from "../../../src/cli/commands/grade.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "stepwise-atomic-"));
const temps = (dir: string) => readdirSync(dir).filter((n) => n.includes(".tmp-"));

test("writeFileAtomic replaces a file whole; an aborted write leaves the previous file and no temporary file", () => {
    const dir = tmp();
    const out = join(dir, "summary.json");
    writeFileAtomic(out, "first\n");
    writeFileAtomic(out, "second\n");
    assert.equal(readFileSync(out, "utf8"), "second\n");
    const f = new AtomicFile(out);
    f.write("half of a thi");
    assert.equal(readFileSync(out, "utf8"), "second\n", "nothing shows before the commit");
    f.close(); // a failure before the commit
    assert.equal(readFileSync(out, "utf8"), "second\n");
    assert.deepEqual(temps(dir), []);
    // a symbolic link keeps pointing at its (replaced) target
    const link = join(dir, "link.json");
    symlinkSync(out, link);
    writeFileAtomic(link, "third\n");
    assert.equal(readlinkSync(link), out);
    assert.equal(readFileSync(out, "utf8"), "third\n");
    // a device is written directly
    writeFileAtomic("/dev/null", "x");
    // errors name the file
    assert.throws(() => writeFileAtomic(join(dir, "no", "such", "folder", "f.json"), "x"), /f\.json: /);
});

test("a writer killed mid-way (kill -9) leaves the previous output intact; the next write removes its temporary file", () => {
    const dir = tmp();
    const out = join(dir, "export.jsonl");
    writeFileSync(out, '{"previous":true}\n');
    const jsonl = new URL("../../../src/io/jsonl.ts", import.meta.url).pathname;
    const script = `import {JsonlWriter} from ${JSON.stringify(jsonl)};
const w = new JsonlWriter(${JSON.stringify(out)}, {atomic: true});
for (let i = 0; i < 50; i++) w.write({id: i, text: "x".repeat(100)});
process.kill(process.pid, "SIGKILL");`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {encoding: "utf8"});
    assert.equal(r.signal, "SIGKILL", r.stderr);
    assert.equal(readFileSync(out, "utf8"), '{"previous":true}\n', "no half file in place of the output");
    assert.equal(temps(dir).length, 1, "the killed run's partial records are in its temporary file only");
    const w = new JsonlWriter(out, {atomic: true});
    w.write({id: "new"});
    w.commit();
    w.close();
    assert.equal(readFileSync(out, "utf8"), '{"id":"new"}\n');
    assert.deepEqual(temps(dir), [], "the dead run's temporary file is removed");
});

const label = (id: string, hard: Array<0 | 1 | null>) => ({
    id, question_id: id.split("#")[0], sample_index: 0, question: "Compute 3 + 4.", prompt: "Compute 3 + 4.\n", text: "3 + 4 = 7.\nThe answer is 7.", strategy: "newline",
    steps: [{text: "3 + 4 = 7.\n", start: 0, end: 11, token_start: 0, token_end: 11}, {text: "The answer is 7.", start: 11, end: 27, token_start: 11, token_end: 27}],
    hard, soft: hard.map((h) => (h === null ? null : h)), rollouts: hard.map(() => ({n: 4, correct: 4})),
    first_negative: hard.indexOf(0), cost: {rollouts: 0, generated_tokens: 0, prefix_evaluations: 0}, method: "mc",
});

test("export that fails part-way leaves the previous export whole (no partial file that looks complete)", async () => {
    const dir = tmp();
    const good = join(dir, "labels.jsonl");
    writeFileSync(good, [label("a#0", [1, 1]), label("b#0", [1, 0])].map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(dir, "trl.jsonl");
    await exportFile(good, out, {format: "trl"});
    const before = readFileSync(out, "utf8");
    assert.equal(before.trim().split("\n").length, 2);
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, [label("c#0", [1, 1]), label("d#0", [1, 1]), {...label("e#0", [1, 1]), hard: [1, 7]}].map((r) => JSON.stringify(r)).join("\n") + "\n");
    await assert.rejects(exportFile(bad, out, {format: "trl"}), /bad\.jsonl:3: field "hard\[1\]"/);
    assert.equal(readFileSync(out, "utf8"), before, "the two records exported before the bad one never replace the previous file");
    const fresh = join(dir, "fresh.jsonl");
    await assert.rejects(exportFile(bad, fresh, {format: "trl"}));
    assert.equal(existsSync(fresh), false, "no output at all");
    assert.deepEqual(temps(dir), []);
});

test("grade --file that fails part-way writes no --out; filter refuses to overwrite its own input", async () => {
    const dir = tmp();
    const pairs = join(dir, "pairs.jsonl");
    writeFileSync(pairs, [{gold: "7", pred: "7"}, {gold: "7", pred: "8"}, {gold: "7"}].map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(dir, "graded.jsonl");
    const program = new Command().exitOverride();
    registerGrade(program);
    const err = console.error;
    console.error = () => {};
    try {
        await assert.rejects(program.parseAsync(["node", "stepwise", "grade", "--file", pairs, "--out", out]), /pairs\.jsonl:3: field "pred"/);
    } finally {
        console.error = err;
    }
    assert.equal(existsSync(out), false, "two graded records of three would look like a complete file");
    assert.deepEqual(temps(dir), []);
    const labels = join(dir, "labels.jsonl");
    writeFileSync(labels, JSON.stringify(label("a#0", [1, 1])) + "\n");
    const verdicts = join(dir, "verdicts.jsonl");
    writeFileSync(verdicts, JSON.stringify({id: "a#0", steps: 2, first_error: -1, votes: [-1], raw: ["\\boxed{-1}"], parse_failures: [null], agreement: 1, generated_tokens: 3, method: "m"}) + "\n");
    await assert.rejects(consensusFilter({labels: [labels], verdicts: [verdicts], out: labels}), /labels\.jsonl is the input file/);
    assert.equal(readFileSync(labels, "utf8"), JSON.stringify(label("a#0", [1, 1])) + "\n");
    const kept = join(dir, "kept.jsonl");
    assert.equal((await consensusFilter({labels: [labels], verdicts: [verdicts], out: kept})).kept, 1);
});
