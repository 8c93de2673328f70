import {test} from "node:test";
import assert from "node:assert/strict";
import {ScriptedPolicy, FunctionScorer, type Script} from "../../helpers/scripted-policy.ts";
import {beamSearch, bestOfNDecode, dvts, greedy, SearchPrm, splitSample, tvd, weightedVoteWinner, weightedVoteDecode, resolveConfig, decisionCutoff, type SearchProblem, type TvdIntervention} from "../../../src/search/index.ts";
import {defaultGrader} from "../../../src/grade/grader.ts";

const problem: SearchProblem = {id: "q1", question: "Compute 2 + 3.", prompt: "Compute 2 + 3.\n", gold: "5"};

/**
 * "So 2 + 3 = " then a digit: 6 (p .45, greedy, wrong), 5 (p .35, right), 7 (p .2: leads to a
 * solution that never states an answer); then ".\nThe answer is D." and EOS.
 */
function arithmeticScript(digits: Array<[string, number]> = [["6", 0.45], ["5", 0.35], ["7", 0.2]]): Script {
    return (context) => {
        const response = context.slice(problem.prompt.length);
        const head = "So 2 + 3 = ";
        if (response.length < head.length) return [[head[response.length], 1]];
        if (response.length === head.length) return digits;
        const d = response[head.length];
        if (d === "7") return [[(head + "7" + ", and then we carry on".repeat(40))[response.length] ?? "", 1]]; // never states an answer
        const target = `${head}${d}.\nThe answer is ${d}.`;
        return response.length < target.length ? [[target[response.length], 1]] : [["", 1]];
    };
}

/** A PRM that likes steps ending in the right result. */
const likesFive = () => new FunctionScorer((s) => (/7|carry/.test(s) ? 0.99 : /= 5|is 5|^5/.test(s) ? 0.9 : 0.3));

test("greedy follows the top-1 token: the wrong answer here", async () => {
    const policy = new ScriptedPolicy(arithmeticScript());
    const r = await greedy(problem, {policy: policy.engine});
    assert.equal(r.text, "So 2 + 3 = 6.\nThe answer is 6.");
    assert.equal(r.answer, "6");
    assert.equal(r.finished, true);
    assert.equal(r.requests, 1);
    assert.equal(r.prm_calls, 0);
});

test("TVD: at the decision token the PRM's best candidate replaces the greedy token; the trace records it", async () => {
    for (const nativeStop of [true, false]) {
        const policy = new ScriptedPolicy(arithmeticScript(), nativeStop);
        const scorer = new FunctionScorer((s) => (s.endsWith("5") ? 0.9 : 0.3));
        const r = await tvd(problem, {policy: policy.engine, prm: new SearchPrm(scorer)});
        assert.equal(r.text, "So 2 + 3 = 5.\nThe answer is 5.", `nativeStop=${nativeStop}`);
        assert.equal(r.answer, "5");
        assert.equal(r.trace.length, 1);
        const t = r.trace[0] as TvdIntervention;
        assert.equal(t.type, "tvd");
        assert.equal(t.position, 11);
        assert.equal(t.offset, 11);
        assert.equal(t.greedy_prob, 0.45);
        assert.deepEqual(t.candidates, [
            {text: "6", prob: 0.45, score: 0.3},
            {text: "5", prob: 0.35, score: 0.9},
            {text: "7", prob: 0.2, score: 0.3},
        ]);
        assert.equal(t.chosen, 1);
        // the PRM saw "response so far + candidate" as the last step, one input per candidate
        assert.deepEqual(scorer.inputs, [["So 2 + 3 = 6"], ["So 2 + 3 = 5"], ["So 2 + 3 = 7"]]);
        assert.equal(r.prm_calls, 3);
        // one generate call up to the decision token, one after the replaced token
        assert.equal(r.requests, 2 + 3);
        assert.equal(policy.prompts[1], problem.prompt + "So 2 + 3 = 5");
        assert.equal(r.response_tokens!.map((x) => x.text).join(""), r.text);
    }
});

test("TVD: when the PRM keeps the greedy token, an engine's chunk past the decision token is reused, not regenerated", async () => {
    const policy = new ScriptedPolicy(arithmeticScript(), false);
    const r = await tvd(problem, {policy: policy.engine, prm: new SearchPrm(new FunctionScorer((s) => (s.endsWith("6") ? 0.9 : 0.3)))});
    assert.equal(r.text, "So 2 + 3 = 6.\nThe answer is 6.");
    assert.equal(policy.stats().requests, 1);
    assert.equal((r.trace[0] as TvdIntervention).chosen, 0);
    // and with a native stop the rest needs a second call
    const native = new ScriptedPolicy(arithmeticScript(), true);
    await tvd(problem, {policy: native.engine, prm: new SearchPrm(new FunctionScorer((s) => (s.endsWith("6") ? 0.9 : 0.3)))});
    assert.equal(native.stats().requests, 2);
});

test("TVD: threshold as the released code compares it (two-decimal percents), top-k, min-prob, margin", async () => {
    // np.round(100·p, 2) < 55: p < 0.54995 (0.54995 itself rounds half to even, up to 55.00)
    const b = decisionCutoff({tau: 0.55, cutoff: "percent2"});
    assert.ok(b > 0.549949 && b <= 0.54995, `bound ${b}`);
    assert.equal(decisionCutoff({tau: 0.55, cutoff: "raw"}), 0.55);
    const run = async (digits: Array<[string, number]>, config = {}) => {
        const scorer = new FunctionScorer((s) => (s.endsWith("5") ? 0.9 : s.endsWith("7") ? 0.95 : 0.3));
        const r = await tvd(problem, {policy: new ScriptedPolicy(arithmeticScript(digits)).engine, prm: new SearchPrm(scorer), config});
        return {r, scorer};
    };
    // p = 0.54996 rounds to 55.00%: not below 55 → no intervention; the raw comparison intervenes
    const near: Array<[string, number]> = [["6", 0.54996], ["5", 0.45004]];
    assert.equal((await run(near)).r.trace.length, 0);
    assert.equal((await run(near, {cutoff: "raw"})).r.trace.length, 1);
    // p = 0.546 is 54.6%: a decision (the old integer-percent rule read it as 55 and skipped it)
    assert.equal((await run([["6", 0.546], ["5", 0.454]])).r.trace.length, 1);
    // top-k = 2 scores only the two most likely
    const k2 = await run([["6", 0.45], ["5", 0.35], ["7", 0.2]], {topK: 2});
    assert.equal(k2.scorer.inputs.length, 2);
    // the 7 (score .95) beats the 5 (.9) with all candidates, not when min-prob drops it
    const all = (await run([["6", 0.45], ["5", 0.35], ["7", 0.2]])).r;
    assert.match(all.text, /^So 2 \+ 3 = 7, and then/);
    assert.equal(all.finished, false);
    assert.equal((await run([["6", 0.45], ["5", 0.35], ["7", 0.2]], {minCandidateProb: 0.25})).r.answer, "5");
    // a margin larger than the gain keeps the greedy token
    assert.equal((await run([["6", 0.45], ["5", 0.35]], {scoreMargin: 0.7})).r.answer, "6");
    assert.equal((await run([["6", 0.45], ["5", 0.35]], {scoreMargin: 0.5})).r.answer, "5");
});

test("TVD: earlier decision tokens end the steps of the PRM input; code-blocks-only skips prose", async () => {
    // two decisions: the connective (So/Thus) and the digit
    const script: Script = (context) => {
        const response = context.slice(problem.prompt.length);
        if (response === "") return [["S", 0.5], ["T", 0.5]];
        const head = response[0] === "S" ? "So 2 + 3 = " : "Thus 2 + 3 = ";
        if (response.length < head.length) return [[head[response.length], 1]];
        if (response.length === head.length) return [["6", 0.5], ["5", 0.5]];
        const target = `${head}${response[head.length]}.\nThe answer is ${response[head.length]}.`;
        return response.length < target.length ? [[target[response.length], 1]] : [["", 1]];
    };
    const scorer = new FunctionScorer((s) => (s === "T" || s.endsWith("5") ? 0.9 : 0.2));
    const r = await tvd(problem, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(scorer)});
    assert.equal(r.text, "Thus 2 + 3 = 5.\nThe answer is 5.");
    assert.deepEqual(scorer.inputs.slice(2), [["T", "hus 2 + 3 = 6"], ["T", "hus 2 + 3 = 5"]]);
    const skipped = await tvd(problem, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(scorer), config: {codeBlocksOnly: true}});
    assert.equal(skipped.text, "So 2 + 3 = 6.\nThe answer is 6.");
    assert.deepEqual(skipped.trace.map((t) => t.type), ["tvd-skip", "tvd-skip"]);
});

test("TVD code-blocks-only: intervenes inside CommonMark fences only (``` or ~~~ at a line start, indented ≤ 3, info strings, unclosed, opened by the prompt)", async () => {
    /** `head`, then a decision at the digit (6 greedy, 5 preferred by the PRM), then the answer line. */
    const decide = async (head: string, prompt = problem.prompt) => {
        const p = {...problem, prompt};
        const script: Script = (context) => {
            const response = context.slice(prompt.length);
            if (response.length < head.length) return [[head[response.length], 1]];
            if (response.length === head.length) return [["6", 0.45], ["5", 0.35]];
            const target = `${head}${response[head.length]}\nThe answer is ${response[head.length]}.`;
            return response.length < target.length ? [[target[response.length], 1]] : [["", 1]];
        };
        const scorer = new FunctionScorer((s) => (s.endsWith("5") ? 0.9 : 0.2));
        const r = await tvd(p, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(scorer), config: {codeBlocksOnly: true}});
        assert.equal(r.trace.length, 1, head);
        return r.trace[0].type;
    };
    // a ``` inside a prose line is no fence (counting ``` anywhere said "inside" here)
    assert.equal(await decide("Type ``` then x = "), "tvd-skip");
    assert.equal(await decide("Inline ```python x = "), "tvd-skip");
    assert.equal(await decide("Use ```x = 1``` and\n```py\nx = 1``` and y = "), "tvd", "the second line's fence opens a block");
    // fences at a line start: backticks with an info string, tildes, indented up to 3 spaces, unclosed
    assert.equal(await decide("Code:\n```python\nx = "), "tvd");
    assert.equal(await decide("Code:\n~~~\nx = "), "tvd");
    assert.equal(await decide("Code:\n~~~python\nx = '```'\ny = "), "tvd", "``` does not close a ~~~ block");
    assert.equal(await decide("Code:\n   ```\nx = "), "tvd");
    assert.equal(await decide("Code:\n    ```\nx = "), "tvd-skip", "4 spaces: an indented code line, not a fence");
    assert.equal(await decide("Code:\n```python\nx = 1\n```\nSo y = "), "tvd-skip", "after the closing fence");
    assert.equal(await decide("Code:\n````\n```\nx = "), "tvd", "a shorter fence does not close a longer one");
    // a raw-code answer, and an answer the prompt opened a block for
    assert.equal(await decide("def f():\n    return "), "tvd");
    assert.equal(await decide("x = ", "Write x.\n```python\n"), "tvd");
    assert.equal(await decide("x = ", "Write x.\n```python\ny = 1\n```\n"), "tvd-skip");
});

test("TVD needs a PRM; the error says so", async () => {
    await assert.rejects(tvd(problem, {policy: new ScriptedPolicy(arithmeticScript()).engine}), /needs a PRM/);
});

test("Best-of-N never picks an unfinished candidate unless allowed", async () => {
    const policy = new ScriptedPolicy(arithmeticScript());
    const config = {n: 16, temperature: 1, maxTokens: 40, seed: 3};
    const r = await bestOfNDecode(problem, {policy: policy.engine, prm: new SearchPrm(likesFive()), config});
    const cands = r.trace.filter((t) => t.type === "candidate");
    assert.equal(cands.length, 16);
    assert.ok(cands.some((c) => !c.finished), "the seed gives unfinished candidates");
    assert.equal(r.answer, "5");
    assert.equal(r.finished, true);
    assert.equal(r.requests, 1 + 16);
    assert.equal(r.prm_calls, 16);
    const loose = await bestOfNDecode(problem, {policy: policy.engine, prm: new SearchPrm(likesFive()), config: {...config, allowUnfinished: true}});
    assert.equal(loose.finished, false);
    assert.match(loose.text, /= 7, and then/);
});

test("samples are split into steps at decision tokens or at a delimiter", () => {
    const config = resolveConfig();
    const tokens = [..."So 2 + 3 = 5.\n\nThe answer is 5."].map((c) => ({text: c, confidence: c === "5" ? 0.4 : 1}));
    const text = tokens.map((t) => t.text).join("");
    assert.deepEqual(splitSample(text, tokens, config), ["So 2 + 3 = 5", ".\n\nThe answer is 5", "."]);
    assert.deepEqual(splitSample(text, tokens, {...config, stepEnd: {kind: "delimiter", text: "\n\n"}}), ["So 2 + 3 = 5.\n\n", "The answer is 5."]);
    const ws = [{text: "a", confidence: 1}, {text: "\n", confidence: 0.1}, {text: "b", confidence: 1}];
    assert.deepEqual(splitSample("a\nb", ws, config), ["a\n", "b"]);
    // a whitespace decision token is a step of its own, as `stepwise split` keeps it (was merged into "x\n")
    const lone = [{text: "x", confidence: 0.1}, {text: "\n", confidence: 0.1}, {text: "y", confidence: 0.9}];
    assert.deepEqual(splitSample("x\ny", lone, {...config, tau: 0.5}), ["x", "\n", "y"]);
    // with a delimiter, blank steps merge (as `stepwise split --strategy double-newline`)
    const blank = [..."a\n\n\n\nb"].map((c) => ({text: c, confidence: 1}));
    assert.deepEqual(splitSample("a\n\n\n\nb", blank, {...config, stepEnd: {kind: "delimiter", text: "\n\n"}}), ["a\n\n\n\n", "b"]);
});

test("weighted vote: equal answers pool their weights; the best member of the winning answer is returned", () => {
    const g = defaultGrader();
    // answers 6, 6, 5, 5.0 (= 5), none
    const answers = ["6", "6", "5", "5.0", null];
    assert.equal(weightedVoteWinner(answers, [0.5, 0.5, 0.4, 0.7, 0.99], [0, 1, 2, 3, 4], g.equal), 3);
    assert.equal(weightedVoteWinner(answers, [0.9, 0.9, 0.4, 0.7, 0.99], [0, 1, 2, 3, 4], g.equal), 0);
    assert.equal(weightedVoteWinner([null, null], [1, 1], [0, 1], g.equal), -1);
});

test("weighted-vote decoder picks the heaviest answer among finished samples", async () => {
    const policy = new ScriptedPolicy(arithmeticScript());
    const r = await weightedVoteDecode(problem, {policy: policy.engine, prm: new SearchPrm(likesFive()), config: {n: 16, temperature: 1, maxTokens: 40, seed: 3}});
    assert.equal(r.answer, "5");
    assert.equal(r.strategy, "weighted-vote");
});

test("step-level beam search and DVTS reach the answer the PRM prefers, tracing every iteration", async () => {
    for (const [run, name] of [[beamSearch, "beam"], [dvts, "dvts"]] as const) {
        const policy = new ScriptedPolicy(arithmeticScript([["6", 0.5], ["5", 0.5]]));
        const prm = new SearchPrm(new FunctionScorer((s) => (/6/.test(s) ? 0.1 : 0.9)));
        const r = await run(problem, {policy: policy.engine, prm, config: {n: 4, beamWidth: 2, temperature: 1, maxTokens: 60, seed: 1}});
        assert.equal(r.strategy, name);
        assert.equal(r.answer, "5", name);
        assert.equal(r.finished, true);
        const its = r.trace.filter((t) => t.type === "beam");
        assert.ok(its.length >= 2, name);
        for (const it of its) for (const c of it.candidates) assert.ok(c.score !== null && c.score >= 0 && c.score <= 1);
        if (name === "beam") {
            // N = 4 first steps from the prompt, then N / M = 2 survivors expanded M = 2 times each
            assert.equal(its[0].candidates.length, 4);
            assert.equal(its[0].candidates.filter((c) => c.kept && !c.done).length, 2);
            assert.equal(its[1].candidates.length, 4);
        } else {
            // N / M = 2 subtrees, each keeping one of M = 2 children per iteration
            assert.deepEqual([...new Set(its.map((t) => t.tree))].sort(), [0, 1]);
            for (const it of its) assert.equal(it.candidates.filter((c) => c.kept).length, 1);
        }
    }
});

test("beam search with delimiter steps keeps the delimiter in the step text", async () => {
    const script: Script = (context) => {
        const response = context.slice(problem.prompt.length);
        const target = "Add.\n\nSo 2 + 3 = 5.\n\nThe answer is 5.";
        return response.length < target.length ? [[target[response.length], 1]] : [["", 1]];
    };
    const scorer = new FunctionScorer(() => 0.8);
    const r = await beamSearch(problem, {policy: new ScriptedPolicy(script).engine, prm: new SearchPrm(scorer), config: {n: 2, beamWidth: 2, stepEnd: {kind: "delimiter", text: "\n\n"}}});
    assert.equal(r.text, "Add.\n\nSo 2 + 3 = 5.\n\nThe answer is 5.");
    assert.deepEqual(scorer.inputs.at(-1), ["Add.\n\n", "So 2 + 3 = 5.\n\n", "The answer is 5."]);
});

test("a decode cut off by the token budget is unfinished and has no answer, whatever its last words", async () => {
    // "So 2 + 3 = 5.\nThe answer is 5" is 29 characters: the budget ends right after the digit, before "." and EOS
    const text = "So 2 + 3 = 5.\nThe answer is 5";
    const policy = new ScriptedPolicy(arithmeticScript([["5", 0.9], ["6", 0.1]]));
    const cut = await greedy(problem, {policy: policy.engine, config: {maxTokens: text.length}});
    assert.equal(cut.text, text);
    assert.deepEqual([cut.finished, cut.answer], [false, null], "the answer may have gone on (\"… is 51\"): not graded");
    const whole = await greedy(problem, {policy: new ScriptedPolicy(arithmeticScript([["5", 0.9], ["6", 0.1]])).engine, config: {maxTokens: 64}});
    assert.deepEqual([whole.finished, whole.answer], [true, "5"]);
    // Best-of-N allowed to pick a cut-off sample: picked, but still without an answer
    const bon = await bestOfNDecode(problem, {policy: new ScriptedPolicy(arithmeticScript([["5", 0.9], ["6", 0.1]])).engine, prm: new SearchPrm(likesFive()), config: {n: 2, maxTokens: text.length, allowUnfinished: true, seed: 1}});
    assert.deepEqual([bon.finished, bon.answer], [false, null]);
    for (const c of bon.trace) if (c.type === "candidate") assert.deepEqual([c.finished, c.answer], [false, null]);
});
