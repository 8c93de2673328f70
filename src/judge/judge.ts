/**
 * `stepwise judge`: LLM-as-a-judge for step-by-step solutions (Qwen arXiv 2501.07301 §3). For
 * each solution the judge reads the problem and the indexed steps (src/judge/prompt.ts), is
 * sampled n times, each answer is parsed (src/judge/parse.ts) and the answers are majority-voted
 * (src/judge/vote.ts). Works with any engine that renders chats: a GGUF with a chat template
 * (llama engine, e.g. the lab judge), vLLM and `stepwise serve` (OpenAI engine).
 *
 * Two protocols ({@link JUDGE_PROTOCOLS}), chosen by `template` (default: {@link defaultJudgeTemplate}):
 * - "processbench": ProcessBench's critique prompt with `<paragraph_i>` blocks, the last box of
 *   each answer, ProcessBench's vote (first most common box text), n 8, T 1, top-p 0.9, 8192
 *   tokens per answer (QwenLM/ProcessBench `code/run_eval.py` with `--use_voting`);
 * - "compact": stepwise's short prompt, one clear box per answer, ties give no verdict, n 5,
 *   T 1, no top-p, 1024 tokens (the lab judge's protocol).
 *
 * Output: one {@link VerdictRecord} per solution, same `id` as its input record, written in input
 * order through the stage helper (src/core/stage.ts), so an interrupted file is a prefix of
 * the complete one and re-running the same command completes it (a torn last line is cut). A file
 * made with other settings is refused naming each difference (`<out>.settings.json`; the
 * `method` field of older files), and a second writer is refused by a lock.
 */
import {basename} from "node:path";
import type {z} from "zod";
import type {ChatMessage, Engine} from "../engines/types.ts";
import {StepwiseError} from "../util/errors.ts";
import {readJsonl} from "../io/jsonl.ts";
import {engineSettings} from "../pipeline/sample.ts";
import {openStage, resolveLazy, runOrdered, type Lazy, type Settings, type Stage} from "../core/stage.ts";
import {VerdictRecordSchema, type JudgeProtocolSchema} from "../core/schemas.ts";
import {deriveSeed, hashString} from "../util/rng.ts";
import {parseEngineSpec} from "../engines/spec.ts";
import {checkGgufHeader} from "../gguf/reader.ts";
import {JUDGE_TEMPLATES, judgeMessages, judgeTemplateText, type JudgeTemplate} from "./prompt.ts";
import {parseVerdict, parseVerdictProcessBench, type ParseFailure} from "./parse.ts";
import {judgeVote, processBenchVote} from "./vote.ts";
import {verifierDecode} from "../prm/verifier.ts";

/** One verdict: the voted first wrong step of one solution, with every answer kept (schema: core/schemas.ts {@link VerdictRecordSchema}). */
export type VerdictRecord = z.output<typeof VerdictRecordSchema>;

/** The protocol a verdict was made with (in every {@link VerdictRecord}). */
export type JudgeProtocolRecord = z.output<typeof JudgeProtocolSchema>;

/** What the judge needs of a solution. */
export interface JudgeInput {
    id: string;
    question_id?: string;
    question: string;
    steps: string[];
}

export interface JudgeSettings {
    /** Prompt, parser and vote (see the module docs). Default: {@link defaultJudgeTemplate} of the engine spec. */
    template?: JudgeTemplate;
    /** Answers per solution (majority vote). Default: the template's, 8 (processbench) or 5 (compact). */
    n?: number;
    /** Sampling temperature. Default 1 (0 = greedy; then n > 1 repeats one answer). */
    temperature?: number;
    /** Nucleus sampling mass in (0, 1]; 1 = off. Default: the template's, 0.9 (processbench) or 1 (compact). */
    topP?: number;
    /** Keep the k most likely tokens; 0 = off. Default 0. */
    topK?: number;
    /** Most tokens per answer. Default: the template's, 8192 (processbench) or 1024 (compact); the llama engine stops earlier at the context end. */
    maxTokens?: number;
    seed?: number;
    /** Optional system message. */
    system?: string;
}

/** Each template's defaults: ProcessBench's voting run (`run_eval.py --use_voting`) and the lab judge's. */
export const JUDGE_PROTOCOLS: Record<JudgeTemplate, {n: number; temperature: number; topP: number; topK: number; maxTokens: number; ties: "none" | "first-seen"}> = {
    processbench: {n: 8, temperature: 1, topP: 0.9, topK: 0, maxTokens: 8192, ties: "first-seen"},
    compact: {n: 5, temperature: 1, topP: 1, topK: 0, maxTokens: 1024, ties: "none"},
    verify: {n: 1, temperature: 0, topP: 1, topK: 0, maxTokens: 1024, ties: "none"},
};

/**
 * The template a judge gets when none is given, for a stepwise lab judge (a `llama:` spec whose
 * GGUF metadata says `stepwise.kind` = "judge", as every GGUF `stepwise lab train-judge` writes;
 * read from the header without loading the model): "verify" when its `stepwise.judge_template`
 * says so (a verifier, e.g. models/lab-verifier.gguf), else "compact"; "processbench" for everything else (OpenAI-compatible servers, other GGUFs, specs that
 * are not engine specs). Throws a one-line StepwiseError naming the file when a `llama:` model
 * cannot be read.
 */
export function defaultJudgeTemplate(engineSpec: string): JudgeTemplate {
    let spec;
    try {
        spec = parseEngineSpec(engineSpec);
    } catch {
        return "processbench"; // not an engine spec (a caller's own engine): the engine's creation reports a bad spec
    }
    if (spec.kind !== "llama") return "processbench";
    const meta = checkGgufHeader(spec.path).strings;
    if (meta["stepwise.kind"] !== "judge") return "processbench";
    return meta["stepwise.judge_template"] === "verify" ? "verify" : "compact";
}

/** Judge settings with every default filled in. */
export type ResolvedJudgeSettings = {template: JudgeTemplate; n: number; temperature: number; topP: number; topK: number; maxTokens: number; seed: number; system?: string; ties: "none" | "first-seen"};

/** Every setting with its default filled in (the template's, see {@link JUDGE_PROTOCOLS}). */
export function resolveJudgeSettings(engineSpec: string, s: JudgeSettings): ResolvedJudgeSettings {
    const template = s.template ?? defaultJudgeTemplate(engineSpec);
    if (!(JUDGE_TEMPLATES as readonly string[]).includes(template)) throw new StepwiseError(`judge: unknown template "${template}" (known: ${JUDGE_TEMPLATES.join(", ")})`);
    const d = JUDGE_PROTOCOLS[template];
    const r = {template, n: s.n ?? d.n, temperature: s.temperature ?? d.temperature, topP: s.topP ?? d.topP, topK: s.topK ?? d.topK, maxTokens: s.maxTokens ?? d.maxTokens, seed: s.seed ?? 0, system: s.system, ties: d.ties};
    if (!(r.topP > 0 && r.topP <= 1)) throw new StepwiseError(`judge: top-p must be in (0, 1], got ${r.topP}`);
    return r;
}

/** The protocol as recorded in each verdict. */
function protocolRecord(r: ResolvedJudgeSettings): JudgeProtocolRecord {
    return {template: r.template, n: r.n, temperature: r.temperature, top_p: r.topP, top_k: r.topK, max_tokens: r.maxTokens, ties: r.ties};
}

/** The settings that change verdicts, as stored in each record. */
export function judgeMethod(engineSpec: string, s: JudgeSettings): string {
    return methodOf(engineSpec, resolveJudgeSettings(engineSpec, s));
}

function methodOf(engineSpec: string, r: ResolvedJudgeSettings): string {
    return `${engineSpec},template=${r.template},n=${r.n},T=${r.temperature},top_p=${r.topP},top_k=${r.topK},max=${r.maxTokens},seed=${r.seed},prompt=${promptHash(r.template, r.system)}`;
}

/** Hash of the template's fixed text and the system message: a changed prompt changes verdicts. */
function promptHash(template: JudgeTemplate, system: string | undefined): string {
    return (hashString(judgeTemplateText(template) + (system ?? "")) >>> 0).toString(16);
}

/**
 * Sample a chat answer n times: through `chat()` where the engine has it (the
 * llama engine renders the GGUF's chat template, servers their own), else formatChat + generate.
 */
async function chatSamples(engine: Engine, messages: ChatMessage[], o: {n: number; temperature: number; topP: number; topK: number; maxTokens: number; seed: number}) {
    const sampling = {n: o.n, temperature: o.temperature, topP: o.topP, topK: o.topK, maxTokens: o.maxTokens, seed: o.seed, topLogprobs: 0};
    if (engine.chat) return engine.chat({messages, ...sampling});
    const prompt = await engine.formatChat(messages, {addGenerationPrompt: true});
    return engine.generate({prompt, ...sampling});
}

/**
 * The `verify` template's answers: the lab verifier run n times (src/prm/verifier.ts
 * `verifierDecode`, judge mode: steps quoted one at a time, each checked, stop at the first
 * "wrong", then the verifier's box), sample j seeded `seed + 1000 j`. The answer text is the
 * verifier's turn (quotes included); its tokens are the generated ones.
 */
async function verifySamples(engine: Engine, input: JudgeInput, s: ResolvedJudgeSettings, seed: number): Promise<Array<{text: string; tokens: {length: number}}>> {
    if (s.system !== undefined) throw new StepwiseError("judge: the verify template takes no system message");
    const out = [];
    for (let j = 0; j < s.n; j++) {
        const d = await verifierDecode(engine, input.question, input.steps, {mode: "judge", temperature: s.temperature, topP: s.topP, topK: s.topK, seed: seed + 1000 * j, maxTokens: s.maxTokens, maxInputTokens: engine.info.contextSize});
        out.push({text: d.text, tokens: {length: d.generated}});
    }
    return out;
}

/** Judge one solution (settings resolved as {@link resolveJudgeSettings}). */
export async function judgeSolution(engine: Engine, input: JudgeInput, settings: JudgeSettings & {engineSpec: string}): Promise<VerdictRecord> {
    return judgeResolved(engine, input, settings.engineSpec, resolveJudgeSettings(settings.engineSpec, settings));
}

async function judgeResolved(engine: Engine, input: JudgeInput, engineSpec: string, s: ResolvedJudgeSettings): Promise<VerdictRecord> {
    if (input.steps.length === 0) throw new StepwiseError(`judge: ${input.id} has no steps`);
    const seed = deriveSeed(s.seed, hashString(input.id));
    const samples =
        s.template === "verify"
            ? await verifySamples(engine, input, s, seed)
            : await chatSamples(engine, judgeMessages(input.question, input.steps, {system: s.system, template: s.template}), {
                  n: s.n,
                  temperature: s.temperature,
                  topP: s.topP,
                  topK: s.topK,
                  maxTokens: s.maxTokens,
                  seed,
              });
    const steps = input.steps.length;
    let parsed, vote, boxes: Array<string | null> | undefined;
    if (s.template === "processbench") {
        const pb = samples.map((x) => parseVerdictProcessBench(x.text, steps));
        boxes = pb.map((p) => p.box);
        parsed = pb;
        vote = processBenchVote(boxes, steps);
    } else if (s.template === "verify") {
        // A verification has one box, after its step lines: read the last box, vote the indices.
        parsed = samples.map((x) => parseVerdictProcessBench(x.text, steps));
        vote = judgeVote(parsed.map((p) => p.first_error), {ties: s.ties});
    } else {
        parsed = samples.map((x) => parseVerdict(x.text, steps));
        vote = judgeVote(parsed.map((p) => p.first_error), {ties: s.ties});
    }
    return {
        id: input.id,
        ...(input.question_id !== undefined ? {question_id: input.question_id} : {}),
        steps,
        first_error: vote.first_error,
        votes: parsed.map((p) => p.first_error),
        ...(boxes ? {boxes} : {}),
        raw: samples.map((x) => x.text),
        parse_failures: parsed.map((p) => p.reason ?? null),
        agreement: vote.agreement,
        ...(vote.reason ? {no_verdict: vote.reason} : {}),
        generated_tokens: samples.reduce((a, x) => a + x.tokens.length, 0),
        protocol: protocolRecord(s),
        method: methodOf(engineSpec, s),
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
    /** Skip (count and list in the summary's `tooLong`) solutions whose prompt does not fit the judge's context, instead of stopping. */
    skipTooLong?: boolean;
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
    /** The protocol of this run's settings. */
    protocol: JudgeProtocolRecord;
    /** With skipTooLong: solutions left out because their prompt does not fit the judge's context (where, why); they have no verdict and a re-run tries them again. */
    tooLong: Array<{where: string; message: string}>;
}

export function summarizeVerdicts(records: VerdictRecord[]): Omit<JudgeSummary, "written" | "skipped" | "prompt_tokens" | "generated_tokens" | "requests" | "protocol" | "tooLong"> {
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
    const r = resolveJudgeSettings(engineSpec, s);
    return {
        engine: engineSettings(engineSpec, engine),
        ...(input !== undefined ? {in: basename(input)} : {}),
        template: r.template,
        n: r.n,
        temperature: r.temperature,
        top_p: r.topP,
        top_k: r.topK,
        max_tokens: r.maxTokens,
        seed: r.seed,
        prompt: promptHash(r.template, r.system),
    };
}

/**
 * Open a verdicts file through the stage helper (src/core/stage.ts): output checks, lock,
 * torn last line cut, settings fingerprint (files of older versions without a settings file are
 * checked by each record's `method`). Call before loading the judge model.
 */
function openJudgeStage(o: JudgeRunOptions & {out: string}, input?: string): Stage<VerdictRecord> {
    const method = judgeMethod(o.engineSpec, o);
    return openStage({
        schema: VerdictRecordSchema,
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
    const s = resolveJudgeSettings(o.engineSpec, o);
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
        const work = (r: Located) => judgeResolved(engine, r, o.engineSpec, s);
        const opts = {
            concurrency: o.concurrency ?? 2,
            skipTooLong: o.skipTooLong,
            where: (r: Located) => r.where ?? `solution ${JSON.stringify(r.id)}`,
            onProgress: (d: number) => o.onProgress?.(skipped + d, inputs.length),
        };
        // Written in input order: an interrupted file is a prefix of the complete one.
        const run = stage ? await stage.runOrdered(todo, work, {...opts, onWritten: (r) => fresh.push(r as VerdictRecord)}) : await runOrdered(todo, work, (r) => fresh.push(r), opts);
        const after = engine.stats();
        const byId = new Map([...(stage?.existing ?? []), ...fresh].map((r) => [r.id, r]));
        // Solutions skipped as too long have no verdict.
        const verdicts = inputs.flatMap((r) => byId.get(r.id) ?? []);
        return {
            verdicts,
            summary: {
                ...summarizeVerdicts(verdicts),
                written: fresh.length,
                skipped,
                prompt_tokens: after.promptTokens - before.promptTokens,
                generated_tokens: after.generatedTokens - before.generatedTokens,
                requests: after.requests - before.requests,
                protocol: protocolRecord(s),
                tooLong: run.tooLong,
            },
        };
    } finally {
        if (created) await engine.close();
    }
}

/**
 * Judge solutions, resuming from `out` when given (a resumable stage: src/core/stage.ts —
 * locked, torn last line cut, other settings refused naming each difference). Returns the
 * verdicts in input order (resumed and new; solutions skipped as too long, with skipTooLong,
 * have none) and the summary. Ids must be unique. The engine may
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
