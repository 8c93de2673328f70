/**
 * Can the PRM choose at TVD's decision tokens? On held-out lab problems (seed 4000, not the
 * evaluation set), follow the policy's greedy path; at every decision token (p < τ cutoff), complete
 * each candidate (p ≥ 0.01) greedily and check the answer, and score each candidate with the PRM as
 * TVD does. Prints the decisions where candidates disagree on the outcome, then counts:
 * decisions, digit decisions, how often greedy's token / the PRM's pick / any candidate leads to the
 * right answer, and the same for the "mixed" decisions.
 *
 *   node --import tsx scripts/tvd-decision-diagnostic.ts [N=60] [PRM=models/lab-prm.gguf]
 */
import {LlamaEngine} from "../src/engines/llama/engine.ts";
import {createScorer} from "../src/prm/index.ts";
import {generateProblems, checkAnswer} from "../src/domains/lab/index.ts";
import {SearchPrm, Meter, decisionCutoff, DEFAULT_SEARCH_CONFIG} from "../src/search/index.ts";
import {LAB_MAX_TOKENS} from "../src/apps/lab/eval/policy.ts";

const N = Number(process.argv[2] ?? 60);
const policy = await LlamaEngine.load("models/lab-policy.gguf", {sequences: 4});
const prm = new SearchPrm(await createScorer(`llama:${process.argv[3] ?? "models/lab-prm.gguf"}`));
const cutoff = decisionCutoff(DEFAULT_SEARCH_CONFIG);
const st = {decisions: 0, digit: 0, greedyOk: 0, prmOk: 0, anyOk: 0, mixed: 0, mixedGreedyOk: 0, mixedPrmOk: 0};
for (const p of generateProblems(N, {seed: 4000, split: "heldout"})) {
    const prompt = p.question + "\n";
    const [g] = await policy.generate({prompt, temperature: 0, maxTokens: LAB_MAX_TOKENS, topLogprobs: 8});
    let text = "";
    let cur = "";
    const steps: string[] = [];
    for (const t of g.tokens) {
        if (t.confidence < cutoff) {
            const cands = t.top.filter((c, k) => k === 0 || c.prob >= 0.01);
            const ok: boolean[] = [];
            for (const c of cands) {
                const [s] = await policy.generate({prompt: prompt + text + c.text, temperature: 0, maxTokens: LAB_MAX_TOKENS, topLogprobs: 0});
                ok.push(checkAnswer(p, text + c.text + s.text).correct);
            }
            const scores = await prm.scoreLast(p.question, steps, cands.map((c) => cur + c.text), new Meter());
            let best = 0;
            for (let i = 1; i < cands.length; i++) if (scores[i] > scores[best]) best = i;
            st.decisions++;
            if (/[0-9]/.test(t.text)) st.digit++;
            st.greedyOk += +ok[0];
            st.prmOk += +ok[best];
            st.anyOk += +ok.some(Boolean);
            if (ok.some(Boolean) && !ok.every(Boolean)) {
                st.mixed++;
                st.mixedGreedyOk += +ok[0];
                st.mixedPrmOk += +ok[best];
                console.log(JSON.stringify({before: text.slice(-30), candidates: cands.map((c, i) => [c.text, +c.prob.toFixed(3), +scores[i].toFixed(3), ok[i]])}));
            }
            steps.push(cur + t.text);
            cur = "";
        } else cur += t.text;
        text += t.text;
    }
}
console.log(JSON.stringify(st));
await prm.close();
await policy.close();
