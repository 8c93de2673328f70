import {test} from "node:test";
import assert from "node:assert/strict";
import {appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {ScriptedPolicy, FunctionScorer, type Script} from "../../helpers/scripted-policy.ts";
import {decodeFile, pairedDifference, SearchPrm, summarizeDecode, type DecodeRecord} from "../../../src/search/index.ts";

/** Answers "The answer is <a+b>." for "Compute a + b." except that it says 13 for 6 + 6; the PRM is not used by greedy. */
const script: Script = (context) => {
    const nl = context.indexOf("\n");
    const m = /Compute (\d+) \+ (\d+)\./.exec(context.slice(0, nl))!;
    const sum = Number(m[1]) + Number(m[2]);
    const target = `The answer is ${sum === 12 ? 13 : sum}.`;
    const response = context.slice(nl + 1);
    return response.length < target.length ? [[target[response.length], 1]] : [["", 1]];
};

function dataset(dir: string): string {
    const file = join(dir, "q.jsonl");
    writeFileSync(
        file,
        [
            {id: "a", question: "Compute 1 + 2.", answer: "3"},
            {id: "b", question: "Compute 6 + 6.", answer: "12"},
            // GSM8K shape: the gold answer is a whole solution ending in #### N
            {id: "c", question: "Compute 2 + 2.", answer: "2 plus 2 is 4.\n#### 4"},
            {id: "d", question: "Compute 5 + 5."},
        ]
            .map((r) => JSON.stringify(r))
            .join("\n") + "\n",
    );
    return file;
}

test("decode file: one record per question in input order, graded where gold is known, resumable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-decode-"));
    const data = dataset(dir);
    const out = join(dir, "out.jsonl");
    const policy = new ScriptedPolicy(script);
    const progress: Array<[number, number]> = [];
    const s = await decodeFile({strategy: "greedy", policy: policy.engine, data, out, limit: 3, onProgress: (d, t) => progress.push([d, t])});
    const records = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as DecodeRecord);
    assert.deepEqual(records.map((r) => r.id), ["a", "b", "c"]);
    assert.deepEqual(records.map((r) => r.correct), [true, false, true]);
    assert.deepEqual(records.map((r) => r.gold), ["3", "12", "4"]);
    for (const r of records) {
        assert.equal(r.strategy, "greedy");
        assert.equal(r.question.startsWith("Compute"), true);
        assert.equal(typeof r.tokens, "number");
        assert.equal(r.prm_calls, 0);
        assert.equal(r.requests, 1);
        assert.deepEqual(r.trace, []);
        assert.match(r.method, /^greedy /);
    }
    assert.equal(s.n, 3);
    assert.equal(s.accuracy, 2 / 3);
    assert.equal(s.decoded, 3);
    assert.deepEqual(progress.at(-1), [3, 3]);
    // a re-run decodes only what is missing; a torn last line from a killed run is dropped and redone
    appendFileSync(out, '{"id":"d","strat');
    const again = await decodeFile({strategy: "greedy", policy: policy.engine, data, out});
    assert.equal(again.decoded, 1);
    assert.equal(again.skipped, 3);
    assert.equal(again.n, 4);
    assert.equal(again.accuracy, 2 / 3, "d has no gold answer: not graded");
    const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((r) => r.id), ["a", "b", "c", "d"]);
    assert.equal("correct" in lines[3], false);
    // other settings never mix into the same file
    await assert.rejects(decodeFile({strategy: "greedy", policy: policy.engine, data, out, config: {maxTokens: 7}}), /made with other settings \(method: "greedy max_tokens=256" → "greedy max_tokens=7"\)/);
});

test("decode file: a strategy that needs a PRM says so with the question's file, line and id", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-decode-"));
    const data = dataset(dir);
    await assert.rejects(decodeFile({strategy: "tvd", policy: new ScriptedPolicy(script).engine, data, out: join(dir, "o.jsonl")}), /q\.jsonl:1 id "a": decode --strategy tvd needs a PRM/);
    await assert.rejects(decodeFile({strategy: "nope" as never, policy: new ScriptedPolicy(script).engine, data, out: join(dir, "o.jsonl")}), /unknown strategy "nope"/);
});

test("decode file with Best-of-N: candidates in the trace, PRM calls counted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-decode-"));
    const data = dataset(dir);
    const out = join(dir, "bon.jsonl");
    const s = await decodeFile({strategy: "best-of-n", policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(new FunctionScorer(() => 0.5)), data, out, config: {n: 4}});
    assert.equal(s.prm_calls_per_question, 4);
    assert.equal(s.requests_per_question, 5);
    const first = JSON.parse(readFileSync(out, "utf8").split("\n")[0]) as DecodeRecord;
    assert.equal(first.trace.length, 4);
    assert.equal(first.trace.filter((t) => t.type === "candidate" && t.chosen).length, 1);
    assert.ok(existsSync(out));
});

test("summarizeDecode: a 95% Wilson interval, not 0.0–0.0 at 0/20 (issue: one statistics module)", () => {
    const records = (k: number) => Array.from({length: 20}, (_, i) => ({id: String(i), correct: i < k, tokens: 1, prm_calls: 0, requests: 1}) as unknown as DecodeRecord);
    const near = (got: [number, number] | null, want: [number, number]) => assert.ok(got && Math.abs(got[0] - want[0]) < 1e-4 && Math.abs(got[1] - want[1]) < 1e-4, `${got} vs ${want}`);
    near(summarizeDecode("greedy", records(0), 0).ci95, [0, 0.1611]);
    near(summarizeDecode("greedy", records(10), 0).ci95, [0.2993, 0.7007]);
    near(summarizeDecode("greedy", records(20), 0).ci95, [0.8389, 1]);
    assert.equal(summarizeDecode("greedy", records(0), 0).accuracy, 0);
});

test("paired difference and intervals", () => {
    const a = [
        {id: "1", correct: true},
        {id: "2", correct: false},
        {id: "3", correct: false},
        {id: "4", correct: true},
        {id: "5"},
    ];
    const b = [
        {id: "1", correct: true},
        {id: "2", correct: true},
        {id: "3", correct: false},
        {id: "4", correct: false},
        {id: "6", correct: true},
    ];
    const d = pairedDifference(a, b);
    assert.equal(d.n, 4);
    assert.equal(d.diff, 0);
    assert.equal(d.b_only, 1);
    assert.equal(d.a_only, 1);
    // src/stats: a seeded paired bootstrap (the same interval on every run) and an exact McNemar test
    assert.equal(d.ci_method, "paired-bootstrap-percentile");
    assert.deepEqual(pairedDifference(a, b).ci95, d.ci95);
    assert.ok(d.ci95[0] < 0 && d.ci95[1] > 0 && d.ci95[0] >= -1 && d.ci95[1] <= 1, `${d.ci95}`);
    assert.equal(d.mcnemar_p, 1); // one discordant pair each way
    const allB = pairedDifference(
        a.slice(0, 4).map((r) => ({...r, correct: false})),
        b.slice(0, 4).map((r) => ({...r, correct: true})),
    );
    assert.deepEqual([allB.diff, ...allB.ci95], [1, 1, 1]);
    assert.equal(allB.mcnemar_p, 0.125); // 2 · (1/2)^4
    assert.throws(() => pairedDifference(a, [{id: "9", correct: true}]), /share no question/);
});
