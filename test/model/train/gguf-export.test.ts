/**
 * The GGUF a training writes (src/train/start.ts ggufAtCheckpoints): the lab policy and the
 * code-lab policy, each trained for a step or two at a tiny size, carry their own metadata, then the
 * training's progress (`stepwise.train_*`, in that order), and `stepwise.train_init` only when
 * they started from a GGUF.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {trainPolicy} from "../../../src/apps/lab/policy/train.ts";
import {trainCodePolicy} from "../../../src/apps/code/policy.ts";
import {readLlamaGguf} from "../../../src/gguf/llama.ts";
import type {TrainLogEntry} from "../../../src/train/index.ts";

const dir = mkdtempSync(join(tmpdir(), "stepwise-gguf-export-"));
test.after(() => rmSync(dir, {recursive: true, force: true}));

/** The `stepwise.*` metadata a trainer adds, in file order (the keys every stepwise GGUF has left out). */
async function trainMetadata(path: string): Promise<Array<[string, unknown]>> {
    const {metadata} = await readLlamaGguf(path);
    return Object.entries(metadata).filter(([k]) => /^stepwise\.(prompt_format|lab_preset|domain|train_)/.test(k));
}

test("lab policy and code-lab policy GGUFs: their metadata, then the training's progress; train_init only when started from a GGUF", async () => {
    const policy = join(dir, "policy.gguf");
    const r = await trainPolicy({out: policy, steps: 2, dModel: 16, nLayers: 1, nHeads: 1, batchSize: 2, seed: 4, quiet: true});
    assert.equal(r.config.dModel, 16);
    assert.deepEqual(await trainMetadata(policy), [
        ["stepwise.prompt_format", "<s>{question}\\n"],
        ["stepwise.lab_preset", "policy"],
        ["stepwise.train_steps", 2],
        ["stepwise.train_total_steps", 2],
        ["stepwise.train_complete", true],
        ["stepwise.train_seed", 4],
    ]);
    assert.equal((await readLlamaGguf(policy)).metadata["stepwise.kind"], "policy");

    const code = join(dir, "code.gguf");
    const logs: TrainLogEntry[] = [];
    const c = await trainCodePolicy({out: code, init: policy, steps: 1, batchSize: 2, seed: 5, quiet: true, onLog: (e) => logs.push(e)});
    assert.equal(c.config.dModel, 16, "the init GGUF's shape");
    assert.deepEqual(await trainMetadata(code), [
        ["stepwise.prompt_format", "<s>{question}\\n"],
        ["stepwise.domain", "code"],
        ["stepwise.train_steps", 1],
        ["stepwise.train_total_steps", 1],
        ["stepwise.train_complete", true],
        ["stepwise.train_seed", 5],
        ["stepwise.train_init", policy],
    ]);
    assert.ok(logs.length >= 1 && logs.at(-1)!.step === 1, "onLog reaches the code-lab policy's trainer");
});

test("lab policy and code-lab policy: a resume with another preset, knobs or starting model is refused, naming it", async () => {
    const ck = join(dir, "resume-policy");
    const base = {out: join(dir, "p2.gguf"), steps: 1, dModel: 16, nLayers: 1, nHeads: 1, batchSize: 2, seed: 4, quiet: true, checkpointDir: ck};
    await assert.rejects(trainPolicy({...base, preset: "prm"}), /unknown lab preset "prm" \(known: policy, easy/);
    await trainPolicy(base);
    await assert.rejects(trainPolicy({...base, preset: "easy"}), /another run \(settings\.preset: "policy" → "easy"\)/);
    await assert.rejects(trainPolicy({...base, knobs: {maxOps: 3}}), /settings\.knobs: "\{\}" → "\{\\"maxOps\\":3\}"/);
    const policy = join(dir, "policy.gguf");
    const cck = join(dir, "resume-code");
    await trainCodePolicy({out: join(dir, "c2.gguf"), init: policy, steps: 1, batchSize: 2, seed: 5, quiet: true, checkpointDir: cck});
    await assert.rejects(trainCodePolicy({out: join(dir, "c2.gguf"), steps: 1, batchSize: 2, seed: 5, quiet: true, checkpointDir: cck, dModel: 16, nLayers: 1, nHeads: 1}), /another run \(settings\.init: "policy\.gguf sha256:[0-9a-f]{16}" → null\)/);
});
