/**
 * PRM-weighted majority vote as a decoder (search-and-learn's "weighted best-of-N"; Qwen PRM
 * paper §3): sample N solutions, weight each by its aggregated step scores
 * (config.voteAggregation, default product), sum the weights of equal final answers (the
 * grader's equivalence) and return the highest-weighted solution of the winning answer.
 * Candidates without a final answer never vote; unfinished ones are left out as in Best-of-N.
 */
import {aggregate} from "../eval/bon/aggregate.ts";
import {graderOf, result} from "./common.ts";
import {candidateTrace, eligible, sampleAndScore} from "./best-of-n.ts";
import {Meter} from "./prm.ts";
import {resolveConfig, type DecodeResult, type SearchContext, type SearchProblem} from "./types.ts";

/**
 * The winning candidate of a weighted vote: answer groups (first member is the representative,
 * compared with `equal`), the group with the largest weight sum, and in it the best-weighted
 * candidate. Ties go to the earlier group / candidate. −1 when no candidate has an answer.
 */
export function weightedVote(answers: ReadonlyArray<string | null>, weights: ReadonlyArray<number>, indices: ReadonlyArray<number>, equal: (a: string, b: string) => boolean): number {
    const groups: Array<{answer: string; sum: number; best: number}> = [];
    for (const i of indices) {
        const a = answers[i];
        if (a === null) continue;
        let g = groups.find((x) => x.answer.trim() === a.trim() || equal(x.answer, a));
        if (!g) groups.push((g = {answer: a, sum: 0, best: i}));
        g.sum += weights[i];
        if (weights[i] > weights[g.best]) g.best = i;
    }
    let win = -1;
    for (let k = 0; k < groups.length; k++) if (win < 0 || groups[k].sum > groups[win].sum) win = k;
    return win < 0 ? -1 : groups[win].best;
}

export async function weightedVoteDecode(problem: SearchProblem, ctx: SearchContext): Promise<DecodeResult> {
    const config = resolveConfig(ctx.config);
    const meter = new Meter();
    const candidates = await sampleAndScore(problem, ctx, config, meter, "weighted-vote");
    const weights = candidates.map((c) => aggregate(c.stepScores, config.voteAggregation));
    const pool = eligible(candidates, config.allowUnfinished);
    let chosen = weightedVote(
        candidates.map((c) => c.answer),
        weights,
        pool,
        graderOf(ctx).equal,
    );
    if (chosen < 0) chosen = pool.reduce((b, i) => (weights[i] > weights[b] ? i : b), pool[0]);
    const c = candidates[chosen];
    return result("weighted-vote", c.text, c.finished, meter, candidateTrace(candidates, weights, chosen), ctx);
}
