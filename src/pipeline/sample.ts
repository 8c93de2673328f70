/**
 * Sampling stage: for every question of a data set, n solutions from an engine, each token with
 * its confidence. Appends SampleRecords to a JSONL file and resumes: records already in the file
 * are kept, and a question whose samples are partly written is sampled again with the same seed
 * (so the same samples come back) and only the missing ones are written.
 */
import pLimit from "p-limit";
import {StepwiseError, type Engine} from "../engines/types.ts";
import {deriveSeed, hashString} from "../util/rng.ts";
import {readQuestions, type DatasetFields, type QuestionRow} from "../io/dataset.ts";
import {JsonlWriter, readJsonlTolerant} from "../io/jsonl.ts";
import {sampleId, type SampleRecord} from "./records.ts";

export interface SampleOptions {
    engine: Engine;
    /** Engine spec, recorded in each record. */
    engineSpec: string;
    data: string;
    out: string;
    n: number;
    fields?: DatasetFields;
    /** Prompt template; `{question}` is replaced. Default "{question}\n". */
    template?: string;
    /** Wrap the templated question as a user message in the model's chat template. */
    chat?: boolean;
    system?: string;
    temperature?: number;
    topP?: number;
    topK?: number;
    maxTokens?: number;
    stop?: string[];
    topLogprobs?: number;
    /** Base seed; each question gets its own seed derived from it and the question id. Default 0. */
    seed?: number;
    /** Only the first `limit` questions. */
    limit?: number;
    /** Questions in flight at once. Default 4. */
    concurrency?: number;
    onProgress?: (done: number, total: number) => void;
}

export interface SampleSummary {
    questions: number;
    written: number;
    skipped: number;
    generatedTokens: number;
}

export function renderPrompt(template: string, question: string): string {
    return template.split("{question}").join(question);
}

export async function sampleDataset(o: SampleOptions): Promise<SampleSummary> {
    const {records: existing, droppedTornLine} = readJsonlTolerant<SampleRecord>(o.out);
    if (droppedTornLine) process.stderr.write(`[stepwise] ${o.out}: dropped a torn last line left by an interrupted run\n`);
    const temperature = o.temperature ?? 1;
    const mixed = existing.find((r) => r.temperature !== temperature);
    if (mixed) throw new StepwiseError(`${o.out}: holds samples at temperature ${mixed.temperature}, not ${temperature}; use another --out`);
    const done = new Set(existing.map((r) => r.id));
    const rows: QuestionRow[] = [];
    for await (const row of readQuestions(o.data, o.fields)) {
        if (o.limit !== undefined && rows.length >= o.limit) break;
        rows.push(row);
    }
    const writer = new JsonlWriter(o.out);
    const template = o.template ?? "{question}\n";
    const baseSeed = o.seed ?? 0;
    const limit = pLimit(o.concurrency ?? 4);
    let finished = 0;
    let written = 0;
    let skipped = 0;
    let tokens = 0;
    o.onProgress?.(0, rows.length);
    try {
        await Promise.all(
            rows.map((row) =>
                limit(async () => {
                    const missing = Array.from({length: o.n}, (_, i) => i).filter((i) => !done.has(sampleId(row.id, i)));
                    skipped += o.n - missing.length;
                    if (missing.length > 0) {
                        const text = renderPrompt(template, row.question);
                        const prompt = o.chat
                            ? await o.engine.formatChat([...(o.system ? [{role: "system" as const, content: o.system}] : []), {role: "user", content: text}])
                            : text;
                        const seed = deriveSeed(baseSeed, hashString(row.id));
                        const samples = await o.engine.generate({
                            prompt,
                            n: Math.max(...missing) + 1,
                            seed,
                            temperature,
                            topP: o.topP,
                            topK: o.topK,
                            maxTokens: o.maxTokens,
                            stop: o.stop,
                            topLogprobs: o.topLogprobs,
                        });
                        for (const i of missing) {
                            const s = samples[i];
                            const record: SampleRecord = {
                                id: sampleId(row.id, i),
                                question_id: row.id,
                                sample_index: i,
                                question: row.question,
                                prompt,
                                text: s.text,
                                tokens: s.tokens,
                                finish_reason: s.finishReason,
                                ...(row.answer !== undefined ? {gold: row.answer} : {}),
                                engine: o.engineSpec,
                                seed,
                                temperature,
                            };
                            writer.write(record);
                            written++;
                            tokens += s.tokens.length;
                        }
                    }
                    o.onProgress?.(++finished, rows.length);
                }),
            ),
        );
    } finally {
        writer.close();
    }
    return {questions: rows.length, written, skipped, generatedTokens: tokens};
}
