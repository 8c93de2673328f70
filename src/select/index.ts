/**
 * Selection among candidate solutions, one of each (issue: one selector, one vote): step-score
 * aggregation, answer classes, Best-of-N and the (weighted) majority vote, with tie and
 * unfinished-candidate rules as arguments. Used by `eval bon`, the decoders and the judge.
 * Imports nothing above src/util (no engines, no pipeline).
 */
export {AGGREGATIONS, type Aggregation, aggregate, isAggregation} from "./aggregate.ts";
export {type AnswerClasses, answerClasses} from "./classes.ts";
export {type BestOfNRules, type TieRule, type UnfinishedRule, eligibleCandidates, selectBestOfN} from "./best-of-n.ts";
export {VOTE_NONE, VOTE_TIE, VoteScratch, type VoteRules, type VoteTieRule, majorityVote, weightedMajorityVote} from "./vote.ts";
