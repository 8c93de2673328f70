/**
 * Reading question rows from the files users bring: JSONL, a JSON array (or `{data: [...]}`),
 * or Parquet. Field names are configurable; the shapes of GSM8K (`question`, `answer`),
 * MATH500 (`problem`, `answer`, `unique_id`), ProcessBench (`id`, `problem`, `steps`) and
 * stepwise's lab (`id`, `question`, `answer`) work with no flags.
 */
import {readFileSync} from "node:fs";
import {createHash} from "node:crypto";
import {StepwiseError, fsError} from "../util/errors.ts";
import {readJsonl} from "./jsonl.ts";
import {checkInputFile, readTextFile} from "./text.ts";

export interface QuestionRow {
    /** Stable id: the id field when present, else {@link questionId} of the question text. */
    id: string;
    question: string;
    /** Gold answer text when the row has one (GSM8K's is the whole solution ending in `#### N`). */
    answer?: string;
    /** The field the answer was looked up in, when the row has it (its value may be null or empty: see {@link goldProblem}). */
    answerField?: string;
    /** The original row, for fields later stages need. */
    row: Record<string, unknown>;
    /** Where it came from, for error messages: `file:line` or `file#index`. */
    where: string;
}

export interface DatasetFields {
    /** Question field; default: the first of question, problem, prompt, query present in the row. */
    question?: string;
    /** Id field; default: the first of id, unique_id, task_id, idx present in the row. */
    id?: string;
    /** Answer field; default: answer, final_answer, gold (first present). */
    answer?: string;
}

/**
 * Why a gold answer value cannot be graded against, or undefined when it can: missing
 * (`undefined`), null, an empty or white-space-only string, or not a string or finite number.
 * Grading against an empty gold answer counts every answer as wrong, silently; so every place
 * that grades against gold (label's math verifier, grade --file, eval bon, decode, eval analyze)
 * checks it with this and {@link requireGold}.
 */
export function goldProblem(value: unknown): string | undefined {
    if (value === undefined) return "missing";
    if (value === null) return "null";
    if (typeof value === "number") return Number.isFinite(value) ? undefined : `not a finite number (${value})`;
    if (typeof value !== "string") return `not a string (${Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : typeof value})`;
    if (value === "") return "an empty string";
    if (value.trim() === "") return "only white space";
    return undefined;
}

/** A record without a usable gold answer (see {@link requireGold}); commands may skip such records. */
export class NoGoldError extends StepwiseError {
    constructor(message: string) {
        super(message);
        this.name = "NoGoldError";
    }
}

/**
 * The gold answer `value` of the record at `where` (`file:line`) as a string (numbers made
 * strings). Throws a one-line {@link NoGoldError} naming `where` and `field` when it is missing,
 * null or empty ({@link goldProblem}); `skipFlag`, when the command has one (`--skip-no-gold`),
 * is named in the message.
 */
export function requireGold(value: unknown, where: string, field = "gold", skipFlag?: string): string {
    const why = goldProblem(value);
    if (why === undefined) return String(value);
    throw new NoGoldError(
        `${where}: field "${field}": ${why === "missing" ? "missing" : `is ${why}`}, so there is no gold answer to grade against (every answer would count as wrong); fix the data${skipFlag ? `, or ${skipFlag} skips such records and counts them` : ""}`,
    );
}

const QUESTION_FIELDS = ["question", "problem", "prompt", "query"];
const ID_FIELDS = ["id", "unique_id", "task_id", "idx"];
const ANSWER_FIELDS = ["answer", "final_answer", "gold"];

async function* rawRows(file: string): AsyncGenerator<{row: Record<string, unknown>; where: string}> {
    checkInputFile(file);
    const lower = file.toLowerCase();
    if (lower.endsWith(".parquet")) {
        const {parquetReadObjects} = await import("hyparquet");
        let buf: Buffer;
        try {
            buf = readFileSync(file);
        } catch (e) {
            throw fsError(e, file);
        }
        const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
        let rows: Record<string, unknown>[];
        try {
            rows = (await parquetReadObjects({file: ab})) as Record<string, unknown>[];
        } catch (e) {
            throw new StepwiseError(`${file}: cannot read Parquet (${(e as Error).message})`);
        }
        for (let i = 0; i < rows.length; i++) yield {row: rows[i], where: `${file}#${i}`};
        return;
    }
    if (lower.endsWith(".json")) {
        let value: unknown;
        try {
            value = JSON.parse(readTextFile(file));
        } catch (e) {
            if (e instanceof StepwiseError) throw e;
            throw new StepwiseError(`${file}: malformed JSON (${(e as Error).message.split("\n")[0]})`);
        }
        const list = Array.isArray(value) ? value : (value as {data?: unknown})?.data;
        if (!Array.isArray(list)) throw new StepwiseError(`${file}: expected a JSON array of rows (or an object with a "data" array)`);
        for (let i = 0; i < list.length; i++) {
            const row = list[i];
            if (!row || typeof row !== "object" || Array.isArray(row)) throw new StepwiseError(`${file}#${i}: expected an object row`);
            yield {row: row as Record<string, unknown>, where: `${file}#${i}`};
        }
        return;
    }
    for await (const {record, line} of readJsonl(file)) yield {row: record, where: `${file}:${line}`};
}

/**
 * The id of a row without an id field: `q-` and the first 12 hex digits of the SHA-256 of its
 * question text (UTF-8), so one question has one id in every file and subset that holds it
 * (GSM8K's test set has no ids). The k-th repeat of a question in one file (k ≥ 2) gets `-k`.
 * Earlier versions used `<file stem>-<row index>`; see docs (data sets without ids).
 */
export function questionId(question: string): string {
    return `q-${createHash("sha256").update(question, "utf8").digest("hex").slice(0, 12)}`;
}

function pick(row: Record<string, unknown>, explicit: string | undefined, candidates: string[]): string | undefined {
    if (explicit) return explicit in row ? explicit : undefined;
    return candidates.find((f) => f in row);
}

/**
 * Stream question rows with ids, questions and answers resolved; errors name file:line and field.
 * With `limit`, only the first `limit` rows: the rows after them are not read (nor checked).
 */
export async function* readQuestions(file: string, fields: DatasetFields = {}, limit = Infinity): AsyncGenerator<QuestionRow> {
    const seen = new Set<string>();
    const repeats = new Map<string, number>();
    if (limit <= 0) return;
    for await (const {row, where} of rawRows(file)) {
        const qField = pick(row, fields.question, QUESTION_FIELDS);
        if (!qField)
            throw new StepwiseError(
                `${where}: missing field "${fields.question ?? QUESTION_FIELDS.join('" / "')}" (use --question-field to name the question field)`,
            );
        const question = row[qField];
        if (typeof question !== "string" || question.length === 0)
            throw new StepwiseError(`${where}: field "${qField}": expected a non-empty string, got ${question === null ? "null" : typeof question === "string" ? "an empty string" : typeof question === "object" ? "an object" : JSON.stringify(question)}`);
        const idField = pick(row, fields.id, ID_FIELDS);
        if (fields.id && !idField) throw new StepwiseError(`${where}: missing id field "${fields.id}"`);
        let id = questionId(question);
        if (!idField) {
            const k = (repeats.get(id) ?? 0) + 1;
            repeats.set(id, k);
            if (k > 1) id = `${id}-${k}`;
        } else {
            const v = row[idField];
            if (typeof v === "string" && v !== "") id = v;
            else if (typeof v === "number" && Number.isFinite(v)) id = String(v);
            else
                throw new StepwiseError(
                    `${where}: field "${idField}": expected a non-empty string or a number id, got ${v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : JSON.stringify(v)}`,
                );
        }
        if (seen.has(id)) throw new StepwiseError(`${where}: duplicate id "${id}" (ids must be unique so records can be joined and resumed)`);
        seen.add(id);
        const aField = pick(row, fields.answer, ANSWER_FIELDS);
        const answer = aField && row[aField] != null ? String(row[aField]) : undefined;
        yield {id, question, answer, ...(aField ? {answerField: aField} : {}), row, where};
        if (seen.size >= limit) return;
    }
}
