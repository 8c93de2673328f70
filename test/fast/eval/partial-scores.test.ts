/**
 * Runs that finish on real ProcessBench rows (../shared/data/processbench/gsm8k.json; skipped with
 * a reason when absent): a scores file that lacks samples (written by a `--skip-too-long` run, or
 * interrupted) is reused by `eval processbench --scores` and `eval analyze --scores`, saying what is
 * missing; with a PRM too, only the missing samples are scored; `--judge` with skipTooLong leaves
 * out the samples too long for the judge.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {readProcessSplits} from "../../../src/eval/processbench/load.ts";
import {completeScores, scoreProcessSplits} from "../../../src/eval/processbench/score.ts";
import {evaluateProcessBench, readScoresFile} from "../../../src/eval/processbench/evaluate.ts";
import {evaluateProcessBenchFiles} from "../../../src/eval/processbench/run.ts";
import {judgeProcessSplits} from "../../../src/eval/processbench/judge.ts";
import {analyzeFiles} from "../../../src/eval/analyze/run.ts";
import {resolveFormat} from "../../../src/prm/formats.ts";
import type {StepScorer} from "../../../src/prm/scorer.ts";
import {ContextOverflowError} from "../../../src/util/errors.ts";
import {ScriptedJudge} from "../../helpers/scripted-judge.ts";
import {judgeUserMessage} from "../../../src/judge/prompt.ts";

const PB = new URL("../../../../shared/data/processbench/gsm8k.json", import.meta.url).pathname;
const skip = existsSync(PB) ? false : `no ProcessBench file at ${PB}`;

/** A PRM whose context holds `limit` characters of steps (longer: the in-process PRM's ContextOverflowError); it counts what it scores. */
class CharScorer implements StepScorer {
    readonly format = resolveFormat("stepwise-lab");
    scored = 0;
    constructor(readonly limit: number) {}
    async scoreSteps(_q: string, steps: string[]): Promise<number[]> {
        const n = steps.join("").length;
        if (n > this.limit) throw new ContextOverflowError(`PRM input is ${n} tokens (${steps.length} steps), longer than the PRM's context (${this.limit} tokens)`, n, this.limit);
        this.scored++;
        return steps.map((s) => (s.length % 3 === 0 ? 0.2 : 0.8));
    }
    async scoreMany(items: Array<{question: string; steps: string[]}>) {
        return Promise.all(items.map((x) => this.scoreSteps(x.question, x.steps)));
    }
    async close() {}
}

test("a --skip-too-long scores file is reused by eval processbench and eval analyze --scores: missing samples left out and listed, or scored by the PRM", {skip}, async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-partial-"));
    // 40 real rows, as a split file of their own
    const rows = (JSON.parse(readFileSync(PB, "utf8")) as Array<Record<string, unknown>>).slice(0, 40);
    const data = join(dir, "gsm8k.json");
    writeFileSync(data, JSON.stringify(rows));
    const splits = readProcessSplits([data]);
    const lengths = splits[0].samples.map((s) => s.steps.join("").length).sort((a, b) => a - b);
    const limit = lengths[30]; // about a quarter of the samples are longer
    const long = splits[0].samples.filter((s) => s.steps.join("").length > limit).length;
    assert.ok(long > 0 && long < 40);
    const scoresFile = join(dir, "scores.jsonl");
    const first = await scoreProcessSplits(splits, new CharScorer(limit), {cacheFile: scoresFile, prmSpec: "scripted", skipTooLong: true});
    assert.equal(first.tooLong?.length, long);
    assert.equal(readFileSync(scoresFile, "utf8").trim().split("\n").length, 40 - long);

    // --scores alone: evaluated on what it has, the rest listed
    const run = await evaluateProcessBenchFiles({data: [data], scores: scoresFile});
    assert.equal(run.result.splits[0].n, 40 - long);
    assert.equal(run.missing?.length, long);
    assert.match(run.missing![0].where, /gsm8k\.json#\d+ id "gsm8k-\d+"/);
    assert.match(run.missing![0].message, /no step scores in .*scores\.jsonl/);

    // --scores with a PRM: only the missing ones are scored (a roomier PRM now)
    const roomy = new CharScorer(Infinity);
    const done = await completeScores(splits, {scores: await readScoresFile(scoresFile), scoresFile, prm: roomy});
    assert.equal(roomy.scored, long);
    assert.equal(done.scored, long);
    assert.equal(done.missing.length, 0);
    assert.equal(evaluateProcessBench(done.splits, {kind: "scores", scores: done.scores}).splits[0].n, 40);

    // eval analyze --scores: the same rule
    const a = await analyzeFiles({data: [data], scores: scoresFile});
    assert.equal(a.missing?.length, long);

    // nothing matches: an error naming the file
    const other = join(dir, "other.jsonl");
    writeFileSync(other, JSON.stringify({id: "nope", step_scores: [0.5]}) + "\n");
    await assert.rejects(evaluateProcessBenchFiles({data: [data], scores: other}), /other\.jsonl: has step scores for none of the samples/);
});

test("ProcessBench with a judge and skipTooLong: samples too long for the judge are left out, the others keep their own verdicts", {skip}, async () => {
    const rows = (JSON.parse(readFileSync(PB, "utf8")) as Array<Record<string, unknown>>).slice(0, 12);
    const dir = mkdtempSync(join(tmpdir(), "stepwise-judge-long-"));
    const data = join(dir, "gsm8k.json");
    writeFileSync(data, JSON.stringify(rows));
    const splits = readProcessSplits([data]);
    // The judge answers "the last step" for every sample; its context holds the shorter half.
    const prompts = splits[0].samples.map((s) => judgeUserMessage(s.problem, s.steps, "compact").length);
    const limit = [...prompts].sort((x, y) => x - y)[6] + "<user><assistant>".length;
    const judge = new ScriptedJudge((steps) => `\\boxed{${steps - 1}}`, {contextChars: limit});
    const {predictions, summary} = await judgeProcessSplits(splits, judge, {engineSpec: "scripted", template: "compact", n: 1, skipTooLong: true});
    assert.ok(summary.tooLong.length > 0 && summary.tooLong.length < 12, `${summary.tooLong.length} too long`);
    assert.equal(predictions.size, 12 - summary.tooLong.length);
    for (const s of splits[0].samples) {
        const p = predictions.get(`gsm8k\u0000${s.id}`);
        if (p) assert.equal(p.value, s.steps.length - 1, `${s.id}: its own verdict`);
    }
});
