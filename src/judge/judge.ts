/**
 * `stepwise judge`: LLM-as-a-judge for step-by-step solutions (Qwen arXiv 2501.07301 §3). For
 * each solution the judge reads the problem and the numbered steps (src/judge/prompt.ts), is
 * sampled n times, each answer is parsed (src/judge/parse.ts) and the answers are majority-voted
 * (src/judge/vote.ts). Works with any engine that renders chats: a GGUF with a chat template
 * (llama engine, e.g. the lab judge), vLLM and `stepwise serve` (OpenAI engine).
 *
 * Output: one {@link VerdictRecord} per solution, same `id` as its input record, written in input
 * order through the stage helper (src/core/stage.ts), so an interrupted file is a prefix of
 * the complete one and re-running the same command completes it (a torn last line is cut). A file
 * made with other settings is refused naming each difference (`<out>.settings.json`; the
 * `method` field of older files), and a second writer is refused by a lock.
 */
import {basename} from "node:path";
import type {ChatMessage, Engine} from "../engines/types.ts";
import {StepwiseError} from "../util/errors.ts";
import {readJsonl} from "../io/jsonl.ts";
import {engineSettings} from "../pipeline/sample.ts";
import {openStage, resolveLazy, runOrdered, type Lazy, type Settings, type Stage} from "../core/stage.ts";
import {deriveSeed, hashString} from "../util/rng.ts";
import {judgeMessages, JUDGE_INSTRUCTION} from "./prompt.ts";
import {parseVerdict, type ParseFailure} from "./parse.ts";
import {judgeVote} from "./vote.ts";

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
    return `${engineSpec},n=${r.n},T=${r.temperature},max=${r.maxTokens},seed=${r.seed},prompt=${promptHash(r.system)}`;
}

/** Hash of the judge instruction and system message: a changed prompt changes verdicts. */
function promptHash(system: string | undefined): string {
    return (hashString(JUDGE_INSTRUCTION + (system ?? "")) >>> 0).toString(16);
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
    const vote = judgeVote(votes);
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
    /** The judge, or a function that makes it after the output checks (then closed at the end). */
    engine: Lazy<Engine>;
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

/** The settings of a verdicts file (stage.ts `<out>.settings.json`): everything that changes a verdict. */
export function judgeSettings(engineSpec: string, engine: Lazy<Engine>, s: JudgeSettings, input?: string): Settings {
    const r = resolved(s);
    return {
        engine: engineSettings(engineSpec, engine),
        ...(input !== undefined ? {in: basename(input)} : {}),
        n: r.n,
        temperature: r.temperature,
        max_tokens: r.maxTokens,
        seed: r.seed,
        prompt: promptHash(r.system),
    };
}

/**
 * Open a verdicts file through the stage helper (src/core/stage.ts): output checks, lock,
 * torn last line cut, settings fingerprint (files of older versions without a settings file are
 * checked by each record's `method`). Call before loading the judge model.
 */
function openJudgeStage(o: JudgeRunOptions & {out: string}, input?: string): Stage<VerdictRecord> {
    const method = judgeMethod(o.engineSpec, o);
    return openStage<VerdictRecord>({
        name: "judge",
        out: o.out,
        inputs: input !== undefined ? [input] : [],
        settings: judgeSettings(o.engineSpec, o.engine, o, input),
        checkExisting: (r) => (r.method !== method ? `${r.method}, now ${method}` : undefined),
    });
}

/** A solution to judge and where it comes from (for error messages). */
type Located = JudgeInput & {where?: string};

/** Judge `inputs` not yet in `stage` (all of them without one), in input order; see {@link judgeSolutions}. */
async function runJudge(inputs: readonly Located[], o: JudgeRunOptions, stage: Stage<VerdictRecord> | undefined): Promise<{verdicts: VerdictRecord[]; summary: JudgeSummary}> {
    const seen = new Set<string>();
    for (const r of inputs) {
        if (seen.has(r.id)) throw new StepwiseError(`judge: duplicate solution id ${JSON.stringify(r.id)}${r.where ? ` (${r.where})` : ""}`);
        seen.add(r.id);
    }
    const todo = stage ? inputs.filter((r) => !stage.done.has(r.id)) : inputs;
    const skipped = inputs.length - todo.length;
    const {value: engine, created} = await resolveLazy(o.engine);
    try {
        const before = engine.stats();
        const fresh: VerdictRecord[] = [];
        const work = (r: Located) => judgeSolution(engine, r, o);
        const opts = {
            concurrency: o.concurrency ?? 2,
            where: (r: Located) => r.where ?? `solution ${JSON.stringify(r.id)}`,
            onProgress: (d: number) => o.onProgress?.(skipped + d, inputs.length),
        };
        // Written in input order: an interrupted file is a prefix of the complete one.
        if (stage) await stage.runOrdered(todo, work, {...opts, onWritten: (r) => fresh.push(r as VerdictRecord)});
        else await runOrdered(todo, work, (r) => fresh.push(r), opts);
        const after = engine.stats();
        const byId = new Map([...(stage?.existing ?? []), ...fresh].map((r) => [r.id, r]));
        const verdicts = inputs.map((r) => byId.get(r.id)!);
        return {
            verdicts,
            summary: {
                ...summarizeVerdicts(verdicts),
                written: fresh.length,
                skipped,
                prompt_tokens: after.promptTokens - before.promptTokens,
                generated_tokens: after.generatedTokens - before.generatedTokens,
                requests: after.requests - before.requests,
            },
        };
    } finally {
        if (created) await engine.close();
    }
}

/**
 * Judge solutions, resuming from `out` when given (a resumable stage: src/core/stage.ts —
 * locked, torn last line cut, other settings refused naming each difference). Returns the
 * verdicts in input order (resumed and new) and the summary. Ids must be unique. The engine may
 * be given lazily (`() => createEngine(spec)`): it is then made after the output checks and
 * closed at the end.
 */
export async function judgeSolutions(inputs: readonly JudgeInput[], o: JudgeRunOptions): Promise<{verdicts: VerdictRecord[]; summary: JudgeSummary}> {
    const stage = o.out !== undefined ? openJudgeStage({...o, out: o.out}) : undefined;
    try {
        return await runJudge(inputs, o, stage);
    } finally {
        stage?.close();
    }
}

/** Judge every solution of a steps JSONL file into `out`, resuming what is already there (see {@link judgeSolutions}). */
export async function judgeFile(o: JudgeFileOptions): Promise<JudgeSummary> {
    const stage = openJudgeStage(o, o.input);
    try {
        const inputs: Located[] = [];
        for await (const {record, line} of readJsonl(o.input)) {
            if (o.limit !== undefined && inputs.length >= o.limit) break;
            const where = `${o.input}:${line}`;
            inputs.push({...judgeInputFromRow(record, where), where: `${where} id ${JSON.stringify(String(record.id))}`});
        }
        return (await runJudge(inputs, o, stage)).summary;
    } finally {
        stage.close();
    }
}
