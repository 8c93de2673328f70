import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, writeFileSync, readFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {tinyModel} from "../../helpers/tiny-model.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {TagPrmScorer, resolveFormat} from "../../../src/prm/index.ts";
import {readProcessSplits} from "../../../src/eval/processbench/load.ts";
import {scoreProcessSplits} from "../../../src/eval/processbench/score.ts";
import {evaluateProcessBench} from "../../../src/eval/processbench/evaluate.ts";
import {generateProblems} from "../../../src/domains/lab/index.ts";

test("ProcessBench with a PRM: every step scored once, cached and resumed, metrics computed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-pb-"));
    const file = join(dir, "lab.jsonl");
    const rows = generateProblems(6, {seed: 9, split: "heldout"}).map((p, i) => ({id: p.id, problem: p.question, steps: p.steps, label: i % 2 ? 1 : -1}));
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const splits = readProcessSplits([file]);
    const engine = await LlamaEngine.load(tinyModel(3, 20).path, {sequences: 2, contextSize: 512});
    try {
        const scorer = new TagPrmScorer(engine, resolveFormat("stepwise-lab"));
        const cache = join(dir, "scores.jsonl");
        const first = await scoreProcessSplits(splits, scorer, {cacheFile: cache});
        assert.equal(first.size, 6);
        for (const r of rows) assert.equal(first.get(`lab\u0000${r.id}`)!.value.length, r.steps.length);
        const before = engine.stats().requests;
        const again = await scoreProcessSplits(splits, scorer, {cacheFile: cache});
        assert.equal(engine.stats().requests, before, "a second run reads the cache");
        assert.equal(readFileSync(cache, "utf8").trim().split("\n").length, 6);
        const result = evaluateProcessBench(splits, {kind: "scores", scores: again, threshold: 0.5});
        assert.equal(result.splits[0].n, 6);
        assert.equal(result.splits[0].predictions.length, 6);
    } finally {
        await engine.close();
    }
});
