// @tier fast
/**
 * Settings files say what was sent: sample, label and decode record under `sent` the sampling
 * fields their engine sends (OpenAI dialects) or applies (in-process), penalties, max_tokens, stop
 * and the seed rule included; an output whose settings file predates `sent` still resumes, and
 * gets it recorded.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {samplingSent, SEED_RULES} from "../../src/engines/spec.ts";
import {openStage, settingsPath} from "../../src/core/stage.ts";
import {sampleDataset} from "../../src/pipeline/sample.ts";
import {ScriptedLabEngine} from "../helpers/scripted-lab-engine.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-sent-"));

test("samplingSent: the fields of the spec's dialect, neutral where unset, with the seed rule", () => {
    assert.deepEqual(samplingSent("openai:http://127.0.0.1:8089?dialect=llama.cpp", {temperature: 0.7, maxTokens: 64, stop: ["\n\n"]}), {
        temperature: 0.7,
        max_tokens: 64,
        top_p: 1,
        top_k: 0,
        min_p: 0,
        repeat_penalty: 1,
        frequency_penalty: 0,
        presence_penalty: 0,
        typical_p: 1,
        mirostat: 0,
        dynatemp_range: 0,
        xtc_probability: 0,
        dry_multiplier: 0,
        top_n_sigma: -1,
        samplers: ["top_k", "temperature", "min_p", "top_p"],
        stop: ["\n\n"],
        seed_rule: SEED_RULES.openai,
    });
    const vllm = samplingSent("openai:http://h:8000/v1?model=m", {topK: 20, topP: 0.9});
    assert.equal(vllm.top_k, 20);
    assert.equal(vllm.repetition_penalty, 1);
    assert.equal(vllm.max_tokens, 256);
    assert.throws(() => samplingSent("openai:http://h?dialect=openai", {topK: 5}), /top-k sampling is not part of the "openai" dialect/);
    const local = samplingSent("llama:./models/lab-policy.gguf", {temperature: 1});
    assert.equal(local.top_k, -1);
    assert.equal(local.seed_rule, SEED_RULES.llama);
});

test("sample: the settings file holds the sampling fields sent; one from before `sent` resumes and gets them", async () => {
    const data = join(dir, "q.jsonl");
    writeFileSync(data, ['{"id": "a", "question": "1+1"}', '{"id": "b", "question": "2+2"}'].join("\n") + "\n");
    const out = join(dir, "s.jsonl");
    const spec = "openai:http://127.0.0.1:1?model=m&dialect=llama.cpp";
    const engine = new ScriptedLabEngine(1, 0);
    await sampleDataset({engine, engineSpec: spec, data, out, n: 1, maxTokens: 8, topP: 0.9, limit: 1});
    const file = JSON.parse(readFileSync(settingsPath(out), "utf8"));
    assert.deepEqual(file.settings.sent, samplingSent(spec, {temperature: 1, topP: 0.9, maxTokens: 8}));
    assert.equal(file.settings.sent.repeat_penalty, 1);
    // A settings file written before `sent` existed: the rest matches, so it resumes and records it.
    delete file.settings.sent;
    writeFileSync(settingsPath(out), JSON.stringify(file));
    const notes: string[] = [];
    const stage = openStage({name: "sample", out, settings: {...file.settings, sent: {top_k: 0}}, log: (l) => notes.push(l)});
    stage.close();
    assert.match(notes.join("\n"), /predates sent/);
    assert.deepEqual(JSON.parse(readFileSync(settingsPath(out), "utf8")).settings.sent, {top_k: 0});
    // Once recorded, another `sent` is a settings change like any other.
    assert.throws(() => openStage({name: "sample", out, settings: {...file.settings, sent: {top_k: -1}}}), /sent: \{"top_k":0\} → \{"top_k":-1\}/);
});
