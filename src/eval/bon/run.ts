/**
 * `evaluateBonFile`: Best-of-N from a candidates file — what `stepwise eval bon` runs. Reads the
 * candidates (and optionally step scores joined on the candidate id), groups answers into classes
 * with the answer grader, evaluates first-sample accuracy, pass@N, maj@N, PRM Best-of-N per
 * aggregation and PRM-weighted voting for N = 1, 2, 4, … ({@link evaluateBon}) and, with `out`,
 * writes summary.json, report.md and accuracy-vs-n.svg/.png.
 * Errors: StepwiseError for an empty file, bad records (file:line: field) and impossible sizes.
 */
import {StepwiseError} from "../../util/errors.ts";
import type {Aggregation} from "../../select/aggregate.ts";
import {evaluateBon} from "./evaluate.ts";
import {type CandidateFields, buildQuestions, readCandidates, readStepScores} from "./load.ts";
import {type BonSummary, bonSummary, writeBonReport} from "./report.ts";
import {defaultGrader} from "../../grade/grader.ts";
import {prepareOutput} from "../../io/output.ts";

export interface BonFileOptions {
    /** Candidates JSONL, one record per candidate solution. */
    data: string;
    /** Step scores JSONL {id, step_scores} joined on the candidate id (instead of scores in `data`). */
    scores?: string;
    /** Field names of the candidate records (defaults: DEFAULT_CANDIDATE_FIELDS). */
    fields?: Partial<CandidateFields>;
    /** Answer grading policy. Default lenient. */
    policy?: "lenient" | "strict";
    /** Subset sizes (default: powers of 2 up to the smallest candidate count). */
    sizes?: number[];
    /** Random subsets per question and N. Default 200. */
    subsets?: number;
    /** Seed of the subsets and tie-breaks. Default 0. */
    seed?: number;
    /** Aggregations for Best-of-N (default: all). */
    bonAggregations?: Aggregation[];
    /** Aggregations for PRM-weighted voting. Default ["product"]. */
    voteAggregations?: Aggregation[];
    /** Let Best-of-N pick (and votes count) unfinished candidates (no final answer). Default false. */
    allowUnfinished?: boolean;
    /** Tie rule of maj, Best-of-N and the vote: "random" (default) or "first" (the decoders' rule). */
    ties?: "random" | "first";
    /** Write the report here. */
    out?: string;
    /** Progress per stage ("grade", "bon"). */
    onProgress?: (stage: string, done: number, total: number) => void;
}

export interface BonFileResult {
    summary: BonSummary;
    /** Files written under `out` (when given). */
    files?: {json: string; markdown: string; svg: string; png: string};
}

export async function evaluateBonFile(o: BonFileOptions): Promise<BonFileResult> {
    const policy = o.policy ?? "lenient";
    if (o.out) prepareOutput(o.out, {folder: true, inputs: [o.data, o.scores]});
    const scores = o.scores ? await readStepScores(o.scores, {id: "id", stepScores: "step_scores"}) : undefined;
    const candidates = await readCandidates(o.data, o.fields ?? {}, scores);
    if (candidates.length === 0) throw new StepwiseError(`${o.data}: no candidates`);
    const {questions, stats} = buildQuestions(candidates, defaultGrader({policy}), {onProgress: (d, t) => o.onProgress?.("grade", d, t)});
    let result;
    try {
        result = evaluateBon(questions, {
            sizes: o.sizes,
            subsets: o.subsets ?? 200,
            seed: o.seed ?? 0,
            bonAggregations: stats.scored ? o.bonAggregations : [],
            voteAggregations: stats.scored ? (o.voteAggregations ?? ["product"]) : [],
            allowUnfinished: o.allowUnfinished ?? false,
            ties: o.ties,
            onProgress: (d, t) => o.onProgress?.("bon", d, t),
        });
    } catch (e) {
        if (e instanceof RangeError) throw new StepwiseError(e.message);
        throw e;
    }
    const summary = bonSummary(result, {grading: stats, inputs: {data: o.data, ...(o.scores ? {scores: o.scores} : {}), policy}});
    return {summary, files: o.out ? await writeBonReport(summary, o.out) : undefined};
}
