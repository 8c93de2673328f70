/**
 * Scoring stage: PRM step scores for every record of a steps file (output of `stepwise split`
 * or `stepwise label`, or any JSONL with `question` and `steps` as strings or {text} objects).
 * Writes each record with `step_scores` added, in input order, resuming what is already there.
 */
import pLimit from "p-limit";
import {StepwiseError} from "../engines/types.ts";
import {JsonlWriter, readJsonl, readJsonlTolerant} from "../io/jsonl.ts";
import type {StepScorer} from "../prm/scorer.ts";

export interface ScoreFileOptions {
    scorer: StepScorer;
    input: string;
    out: string;
    /** Field names. Defaults: id, question (or problem), steps. */
    idField?: string;
    questionField?: string;
    stepsField?: string;
    concurrency?: number;
    limit?: number;
    onProgress?: (done: number, total: number) => void;
}

/** Step texts of a record: strings, or objects with a `text` field. */
export function stepTexts(value: unknown, where: string, field: string): string[] {
    if (!Array.isArray(value)) throw new StepwiseError(`${where}: field "${field}" must be an array of steps`);
    return value.map((s, i) => {
        if (typeof s === "string") return s;
        if (s && typeof s === "object" && typeof (s as {text?: unknown}).text === "string") return (s as {text: string}).text;
        throw new StepwiseError(`${where}: ${field}[${i}] must be a string or an object with a "text" string`);
    });
}

export async function scoreFile(o: ScoreFileOptions): Promise<{scored: number; skipped: number; steps: number}> {
    const idField = o.idField ?? "id";
    const stepsField = o.stepsField ?? "steps";
    const {records: existing} = readJsonlTolerant(o.out);
    const done = new Set(existing.map((r) => String(r[idField])));
    const todo: Array<{record: Record<string, unknown>; question: string; steps: string[]}> = [];
    let total = 0;
    for await (const {record, line} of readJsonl(o.input)) {
        if (o.limit !== undefined && total >= o.limit) break;
        total++;
        const where = `${o.input}:${line}`;
        if (!(idField in record)) throw new StepwiseError(`${where}: missing field "${idField}"`);
        if (done.has(String(record[idField]))) continue;
        const qField = o.questionField ?? ("question" in record ? "question" : "problem");
        const question = record[qField];
        if (typeof question !== "string") throw new StepwiseError(`${where}: missing string field "${qField}"`);
        todo.push({record, question, steps: stepTexts(record[stepsField], where, stepsField)});
    }
    const writer = new JsonlWriter(o.out);
    const limit = pLimit(o.concurrency ?? 4);
    const results: Array<Record<string, unknown> | undefined> = new Array(todo.length);
    let flushed = 0;
    let finished = 0;
    let steps = 0;
    o.onProgress?.(total - todo.length, total);
    try {
        await Promise.all(
            todo.map((t, i) =>
                limit(async () => {
                    const scores = await o.scorer.scoreSteps(t.question, t.steps);
                    steps += scores.length;
                    results[i] = {...t.record, step_scores: scores};
                    while (flushed < todo.length && results[flushed]) {
                        writer.write(results[flushed]);
                        results[flushed++] = undefined;
                    }
                    o.onProgress?.(total - todo.length + ++finished, total);
                }),
            ),
        );
    } finally {
        writer.close();
    }
    return {scored: todo.length, skipped: total - todo.length, steps};
}
