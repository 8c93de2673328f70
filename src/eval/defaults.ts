/**
 * Defaults of the evaluations that the CLI's option help shows, in a module that imports nothing:
 * `stepwise eval … --help` lists them without loading the evaluators. Re-exported from their old
 * homes (./bon/load.ts, ./processbench/evaluate.ts).
 */

/** Field names of a Best-of-N candidate record (./bon/load.ts reads them). */
export interface CandidateFields {
    questionId: string;
    text: string;
    stepScores: string;
    gold: string;
    correct: string;
    answer: string;
    id: string;
    /** The engine's finish reason (`length`: cut off); optional in records. */
    finishReason?: string;
}

export const DEFAULT_CANDIDATE_FIELDS: CandidateFields = {
    questionId: "question_id",
    text: "text",
    stepScores: "step_scores",
    gold: "gold",
    correct: "correct",
    answer: "answer",
    id: "id",
    finishReason: "finish_reason",
};

/** ProcessBench: default threshold on step scores (probabilities that a step is correct); a step below it is flagged. */
export const DEFAULT_THRESHOLD = 0.5;
