import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, writeFileSync, existsSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {prmExample, trainPrm, prmScores} from "../../../src/pipeline/train-prm.ts";
import {rocAuc} from "../../../src/prm/metrics.ts";
import {buildCharVocab, CharTokenizer} from "../../../src/model/vocab.ts";
import {readLlamaGguf} from "../../../src/gguf/llama.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {TagPrmScorer, resolveFormat} from "../../../src/prm/index.ts";
import {labelled} from "../../helpers/lab-labels.ts";

test("ROC-AUC: perfect, inverted, ties", () => {
    assert.equal(rocAuc([0.1, 0.9], [0, 1]), 1);
    assert.equal(rocAuc([0.9, 0.1], [0, 1]), 0);
    assert.equal(rocAuc([0.5, 0.5], [0, 1]), 0.5);
    assert.ok(Number.isNaN(rocAuc([0.5], [1])));
});

test("PRM examples put a tag after each labelled step and stop at the first unlabelled one", () => {
    const tok = new CharTokenizer(buildCharVocab());
    const [good, bad] = labelled(2);
    const a = prmExample(good, tok, "hard")!;
    assert.equal(a.tags.length, good.steps.length);
    for (const t of a.tags) assert.equal(a.tokens[t.pos], tok.vocab.stepTagId);
    const b = prmExample(bad, tok, "hard")!;
    assert.deepEqual(b.tags.map((t) => t.target), [1, 0]);
});

test("train-prm: learns a separable signal, exports a PRM GGUF that the llama engine scores identically", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-prm-"));
    const data = join(dir, "labels.jsonl");
    writeFileSync(data, labelled(64).map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(dir, "prm.gguf");
    const r = await trainPrm({data: [data], out, dModel: 32, nLayers: 1, nHeads: 2, steps: 60, lr: 3e-3, batchSize: 8, valFraction: 0.25, quiet: true});
    assert.ok(existsSync(out) && existsSync(out.replace(/\.gguf$/, ".train.json")));
    assert.ok(r.losses.at(-1)! < r.losses[0], `loss ${r.losses[0]} → ${r.losses.at(-1)}`);
    const m = await readLlamaGguf(out);
    assert.equal((m.metadata as Record<string, unknown>)["stepwise.kind"], "prm");
    const [rec] = labelled(1);
    const tok = new CharTokenizer(m.vocab);
    const ex = prmExample(rec, tok, "hard")!;
    const js = prmScores(m.config, m.weights, m.vocab, ex);
    const engine = await LlamaEngine.load(out, {sequences: 1});
    try {
        const scores = await new TagPrmScorer(engine, resolveFormat("stepwise-lab")).scoreSteps(rec.question, rec.steps.map((s) => s.text));
        scores.forEach((s, i) => assert.ok(Math.abs(s - js[i]) < 1e-4, `${s} vs ${js[i]}`));
    } finally {
        await engine.close();
    }
});

test("train-prm (tag): a labelled record longer than the model's context is left out and counted (result and train.json too_long), not silently dropped", async () => {
    const {readFileSync} = await import("node:fs");
    const {tinyModel} = await import("../../helpers/tiny-model.ts");
    const dir = mkdtempSync(join(tmpdir(), "stepwise-prm-toolong-"));
    const recs = labelled(8);
    const long = structuredClone(recs[0]);
    long.id = "long#0";
    long.question = "Compute " + "1 + ".repeat(200) + "1."; // ~800 characters: past the tiny model's 512 tokens
    const file = join(dir, "labels.jsonl");
    writeFileSync(file, [...recs, long].map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(dir, "prm.gguf");
    const r = await trainPrm({data: [file], out, init: tinyModel(5, 4).path, steps: 1, valFraction: 0, quiet: true});
    assert.equal(r.tooLong, 1);
    assert.equal(r.trainExamples, 8);
    assert.equal(JSON.parse(readFileSync(join(dir, "prm.train.json"), "utf8")).too_long, 1);
});
