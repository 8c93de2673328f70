/**
 * PRM-weighted majority vote as a decoder (search-and-learn's "weighted best-of-N"; Qwen PRM
 * paper §3): sample N solutions, weight each by its aggregated step scores
 * (config.voteAggregation, default product), sum the weights of equal final answers (the
 * grader's equivalence, answer classes as `eval bon` forms them) and return the highest-weighted
 * solution of the winning answer. The vote is src/select's {@link weightedMajorityVote} with ties
 * to the answer seen first, the solution its {@link selectBestOfN} with ties to the first sampled.
 * Candidates without a final answer never vote; unfinished ones, and ones whose PRM input was
 * longer than the PRM's context (unscored), are left out as in Best-of-N (./best-of-n.ts).
 */
import {selectBestOfN} from "../select/best-of-n.ts";
import {answerClasses} from "../select/classes.ts";
import {weightedMajorityVote} from "../select/vote.ts";
import {graderOf} from "./common.ts";
import {candidateResult, candidateScores, eligible, sampleAndScore} from "./best-of-n.ts";
import {Meter} from "./prm.ts";
import {resolveConfig, type DecodeResult, type SearchContext, type SearchProblem} from "./types.ts";

/**
 * The winning candidate of a weighted vote among `indices`: answers grouped into classes by
 * `equal` (connected components, src/select/classes.ts), the class with the largest weight sum
 * (ties: the answer seen first), and in it the best-weighted candidate (ties: the first).
 * −1 when no candidate in `indices` has an answer.
 */
export function weightedVoteWinner(answers: ReadonlyArray<string | null>, weights: ReadonlyArray<number>, indices: ReadonlyArray<number>, equal: (a: string, b: string) => boolean): number {
    const {classOf} = answerClasses(answers, null, equal);
    const win = weightedMajorityVote(classOf, weights, {ties: "first-seen"}, indices);
    if (win < 0) return -1;
    return selectBestOfN(weights, {ties: "first"}, indices.filter((i) => classOf[i] === win));
}

/** The weighted-vote decoder (strategy "weighted-vote"; see the module docs). */
export async function weightedVoteDecode(problem: SearchProblem, ctx: SearchContext): Promise<DecodeResult> {
    const config = resolveConfig(ctx.config);
    const meter = new Meter();
    const candidates = await sampleAndScore(problem, ctx, config, meter, "weighted-vote");
    const weights = candidateScores(candidates, config.voteAggregation);
    const pool = eligible(candidates, config.allowUnfinished);
    let chosen = weightedVoteWinner(
        candidates.map((c) => c.answer),
        weights,
        pool,
        graderOf(ctx).equal,
    );
    // nobody answered: the best-weighted eligible sample
    if (chosen < 0) chosen = selectBestOfN(weights, {ties: "first"}, pool);
    return candidateResult("weighted-vote", candidates, weights, chosen, meter, ctx);
}
