import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {tinyModel} from "../../helpers/tiny-model.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {sampleDataset} from "../../../src/pipeline/sample.ts";
import {thresholdFromFile} from "../../../src/pipeline/threshold.ts";
import {parseStrategy, splitFile} from "../../../src/pipeline/split/index.ts";
import {labelFile} from "../../../src/pipeline/label/index.ts";
import {exportFile} from "../../../src/pipeline/export/index.ts";

const DATA = new URL("../../../../shared/data/", import.meta.url).pathname;
const skip = existsSync(DATA) ? false : `shared data not found at ${DATA}`;

test("GSM8K and MATH500 rows: sample → threshold → split → label (math grader) → export", {skip}, async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-real-"));
    const engine = await LlamaEngine.load(tinyModel(1, 40).path, {sequences: 4, contextSize: 512});
    try {
        for (const [name, file] of [["gsm8k", "gsm8k/test.jsonl"], ["math500", "math500/test.jsonl"]]) {
            const samples = join(dir, `${name}-samples.jsonl`);
            const s = await sampleDataset({engine, engineSpec: "llama:tiny", data: join(DATA, file), out: samples, n: 2, limit: 3, maxTokens: 24, template: "Question: {question}\nAnswer:"});
            assert.equal(s.written, 6);
            const first = JSON.parse(readFileSync(samples, "utf8").split("\n")[0]);
            assert.ok(first.gold, "gold answer copied from the row");
            const th = await thresholdFromFile(samples, {quantile: 0.05});
            const steps = join(dir, `${name}-steps.jsonl`);
            await splitFile({input: samples, out: steps, strategy: parseStrategy("adaptive", {tau: th.tau})});
            const labels = join(dir, `${name}-labels.jsonl`);
            const summary = await labelFile({engine, verifier: "math", input: steps, out: labels, k: 2, maxTokens: 16});
            assert.equal(summary.samples, 6);
            assert.ok(summary.rollouts > 0);
            const trl = join(dir, `${name}-trl.jsonl`);
            await exportFile(labels, trl, {format: "trl"});
            const rows = readFileSync(trl, "utf8").trim().split("\n").map((l) => JSON.parse(l));
            for (const r of rows) assert.equal(r.completions.length, r.labels.length);
        }
    } finally {
        await engine.close();
    }
});
