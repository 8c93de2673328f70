import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {judgeFile, judgeSolution, judgeSolutions, judgeInputFromRow, type VerdictRecord} from "../../../src/judge/judge.ts";
import {judgeUserMessage} from "../../../src/judge/prompt.ts";
import {ScriptedJudge} from "../../helpers/scripted-judge.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "stepwise-judge-"));

function stepsFile(dir: string, n: number): string {
    const rows = Array.from({length: n}, (_, i) => ({
        id: `q${i}#0`,
        question_id: `q${i}`,
        question: `Compute ${i} + 1.`,
        text: "x",
        steps: Array.from({length: 2 + (i % 3)}, (_, k) => ({text: `line ${k}\nmore`, start: 0, end: 1, token_start: 0, token_end: 1})),
    }));
    const file = join(dir, "steps.jsonl");
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    return file;
}

// Mostly "the last step", sometimes −1, sometimes junk.
const noisy = (steps: number, u: number) => (u < 0.6 ? `Step ${steps - 1} is off. \\boxed{${steps - 1}}` : u < 0.8 ? "\\boxed{-1}" : u < 0.9 ? "I am not sure." : `\\boxed{${steps + 3}}`);

test("the prompt numbers the steps from 0, one per line, with the problem and the \\boxed instruction", () => {
    const m = judgeUserMessage("Compute 2 + 3.", ["  First, 2 + 3 = 5.\n", "The answer\n  is 5."]);
    assert.match(m, /^Problem: Compute 2 \+ 3\.\n\nStep 0: First, 2 \+ 3 = 5\.\nStep 1: The answer is 5\.\n\n/);
    assert.match(m, /\\boxed\{\}, or \\boxed\{-1\}/);
});

test("judge (compact template) writes one voted verdict per solution with every raw answer, and counts tokens", async () => {
    const dir = tmp();
    const input = stepsFile(dir, 6);
    const engine = new ScriptedJudge(noisy);
    const summary = await judgeFile({engine, engineSpec: "scripted", input, out: join(dir, "v.jsonl"), n: 5, seed: 3, template: "compact"});
    const records = readFileSync(join(dir, "v.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as VerdictRecord);
    assert.equal(records.length, 6);
    assert.deepEqual(records.map((r) => r.id), Array.from({length: 6}, (_, i) => `q${i}#0`));
    for (const r of records) {
        assert.equal(r.votes.length, 5);
        assert.equal(r.raw.length, 5);
        r.raw.forEach((raw, k) => {
            if (raw === "I am not sure.") assert.deepEqual([r.votes[k], r.parse_failures[k]], [null, "no-box"]);
            else if (/boxed\{(\d+)\}/.test(raw) && Number(/boxed\{(\d+)\}/.exec(raw)![1]) >= r.steps) assert.deepEqual([r.votes[k], r.parse_failures[k]], [null, "out-of-range"]);
            else assert.equal(r.parse_failures[k], null);
        });
        const counts = new Map<number, number>();
        for (const v of r.votes) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
        const top = Math.max(0, ...counts.values());
        const winners = [...counts].filter(([, c]) => c === top);
        assert.equal(r.first_error, winners.length === 1 ? winners[0][0] : null);
        assert.equal(r.generated_tokens, r.raw.reduce((a, t) => a + t.length, 0));
    }
    assert.equal(summary.written, 6);
    assert.equal(summary.answers, 30);
    assert.equal(summary.unparsable_answers, records.reduce((a, r) => a + r.votes.filter((v) => v === null).length, 0));
    assert.equal(summary.generated_tokens, records.reduce((a, r) => a + r.generated_tokens, 0));
    assert.equal(summary.requests, 6);
    assert.ok(summary.prompt_tokens > 0);
    assert.match(engine.prompts[0], /Step 1: line 1 more\n/);
});

test("an interrupted judge run resumes into the file an uninterrupted run writes; other settings are refused", async () => {
    const dir = tmp();
    const input = stepsFile(dir, 7);
    const full = join(dir, "full.jsonl");
    const part = join(dir, "part.jsonl");
    await judgeFile({engine: new ScriptedJudge(noisy), engineSpec: "scripted", input, out: full, n: 3, concurrency: 3});
    await judgeFile({engine: new ScriptedJudge(noisy), engineSpec: "scripted", input, out: part, n: 3, limit: 3});
    writeFileSync(part, readFileSync(part, "utf8") + '{"id":"q3#0","fir'); // torn last line of a killed run
    const engine = new ScriptedJudge(noisy);
    const s = await judgeFile({engine, engineSpec: "scripted", input, out: part, n: 3, concurrency: 2});
    assert.equal(s.skipped, 3);
    assert.equal(s.written, 4);
    assert.equal(engine.stats().requests, 4);
    assert.equal(readFileSync(part, "utf8"), readFileSync(full, "utf8"));
    await assert.rejects(judgeFile({engine, engineSpec: "scripted", input, out: part, n: 5}), /other settings \(n: 3 → 5\)/);
});

test("judge is a resumable stage: a run killed mid-way resumes byte-identical; other --n is refused naming the file and setting before the judge loads", async () => {
    const dir = tmp();
    const input = stepsFile(dir, 9);
    const full = join(dir, "full.jsonl");
    const part = join(dir, "part.jsonl");
    // a spec whose identity (the model name) is known without loading anything, as the CLI passes it
    const settings = {engineSpec: "openai:http://127.0.0.1:9/v1?model=judge-7b", input, n: 3, seed: 4, concurrency: 3, template: "compact" as const};
    await judgeFile({...settings, engine: new ScriptedJudge(noisy), out: full});
    await judgeFile({...settings, engine: new ScriptedJudge(noisy), out: part});
    // kill -9 after k = 4 records, in the middle of the 5th line
    const lines = readFileSync(part, "utf8").split("\n");
    const k = 4;
    writeFileSync(part, lines.slice(0, k).join("\n") + "\n" + lines[k].slice(0, Math.floor(lines[k].length / 2)));
    assert.ok(existsSync(`${part}.settings.json`), "the stage records its settings next to the output");
    const engine = new ScriptedJudge(noisy);
    const s = await judgeFile({...settings, engine, out: part, concurrency: 2});
    assert.deepEqual([s.skipped, s.written, engine.stats().requests], [k, 9 - k, 9 - k]);
    assert.equal(readFileSync(part, "utf8"), readFileSync(full, "utf8"));
    assert.ok(!existsSync(`${part}.lock`), "the lock is released");
    // a rerun with other settings is refused, naming the file and each setting, and the judge is never made
    let made = false;
    const lazy = async () => {
        made = true;
        return new ScriptedJudge(noisy);
    };
    await assert.rejects(judgeFile({...settings, engine: lazy, out: part, n: 5}), (e: Error) => {
        assert.match(e.message, /^--out \S*part\.jsonl: its 9 records were made with other settings \(n: 3 → 5\); resuming would mix them/);
        return true;
    });
    await assert.rejects(judgeFile({...settings, engine: lazy, out: part, temperature: 0.5, maxTokens: 9}), /other settings \(max_tokens: 1024 → 9; temperature: 1 → 0\.5\)/);
    assert.equal(made, false);
    assert.equal(readFileSync(part, "utf8"), readFileSync(full, "utf8"), "a refused run changes nothing");
    // the same settings resume (nothing left to do) and the in-memory path gives the same verdicts
    assert.equal((await judgeFile({...settings, engine: lazy, out: part})).written, 0);
    const mem = await judgeSolutions(
        readFileSync(input, "utf8").trim().split("\n").map((l, i) => judgeInputFromRow(JSON.parse(l), `steps:${i + 1}`)),
        {...settings, engine: new ScriptedJudge(noisy)},
    );
    assert.equal(mem.verdicts.map((v) => JSON.stringify(v) + "\n").join(""), readFileSync(full, "utf8"));
});

test("judge: a file of an older stepwise (no settings file) is checked by each record's method", async () => {
    const dir = tmp();
    const input = stepsFile(dir, 3);
    const out = join(dir, "old.jsonl");
    await judgeFile({engine: new ScriptedJudge(noisy), engineSpec: "scripted", input, out, n: 3, limit: 2});
    rmSync(`${out}.settings.json`);
    await assert.rejects(judgeFile({engine: new ScriptedJudge(noisy), engineSpec: "scripted", input, out, n: 5}), /old\.jsonl:1: this record was made with other settings \(scripted,template=processbench,n=3,.*now scripted,template=processbench,n=5,/);
    const s = await judgeFile({engine: new ScriptedJudge(noisy), engineSpec: "scripted", input, out, n: 3});
    assert.deepEqual([s.skipped, s.written], [2, 1]);
    assert.ok(existsSync(`${out}.settings.json`), "adopted: settings recorded");
});

test("judge inputs: split/label records and ProcessBench rows; bad rows name the file and line", () => {
    assert.deepEqual(judgeInputFromRow({id: 7, problem: "P", steps: ["a", "b"]}, "f:1"), {id: "7", question: "P", steps: ["a", "b"]});
    assert.deepEqual(judgeInputFromRow({id: "s#1", question_id: "s", question: "Q", steps: [{text: "a"}]}, "f:1"), {id: "s#1", question_id: "s", question: "Q", steps: ["a"]});
    assert.throws(() => judgeInputFromRow({id: "a", steps: []}, "data.jsonl:4"), /data\.jsonl:4: missing field "question"/);
    assert.throws(() => judgeInputFromRow({id: "a", question: "Q"}, "data.jsonl:5"), /data\.jsonl:5: missing field "steps"/);
    assert.throws(() => judgeInputFromRow({id: "a", question: "Q", steps: [3]}, "data.jsonl:6"), /data\.jsonl:6: steps\[0\]/);
});

test("engines without chat() are judged through formatChat + generate, with the same verdicts", async () => {
    const dir = tmp();
    const input = stepsFile(dir, 4);
    await judgeFile({engine: new ScriptedJudge(noisy), engineSpec: "s", input, out: join(dir, "a.jsonl"), n: 3});
    const plain = new ScriptedJudge(noisy, {chat: false});
    await judgeFile({engine: plain, engineSpec: "s", input, out: join(dir, "b.jsonl"), n: 3});
    assert.equal(readFileSync(join(dir, "a.jsonl"), "utf8"), readFileSync(join(dir, "b.jsonl"), "utf8"));
    assert.equal(plain.prompts.length, 4);
});

test("a judge that never boxes gives null verdicts with the raw text kept", async () => {
    const engine = new ScriptedJudge(() => "The second step looks wrong to me");
    const v = await judgeSolution(engine, {id: "a", question: "Q", steps: ["s0", "s1"]}, {engineSpec: "x", n: 2});
    assert.equal(v.first_error, null);
    assert.equal(v.no_verdict, "all-unparsable");
    assert.deepEqual(v.raw, ["The second step looks wrong to me", "The second step looks wrong to me"]);
    assert.deepEqual(v.parse_failures, ["no-box", "no-box"]);
});
