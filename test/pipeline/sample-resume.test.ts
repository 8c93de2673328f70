// @tier fast
/**
 * Resuming a `sample` output that has no settings file (copied, or from an older stepwise): its
 * records cannot show max tokens, top-p/k or stop, so it is refused unless adopted; adopted, the
 * records are still checked for what they do show (engine, temperature, seed, prompt).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {sampleDataset} from "../../src/pipeline/sample.ts";
import {settingsPath} from "../../src/core/stage.ts";
import {StepwiseError} from "../../src/util/errors.ts";
import {ScriptedLabEngine} from "../helpers/scripted-lab-engine.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-sample-resume-"));
const data = join(dir, "q.jsonl");
writeFileSync(data, ["Compute 1 + 2.", "Compute 3 * 4.", "Compute 5 - 1."].map((q, i) => JSON.stringify({id: `q${i}`, question: q, answer: "0"})).join("\n") + "\n");
const base = {engine: new ScriptedLabEngine(1, 0), engineSpec: "scripted", data, n: 2, maxTokens: 64, seed: 3};
const count = (f: string) => readFileSync(f, "utf8").trim().split("\n").length;

test("sample: an output without a settings file is refused, naming what its records cannot show and --adopt", async () => {
    const out = join(dir, "copied.jsonl");
    await sampleDataset({...base, out, limit: 2});
    rmSync(settingsPath(out));
    await assert.rejects(sampleDataset({...base, out, maxTokens: 512}), (e: Error) => {
        assert.ok(e instanceof StepwiseError);
        assert.match(e.message, new RegExp(`^--out ${out.replace(/[.]/g, "\\.")}: has 4 records but no .*settings\\.json saying how they were made, and the records do not show data, fields, top_p, top_k, max_tokens, stop, top_logprobs, sent, system \\(they show engine, template, chat, temperature, seed\\); resuming could mix settings\\. .*re-run it with --adopt`));
        return true;
    });
    assert.equal(count(out), 4, "nothing appended");
});

test("sample --adopt: the records are checked for what they show, then resumed and the settings recorded", async () => {
    const out = join(dir, "adopt.jsonl");
    await sampleDataset({...base, out, limit: 2});
    rmSync(settingsPath(out));
    await assert.rejects(sampleDataset({...base, out, seed: 4, adopt: true}), /adopt\.jsonl:1: this record was made with other settings \(question seed \d+, while --seed 4 gives \d+\)/);
    await assert.rejects(sampleDataset({...base, out, template: "Q: {question}\n", adopt: true}), /adopt\.jsonl:1: .*is not this template's/);
    const s = await sampleDataset({...base, out, adopt: true});
    assert.equal(s.skipped, 4);
    assert.equal(s.written, 2);
    assert.equal(JSON.parse(readFileSync(settingsPath(out), "utf8")).settings.max_tokens, 64);
    // from now on the settings file decides
    await assert.rejects(sampleDataset({...base, out, maxTokens: 512}), /max_tokens: 64 → 512/);
});
