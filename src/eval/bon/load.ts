/**
 * Reading Best-of-N candidates from JSONL and turning them into {@link BonQuestion}s.
 *
 * One record per candidate. Field names are configurable ({@link CandidateFields}); defaults:
 * `question_id`, `text`, `step_scores`, `gold`, `correct`, `answer`, `id`. A record needs a
 * question id and either `correct: boolean` (precomputed verdict) or a gold answer (or a whole
 * gold solution, whose answer is extracted). Its answer is the `answer` field when present (an
 * already extracted answer), else extracted from `text`. Step scores come from the record or from
 * a separate scores file joined on the candidate id (default `<question_id>#<index in question>`).
 * An optional `finish_reason` (as `stepwise sample` writes it) marks cut-off outputs: a candidate
 * is finished when it has an answer and was not cut off (src/grade/finished.ts isFinished); a
 * cut-off candidate (`finish_reason: "length"`) has no answer, so it is graded wrong (unless the
 * record carries its own `correct` verdict) and never votes. Best-of-N never picks unfinished
 * candidates by default.
 *
 * Grading is the slow part and happens once here: one verdict per distinct answer string and one
 * set of equivalence classes per question; the evaluation then works on integer arrays.
 */
import {requireGold} from "../../io/dataset.ts";
import {StepwiseError} from "../../util/errors.ts";
import {readJsonl} from "../../io/jsonl.ts";
import type {AnswerGrader} from "../../grade/grader.ts";
import {isCutOff, isFinished} from "../../grade/finished.ts";
import {AGGREGATIONS, type Aggregation} from "../../select/aggregate.ts";
import {answerClasses} from "../../select/classes.ts";
import {type BonQuestion, prepareQuestion} from "./evaluate.ts";
import {type CandidateFields, DEFAULT_CANDIDATE_FIELDS} from "../defaults.ts";

/** Field names of a candidate record, and their defaults (defined in ../defaults.ts, which the CLI's help reads). */
export {type CandidateFields, DEFAULT_CANDIDATE_FIELDS};

/** One candidate as read, before grading. */
export interface Candidate {
    questionId: string;
    id: string;
    text: string | null;
    /** A precomputed extracted answer (the `answer` field), if any. */
    answer: string | null;
    gold: string | null;
    correct: boolean | null;
    stepScores: number[] | null;
    /** The engine's finish reason, when the record has one (`length`: the output was cut off). */
    finishReason?: string | null;
    /** `file:line`, for error messages. */
    where: string;
}

/** Validate a step-score array; throws naming `where` and the field. */
export function parseStepScores(value: unknown, where: string, field: string): number[] {
    if (!Array.isArray(value)) throw new StepwiseError(`${where}: field "${field}" must be an array of numbers, got ${value === null ? "null" : typeof value}`);
    for (let i = 0; i < value.length; i++)
        if (typeof value[i] !== "number" || !Number.isFinite(value[i])) throw new StepwiseError(`${where}: field "${field}"[${i}] must be a finite number, got ${JSON.stringify(value[i])}`);
    return value as number[];
}

function optionalString(record: Record<string, unknown>, field: string, where: string): string | null {
    const v = record[field];
    if (v === undefined || v === null) return null;
    if (typeof v === "string") return v;
    if (typeof v === "number") return String(v);
    throw new StepwiseError(`${where}: field "${field}" must be a string, got ${Array.isArray(v) ? "an array" : typeof v}`);
}

/** Read a scores file: JSONL `{id, step_scores}` → map id → scores (`fields.id`, `fields.stepScores` name them). */
export async function readStepScores(file: string, fields: Pick<CandidateFields, "id" | "stepScores"> = DEFAULT_CANDIDATE_FIELDS): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    const idField = fields.id;
    const scoresField = fields.stepScores;
    for await (const {record, line} of readJsonl(file)) {
        const where = `${file}:${line}`;
        const id = optionalString(record, idField, where) ?? optionalString(record, "id", where);
        if (id === null) throw new StepwiseError(`${where}: missing "${idField}"`);
        const scores = parseStepScores(record[scoresField] ?? record.step_scores, where, record[scoresField] !== undefined ? scoresField : "step_scores");
        if (out.has(id)) throw new StepwiseError(`${where}: duplicate id ${JSON.stringify(id)}`);
        out.set(id, scores);
    }
    return out;
}

/**
 * Read candidate records. With `scores`, step scores are taken from it by candidate id (a record's
 * own scores field is then ignored); every candidate must have an entry.
 */
export async function readCandidates(file: string, fields: Partial<CandidateFields> = {}, scores?: Map<string, number[]>): Promise<Candidate[]> {
    const f = {...DEFAULT_CANDIDATE_FIELDS, ...fields};
    const out: Candidate[] = [];
    const perQuestion = new Map<string, number>();
    for await (const {record, line} of readJsonl(file)) {
        const where = `${file}:${line}`;
        const questionId = optionalString(record, f.questionId, where);
        if (questionId === null) throw new StepwiseError(`${where}: missing question id field "${f.questionId}" (set it with --question-id-field)`);
        const k = perQuestion.get(questionId) ?? 0;
        perQuestion.set(questionId, k + 1);
        const id = optionalString(record, f.id, where) ?? `${questionId}#${k}`;
        const c = record[f.correct];
        if (c !== undefined && c !== null && typeof c !== "boolean") throw new StepwiseError(`${where}: field "${f.correct}" must be true or false, got ${JSON.stringify(c)}`);
        let stepScores: number[] | null = null;
        if (scores) {
            const s = scores.get(id);
            if (!s) throw new StepwiseError(`${where}: no step scores for candidate id ${JSON.stringify(id)} in the scores file`);
            stepScores = s;
        } else if (record[f.stepScores] !== undefined && record[f.stepScores] !== null) stepScores = parseStepScores(record[f.stepScores], where, f.stepScores);
        out.push({
            questionId,
            id,
            text: optionalString(record, f.text, where),
            answer: optionalString(record, f.answer, where),
            // null: no gold on this candidate (another of its question may carry it); "" is never a gold answer
            gold: record[f.gold] === undefined || record[f.gold] === null ? null : requireGold(record[f.gold], where, f.gold),
            correct: typeof c === "boolean" ? c : null,
            stepScores,
            finishReason: optionalString(record, f.finishReason ?? "finish_reason", where),
            where,
        });
    }
    return out;
}

/** What grading found, for reports. */
export interface GradingStats {
    questions: number;
    candidates: number;
    /** Candidates whose verdict came from a precomputed `correct` field. */
    precomputed: number;
    /** Candidates graded against the gold answer. */
    graded: number;
    /** Candidates with no extractable answer (they never vote). */
    noAnswer: number;
    /**
     * Candidates that are not finished: no answer, or cut off (`finish_reason: "length"`).
     * Best-of-N never picks them unless unfinished candidates are allowed.
     */
    unfinished: number;
    /** Whether step scores were present (false: only first/pass/maj can be evaluated). */
    scored: boolean;
    /** Mean number of answer classes per question. */
    meanClasses: number;
}

/**
 * Group candidates by question (in first-appearance order), grade them and build the questions.
 * Every candidate must have step scores, or none (then PRM methods are not available).
 */
export function buildQuestions(
    candidates: readonly Candidate[],
    grader: AnswerGrader,
    options: {aggregations?: readonly Aggregation[]; onProgress?: (done: number, total: number) => void} = {},
): {questions: BonQuestion[]; stats: GradingStats} {
    const groups = new Map<string, Candidate[]>();
    for (const c of candidates) {
        const g = groups.get(c.questionId);
        if (g) g.push(c);
        else groups.set(c.questionId, [c]);
    }
    const scored = candidates.filter((c) => c.stepScores !== null);
    if (scored.length > 0 && scored.length < candidates.length) {
        const missing = candidates.find((c) => c.stepScores === null)!;
        throw new StepwiseError(`${missing.where}: candidate has no step scores while ${scored.length} of ${candidates.length} others do`);
    }
    const stats: GradingStats = {questions: groups.size, candidates: candidates.length, precomputed: 0, graded: 0, noAnswer: 0, unfinished: 0, scored: scored.length > 0, meanClasses: 0};
    const questions: BonQuestion[] = [];
    let done = 0;
    for (const [qid, group] of groups) {
        // A cut-off candidate has no answer (src/grade/finished.ts): it is graded wrong and never votes.
        const answers = group.map((c) => (isCutOff(c.finishReason) ? null : (c.answer ?? (c.text !== null ? grader.extract(c.text) : null))));
        // The gold answer: the same on every candidate that carries one.
        let goldRaw: string | null = null;
        for (const c of group) {
            if (c.gold === null) continue;
            if (goldRaw === null) goldRaw = c.gold;
            else if (c.gold.trim() !== goldRaw.trim()) throw new StepwiseError(`${c.where}: gold ${JSON.stringify(c.gold)} differs from ${JSON.stringify(goldRaw)} given earlier for question ${qid}`);
        }
        const gold = goldRaw === null ? null : (grader.extract(goldRaw) ?? goldRaw.trim());
        const verdictOf = new Map<string, boolean>();
        const correct = group.map((c, i) => {
            if (c.correct !== null) {
                stats.precomputed++;
                return c.correct;
            }
            if (gold === null) throw new StepwiseError(`${c.where}: no "correct" verdict and no gold answer for question ${qid}`);
            stats.graded++;
            const a = answers[i];
            if (a === null) return false;
            let v = verdictOf.get(a);
            if (v === undefined) {
                v = grader.equal(gold, a);
                verdictOf.set(a, v);
            }
            return v;
        });
        stats.noAnswer += answers.filter((a) => a === null).length;
        const finished = group.map((c, i) => isFinished({text: c.text, answer: answers[i], finishReason: c.finishReason}));
        stats.unfinished += finished.filter((f) => !f).length;
        const classes = answerClasses(answers, correct, grader.equal);
        stats.meanClasses += classes.count;
        questions.push(prepareQuestion({id: qid, correct, classes, stepScores: stats.scored ? group.map((c) => c.stepScores!) : null, aggregations: options.aggregations ?? AGGREGATIONS, finished}));
        options.onProgress?.(++done, groups.size);
    }
    stats.meanClasses /= Math.max(1, groups.size);
    return {questions, stats};
}
