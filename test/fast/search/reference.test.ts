/**
 * Beam search and DVTS pinned to HF search-and-learn (src/sal/search/beam_search.py and
 * diverse_verifier_tree_search.py, defaults of src/sal/config.py: agg_strategy "last",
 * sort_completed False): scripted steps and PRM scores, and the survivors, pool and pick the
 * reference code gives them, derived by hand from it (in the comments).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {ScriptedEngineBase} from "../../helpers/scripted-engine.ts";
import {FunctionScorer} from "../../helpers/scripted-policy.ts";
import type {EngineCapabilities, GenerateRequest, Sample} from "../../../src/engines/types.ts";
import {beamSearch, dvts, refill, SearchPrm, type SearchConfig, type SearchProblem} from "../../../src/search/index.ts";

const problem: SearchProblem = {id: "q", question: "Q?", prompt: "Q?\n", gold: "4"};

/**
 * A policy whose next steps after each response prefix are scripted: the k-th continuation asked
 * of a prefix is `table[prefix][k]`. One ending in "\n\n" is a step (stopped by the "\n\n" stop
 * string), any other ends with EOS.
 */
class StepScript extends ScriptedEngineBase {
    readonly info = {kind: "scripted", model: "step-script"};
    readonly capabilities: EngineCapabilities = {maxTopLogprobs: 20};
    private readonly used = new Map<string, number>();
    constructor(private readonly table: Record<string, string[]>) {
        super();
    }
    async generate(r: GenerateRequest): Promise<Sample[]> {
        this.counters.requests++;
        const prefix = (r.prompt as string).slice(problem.prompt.length);
        const out: Sample[] = [];
        for (let j = 0; j < (r.n ?? 1); j++) {
            const k = this.used.get(prefix) ?? 0;
            this.used.set(prefix, k + 1);
            const entry = this.table[prefix]?.[k];
            if (entry === undefined) throw new Error(`no continuation ${k} scripted after ${JSON.stringify(prefix)}`);
            const step = entry.endsWith("\n\n");
            const text = step ? entry.slice(0, -2) : entry;
            const tokens = [...text].map((c) => ({text: c, confidence: 1, top: [{text: c, prob: 1}]}));
            this.counters.generatedTokens += tokens.length;
            out.push({index: j, text, tokens, finishReason: step ? "stop" : "eos", ...(step ? {stopString: "\n\n"} : {})});
        }
        return out;
    }
}

/** A PRM scoring each step by its text (delimiter trimmed). */
const scorer = (scores: Record<string, number>) =>
    new FunctionScorer((s) => {
        const v = scores[s.trim()];
        if (v === undefined) throw new Error(`no score for step ${JSON.stringify(s)}`);
        return v;
    });

const delimited: Partial<SearchConfig> = {n: 4, beamWidth: 2, stepEnd: {kind: "delimiter", text: "\n\n"}};

test("refill: survivors repeated cyclically up to N (search-and-learn's (active * repeats)[:n])", () => {
    // 2 survivors, N 4: copies s0 s1 s0 s1; grouped children [s0a, s0b, s1a, s1b] → [s0a, s1a, s0b, s1b]
    assert.deepEqual(refill(2, 4), {copies: [2, 2], order: [0, 2, 1, 3]});
    // 1 survivor refilled to all N (not to M), 3 survivors of N 8: 3, 3, 2 copies
    assert.deepEqual(refill(1, 4), {copies: [4], order: [0, 1, 2, 3]});
    assert.deepEqual(refill(3, 8).copies, [3, 3, 2]);
    assert.deepEqual(refill(3, 8).order, [0, 3, 6, 1, 4, 7, 2, 5]);
});

// Beam search, N 4, M 2 (N / M = 2 survivors), agg "last":
// it 0: 4 beams from the prompt: A .9, B .4, C .8, D .1 → survivors A, C (in their order); refill A C A C.
// it 1: A→"answer 1" (EOS, .6), C→C1 (.7), A→"answer 2" (EOS, .5), C→"answer 3" (EOS, .55):
//       completed [A·1, A·2, C·3]; active [C·C1], the only survivor, refilled to 4 copies (not M = 2).
// it 2: C·C1 → "answer 4" (.65), X (.2), "answer 5" (.99), "answer 6" (.3): completed +3; active [C·C1·X].
// it 3: C·C1·X ×4 → answers 7..10 (.95 .96 .97 .98), all completed; no beam active: the end.
// completed_beams[:4] = [A·1, A·2, C·3, C·C1·4]; argmax of the last scores (.6 .5 .55 .65) = C·C1·4.
// (stepwise before: stopped at it 2 with M = 2 children, picked by mean among all 4 completed: A·1.)
const beamTable: Record<string, string[]> = {
    "": ["A\n\n", "B\n\n", "C\n\n", "D\n\n"],
    "A\n\n": ["The answer is 1.", "The answer is 2."],
    "C\n\n": ["C1\n\n", "The answer is 3."],
    "C\n\nC1\n\n": ["The answer is 4.", "X\n\n", "The answer is 5.", "The answer is 6."],
    "C\n\nC1\n\nX\n\n": ["The answer is 7.", "The answer is 8.", "The answer is 9.", "The answer is 10."],
};
const beamScores = {
    A: 0.9, B: 0.4, C: 0.8, D: 0.1, C1: 0.7, X: 0.2,
    "The answer is 1.": 0.6, "The answer is 2.": 0.5, "The answer is 3.": 0.55, "The answer is 4.": 0.65, "The answer is 5.": 0.99, "The answer is 6.": 0.3,
    "The answer is 7.": 0.95, "The answer is 8.": 0.96, "The answer is 9.": 0.97, "The answer is 10.": 0.98,
};

test("beam search as search-and-learn: refill to N, run until no beam is active, first N completed, pick by last", async () => {
    const policy = new StepScript(beamTable);
    const r = await beamSearch(problem, {policy, prm: new SearchPrm(scorer(beamScores)), config: delimited});
    assert.equal(r.text, "C\n\nC1\n\nThe answer is 4.");
    assert.equal(r.answer, "4");
    const its = r.trace.flatMap((t) => (t.type === "beam" ? [t] : []));
    assert.equal(its.length, 4, "runs until no beam is active");
    assert.deepEqual(its.map((t) => t.candidates.length), [4, 4, 4, 4], "N beams every iteration");
    assert.deepEqual(its[1].candidates.map((c) => [c.parent, c.step.trim(), c.done]), [[0, "The answer is 1.", true], [1, "C1", false], [0, "The answer is 2.", true], [1, "The answer is 3.", true]]);
    assert.deepEqual(its[2].candidates.map((c) => c.parent), [0, 0, 0, 0], "the one survivor refilled to N copies");
    assert.deepEqual(its[2].candidates.map((c) => c.kept), [true, true, true, true]);
    assert.equal(policy.stats().requests, 5, "one generate call per survivor and iteration");
});

test("beam search: --beam-stop n-completed picks the same with fewer tokens; --sort-completed takes the N best completed", async () => {
    const all = await beamSearch(problem, {policy: new StepScript(beamTable), prm: new SearchPrm(scorer(beamScores)), config: delimited});
    const early = await beamSearch(problem, {policy: new StepScript(beamTable), prm: new SearchPrm(scorer(beamScores)), config: {...delimited, beamStop: "n-completed"}});
    assert.equal(early.text, all.text);
    assert.equal(early.trace.length, 3, "stops after iteration 2, when 6 ≥ N beams completed");
    assert.ok(early.tokens < all.tokens);
    // sort_completed: all 10 completed ranked by their last score, .99 first
    const sorted = await beamSearch(problem, {policy: new StepScript(beamTable), prm: new SearchPrm(scorer(beamScores)), config: {...delimited, sortCompleted: true}});
    assert.equal(sorted.answer, "5");
    // another aggregation ranks by it: mean over the first 4 completed → A·1 ((.9 + .6) / 2 = .75)
    const mean = await beamSearch(problem, {policy: new StepScript(beamTable), prm: new SearchPrm(scorer(beamScores)), config: {...delimited, beamAggregation: "mean"}});
    assert.equal(mean.answer, "1");
});

// DVTS, N 4, M 2: 2 subtrees, each expanding its beam M = 2 times and keeping the best by "last".
// it 0: subtree 0 gets P (.5), Q (.6) → keeps Q; subtree 1 gets R (.7), S (.2) → keeps R.
// it 1: subtree 0: Q·"Q1 goes on" (EOS, no answer, .95), Q·"answer 2" (EOS, .9) → keeps Q·Q1, ended;
//       subtree 1: R·"answer 3" (EOS, .8), R·R2 (.4) → keeps R·3, ended. No subtree left.
// output: all M siblings of each subtree's last expansion: [Q·Q1 .95, Q·2 .9, R·3 .8, R·R2 .4];
// pred = argmax of the last scores = Q·Q1 (an unfinished text: search-and-learn takes the plain argmax).
const dvtsTable: Record<string, string[]> = {
    "": ["P\n\n", "Q\n\n", "R\n\n", "S\n\n"],
    "Q\n\n": ["Q1 goes on", "The answer is 2."],
    "R\n\n": ["The answer is 3.", "R2\n\n"],
};
const dvtsScores = {P: 0.5, Q: 0.6, R: 0.7, S: 0.2, "Q1 goes on": 0.95, "The answer is 2.": 0.9, "The answer is 3.": 0.8, R2: 0.4};

test("DVTS as search-and-learn: the pool holds all M siblings of each subtree's last expansion", async () => {
    const run = (config: Partial<SearchConfig>) => dvts(problem, {policy: new StepScript(dvtsTable), prm: new SearchPrm(scorer(dvtsScores)), config: {...delimited, ...config}});
    // the reference's plain argmax (allowUnfinished): Q·Q1
    const ref = await run({allowUnfinished: true});
    assert.equal(ref.text, "Q\n\nQ1 goes on");
    assert.equal(ref.finished, false);
    const its = ref.trace.flatMap((t) => (t.type === "beam" ? [t] : []));
    assert.deepEqual(its.map((t) => [t.iteration, t.tree, t.candidates.findIndex((c) => c.kept)]), [[0, 0, 1], [0, 1, 0], [1, 0, 0], [1, 1, 0]]);
    // stepwise's default prefers finished candidates: among the siblings that is Q·2 (.9) …
    const siblings = await run({});
    assert.equal(siblings.text, "Q\n\nThe answer is 2.");
    assert.equal(siblings.answer, "2");
    // … while the subtrees' kept children alone ([Q·Q1, R·3]) only offer R·3
    const best = await run({dvtsPool: "best"});
    assert.equal(best.answer, "3");
});
