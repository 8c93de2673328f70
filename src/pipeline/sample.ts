/**
 * Sampling stage: for every question of a data set, n solutions from an engine, each token with
 * its confidence. Appends SampleRecords to a JSONL file through the stage helper (stage.ts:
 * output checks, lock, settings fingerprint) and resumes: records already in the file are kept,
 * and a question whose samples are partly written is sampled again with the same seed (so the
 * same samples come back) and only the missing ones are written. Records are written in
 * question order. Raising --n extends a finished file (sample i depends only on the seed and i).
 */
import {basename} from "node:path";
import type {Engine, SamplingOptions} from "../engines/types.ts";
import {deriveSeed, hashString} from "../util/rng.ts";
import {StepwiseError} from "../util/errors.ts";
import {readQuestions, type DatasetFields, type QuestionRow} from "../io/dataset.ts";
import {recordTokens, sampleId, type SampleRecord} from "../core/records.ts";
import {SampleRecordSchema} from "../core/schemas.ts";
import {engineFingerprint, openStage, resolveLazy, type Lazy, type Settings} from "../core/stage.ts";
import {samplingSent} from "../engines/spec.ts";

/** Settings of an engine for a fingerprint: from its spec, else (a spec-less test engine) from its info. */
export function engineSettings(spec: string, engine?: Lazy<Engine>): Settings {
    if (typeof engine === "function" || engine === undefined) return engineFingerprint(spec);
    try {
        return engineFingerprint(spec);
    } catch {
        return {kind: engine.info.kind, model: engine.info.model, spec};
    }
}

/**
 * The settings entry `sent`: what the engine sends (or applies in-process) for these sampling
 * options, with its seed rule, from the spec (engines/spec.ts samplingSent); for a spec-less
 * engine object (tests), its own samplingRecord.
 */
export function sentSettings(spec: string, engine: Lazy<Engine> | undefined, o: SamplingOptions): Settings {
    try {
        return samplingSent(spec, o) as Settings;
    } catch (e) {
        if (typeof engine === "function" || engine === undefined || /^(llama|openai):/.test(spec)) throw e;
        return engine.samplingRecord(o) as Settings;
    }
}

export interface SampleOptions {
    /** The engine, or a function that creates it (called after the output checks; closed at the end). */
    engine: Lazy<Engine>;
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
    /** Top alternatives recorded per token. Default 0 (opt-in: see RecordedToken). */
    topLogprobs?: number;
    /** Base seed; each question gets its own seed derived from it and the question id. Default 0. */
    seed?: number;
    /** Only the first `limit` questions. */
    limit?: number;
    /** Questions in flight at once. Default 4. */
    concurrency?: number;
    /** Skip (and count) questions whose prompt does not fit the model's context, instead of stopping. */
    skipTooLong?: boolean;
    /**
     * Resume an output that has no `<out>.settings.json` (copied, or written by an older stepwise),
     * vouching that these settings made it: its records show the engine spec, temperature, seed and
     * (without chat) the prompt, and are checked for those; the rest (max tokens, top-p, top-k,
     * stop, …) cannot be checked. Without it such an output is refused. Default false.
     */
    adopt?: boolean;
    onProgress?: (done: number, total: number) => void;
}

export interface SampleSummary {
    questions: number;
    written: number;
    skipped: number;
    generatedTokens: number;
    /** Questions skipped because their prompt does not fit the context (with skipTooLong). */
    tooLong: Array<{where: string; message: string}>;
}

/** A prompt: `template` with every `{question}` replaced by the question. */
export function renderPrompt(template: string, question: string): string {
    return template.split("{question}").join(question);
}

/**
 * The prompt template to use: `template`, default "{question}\n" (the lab policy's prompt).
 * Refuses a template without `{question}` (a StepwiseError naming the flag): every prompt
 * would be the template alone, the same for every question. A template that spells another
 * placeholder (`{problem}`, the data's field) is told that only `{question}` is replaced.
 */
export function checkTemplate(template = "{question}\n", flag = "--template"): string {
    if (template.includes("{question}")) return template;
    const other = /\{(\w+)\}/.exec(template)?.[1];
    const spelled = other ? ` ({${other}} is not replaced: {question} stands for the question, whatever the data's field is called; see --question-field)` : "";
    throw new StepwiseError(
        `${flag} ${JSON.stringify(template.length > 80 ? template.slice(0, 80) + "…" : template)}: has no {question} placeholder, so every prompt would be the template alone${spelled}; e.g. ${flag} "Question: {question}\\nAnswer:"`,
    );
}

/**
 * A question's prompt from its rendered template text ({@link renderPrompt}): the text itself, or
 * with `chat` the text as a user message (after a `system` message when given) in the engine's chat template.
 */
export async function questionPrompt(engine: Pick<Engine, "formatChat">, text: string, o: {chat?: boolean; system?: string}): Promise<string> {
    return o.chat ? engine.formatChat([...(o.system ? [{role: "system" as const, content: o.system}] : []), {role: "user", content: text}]) : text;
}

export async function sampleDataset(o: SampleOptions): Promise<SampleSummary> {
    const temperature = o.temperature ?? 1;
    const template = checkTemplate(o.template);
    const baseSeed = o.seed ?? 0;
    const engineInfo = engineSettings(o.engineSpec, o.engine);
    const stage = openStage({
        schema: SampleRecordSchema,
        name: "sample",
        out: o.out,
        inputs: [o.data],
        settings: {
            engine: engineInfo,
            data: basename(o.data),
            fields: {question: o.fields?.question ?? null, id: o.fields?.id ?? null, answer: o.fields?.answer ?? null},
            template,
            chat: o.chat ?? false,
            system: o.system ?? null,
            temperature,
            top_p: o.topP ?? 1,
            top_k: o.topK ?? 0,
            max_tokens: o.maxTokens ?? 256,
            stop: o.stop ?? [],
            top_logprobs: o.topLogprobs ?? 0,
            seed: baseSeed,
            // What the engine sends (or applies in-process) for these options, penalties and seed rule included.
            sent: sentSettings(o.engineSpec, o.engine, {temperature, topP: o.topP, topK: o.topK, maxTokens: o.maxTokens, stop: o.stop}),
        },
        checkExisting: (r) => {
            if (r.temperature !== temperature) return `temperature ${r.temperature}, now ${temperature}`;
            if (r.engine !== o.engineSpec) return `engine ${r.engine}, now ${o.engineSpec}`;
            const seed = typeof r.question_id === "string" ? deriveSeed(baseSeed, hashString(r.question_id)) : undefined;
            if (r.seed !== seed) return `question seed ${r.seed}, while --seed ${baseSeed} gives ${seed}`;
            if (!o.chat && r.prompt !== renderPrompt(template, r.question)) return `prompt ${JSON.stringify(r.prompt.slice(0, 60))} is not this template's`;
            return undefined;
        },
        // What a sample record cannot show: checked only through the settings file.
        unprovable: ["data", "fields", "top_p", "top_k", "max_tokens", "stop", "top_logprobs", "sent", ...(o.chat ? ["template", "chat", "system"] : ["system"])],
        adopt: o.adopt,
        adoptFlag: "--adopt",
    });
    let engine: Engine | undefined;
    let created = false;
    try {
        const rows: QuestionRow[] = [];
        for await (const row of readQuestions(o.data, o.fields, o.limit)) rows.push(row);
        ({value: engine, created} = await resolveLazy(o.engine));
        const eng = engine;
        let skipped = 0;
        let tokens = 0;
        const todo = rows.filter((row) => {
            const have = Array.from({length: o.n}, (_, i) => i).filter((i) => stage.done.has(sampleId(row.id, i))).length;
            skipped += have;
            return have < o.n;
        });
        const before = rows.length - todo.length;
        const run = await stage.runOrdered(
            todo,
            async (row, _index, signal) => {
                const missing = Array.from({length: o.n}, (_, i) => i).filter((i) => !stage.done.has(sampleId(row.id, i)));
                // Sample i depends only on (seed, i) on every engine, so only the missing range is drawn.
                const first = Math.min(...missing);
                const prompt = await questionPrompt(eng, renderPrompt(template, row.question), o);
                const seed = deriveSeed(baseSeed, hashString(row.id));
                const samples = await eng.generate({
                    prompt,
                    n: Math.max(...missing) - first + 1,
                    firstIndex: first,
                    signal,
                    seed,
                    temperature,
                    topP: o.topP,
                    topK: o.topK,
                    maxTokens: o.maxTokens,
                    stop: o.stop,
                    topLogprobs: o.topLogprobs ?? 0,
                });
                return missing.map((i): SampleRecord => {
                    const s = samples[i - first];
                    tokens += s.tokens.length;
                    return {
                        id: sampleId(row.id, i),
                        question_id: row.id,
                        sample_index: i,
                        question: row.question,
                        prompt,
                        text: s.text,
                        tokens: recordTokens(s.tokens),
                        finish_reason: s.finishReason,
                        ...(row.answer !== undefined ? {gold: row.answer} : {}),
                        engine: o.engineSpec,
                        seed,
                        temperature,
                    };
                });
            },
            {
                concurrency: o.concurrency ?? 4,
                where: (row) => `${row.where} id ${JSON.stringify(row.id)}`,
                skipTooLong: o.skipTooLong,
                onProgress: (d) => o.onProgress?.(before + d, rows.length),
            },
        );
        return {questions: rows.length, written: run.written, skipped, generatedTokens: tokens, tooLong: run.tooLong};
    } finally {
        stage.close();
        if (created) await engine?.close();
    }
}
