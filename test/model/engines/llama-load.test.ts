import {test} from "node:test";
import assert from "node:assert/strict";
import {copyFileSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {tinyModel} from "../../helpers/tiny-model.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {StepwiseError} from "../../../src/util/errors.ts";
import {assertOneLineError, stepwise} from "../../helpers/cli-run.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "stepwise-llama-load-"));

/** LlamaEngine.load rejects with a one-line StepwiseError that names the file and matches `why`. */
async function rejectsInOneLine(path: string, why: RegExp): Promise<void> {
    await assert.rejects(LlamaEngine.load(path, {sequences: 1, contextSize: 64}), (e: unknown) => {
        assert.ok(e instanceof StepwiseError, `a StepwiseError expected, got ${String(e)}`);
        assert.ok(!e.message.includes("\n"), `one line expected: ${e.message}`);
        assert.ok(e.message.startsWith(`${path}: `), `the message names the file: ${e.message}`);
        assert.match(e.message, why);
        return true;
    });
}

test("LlamaEngine.load: a truncated GGUF (cut in the tensor data, or in the header) is named as such before llama.cpp parses it", async () => {
    const dir = tmp();
    const m = tinyModel(1, 8);
    const size = statSync(m.path).size;
    const inData = join(dir, "cut-data.gguf");
    copyFileSync(m.path, inData);
    truncateSync(inData, size - 5000); // an interrupted download: the last tensor is incomplete
    await rejectsInOneLine(inData, /not a valid GGUF file: tensor "output\.weight" needs bytes \d+–\d+ but the file ends at \d+: the file is truncated/);
    const oneByte = join(dir, "cut-1.gguf");
    copyFileSync(m.path, oneByte);
    truncateSync(oneByte, size - 1);
    await rejectsInOneLine(oneByte, /the file is truncated/);
    const inHeader = join(dir, "cut-header.gguf");
    writeFileSync(inHeader, readFileSync(m.path).subarray(0, 3000));
    await rejectsInOneLine(inHeader, /not a valid GGUF file: metadata "tokenizer\.ggml\.tokens": an array of \d+ items cannot fit in the rest of the file/);
    writeFileSync(inHeader, readFileSync(m.path).subarray(0, 300));
    await rejectsInOneLine(inHeader, /not a valid GGUF file: the header claims 21 tensors and 30 metadata entries, more than the file's 300 bytes could hold/);
    // the intact model still loads
    const engine = await LlamaEngine.load(m.path, {sequences: 1, contextSize: 64});
    await engine.close();
});

test("LlamaEngine.load: a text file renamed .gguf, an empty file and a folder are refused in one line", async () => {
    const dir = tmp();
    const text = join(dir, "notes.gguf");
    writeFileSync(text, "These are my notes, not a model.\n");
    await rejectsInOneLine(text, /not a valid GGUF file: no "GGUF" magic at the start \(found "Thes"\)/);
    const empty = join(dir, "empty.gguf");
    writeFileSync(empty, "");
    await rejectsInOneLine(empty, /not a valid GGUF file: magic at byte 0 runs past the end of the file \(0 bytes\)/);
    await rejectsInOneLine(dir, /is a folder, not a GGUF file/);
});

test("a command that loads the engine directly (code eval-policy) fails with one line and no native noise on a truncated model", () => {
    const dir = tmp();
    const m = tinyModel(1, 8);
    const cut = join(dir, "cut.gguf");
    copyFileSync(m.path, cut);
    truncateSync(cut, statSync(m.path).size - 5000);
    const r = stepwise(["code", "eval-policy", "--engine", `llama:${cut}`, "--n", "1", "--k", "0"]);
    assertOneLineError(r, /cut\.gguf: not a valid GGUF file: tensor "output\.weight" .* the file is truncated/);
    assert.doesNotMatch(r.stderr, /llama_model_load|node-llama-cpp/, "llama.cpp never saw the file");
});
