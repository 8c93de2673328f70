/**
 * An empty or null gold answer is an error naming file, line and field wherever stepwise grades
 * against gold (label's math verifier, grade --file, eval bon, decode, eval analyze): grading
 * against it would count every answer wrong, silently. `label --skip-no-gold` skips and counts.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {generateProblems} from "../../../src/domains/lab/index.ts";
import {labelFile, makeVerifier} from "../../../src/pipeline/label/index.ts";
import {goldProblem, requireGold, NoGoldError} from "../../../src/io/dataset.ts";
import {gradeJsonlFile} from "../../../src/grade/file.ts";
import {readCandidates} from "../../../src/eval/bon/load.ts";
import {decodeFile} from "../../../src/search/index.ts";
import {ScriptedLabEngine} from "../../helpers/scripted-lab-engine.ts";
import {ScriptedPolicy} from "../../helpers/scripted-policy.ts";
import "../../../src/apps/domains.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-gold-"));
const jsonl = (name: string, rows: unknown[]) => {
    const f = join(dir, name);
    writeFileSync(f, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    return f;
};

/** Lab solutions as split records (one step per line), with the given gold on each. */
function stepsRecords(golds: unknown[]) {
    return generateProblems(golds.length, {seed: 9, split: "heldout"}).map((p, i) => {
        const text = p.steps.join("\n");
        let start = 0;
        const steps = p.steps.map((l, j) => {
            const end = start + l.length + (j < p.steps.length - 1 ? 1 : 0);
            const s = {text: text.slice(start, end), start, end};
            start = end;
            return s;
        });
        return {id: p.id, question: p.question, prompt: p.question + "\n", text, steps, ...(golds[i] === undefined ? {} : {gold: golds[i]})};
    });
}

test("gold helper: missing, null, empty and blank are no gold; numbers and text are", () => {
    assert.equal(goldProblem("12"), undefined);
    assert.equal(goldProblem(12), undefined);
    assert.equal(goldProblem(undefined), "missing");
    assert.equal(goldProblem(null), "null");
    assert.equal(goldProblem(""), "an empty string");
    assert.equal(goldProblem("  \n"), "only white space");
    assert.equal(requireGold(7, "f:1"), "7");
    assert.throws(() => requireGold(null, "f.jsonl:3", "answer", "--skip-no-gold"), (e: Error) => e instanceof NoGoldError && /^f\.jsonl:3: field "answer": is null, .*--skip-no-gold skips such records and counts them$/.test(e.message));
});

test("label --verifier math: a record with gold null or \"\" stops the run before any model loads, naming file:line and field", async () => {
    for (const bad of [null, ""]) {
        const input = jsonl("label-in.jsonl", stepsRecords(["4", bad, "5"]));
        const out = join(dir, `label-out-${bad === null ? "null" : "empty"}.jsonl`);
        let loaded = false;
        await assert.rejects(
            labelFile({
                engine: async () => {
                    loaded = true;
                    return new ScriptedLabEngine(1, 0);
                },
                engineSpec: "openai:http://127.0.0.1:9/v1?model=m",
                verifier: "math",
                k: 2,
                input,
                out,
            }),
            (e: Error) => e instanceof NoGoldError && e.message.startsWith(`${input}:2: field "gold": is ${bad === null ? "null" : "an empty string"}`) && /--skip-no-gold/.test(e.message),
        );
        assert.equal(loaded, false, "no model loaded");
        assert.ok(!existsSync(out) || readFileSync(out, "utf8") === "", "nothing written");
    }
});

test("label --skip-no-gold: records without gold are skipped and counted; the others are labelled", async () => {
    const recs = stepsRecords([undefined, null, "", "x"]);
    const p = generateProblems(4, {seed: 9, split: "heldout"});
    recs[3].gold = p[3].answer;
    const input = jsonl("label-skip.jsonl", recs);
    const out = join(dir, "label-skip-out.jsonl");
    const s = await labelFile({engine: new ScriptedLabEngine(1, 0), verifier: "math", k: 2, input, out, skipNoGold: true});
    assert.equal(s.written, 1);
    assert.deepEqual(
        s.no_gold?.map((n) => n.where),
        [1, 2, 3].map((l) => `${input}:${l}`),
    );
    assert.deepEqual(s.no_gold?.map((n) => n.message), ["missing", "null", "an empty string"]);
    const written = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(written.map((r) => r.id), [recs[3].id]);
    assert.ok(written[0].hard.every((h: number | null) => h === 1), "right gold: positive steps");
});

test("math verifier itself refuses an empty gold (library callers of labelSample)", async () => {
    const math = await makeVerifier("math");
    for (const gold of [undefined, null, "", " "]) assert.throws(() => math({question: "?", gold: gold as string, solution: "\\boxed{2}"}), /no gold answer/);
});

test("grade --file: an empty gold is an error naming file:line and field", async () => {
    const file = jsonl("grade.jsonl", [{gold: "1", pred: "1"}, {gold: "", pred: "1"}]);
    await assert.rejects(gradeJsonlFile(file, {}, () => {}), (e: Error) => e instanceof NoGoldError && e.message.startsWith(`${file}:2: field "gold": is an empty string`));
    const nul = jsonl("grade-null.jsonl", [{gold: null, pred: "1"}]);
    await assert.rejects(gradeJsonlFile(nul, {}, () => {}), new RegExp(`^NoGoldError: ${nul.replace(/[.]/g, "\\.")}:1: field "gold": is null`));
});

test("eval bon: an empty gold is an error naming file:line and field (null still means 'not on this candidate')", async () => {
    const file = jsonl("bon.jsonl", [{question_id: "a", text: "\\boxed{1}", gold: "1", step_scores: [1]}, {question_id: "a", text: "\\boxed{1}", gold: " ", step_scores: [1]}]);
    await assert.rejects(readCandidates(file), (e: Error) => e instanceof NoGoldError && e.message.startsWith(`${file}:2: field "gold": is only white space`));
    const ok = jsonl("bon-null.jsonl", [{question_id: "a", text: "\\boxed{1}", gold: null, step_scores: [1]}]);
    assert.equal((await readCandidates(ok))[0].gold, null);
});

test("decode: an answer field present but null or empty is an error naming the row and field; an absent one means no gold", async () => {
    const policy = new ScriptedPolicy(() => [["", 1]]);
    const data = jsonl("decode.jsonl", [{id: "a", question: "Compute 1 + 2.", answer: "3"}, {id: "b", question: "Compute 2 + 2.", answer: ""}]);
    await assert.rejects(decodeFile({strategy: "greedy", policy: policy.engine, data, out: join(dir, "decode-out.jsonl")}), (e: Error) => e instanceof NoGoldError && e.message.startsWith(`${data}:2: field "answer": is an empty string`));
    const none = jsonl("decode-none.jsonl", [{id: "a", question: "Compute 1 + 2."}]);
    const s = await decodeFile({strategy: "greedy", policy: policy.engine, data: none, out: join(dir, "decode-none-out.jsonl")});
    assert.equal(s.accuracy, null);
});
