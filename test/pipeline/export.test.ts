import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Command} from "commander";
import type {LabelRecord} from "../../src/pipeline/records.ts";
import {exportRecord, labelledSteps} from "../../src/pipeline/export/index.ts";
import {register} from "../../src/cli/commands/export.ts";

/** A LabelRecord from step texts and hard/soft labels (the shape `stepwise label` writes). */
function labelRecord(id: string, question: string, steps: string[], hard: Array<0 | 1 | null>, soft: Array<number | null>): LabelRecord {
    let at = 0;
    const text = steps.join("");
    return {
        id, question_id: id.split("#")[0], sample_index: 0, question, prompt: `${question}\n`, text, strategy: "newline",
        steps: steps.map((t) => {
            const s = {text: t, start: at, end: at + t.length, token_start: at, token_end: at + t.length};
            at += t.length;
            return s;
        }),
        hard, soft,
        rollouts: soft.map((s) => (s === null ? {n: 0, correct: 0} : {n: 4, correct: Math.round(4 * s)})),
        first_negative: hard.indexOf(0), cost: {rollouts: 0, generated_tokens: 0, prefix_evaluations: 0}, method: "mc:k=1,n=4",
    };
}

const Q = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether?";
const GSM = labelRecord(
    "gsm-0#0", Q,
    ["Natalia sold 48/2 = 24 clips in May.\n", "Natalia sold 48+24 = 72 clips altogether.\n", "The answer is 72.\n"],
    [1, 1, 1], [1, 0.75, 1],
);
const WRONG = labelRecord(
    "gsm-0#1", Q,
    ["Natalia sold 48*2 = 96 clips in May.\n", "Natalia sold 48+96 = 144 clips.\n", "The answer is 144.\n"],
    [1, 0, null], [0.25, 0, null],
);

test("labelled steps: through the first negative, stop at unlabelled", () => {
    assert.equal(labelledSteps(WRONG, "hard").length, 2);
    assert.equal(labelledSteps(GSM, "hard").length, 3);
    const partial = labelRecord("p#0", "q", ["a", "b", "c"], [1, null, 1], [1, null, 1]);
    assert.equal(labelledSteps(partial, "hard").length, 1);
    assert.equal(exportRecord(labelRecord("e#0", "q", ["a"], [null], [null]), {format: "trl"}), "no-labelled-step");
});

test("trl: prompt, trimmed completions, bool labels; steps after the first negative dropped", () => {
    assert.deepEqual(exportRecord(WRONG, {format: "trl"}), {
        id: "gsm-0#1", prompt: Q,
        completions: ["Natalia sold 48*2 = 96 clips in May.", "Natalia sold 48+96 = 144 clips."],
        labels: [true, false],
    });
    const raw = exportRecord(GSM, {format: "trl", trim: false, id: false, promptField: "prompt"}) as Record<string, unknown>;
    assert.equal(raw.prompt, `${Q}\n`);
    assert.deepEqual(raw.completions, GSM.steps.map((s) => s.text));
    assert.equal("id" in raw, false);
    assert.throws(() => exportRecord(GSM, {format: "trl", labels: "soft"}), /soft labels are only written for --format openrlhf/);
});

test("openrlhf: tagged input with one label per tag, hard or soft, configurable keys and tag", () => {
    const row = exportRecord(WRONG, {format: "openrlhf"}) as Record<string, unknown>;
    assert.equal(row.input, `${Q} Natalia sold 48*2 = 96 clips in May. ки\nNatalia sold 48+96 = 144 clips. ки`);
    assert.deepEqual(row.label, ["+", "-"]);
    assert.equal((row.input as string).split(" ки").length - 1, (row.label as unknown[]).length, "one label per tag");
    const soft = exportRecord(GSM, {format: "openrlhf", labels: "soft", inputKey: "query", labelKey: "response", tag: " <step>", join: " "}) as Record<string, unknown>;
    assert.equal(soft.query, `${Q} Natalia sold 48/2 = 24 clips in May. <step> Natalia sold 48+24 = 72 clips altogether. <step> The answer is 72. <step>`);
    assert.deepEqual(soft.response, [1, 0.75, 1]);
    // a text containing the tag would shift every label: skipped
    const tagged = labelRecord("t#0", "q", ["a ки b"], [1], [1]);
    assert.equal(exportRecord(tagged, {format: "openrlhf"}), "tag-in-text");
});

test("math-shepherd: tagged input and the +/- labelled copy", () => {
    const row = exportRecord(WRONG, {format: "math-shepherd"}) as Record<string, unknown>;
    assert.equal(row.input, `${Q} Natalia sold 48*2 = 96 clips in May. ки\nNatalia sold 48+96 = 144 clips. ки`);
    assert.equal(row.label, `${Q} Natalia sold 48*2 = 96 clips in May. +\nNatalia sold 48+96 = 144 clips. -`);
    assert.throws(() => exportRecord(GSM, {format: "math-shepherd", labels: "soft"}), /soft/);
});

test("stepwise export CLI: writes JSONL, counts skips, names file:line and field of a bad record", async () => {
    const dir = mkdtempSync(join(tmpdir(), "export-"));
    const err = console.error;
    const logs: string[] = [];
    console.error = (m: string) => logs.push(m);
    try {
        const run = (...args: string[]): Promise<unknown> => {
            const p = new Command().exitOverride();
            register(p);
            return p.parseAsync(["node", "stepwise", "export", ...args]);
        };
        const input = join(dir, "labels.jsonl");
        const none = labelRecord("n#0", "q", ["a"], [null], [null]);
        writeFileSync(input, [GSM, WRONG, none].map((r) => JSON.stringify(r)).join("\n") + "\n");
        for (const format of ["trl", "openrlhf", "math-shepherd"]) {
            const out = join(dir, `${format}.jsonl`);
            await run("--format", format, "--in", input, "--out", out);
            const rows = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
            assert.equal(rows.length, 2, format);
            assert.deepEqual(rows[1], JSON.parse(JSON.stringify(exportRecord(WRONG, {format: format as "trl"}))));
            assert.match(logs.at(-1)!, /2 of 3 samples written .* 5 steps: 4 positive, 1 negative; skipped: 1 no-labelled-step/);
        }
        const out = join(dir, "o.jsonl");
        await run("--format", "openrlhf", "--labels", "soft", "--tag", " <s>", "--join", "\\n\\n", "--input-key", "q", "--label-key", "r", "--no-id", "--in", input, "--out", out);
        const row = JSON.parse(readFileSync(out, "utf8").split("\n")[0]);
        assert.deepEqual(Object.keys(row), ["q", "r"]);
        assert.ok(row.q.includes(" <s>\n\nNatalia"));
        const bad = join(dir, "bad.jsonl");
        writeFileSync(bad, JSON.stringify(GSM) + "\n" + JSON.stringify({...WRONG, hard: [1, 2, null]}) + "\n");
        await assert.rejects(run("--format", "trl", "--in", bad, "--out", join(dir, "b.jsonl")), /bad\.jsonl:2: field "hard\[1\]"/);
        await assert.rejects(run("--format", "trl", "--in", join(dir, "missing.jsonl"), "--out", join(dir, "m.jsonl")), /missing\.jsonl: no such file/);
        assert.equal(existsSync(join(dir, "m.jsonl")), false, "no output for a missing input");
    } finally {
        console.error = err;
        rmSync(dir, {recursive: true, force: true});
    }
});
