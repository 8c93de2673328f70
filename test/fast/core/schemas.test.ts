/**
 * One schema per record kind (src/core/schemas.ts): a record as its stage writes it reads back
 * through `readRecords`; a malformed line (a wrong type in a nested field) is a StepwiseError
 * naming file:line and the field path; records are yielded as read (field order, unknown fields).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {z} from "zod";
import {
    CodeGradedRecordSchema,
    CodeVerdictSchema,
    DecodeRecordSchema,
    FilteredLabelRecordSchema,
    LabelRecordSchema,
    SampleRecordSchema,
    ScoreCacheRecordSchema,
    ScoredRecordSchema,
    StepsRecordSchema,
    VerdictRecordSchema,
    readRecords,
    readRecordsAll,
} from "../../../src/core/schemas.ts";
import type {LabelRecord, SampleRecord, StepsRecord} from "../../../src/core/records.ts";
import type {DecodeRecord} from "../../../src/search/decode-file.ts";
import type {VerdictRecord} from "../../../src/judge/judge.ts";
import type {CodeVerdict} from "../../../src/domains/code/verifier.ts";
import {openStage} from "../../../src/core/stage.ts";
import {exportFile} from "../../../src/pipeline/export/index.ts";
import {consensusFilter, readVerdicts} from "../../../src/filter/consensus.ts";
import {StepwiseError} from "../../../src/util/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-schemas-"));
let n = 0;
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
const file = (rows: unknown[]) => {
    const f = join(dir, `r${n++}.jsonl`);
    writeFileSync(f, jsonl(rows));
    return f;
};

const sample: SampleRecord = {
    id: "q1#0",
    question_id: "q1",
    sample_index: 0,
    question: "Compute 1 + 2.",
    prompt: "Compute 1 + 2.\n",
    text: "1 + 2 = 3\nThe answer is 3.",
    tokens: [
        {text: "1 + 2 = 3\n", confidence: 0.9, id: 7},
        {text: "The answer is 3.", confidence: 0.4, top: [{text: "The", prob: 0.4}]},
    ],
    finish_reason: "eos",
    gold: "3",
    engine: "llama:x.gguf",
    seed: 0,
    temperature: 1,
};

const steps: StepsRecord = {
    id: "q1#0",
    question_id: "q1",
    sample_index: 0,
    question: sample.question,
    prompt: sample.prompt,
    text: sample.text,
    gold: "3",
    strategy: "adaptive",
    tau: 0.5,
    steps: [
        {text: "1 + 2 = 3\n", start: 0, end: 10, token_start: 0, token_end: 1},
        {text: "The answer is 3.", start: 10, end: 26, token_start: 1, token_end: 2},
    ],
};

const label: LabelRecord = {
    ...steps,
    hard: [1, 0],
    soft: [1, 0],
    rollouts: [
        {n: 4, correct: 4, truncated: 0},
        {n: 4, correct: 0},
    ],
    first_negative: 1,
    cost: {rollouts: 8, generated_tokens: 40, prefix_evaluations: 2},
    method: "mc k=4",
    truth: {first_error: 1, correct: [true, false]},
    rollout_engine: "llama:x.gguf",
};

const verdict: VerdictRecord = {
    id: "q1#0",
    question_id: "q1",
    steps: 2,
    first_error: 1,
    votes: [1, null],
    boxes: ["2", null],
    raw: ["\\boxed{2}", "?"],
    parse_failures: [null, "no-box"],
    agreement: 0.5,
    generated_tokens: 12,
    protocol: {template: "processbench", n: 2, temperature: 1, top_p: 0.9, top_k: 0, max_tokens: 64, ties: "first-seen"},
    method: "judge m",
};

const decode: DecodeRecord = {
    id: "q1",
    question: "Compute 1 + 2.",
    strategy: "tvd",
    text: "The answer is 3.",
    answer: "3",
    finished: true,
    tokens: 5,
    prm_calls: 2,
    requests: 4,
    trace: [
        {type: "tvd", position: 1, offset: 3, greedy_prob: 0.4, candidates: [{text: "a", prob: 0.4, score: 0.2}], chosen: 0},
        {type: "candidate", index: 0, answer: null, finished: false, step_scores: [0.5], score: 0.5, chosen: true},
    ],
    gold: "3",
    correct: true,
    method: "tvd tau=0.5",
    wall_s: 0.25,
};

const codeVerdict: CodeVerdict = {id: "t#0", task_id: "t", status: "fail", detail: "assert f(1) == 2", wall_ms: 31};

/** Record kind, its schema, a valid record, the same record with a wrong type in a nested field, and the field path. */
const kinds: Array<{kind: string; schema: z.ZodType<unknown, unknown>; good: object; bad: object; field: string}> = [
    {kind: "sample", schema: SampleRecordSchema, good: sample, bad: {...sample, tokens: [sample.tokens[0], {...sample.tokens[1], confidence: "0.4"}]}, field: "tokens[1].confidence"},
    {kind: "steps", schema: StepsRecordSchema, good: steps, bad: {...steps, steps: [steps.steps[0], {...steps.steps[1], end: "26"}]}, field: "steps[1].end"},
    {kind: "labels", schema: LabelRecordSchema, good: label, bad: {...label, rollouts: [label.rollouts[0], {n: "4", correct: 0}]}, field: "rollouts[1].n"},
    {kind: "filtered labels", schema: FilteredLabelRecordSchema, good: {...label, judge_first_error: 1}, bad: {...label, judge_first_error: 1, cost: {...label.cost, generated_tokens: "40"}}, field: "cost.generated_tokens"},
    {kind: "scores", schema: ScoredRecordSchema, good: {...steps, step_scores: [0.9, 0.1], prm: "llama:p.gguf"}, bad: {...steps, step_scores: [0.9, "0.1"], prm: "llama:p.gguf"}, field: "step_scores[1]"},
    {kind: "ProcessBench score cache", schema: ScoreCacheRecordSchema, good: {id: "0", split: "gsm8k", step_scores: [0.5], prm: "p"}, bad: {id: "0", split: "gsm8k", step_scores: [null]}, field: "step_scores[0]"},
    {kind: "verdicts", schema: VerdictRecordSchema, good: verdict, bad: {...verdict, protocol: {...verdict.protocol, top_p: "0.9"}}, field: "protocol.top_p"},
    {kind: "decode", schema: DecodeRecordSchema, good: decode, bad: {...decode, trace: [{...decode.trace[0], candidates: [{text: "a", prob: 0.4, score: "0.2"}]}]}, field: "trace[0].candidates[0].score"},
    {kind: "code run verdicts", schema: CodeVerdictSchema, good: codeVerdict, bad: {...codeVerdict, status: "passed"}, field: "status"},
    {kind: "code grade", schema: CodeGradedRecordSchema, good: {...sample, correct: false, code_status: "no-code", code_detail: "no code block"}, bad: {...sample, correct: "false", code_status: "no-code", code_detail: ""}, field: "correct"},
];

for (const {kind, schema, good, bad, field} of kinds) {
    test(`${kind}: a record as written reads back; a wrong type in a nested field names file:line and "${field}"`, async () => {
        const ok = file([good, good]);
        assert.deepEqual(await readRecordsAll(ok, schema), [good, good]);
        const f = file([good, bad]);
        await assert.rejects(readRecordsAll(f, schema), (e: Error) => {
            assert.ok(e instanceof StepwiseError, String(e));
            assert.ok(e.message.startsWith(`${f}:2: field "${field}": expected `), e.message);
            assert.match(e.message, /, got /);
            assert.doesNotMatch(e.message, /\n/);
            return true;
        });
    });
}

test("a missing field is named; cross-field checks name the field too (steps offsets, one label per step, token texts)", async () => {
    const {gold, ...noGold} = sample;
    void gold;
    const cases: Array<[object, z.ZodType<unknown, unknown>, RegExp]> = [
        [{...noGold, question: undefined}, SampleRecordSchema, /:1: field "question": missing$/],
        [{...sample, text: "1 + 2 = 3\nThe answer is 4."}, SampleRecordSchema, /:1: field "tokens": token texts do not concatenate to "text" of sample "q1#0" \(first difference at character 24\)$/],
        [{...steps, steps: [{...steps.steps[0], text: "1 + 2 = 4\n"}, steps.steps[1]]}, StepsRecordSchema, /:1: field "steps\[0\]\.text": is not text\[0\.\.10\] of the record$/],
        [{...label, soft: [1]}, LabelRecordSchema, /:1: field "soft": expected one value per step \(2\), got 1$/],
        [{...label, hard: [1, 2]}, LabelRecordSchema, /:1: field "hard\[1\]": expected 0, 1 or null, got number 2$/],
        [{...verdict, parse_failures: [null, "nope"]}, VerdictRecordSchema, /:1: field "parse_failures\[1\]": .*got the string "nope"$/],
    ];
    for (const [row, schema, re] of cases) await assert.rejects(readRecordsAll(file([row]), schema), re);
});

test("readRecords yields each record as read: its field order and unknown fields kept (writers that copy records stay byte-identical)", async () => {
    const {first_negative, ...rest} = label;
    const line = JSON.stringify({z_first: 1, first_negative, ...rest, extra: {nested: [1]}});
    const f = join(dir, "order.jsonl");
    writeFileSync(f, line + "\n");
    const seen: Array<{line: number; where: string}> = [];
    for await (const {record, line: l, where} of readRecords(f, LabelRecordSchema)) {
        assert.equal(JSON.stringify(record), line);
        assert.equal(record.first_negative, 1);
        seen.push({line: l, where});
    }
    assert.deepEqual(seen, [{line: 1, where: `${f}:1`}]);
    // consensus filtering writes a kept record unchanged plus judge_first_error
    const out = join(dir, "kept.jsonl");
    await consensusFilter({labels: [f], verdicts: [file([verdict])], out});
    assert.equal(readFileSync(out, "utf8"), `${line.slice(0, -1)},"judge_first_error":1}\n`);
});

test("the readers that checked records by hand now name the nested field: export, consensus verdicts, resumed stage outputs", async () => {
    const labels = file([label, {...label, id: "q1#1", rollouts: [label.rollouts[0], {n: 4, correct: "0"}]}]);
    await assert.rejects(exportFile(labels, join(dir, "export.jsonl"), {format: "trl"}), new RegExp(`^StepwiseError: ${labels.replace(/[.]/g, "\\.")}:2: field "rollouts\\[1\\]\\.correct": expected a count, got the string "0"$`));
    const verdicts = file([verdict, {...verdict, id: "q1#1", votes: [1, "1"]}]);
    await assert.rejects(readVerdicts([verdicts]), new RegExp(`${verdicts.replace(/[.]/g, "\\.")}:2: field "votes\\[1\\]": expected a step index \\(-1: none\\), got the string "1"`));
    const out = file([codeVerdict, {...codeVerdict, id: "t#1", wall_ms: "31"}]);
    assert.throws(() => openStage({schema: CodeVerdictSchema, name: "code-run", out, settings: {}}), new RegExp(`${out.replace(/[.]/g, "\\.")}:2: field "wall_ms": expected milliseconds, got the string "31"`));
});
