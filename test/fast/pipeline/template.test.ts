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
import type {ChatMessage} from "../../../src/engines/types.ts";
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

/** A scripted policy with a visible chat template: `<role>content` per message, then `<assistant>`. */
class ChatPolicy extends ScriptedPolicy {
    override async formatChat(messages: ChatMessage[]): Promise<string> {
        return messages.map((m) => `<${m.role}>${m.content}`).join("") + "<assistant>";
    }
}

test("sample and decode make prompts alike: default template, chat with a system message, and --limit reads no row after the first n", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-prompts-"));
    const data = join(dir, "q.jsonl");
    // The third row has no question: with a limit of 2 it is never read.
    writeFileSync(data, '{"id": "a", "question": "Compute 1 + 2."}\n{"id": "b", "question": "Compute 3 + 4."}\n{"id": "c", "text": "no question"}\n');
    assert.equal(checkTemplate(undefined), "{question}\n");
    for (const chat of [false, true]) {
        const sampler = new ChatPolicy(() => [["", 1]]);
        const s = await sampleDataset({engine: sampler, engineSpec: "scripted", data, out: join(dir, `s-${chat}.jsonl`), n: 1, limit: 2, chat, system: "Be brief."});
        const decoder = new ChatPolicy(() => [["", 1]]);
        const d = await decodeFile({strategy: "greedy", policy: decoder, data, out: join(dir, `d-${chat}.jsonl`), limit: 2, chat, system: "Be brief."});
        assert.deepEqual([s.questions, d.n], [2, 2]);
        const want = chat ? ["<system>Be brief.<user>Compute 1 + 2.\n<assistant>", "<system>Be brief.<user>Compute 3 + 4.\n<assistant>"] : ["Compute 1 + 2.\n", "Compute 3 + 4.\n"];
        assert.deepEqual(sampler.prompts, want);
        assert.deepEqual(decoder.prompts, want);
    }
    await assert.rejects(sampleDataset({engine: new ChatPolicy(() => [["", 1]]), engineSpec: "scripted", data, out: join(dir, "all.jsonl"), n: 1}), /q\.jsonl:3: missing field "question"/);
});
