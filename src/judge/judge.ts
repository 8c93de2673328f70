/**
 * `stepwise judge`: LLM-as-a-judge for step-by-step solutions (Qwen arXiv 2501.07301 §3). For
 * each solution the judge reads the problem and the numbered steps (src/judge/prompt.ts), is
 * sampled n times, each answer is parsed (src/judge/parse.ts) and the answers are majority-voted
 * (src/judge/vote.ts). Works with any engine that renders chats: a GGUF with a chat template
 * (llama engine, e.g. the lab judge), vLLM and `stepwise serve` (OpenAI engine).
 *
 * Output: one {@link VerdictRecord} per solution, same `id` as its input record, written in input
 * order, so an interrupted file is a prefix of the complete one and re-running the same command
 * completes it. A file made with other settings is refused (the `method` field).
 */
import pLimit from "p-limit";
import type {ChatMessage, Engine} from "../engines/types.ts";
import {StepwiseError} from "../engines/types.ts";
import {JsonlWriter, readJsonl, readJsonlTolerant} from "../io/jsonl.ts";
import {deriveSeed, hashString} from "../util/rng.ts";
import {judgeMessages, JUDGE_INSTRUCTION} from "./prompt.ts";
import {parseVerdict, type ParseFailure} from "./parse.ts";
import {majorityVote} from "./vote.ts";

/** One verdict: the voted first wrong step of one solution, with every answer kept. */
export interface VerdictRecord {
    /** The input record's id (a sample id `<question_id>#<index>` for split/label output). */
    id: string;
    question_id?: string;
    /** Number of steps the judge saw. */
    steps: number;
    /** Voted index of the earliest wrong step (0-based), −1 for none, null when there is no majority or nothing parsed. */
    first_error: number | null;
    /** Each answer's parsed index (null: unparsable), in sample order. */
    votes: Array<number | null>;
    /** Each answer's raw text. */
    raw: string[];
    /** Why each answer is unparsable (null: parsed). */
    parse_failures: Array<ParseFailure | null>;
    /** Share of the n answers that voted for the winner (0 when first_error is null). */
    agreement: number;
    /** Why first_error is null. */
    no_verdict?: "tie" | "all-unparsable";
    /** Tokens the judge generated for this solution (all n answers). */
    generated_tokens: number;
    /** The judging settings, so files of different settings are never mixed on resume. */
    method: string;
}

/** What the judge needs of a solution. */
export interface JudgeInput {
    id: string;
    question_id?: string;
    question: string;
    steps: string[];
}

export interface JudgeSettings {
    /** Answers per solution (majority vote). Default 5. */
    n?: number;
    /** Sampling temperature. Default 1 (0 = greedy; then n > 1 repeats one answer). */
    temperature?: number;
    /** Most tokens per answer. Default 1024 (the llama engine stops earlier at the context end). */
    maxTokens?: number;
    seed?: number;
    /** Optional system message. */
    system?: string;
}

function resolved(s: JudgeSettings): Required<Omit<JudgeSettings, "system">> & {system?: string} {
    return {n: s.n ?? 5, temperature: s.temperature ?? 1, maxTokens: s.maxTokens ?? 1024, seed: s.seed ?? 0, system: s.system};
}

/** The settings that change verdicts, as stored in each record. */
export function judgeMethod(engineSpec: string, s: JudgeSettings): string {
    const r = resolved(s);
    const prompt = (hashString(JUDGE_INSTRUCTION + (r.system ?? "")) >>> 0).toString(16);
    return `${engineSpec},n=${r.n},T=${r.temperature},max=${r.maxTokens},seed=${r.seed},prompt=${prompt}`;
}

/**
 * Sample a chat answer n times: through `chat()` where the engine has it (capabilities.chat: the
 * llama engine renders the GGUF's chat template, servers their own), else formatChat + generate.
 */
async function chatSamples(engine: Engine, messages: ChatMessage[], o: {n: number; temperature: number; maxTokens: number; seed: number}) {
    const sampling = {n: o.n, temperature: o.temperature, maxTokens: o.maxTokens, seed: o.seed, topLogprobs: 0};
    if (engine.capabilities.chat) return engine.chat({messages, ...sampling});
    const prompt = await engine.formatChat(messages, {addGenerationPrompt: true});
    return engine.generate({prompt, ...sampling});
}

/** Judge one solution. */
export async function judgeSolution(engine: Engine, input: JudgeInput, settings: JudgeSettings & {engineSpec: string}): Promise<VerdictRecord> {
    const s = resolved(settings);
    if (input.steps.length === 0) throw new StepwiseError(`judge: ${input.id} has no steps`);
    const samples = await chatSamples(engine, judgeMessages(input.question, input.steps, {system: s.system}), {
        n: s.n,
        temperature: s.temperature,
        maxTokens: s.maxTokens,
        seed: deriveSeed(s.seed, hashString(input.id)),
    });
    const parsed = samples.map((x) => parseVerdict(x.text, input.steps.length));
    const votes = parsed.map((p) => p.first_error);
    const vote = majorityVote(votes);
    return {
        id: input.id,
        ...(input.question_id !== undefined ? {question_id: input.question_id} : {}),
        steps: input.steps.length,
        first_error: vote.first_error,
        votes,
        raw: samples.map((x) => x.text),
        parse_failures: parsed.map((p) => p.reason ?? null),
        agreement: vote.agreement,
        ...(vote.reason ? {no_verdict: vote.reason} : {}),
        generated_tokens: samples.reduce((a, x) => a + x.tokens.length, 0),
        method: judgeMethod(settings.engineSpec, settings),
    };
}

/**
 * A judge input from a JSONL row: the output of `stepwise split` or `label` (question, steps as
 * {text}), or a ProcessBench-shaped row (problem, steps as strings). Throws naming file and line.
 */
export function judgeInputFromRow(row: Record<string, unknown>, where: string): JudgeInput {
    const id = row.id;
    if (typeof id !== "string" && typeof id !== "number") throw new StepwiseError(`${where}: missing field "id"`);
    const question = row.question ?? row.problem;
    if (typeof question !== "string") throw new StepwiseError(`${where}: missing field "question" (or "problem")`);
    if (!Array.isArray(row.steps)) throw new StepwiseError(`${where}: missing field "steps" (judge reads the output of \`stepwise split\` or \`label\`, or ProcessBench rows)`);
    const steps = row.steps.map((s: unknown, i: number) => {
        if (typeof s === "string") return s;
        if (s && typeof s === "object" && typeof (s as {text?: unknown}).text === "string") return (s as {text: string}).text;
        throw new StepwiseError(`${where}: steps[${i}] is neither a string nor a step with "text"`);
    });
    return {id: String(id), ...(typeof row.question_id === "string" ? {question_id: row.question_id} : {}), question, steps};
}

export interface JudgeRunOptions extends JudgeSettings {
    engine: Engine;
    /** Engine spec as given (recorded in `method`). */
    engineSpec: string;
    /** Verdicts JSONL: records already there (same settings) are reused, new ones appended in input order. Without it, nothing is written. */
    out?: string;
    /** Solutions judged at once. Default 2. */
    concurrency?: number;
    onProgress?: (done: number, total: number) => void;
}

export interface JudgeFileOptions extends JudgeRunOptions {
    input: string;
    out: string;
    limit?: number;
}

export interface JudgeSummary {
    solutions: number;
    written: number;
    skipped: number;
    /** Verdicts: some step wrong / no step wrong / none (tie or nothing parsed). */
    verdict_error: number;
    verdict_correct: number;
    no_verdict: number;
    answers: number;
    unparsable_answers: number;
    parse_failures: Partial<Record<ParseFailure, number>>;
    /** Token accounting of this run (engine counters; resumed records are not recounted). */
    prompt_tokens: number;
    generated_tokens: number;
    requests: number;
}

export function summarizeVerdicts(records: VerdictRecord[]): Omit<JudgeSummary, "written" | "skipped" | "prompt_tokens" | "generated_tokens" | "requests"> {
    const failures: Partial<Record<ParseFailure, number>> = {};
    let unparsable = 0;
    for (const r of records)
        for (const f of r.parse_failures)
            if (f) {
                unparsable++;
                failures[f] = (failures[f] ?? 0) + 1;
            }
    return {
        solutions: records.length,
        verdict_error: records.filter((r) => r.first_error !== null && r.first_error >= 0).length,
        verdict_correct: records.filter((r) => r.first_error === -1).length,
        no_verdict: records.filter((r) => r.first_error === null).length,
        answers: records.reduce((a, r) => a + r.votes.length, 0),
        unparsable_answers: unparsable,
        parse_failures: failures,
    };
}

/**
 * Judge solutions, resuming from `out` when given. Returns the verdicts in input order (resumed
 * and new) and the summary. Ids must be unique.
 */
export async function judgeSolutions(inputs: readonly JudgeInput[], o: JudgeRunOptions): Promise<{verdicts: VerdictRecord[]; summary: JudgeSummary}> {
    const method = judgeMethod(o.engineSpec, o);
    const seen = new Set<string>();
    for (const r of inputs) {
        if (seen.has(r.id)) throw new StepwiseError(`judge: duplicate solution id ${JSON.stringify(r.id)}`);
        seen.add(r.id);
    }
    const existing: VerdictRecord[] = [];
    if (o.out) {
        const {records, droppedTornLine} = readJsonlTolerant<VerdictRecord>(o.out);
        if (droppedTornLine) process.stderr.write(`[stepwise] ${o.out}: dropped a torn last line left by an interrupted run\n`);
        const bad = records.find((r) => r.method !== method);
        if (bad) throw new StepwiseError(`${o.out}: holds verdicts made with different settings (${bad.method}, now ${method}); use another --out or the same settings`);
        existing.push(...records);
    }
    const done = new Map(existing.map((r) => [r.id, r]));
    const todo = inputs.filter((r) => !done.has(r.id));
    const before = o.engine.stats();
    const writer = o.out ? new JsonlWriter(o.out) : undefined;
    const limit = pLimit(o.concurrency ?? 2);
    const results: Array<VerdictRecord | undefined> = new Array(todo.length);
    const fresh: VerdictRecord[] = [];
    let flushed = 0;
    let finished = 0;
    o.onProgress?.(inputs.length - todo.length, inputs.length);
    try {
        await Promise.all(
            todo.map((r, i) =>
                limit(async () => {
                    results[i] = await judgeSolution(o.engine, r, o);
                    // write in input order: the file is always a prefix of the complete output
                    while (flushed < todo.length && results[flushed]) {
                        writer?.write(results[flushed]);
                        fresh.push(results[flushed]!);
                        flushed++;
                    }
                    o.onProgress?.(inputs.length - todo.length + ++finished, inputs.length);
                }),
            ),
        );
    } finally {
        writer?.close();
    }
    const after = o.engine.stats();
    const byId = new Map([...existing, ...fresh].map((r) => [r.id, r]));
    const verdicts = inputs.map((r) => byId.get(r.id)!);
    return {
        verdicts,
        summary: {
            ...summarizeVerdicts(verdicts),
            written: fresh.length,
            skipped: inputs.length - todo.length,
            prompt_tokens: after.promptTokens - before.promptTokens,
            generated_tokens: after.generatedTokens - before.generatedTokens,
            requests: after.requests - before.requests,
        },
    };
}

/** Judge every solution of a steps JSONL file into `out`, resuming what is already there. */
export async function judgeFile(o: JudgeFileOptions): Promise<JudgeSummary> {
    const inputs: JudgeInput[] = [];
    for await (const {record, line} of readJsonl(o.input)) {
        if (o.limit !== undefined && inputs.length >= o.limit) break;
        inputs.push(judgeInputFromRow(record, `${o.input}:${line}`));
    }
    return (await judgeSolutions(inputs, o)).summary;
}
