/**
 * Issue "one selector, one vote": offline selection (`eval bon` on scored records) and online
 * selection (the best-of-n and weighted-vote decoders) are the same functions, so on the same
 * candidates and scores they pick answers of the same correctness — including on tied scores
 * (ties "first": the first sampled candidate / the answer seen first) and with unfinished
 * candidates (offline rule "never": wrong; online rule "fallback": an unfinished pick has no
 * answer, so also wrong).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {ScriptedPolicy, FunctionScorer, type Script} from "../../helpers/scripted-policy.ts";
import {bestOfNDecode, weightedVoteDecode, SearchPrm, type CandidateTrace, type SearchProblem} from "../../../src/search/index.ts";
import {evaluateBonFile} from "../../../src/eval/bon/run.ts";
import {defaultGrader} from "../../../src/grade/grader.ts";
import type {Engine, GenerateRequest, Sample} from "../../../src/engines/types.ts";
import {wrapEngine} from "../../helpers/wrap-engine.ts";

const problem: SearchProblem = {id: "q", question: "Compute 2 + 3.", prompt: "Compute 2 + 3.\n", gold: "5"};

/** "So 2 + 3 = " then 6 (wrong), 5 (right) or 7 (rambles on without an answer until cut off). */
const script: Script = (context) => {
    const response = context.slice(problem.prompt.length);
    const head = "So 2 + 3 = ";
    if (response.length < head.length) return [[head[response.length], 1]];
    if (response.length === head.length)
        return [
            ["6", 0.4],
            ["5", 0.4],
            ["7", 0.2],
        ];
    const d = response[head.length];
    if (d === "7") return [[(head + "7" + ", and then we carry on".repeat(40))[response.length] ?? "", 1]];
    const target = `${head}${d}.\nThe answer is ${d}.`;
    return response.length < target.length ? [[target[response.length], 1]] : [["", 1]];
};

/** The right and the wrong answer score the same (ties decide); the answerless rambling scores highest. */
const tiedScorer = () => new FunctionScorer((s) => (/7|carry/.test(s) ? 0.99 : 0.8));

/** The policy, remembering the samples of its last call (the decoder's candidates, in order). */
function recordingPolicy(): {engine: Engine; last: () => Sample[]} {
    const policy = new ScriptedPolicy(script);
    let last: Sample[] = [];
    const engine = wrapEngine(policy.engine, {generate: async (r: GenerateRequest) => (last = await policy.generate(r))});
    return {engine, last: () => last};
}

test("eval bon (offline, on the decoder's scored candidates) and the decoders (online) agree, ties and unfinished candidates included", async () => {
    const grader = defaultGrader();
    const dir = mkdtempSync(join(tmpdir(), "stepwise-agreement-"));
    const n = 4;
    let tiedQuestions = 0;
    let unfinishedPicksAvoided = 0;
    const outcomes = {bon: [] as number[], vote: [] as number[]};
    for (let seed = 0; seed < 12; seed++) {
        const config = {n, temperature: 1, maxTokens: 40, seed, aggregation: "min", voteAggregation: "min"} as const;
        for (const kind of ["bon", "vote"] as const) {
            const policy = recordingPolicy();
            const decode = kind === "bon" ? bestOfNDecode : weightedVoteDecode;
            const online = await decode(problem, {policy: policy.engine, prm: new SearchPrm(tiedScorer()), config});
            const onlineCorrect = online.answer !== null && grader.equal(problem.gold!, online.answer) ? 1 : 0;
            const candidates = online.trace.filter((t): t is CandidateTrace => t.type === "candidate");
            const samples = policy.last();
            assert.equal(candidates.length, n);
            const file = join(dir, `${kind}-${seed}.jsonl`);
            writeFileSync(file, samples.map((s, i) => JSON.stringify({question_id: problem.id, text: s.text, finish_reason: s.finishReason, gold: problem.gold, step_scores: candidates[i].step_scores})).join("\n") + "\n");
            // N = all candidates: every subset is the whole set (in a random order), so "first" is the decoders' rule
            const offline = await evaluateBonFile({data: file, sizes: [n], subsets: 8, seed: 1, ties: "first", bonAggregations: ["min"], voteAggregations: ["min"]});
            const accuracy = offline.summary.methods.find((m) => m.id === `${kind}-min`)!.points[0].accuracy;
            assert.equal(accuracy, 100 * onlineCorrect, `${kind} seed ${seed}: eval bon ${accuracy}% vs decoder ${online.answer} (${candidates.map((c) => `${c.answer}:${c.score}`).join(" ")})`);
            outcomes[kind].push(onlineCorrect);
            const finishedScores = candidates.filter((c) => c.finished).map((c) => c.score ?? NaN);
            if (new Set(candidates.filter((c) => c.finished).map((c) => c.answer)).size > 1 && new Set(finishedScores).size === 1) tiedQuestions++;
            if (candidates.some((c) => !c.finished && (c.score ?? NaN) > Math.max(...finishedScores))) unfinishedPicksAvoided++;
        }
    }
    // the scenario does exercise both rules, and both answers
    assert.ok(tiedQuestions >= 4, `tied questions: ${tiedQuestions}`);
    assert.ok(unfinishedPicksAvoided >= 2, `questions with a top-scored unfinished candidate: ${unfinishedPicksAvoided}`);
    for (const kind of ["bon", "vote"] as const) assert.ok(outcomes[kind].includes(0) && outcomes[kind].includes(1), `${kind}: ${outcomes[kind]}`);
});

test('random ties (eval bon\'s default) do not reproduce the decoder on tied scores: the rule matters', async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-agreement-"));
    // two finished candidates with the same score: 6 first (wrong), then 5 (right)
    const rows = ["So 2 + 3 = 6.\nThe answer is 6.", "So 2 + 3 = 5.\nThe answer is 5."].map((text) => ({question_id: "q", text, finish_reason: "eos", gold: "5", step_scores: [0.8]}));
    const file = join(dir, "tie.jsonl");
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const at = async (ties: "first" | "random") => (await evaluateBonFile({data: file, sizes: [2], subsets: 400, ties, bonAggregations: ["min"], voteAggregations: ["min"]})).summary.methods.find((m) => m.id === "bon-min")!.points[0].accuracy;
    assert.equal(await at("first"), 0, "the first sampled (6) wins, as in bestOfNDecode");
    const random = await at("random");
    assert.ok(random > 40 && random < 60, `${random}`);
});
