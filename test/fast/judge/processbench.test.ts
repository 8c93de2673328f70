import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {readProcessSplits} from "../../../src/eval/processbench/load.ts";
import {evaluateProcessBench} from "../../../src/eval/processbench/evaluate.ts";
import {judgeProcessSplits, NO_VERDICT} from "../../../src/eval/processbench/judge.ts";
import {ScriptedJudge} from "../../helpers/scripted-judge.ts";

test("eval processbench --judge: the voted verdict is the prediction, no verdict counts as wrong, verdicts resume", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-pbjudge-"));
    // The scripted judge names the last step when there are 3 steps, −1 with 2 steps, and rambles with 4.
    const judge = () => new ScriptedJudge((steps) => (steps === 3 ? "\\boxed{2}" : steps === 2 ? "\\boxed{-1}" : "hmm"));
    const rows = [
        {id: "a", problem: "P", steps: ["s", "s", "s"], label: 2}, // hit (error)
        {id: "b", problem: "P", steps: ["s", "s", "s"], label: 0}, // miss (error)
        {id: "c", problem: "P", steps: ["s", "s"], label: -1}, // hit (correct)
        {id: "d", problem: "P", steps: ["s", "s", "s", "s"], label: -1}, // no verdict: miss
    ];
    writeFileSync(join(dir, "lab.jsonl"), rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const splits = readProcessSplits([join(dir, "lab.jsonl")]);
    const cache = join(dir, "verdicts.jsonl");
    const {predictions, summary} = await judgeProcessSplits(splits, judge(), {engineSpec: "scripted", n: 3, cacheFile: cache});
    assert.equal(summary.no_verdict, 1);
    assert.equal(predictions.get("lab\u0000d")?.value, NO_VERDICT);
    const r = evaluateProcessBench(splits, {kind: "predictions", predictions});
    assert.equal(r.splits[0].accError, 0.5);
    assert.equal(r.splits[0].accCorrect, 0.5);
    assert.equal(r.splits[0].f1, 0.5);
    assert.deepEqual(readFileSync(cache, "utf8").trim().split("\n").map((l) => JSON.parse(l).id), ["lab/a", "lab/b", "lab/c", "lab/d"]);
    const engine = judge();
    const again = await judgeProcessSplits(splits, engine, {engineSpec: "scripted", n: 3, cacheFile: cache});
    assert.equal(engine.stats().requests, 0);
    assert.deepEqual([...again.predictions.values()].map((p) => p.value), [2, 2, -1, NO_VERDICT]);
});
