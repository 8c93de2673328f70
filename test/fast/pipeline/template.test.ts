/**
 * A prompt template without {question} is refused before anything runs (docs/real-models.md §1's
 * first-day mistake: 80 records whose prompt was the template alone, exit 0). GSM8K rows from
 * ../shared/data (skipped with a reason when absent).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {sampleDataset, checkTemplate} from "../../../src/pipeline/sample.ts";
import {decodeFile} from "../../../src/search/index.ts";
import {ScriptedPolicy} from "../../helpers/scripted-policy.ts";
import {StepwiseError} from "../../../src/util/errors.ts";

const GSM8K = new URL("../../../../shared/data/gsm8k/test.jsonl", import.meta.url).pathname;
const skip = existsSync(GSM8K) ? false : `no GSM8K file at ${GSM8K}`;

test("sample and decode refuse a --template without {question}, naming the flag; nothing is written", {skip}, async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-template-"));
    const data = join(dir, "gsm8k5.jsonl");
    writeFileSync(data, readFileSync(GSM8K, "utf8").split("\n").slice(0, 5).join("\n") + "\n");
    const bad = "Below is an instruction…### Response: Let's think step by step.\n";
    const policy = new ScriptedPolicy(() => [["", 1]]);
    const out = join(dir, "samples.jsonl");
    await assert.rejects(
        sampleDataset({engine: policy.engine, engineSpec: "scripted", data, out, n: 2, template: bad}),
        (e: unknown) => e instanceof StepwiseError && /^--template "Below is an instruction….*": has no \{question\} placeholder, so every prompt would be the template alone/.test(e.message),
    );
    assert.equal(existsSync(out), false);
    assert.equal(policy.prompts.length, 0);
    await assert.rejects(decodeFile({strategy: "greedy", policy: policy.engine, data, out: join(dir, "d.jsonl"), template: bad}), /has no \{question\} placeholder/);
    // the data's field name is not a placeholder
    assert.throws(() => checkTemplate("Problem: {problem}\n"), /\{problem\} is not replaced: \{question\} stands for the question/);
    checkTemplate("Q: {question}\nA:");
    // a good template samples every question with its own prompt
    const ok = await sampleDataset({engine: policy.engine, engineSpec: "scripted", data, out, n: 1, template: "Question: {question}\nAnswer:"});
    assert.equal(ok.written, 5);
    assert.equal(new Set(policy.prompts).size, 5);
});
