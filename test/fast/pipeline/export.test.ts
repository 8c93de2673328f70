import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Command} from "@commander-js/extra-typings";
import type {LabelRecord} from "../../../src/core/records.ts";
import {EXPORT_FORMATS, exportRecord, labelledSteps, recoverText} from "../../../src/pipeline/export/index.ts";
import type {SampleRecord} from "../../../src/core/records.ts";
import {parseStrategy, strategyLabel, toStepsRecord} from "../../../src/pipeline/split/index.ts";
import {generateProblems} from "../../../src/domains/lab/index.ts";
import {Rng} from "../../../src/util/rng.ts";
import {register} from "../../../src/cli/commands/export.ts";

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

/** TRL PRMTrainer's text order: prompt, then each completion followed by the step separator. */
function trlConcatenation(row: {prompt: string; completions: string[]}, separator: string): string {
    return row.prompt + row.completions.map((c) => c + separator).join("");
}

/**
 * TRL's Math-Shepherd converter (trl examples/datasets/math_shepherd.py), its general case
 * re-implemented: "ки" → one character so input and label align; the label character at each
 * tag must be "+" or "-"; the text before the first tag must hold "Step 1:", which separates the
 * prompt from the first step; completions are stripped.
 */
function trlMathShepherd(row: {input: string; label: string}): {prompt: string; completions: string[]; labels: boolean[]} {
    const inputs = row.input.replaceAll("ки", "ⶻ");
    assert.equal(inputs.length, row.label.length, "input and label align");
    const indexes = [...inputs.matchAll(/ⶻ/g)].map((m) => m.index!);
    for (const i of indexes) assert.ok(["+", "-"].includes(row.label[i]), `label character at ${i}: ${JSON.stringify(row.label[i])}`);
    const labels = indexes.map((i) => row.label[i] === "+");
    const pieces = [0, ...indexes].map((from, k) => inputs.slice(from, k < indexes.length ? indexes[k] : undefined)).slice(0, -1);
    const [promptPart, ...rest] = pieces;
    assert.ok(rest.every((c) => c.startsWith("ⶻ")));
    const parts = promptPart.split("Step 1:");
    assert.equal(parts.length, 2, "exactly one \"Step 1:\" before the first tag");
    const completions = ["Step 1:" + parts[1], ...rest.map((c) => c.slice(1))].map((c) => c.trim());
    assert.equal(completions.length, labels.length);
    return {prompt: parts[0].trim(), completions, labels};
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

test("labels made with --no-stop-after-negative: the labelled steps after the first negative are written (TRL's format labels every step)", async () => {
    // `stepwise label --no-stop-after-negative` labels every step: a negative step, then a positive one
    const all = labelRecord("all#0", "q", ["a\n", "b\n", "c\n"], [1, 0, 1], [1, 0, 0.5]);
    assert.deepEqual(exportRecord(all, {format: "trl"}), {id: "all#0", prompt: "q\n", completions: ["a\n", "b\n", "c\n"], labels: [true, false, true]});
    assert.deepEqual((exportRecord(all, {format: "openrlhf"}) as {label: string[]}).label, ["+", "-", "+"]);
    assert.deepEqual((exportRecord(all, {format: "asprm", labels: "soft"}) as {response: number[]}).response, [1, 0, 0.5]);
    // the Qwen recipe at export time: through the first negative
    assert.deepEqual((exportRecord(all, {format: "trl", stopAfterNegative: true}) as {labels: boolean[]}).labels, [true, false]);
    const dir = mkdtempSync(join(tmpdir(), "export-"));
    try {
        const input = join(dir, "labels.jsonl");
        writeFileSync(input, JSON.stringify(all) + "\n");
        const err = console.error;
        const logs: string[] = [];
        console.error = (m: string) => logs.push(m);
        try {
            for (const [flags, summary] of [[[], /3 steps: 2 positive, 1 negative/], [["--stop-after-negative"], /2 steps: 1 positive, 1 negative/]] as const) {
                const p = new Command().exitOverride();
                register(p);
                await p.parseAsync(["node", "stepwise", "export", "--format", "trl", "--in", input, "--out", join(dir, "o.jsonl"), ...flags]);
                assert.match(logs.at(-1)!, summary);
            }
        } finally {
            console.error = err;
        }
    } finally {
        rmSync(dir, {recursive: true, force: true});
    }
});

test("trl: the exact prompt and step texts; TRL's concatenation with step_separator \"\" rebuilds the sampled text", () => {
    const row = exportRecord(WRONG, {format: "trl"}) as {prompt: string; completions: string[]; labels: boolean[]};
    assert.deepEqual(row, {id: "gsm-0#1", prompt: `${Q}\n`, completions: ["Natalia sold 48*2 = 96 clips in May.\n", "Natalia sold 48+96 = 144 clips.\n"], labels: [true, false]});
    assert.equal(trlConcatenation(row, ""), WRONG.prompt + WRONG.text.slice(0, WRONG.steps[1].end));
    const q = exportRecord(GSM, {format: "trl", id: false, promptField: "question"}) as Record<string, unknown>;
    assert.equal(q.prompt, Q);
    assert.equal("id" in q, false);
    assert.throws(() => exportRecord(GSM, {format: "trl", labels: "soft"}), /soft labels are only written for --format openrlhf or asprm/);
});

test("openrlhf: the tag before each step's trailing whitespace (Math-Shepherd's layout), one label per tag, hard or soft", () => {
    const row = exportRecord(WRONG, {format: "openrlhf"}) as Record<string, unknown>;
    assert.equal(row.input, `${Q} Natalia sold 48*2 = 96 clips in May. ки\nNatalia sold 48+96 = 144 clips. ки\n`);
    assert.deepEqual(row.label, ["+", "-"]);
    const soft = exportRecord(GSM, {format: "openrlhf", labels: "soft", inputKey: "query", labelKey: "response", tag: " <step>"}) as Record<string, unknown>;
    assert.equal(soft.query, `${Q} Natalia sold 48/2 = 24 clips in May. <step>\nNatalia sold 48+24 = 72 clips altogether. <step>\nThe answer is 72. <step>\n`);
    assert.deepEqual(soft.response, [1, 0.75, 1]);
    // a text containing the tag would shift every label: skipped
    assert.equal(exportRecord(labelRecord("t#0", "q", ["a ки b"], [1], [1]), {format: "openrlhf"}), "tag-in-text");
    // a whitespace tag that also occurs inside a step: skipped (counted by exportFile), never written with extra tags
    const para = labelRecord("p#0", "q", ["One.\n\nTwo.", " Three."], [1, 1], [1, 1]);
    assert.equal(exportRecord(para, {format: "openrlhf", tag: "\n\n", placement: "end"}), "tag-in-text");
    assert.equal(typeof exportRecord(para, {format: "openrlhf", tag: "\n\n\n", placement: "end"}), "object");
});

test("asprm: ASPRM's released layout, text intact with ' ки ' right after each step, query/response keys", () => {
    // adaptive steps: a decision token inside a word ("No" | "w"), and a lone "\n" decision token
    const rec = labelRecord("a#0", "Compute 3 / 3.", ["No", "w 3 / 3", " = 1.\n", "\n", "The answer is 1."], [1, 1, 1, 1, 0], [1, 1, 1, 1, 0]);
    const row = exportRecord(rec, {format: "asprm"}) as Record<string, unknown>;
    assert.deepEqual(Object.keys(row), ["id", "query", "response"]);
    assert.equal(row.query, "Compute 3 / 3. No ки w 3 / 3 ки  = 1.\n ки \n ки The answer is 1. ки ");
    assert.deepEqual(row.response, ["+", "+", "+", "+", "-"]);
    assert.equal(recoverText(row, {format: "asprm"}), "Compute 3 / 3. " + rec.text);
});

test("math-shepherd: 'Step N: … ки' rows that TRL's Math-Shepherd converter accepts; a tag's trailing text is kept in the label", () => {
    const row = exportRecord(WRONG, {format: "math-shepherd"}) as {input: string; label: string};
    assert.equal(row.input, `${Q} Step 1: Natalia sold 48*2 = 96 clips in May. ки\nStep 2: Natalia sold 48+96 = 144 clips. ки\n`);
    assert.equal(row.label, `${Q} Step 1: Natalia sold 48*2 = 96 clips in May. +\nStep 2: Natalia sold 48+96 = 144 clips. -\n`);
    assert.deepEqual(trlMathShepherd(row), {prompt: Q, completions: ["Step 1: Natalia sold 48*2 = 96 clips in May.", "Step 2: Natalia sold 48+96 = 144 clips."], labels: [true, false]});
    // text that already numbers its steps is not numbered twice
    const numbered = labelRecord("n#0", "q?", ["Step 1: a = 1.\n", "Step 2: b = 2."], [1, 1], [1, 1]);
    assert.equal((exportRecord(numbered, {format: "math-shepherd"}) as {input: string}).input, "q? Step 1: a = 1. ки\nStep 2: b = 2. ки");
    // a tag with surrounding text keeps it in the label copy
    const t = exportRecord(GSM, {format: "math-shepherd", tag: " ки\n", placement: "end", numbered: false}) as {input: string; label: string};
    assert.equal(t.label, t.input.replaceAll(" ки\n", " +\n"));
    assert.throws(() => exportRecord(GSM, {format: "math-shepherd", labels: "soft"}), /soft/);
});

test("round trip: every split strategy × every format reproduces the sampled text apart from the tags", () => {
    const rng = new Rng(5);
    const texts = [
        ...generateProblems(6, {seed: 3}).map((p) => p.solution),
        "Natalia sold 48/2 = 24 clips in May.\nNow 3 / 3 = 1, so  she sold 48+24 = 72 clips.\n\n\nThe answer is 72.\n",
        "  Leading spaces.\n\nThen\ttabs and trailing  \n",
    ];
    const tokenizers: Array<(t: string) => string[]> = [(t) => t.split(""), (t) => t.match(/\n+|\s?[A-Za-z]+|\s?\d|\s+|[^\sA-Za-z\d]/g) ?? []];
    const strategies = ["adaptive:0.3", "newline", "double-newline", "fixed:3", "random:4:1"].map((s) => parseStrategy(s));
    let rows = 0;
    texts.forEach((text, ti) =>
        tokenizers.forEach((tok, ki) => {
            const pieces = tok(text);
            assert.equal(pieces.join(""), text);
            const sample: SampleRecord = {
                id: `s${ti}-${ki}#0`, question_id: `s${ti}`, sample_index: 0, question: "What is it?", prompt: "What is it?\n", text,
                tokens: pieces.map((p) => ({text: p, confidence: rng.next(), top: []})), finish_reason: "stop", engine: "test", seed: 0, temperature: 1,
            };
            for (const strategy of strategies) {
                const st = toStepsRecord(sample, strategy);
                const n = st.steps.length;
                const firstNeg = rng.next() < 0.5 ? rng.int(0, n - 1) : n;
                const hard = st.steps.map((_, i) => (i < firstNeg ? 1 : i === firstNeg ? 0 : null)) as Array<0 | 1 | null>;
                const rec: LabelRecord = {...st, hard, soft: hard.map((h) => (h === null ? null : h)), rollouts: hard.map(() => ({n: 1, correct: 1})), first_negative: firstNeg < n ? firstNeg : -1, cost: {rollouts: 0, generated_tokens: 0, prefix_evaluations: 0}, method: "test"};
                const keptEnd = st.steps[Math.min(firstNeg, n - 1)].end;
                for (const format of EXPORT_FORMATS) {
                    const row = exportRecord(rec, {format});
                    assert.equal(typeof row, "object", `${format} ${strategyLabel(strategy)}: ${String(row)}`);
                    const r = row as Record<string, unknown>;
                    const expected = format === "trl" ? sample.prompt + text.slice(0, keptEnd) : `${sample.question} ${text.slice(0, keptEnd)}`;
                    assert.equal(recoverText(r, {format}), expected, `${format} × ${strategyLabel(strategy)} on text ${ti}/${ki}`);
                    const labels = format === "trl" ? (r.labels as unknown[]) : format === "math-shepherd" ? null : (r[format === "asprm" ? "response" : "label"] as unknown[]);
                    const input = r[format === "asprm" ? "query" : "input"] as string;
                    if (labels && format !== "trl") assert.equal(input.split(format === "asprm" ? " ки " : " ки").length - 1, labels.length, "one tag per label");
                    if (format === "math-shepherd") assert.equal(trlMathShepherd(r as {input: string; label: string}).labels.length, Math.min(firstNeg + 1, n));
                    rows++;
                }
            }
        }),
    );
    assert.equal(rows, texts.length * 2 * 5 * EXPORT_FORMATS.length);
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
        for (const format of EXPORT_FORMATS) {
            const out = join(dir, `${format}.jsonl`);
            await run("--format", format, "--in", input, "--out", out);
            const rows = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
            assert.equal(rows.length, 2, format);
            assert.deepEqual(rows[1], JSON.parse(JSON.stringify(exportRecord(WRONG, {format: format as "trl"}))));
            assert.match(logs.at(-1)!, /2 of 3 samples written .* 5 steps: 4 positive, 1 negative; skipped: 1 no-labelled-step/);
        }
        const out = join(dir, "o.jsonl");
        await run("--format", "openrlhf", "--labels", "soft", "--tag", "\\n<s>", "--placement", "end", "--input-key", "q", "--label-key", "r", "--no-id", "--in", input, "--out", out);
        const row = JSON.parse(readFileSync(out, "utf8").split("\n")[0]);
        assert.deepEqual(Object.keys(row), ["q", "r"]);
        assert.ok(row.q.includes("May.\n\n<s>Natalia"));
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
