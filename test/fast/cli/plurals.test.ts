/**
 * Counts in CLI messages go through `plural()` (src/util/plural.ts): with n = 1 the noun is
 * singular ("1 sample split into 1 step", not "1 samples … 1 steps"). The commands run in-process
 * on one-record files and their stderr lines are read.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Command} from "@commander-js/extra-typings";
import {register as registerGrade} from "../../../src/cli/commands/grade.ts";
import {register as registerSplit} from "../../../src/cli/commands/split.ts";
import {register as registerThreshold} from "../../../src/cli/commands/threshold.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-plurals-"));
test.after(() => rmSync(dir, {recursive: true, force: true}));

/** Run `stepwise ARGS…` in-process; returns what it wrote to stderr (console.error), line by line. */
async function stderrOf(t: {mock: {method: (o: object, m: string, f: (...a: unknown[]) => void) => unknown}}, ...args: string[]): Promise<string[]> {
    const lines: string[] = [];
    t.mock.method(console, "error", (...a: unknown[]) => lines.push(a.join(" ")));
    t.mock.method(console, "log", () => {});
    const p = new Command().exitOverride();
    for (const register of [registerGrade, registerSplit, registerThreshold]) register(p);
    await p.parseAsync(["node", "stepwise", ...args]);
    return lines;
}

// One sample, one line, three tokens.
const sample = {
    id: "q1#0", question_id: "q1", sample_index: 0, question: "Q?", prompt: "Q?\n", text: "So 2 + 2 = 4.",
    tokens: [{text: "So 2 + 2", confidence: 0.9, top: []}, {text: " = ", confidence: 0.4, top: []}, {text: "4.", confidence: 0.95, top: []}],
    finish_reason: "stop", engine: "test", seed: 0, temperature: 1,
};
const samples = join(dir, "one-sample.jsonl");
writeFileSync(samples, JSON.stringify(sample) + "\n");

test("split and threshold on one sample: '1 sample', '1 step'", async (t) => {
    const split = await stderrOf(t, "split", "--samples", samples, "--strategy", "newline", "--out", join(dir, "steps.jsonl"));
    assert.match(split.at(-1)!, /^split: 1 sample split into 1 step \(1\.00 per sample/);
    // a resume with other settings names the one record already there (core/stage.ts)
    await assert.rejects(stderrOf(t, "split", "--samples", samples, "--strategy", "adaptive", "--tau", "0.5", "--out", join(dir, "steps.jsonl")), /: its 1 record was made with other settings/);
    const thr = await stderrOf(t, "threshold", "--samples", samples, "--out", join(dir, "threshold.json"), "--no-plot");
    assert.match(thr.at(-1)!, /of 3 tokens below \([\d.]+%\), 1 sample, mean confidence/);
});

test("report texts: eval bon with one question of one candidate", async () => {
    const {bonMarkdown} = await import("../../../src/eval/bon/report.ts");
    const md = bonMarkdown({questions: 1, candidates: {min: 1, max: 1}, sizes: [1], subsets: 5, seed: 0, ci: "wilson-95", ties: "random", allow_unfinished: false, methods: [],
        grading: {questions: 1, candidates: 1, precomputed: 1, graded: 0, noAnswer: 1, unfinished: 0, meanClasses: 1, scored: false}});
    assert.match(md, /^1 question, 1 candidate per question;/m);
    assert.match(md, /Grading: 1 precomputed verdict, 0 graded against gold; 1 candidate without an answer;/);
});

test("grade --file on one record: 'graded 1 record'", async (t) => {
    const pairs = join(dir, "pairs.jsonl");
    writeFileSync(pairs, JSON.stringify({gold: "4", pred: "The answer is 4."}) + "\n");
    const lines = await stderrOf(t, "grade", "--file", pairs, "--out", join(dir, "graded.jsonl"));
    assert.match(lines.at(-1)!, /^graded 1 record \(lenient\): 1 equal/);
});
