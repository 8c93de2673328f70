/**
 * How useful a code policy is for PRM work, on held-out code-lab tasks: pass@1 of the greedy
 * program, the pass rate of single samples at temperature 1 and pass@k, each program run against
 * the task's unit tests in the sandbox, plus the verdict counts (fail / error / ...). A policy
 * that always passes or never passes teaches a PRM nothing.
 */
import pLimit from "p-limit";
import type {Engine} from "../../engines/types.ts";
import {passAtK, policyIntervals} from "../lab/eval/policy.ts";
import type {IntervalJson} from "../../stats/intervals.ts";
import {makeCodeJudge, type SolutionVerdict} from "../../domains/code/pipeline.ts";
import type {VerifyOptions} from "../../domains/code/verifier.ts";
import {codePolicyPrompt} from "../../domains/code/lab/policy-prompt.ts";
import {generateCodeProblems, type CodeProblem} from "../../domains/code/lab/tasks.ts";

/** Most tokens of a code-lab program (the longest reference is under 300 characters). */
export const CODE_LAB_MAX_TOKENS = 320;

export interface CodePolicyEvalOptions extends VerifyOptions {
    engine: Engine;
    /** Tasks; default: `n` held-out tasks of seed 12345. */
    problems?: CodeProblem[];
    n?: number;
    /** Samples per task at temperature 1. Default 8. */
    k?: number;
    seed?: number;
    concurrency?: number;
    onProgress?: (done: number, total: number) => void;
}

export interface CodePolicyEval {
    n: number;
    k: number;
    /** Share of tasks whose greedy program passes its tests. */
    pass_at_1_greedy: number;
    /** Share of temperature-1 samples that pass. */
    sample_pass_rate: number;
    /** Unbiased pass@k (Chen et al. 2021) over the temperature-1 samples, k = 1, 2, 4, … ≤ k. */
    pass_at_k: Record<string, number>;
    /** 95% intervals `{value, low, high, n, method, level}` over the tasks (fractions): Wilson over tasks ({@link policyIntervals}). */
    pass_at_1_greedy_ci: IntervalJson;
    sample_pass_rate_ci: IntervalJson | null;
    pass_at_k_ci: Record<string, IntervalJson>;
    /** Verdicts of all programs (greedy and samples) by status. */
    statuses: Record<string, number>;
    /** Greedy pass rate per task family. */
    by_family: Record<string, {n: number; pass_at_1_greedy: number}>;
    examples: Array<{task_id: string; question: string; greedy: string; verdict: SolutionVerdict}>;
}

export async function evaluateCodePolicy(o: CodePolicyEvalOptions): Promise<CodePolicyEval> {
    const problems = o.problems ?? generateCodeProblems(o.n ?? 50, {seed: 12345, split: "heldout"});
    const k = o.k ?? 8;
    const judge = makeCodeJudge({limits: o.limits, unsafe: o.unsafe, sandbox: o.sandbox});
    const limit = pLimit(o.concurrency ?? 2);
    const statuses: Record<string, number> = {};
    let done = 0;
    const rows = await Promise.all(
        problems.map((p, i) =>
            limit(async () => {
                const prompt = codePolicyPrompt(p.question);
                const [greedy] = await o.engine.generate({prompt, n: 1, temperature: 0, maxTokens: CODE_LAB_MAX_TOKENS, topLogprobs: 0});
                const samples = k > 0 ? await o.engine.generate({prompt, n: k, temperature: 1, seed: (o.seed ?? 0) + i, maxTokens: CODE_LAB_MAX_TOKENS, topLogprobs: 0}) : [];
                const verdicts = await Promise.all([greedy, ...samples].map((s) => judge({question: p.question, gold: undefined, solution: s.text})));
                for (const v of verdicts) statuses[v.status] = (statuses[v.status] ?? 0) + 1;
                o.onProgress?.(++done, problems.length);
                return {p, greedy: greedy.text, greedyVerdict: verdicts[0], passes: verdicts.slice(1).filter((v) => v.status === "pass").length, samples: samples.length};
            }),
        ),
    );
    const n = rows.length;
    const ks = [1, 2, 4, 8, 16, 32, 64].filter((x) => x <= k);
    const byFamily: CodePolicyEval["by_family"] = {};
    for (const r of rows) {
        const b = (byFamily[r.p.family] ??= {n: 0, pass_at_1_greedy: 0});
        b.pass_at_1_greedy = (b.pass_at_1_greedy * b.n + (r.greedyVerdict.status === "pass" ? 1 : 0)) / (b.n + 1);
        b.n++;
    }
    const sampleTotal = rows.reduce((a, r) => a + r.samples, 0);
    const cis = policyIntervals(rows.map((r) => ({greedy: r.greedyVerdict.status === "pass", samples: r.samples, right: r.passes})), ks);
    return {
        n,
        k,
        pass_at_1_greedy: rows.filter((r) => r.greedyVerdict.status === "pass").length / n,
        sample_pass_rate: sampleTotal ? rows.reduce((a, r) => a + r.passes, 0) / sampleTotal : NaN,
        pass_at_k: Object.fromEntries(ks.map((kk) => [String(kk), rows.reduce((a, r) => a + passAtK(r.samples, r.passes, kk), 0) / n])),
        pass_at_1_greedy_ci: cis.greedy,
        sample_pass_rate_ci: cis.sample,
        pass_at_k_ci: cis.passAtK,
        statuses,
        by_family: byFamily,
        examples: rows.slice(0, 10).map((r) => ({task_id: r.p.task_id, question: r.p.question, greedy: r.greedy, verdict: r.greedyVerdict})),
    };
}
