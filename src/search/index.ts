/**
 * Decoding with a PRM (`stepwise decode`): one function per strategy, each
 * `(problem, {policy, prm, config}) → DecodeResult`; record and trace shapes in docs/decoding.md.
 *
 * | strategy | function | PRM use |
 * |---|---|---|
 * | greedy | {@link greedy} | none (baseline) |
 * | tvd | {@link tvd} | top-k candidates at each decision token (AdaptiveStep TVD) |
 * | best-of-n | {@link bestOfNDecode} | rank N samples |
 * | weighted-vote | {@link weightedVoteDecode} | weight N samples' answers |
 * | beam | {@link beamSearch} | prune beams after every step (search-and-learn) |
 * | dvts | {@link dvts} | pick the best of M steps in each of N/M subtrees (search-and-learn) |
 */
export * from "./types.ts";
export * from "./prm.ts";
export * from "./step.ts";
export * from "./common.ts";
export {greedy} from "./greedy.ts";
export {tvd, usableCandidate, rankWith, chooseCandidate} from "./tvd.ts";
export {bestOfNDecode, sampleAndScore, eligible, type ScoredCandidate} from "./best-of-n.ts";
export {weightedVoteWinner, weightedVoteDecode} from "./weighted-vote.ts";
export {beamSearch, extend, expandAndScore, pickFinal, lastScore, beamScore, refill, emptyBeam, type Beam} from "./beam.ts";
export {dvts} from "./dvts.ts";
export * from "./decode-file.ts";

export {STRATEGY_FUNCTIONS} from "./strategies.ts";
