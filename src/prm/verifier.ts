/**
 * A generative verifier as a step scorer (PRM spec `llama:models/lab-judge.gguf?format=verifier`).
 *
 * The verifier (a judge GGUF trained by `stepwise lab train-judge --critique verify`) reads the
 * problem and the numbered steps ({@link verifyUserMessage}, through the GGUF's chat template)
 * and writes one verification line per step before its verdict ({@link verificationLine}):
 *
 *     0: 12 + 7 = 19, so 19 * 3 - 45 / 5 | right
 *     1: 19 * 3 = 57, so 57 - 45 / 5 | wrong
 *     \boxed{1}
 *
 * As a judge it stops at the first "wrong" and boxes that index. As a step scorer
 * ({@link VerifierScorer}) it is decoded greedily one line at a time: the line header `i: ` is
 * given, the verifier writes its check up to ` | `, and step i's score is
 * P("r") / (P("r") + P("w")) of the next token (the first characters of "right" and "wrong"),
 * read exactly; then " right" is given (teacher forcing: later steps are checked as if every
 * earlier one were right, a PRM's "is this step correct given the prefix") and the next line
 * starts. Cost per solution: one prompt evaluation (kept in the KV cache across lines) plus
 * the generated check tokens; {@link VerifierScorer.cost} counts them.
 *
 * This module sits below src/judge (which uses its prompt for the `verify` template) and
 * src/apps/lab/judge (which writes the training text from the lab's exact step truth).
 */
import {type Engine} from "../engines/types.ts";
import {createEngine, parseEngineSpec} from "../engines/spec.ts";
import {checkGgufHeader} from "../gguf/reader.ts";
import {ContextOverflowError, StepwiseError} from "../util/errors.ts";
import type {PrmFormat} from "./formats.ts";
import type {StepScorer} from "./scorer.ts";

/** The instruction line of the `verify` judge template (short: a tiny lab verifier reads every character). */
export const VERIFY_INSTRUCTION = "Check each step, then box the first wrong one (-1: none).";
/** Between a verification line's check and its verdict. */
export const VERIFY_SEPARATOR = " | ";
/** The verdict words; their first characters differ (what the scorer reads). */
export const VERDICT_RIGHT = "right";
export const VERDICT_WRONG = "wrong";
/** The check of a step that completes nothing to check (e.g. an adaptive step that ends inside a number). */
export const PARTIAL_CHECK = "(part)";

/** How one step is shown in a judge prompt: trimmed, line breaks (with the whitespace around them) folded into one space. */
export function showStep(text: string): string {
    return text.trim().replace(/\s*[\r\n]+\s*/g, " ");
}

/** The numbered steps of the compact and verify prompts: one `Step i: …` line per step. */
export function numberedSteps(steps: readonly string[]): string {
    return steps.map((s, i) => `Step ${i}: ${showStep(s)}`).join("\n");
}

/** The `verify` template's user message: "Problem: …", one "Step i: …" line per step, then {@link VERIFY_INSTRUCTION}. */
export function verifyUserMessage(question: string, steps: readonly string[]): string {
    return `Problem: ${question.trim()}\n\n${numberedSteps(steps)}\n\n${VERIFY_INSTRUCTION}`;
}

/** The header of step i's verification line. */
export function verificationHeader(i: number): string {
    return `${i}: `;
}

/** One verification line: `i: <check> | right` (or `| wrong`). */
export function verificationLine(i: number, check: string, right: boolean): string {
    return `${verificationHeader(i)}${check}${VERIFY_SEPARATOR}${right ? VERDICT_RIGHT : VERDICT_WRONG}`;
}

/**
 * The whole verification of a solution: one line per step up to the first wrong one
 * (`firstError`, −1: none), then `\boxed{firstError}`. `checks[i]` is step i's check text.
 */
export function verificationText(checks: readonly string[], firstError: number): string {
    const last = firstError < 0 ? checks.length - 1 : firstError;
    const lines: string[] = [];
    for (let i = 0; i <= last; i++) lines.push(verificationLine(i, checks[i], i !== firstError));
    lines.push(`\\boxed{${firstError}}`);
    return lines.join("\n");
}

/** The `format` of a verifier spec (not a tag PRM: no tags, no label tokens in the input). */
export const VERIFIER_FORMAT: PrmFormat = {name: "verifier", stepTag: "", goodToken: VERDICT_RIGHT, badToken: VERDICT_WRONG, questionSeparator: "", stepSeparator: "", stepText: "strip"};

/** Tokens a verifier scorer spent (engine counters since it was made). */
export interface VerifierCost {
    solutions: number;
    steps: number;
    /** Tokens evaluated as prompt (new tokens only: the KV cache keeps the prefix between lines). */
    prompt_tokens: number;
    /** Check tokens the verifier generated. */
    generated_tokens: number;
}

/** Most check tokens per step (a check that runs on is cut here and read as it stands). */
const MAX_CHECK_TOKENS = 96;

export class VerifierScorer implements StepScorer {
    readonly format = VERIFIER_FORMAT;
    private ids?: Promise<{right: number; wrong: number}>;
    private counts = {solutions: 0, steps: 0};
    private readonly start;

    constructor(
        readonly engine: Engine,
        /** Longest input (prompt + verification) the verifier reads: its context. */
        readonly maxInputTokens?: number,
    ) {
        const s = engine.stats();
        this.start = {prompt: s.promptTokens, generated: s.generatedTokens};
    }

    /** Token ids of the verdicts' first characters, read in context (after a separator). */
    private verdictIds(): Promise<{right: number; wrong: number}> {
        this.ids ??= (async () => {
            const prefix = `0: 1 + 1 = 2${VERIFY_SEPARATOR}`;
            const a = await this.engine.tokenize(prefix);
            const id = async (word: string): Promise<number> => {
                const b = await this.engine.tokenize(prefix + word);
                if (b.length <= a.length || !a.every((t, i) => b[i] === t)) throw new StepwiseError(`verifier scorer: "${word}" merges with the text before it in this model's vocabulary`);
                return b[a.length];
            };
            const ids = {right: await id(VERDICT_RIGHT), wrong: await id(VERDICT_WRONG)};
            if (ids.right === ids.wrong) throw new StepwiseError(`verifier scorer: "${VERDICT_RIGHT}" and "${VERDICT_WRONG}" start with the same token in this model's vocabulary`);
            return ids;
        })();
        return this.ids;
    }

    async scoreSteps(question: string, steps: string[]): Promise<number[]> {
        if (steps.length === 0) return [];
        const ids = await this.verdictIds();
        let text = await this.engine.formatChat([{role: "user", content: verifyUserMessage(question, steps)}], {addGenerationPrompt: true});
        const scores: number[] = [];
        for (let i = 0; i < steps.length; i++) {
            text += verificationHeader(i);
            const room = this.maxInputTokens !== undefined ? this.maxInputTokens - (await this.engine.tokenize(text)).length - 2 : MAX_CHECK_TOKENS;
            if (room <= 0)
                throw new ContextOverflowError(`verifier input reached the verifier's context (${this.maxInputTokens} tokens) at step ${i} of ${steps.length}`, undefined, this.maxInputTokens);
            const [sample] = await this.engine.generate({prompt: text, temperature: 0, maxTokens: Math.min(MAX_CHECK_TOKENS, room), stop: [VERIFY_SEPARATOR, "\n"], topLogprobs: 0, seed: 0});
            text += sample.text.replace(/\n.*$/s, "") + VERIFY_SEPARATOR;
            const tokens = await this.engine.tokenize(text);
            if (this.maxInputTokens !== undefined && tokens.length >= this.maxInputTokens)
                throw new ContextOverflowError(`verifier input reached the verifier's context (${this.maxInputTokens} tokens) at step ${i} of ${steps.length}`, tokens.length, this.maxInputTokens);
            const {probs} = await this.engine.probeTokens({input: tokens, positions: [tokens.length - 1], candidates: [ids.right, ids.wrong]});
            const [r, w] = probs[0];
            scores.push(r + w > 0 ? r / (r + w) : 0.5);
            text += `${VERDICT_RIGHT}\n`;
        }
        this.counts.solutions++;
        this.counts.steps += steps.length;
        return scores;
    }

    async scoreMany(items: Array<{question: string; steps: string[]}>, options: {concurrency?: number; onProgress?: (done: number, total: number) => void} = {}): Promise<number[][]> {
        const {default: pLimit} = await import("p-limit");
        const limit = pLimit(options.concurrency ?? 4);
        let done = 0;
        return Promise.all(
            items.map((it) =>
                limit(async () => {
                    const s = await this.scoreSteps(it.question, it.steps);
                    options.onProgress?.(++done, items.length);
                    return s;
                }),
            ),
        );
    }

    /** Tokens spent so far (see {@link VerifierCost}). */
    cost(): VerifierCost {
        const s = this.engine.stats();
        return {...this.counts, prompt_tokens: s.promptTokens - this.start.prompt, generated_tokens: s.generatedTokens - this.start.generated};
    }

    async close(): Promise<void> {
        await this.engine.close();
    }
}

/**
 * What a verifier GGUF says about itself, read from its header without loading it: it must be a
 * stepwise judge trained to verify (metadata `stepwise.kind` = "judge" and
 * `stepwise.judge_template` = "verify"), else a one-line StepwiseError naming the file; returns
 * the longest input it reads (training context, or the spec's smaller contextSize).
 */
export function checkVerifierFile(engineSpec: string): {maxInputTokens?: number} {
    const p = parseEngineSpec(engineSpec);
    if (p.kind !== "llama") throw new StepwiseError(`PRM spec ${engineSpec}: format=verifier runs a lab verifier GGUF in-process (llama:FILE.gguf)`);
    const h = checkGgufHeader(p.path);
    if (h.strings["stepwise.kind"] !== "judge" || h.strings["stepwise.judge_template"] !== "verify")
        throw new StepwiseError(`${p.path}: format=verifier needs a verifier GGUF (metadata stepwise.kind = "judge" and stepwise.judge_template = "verify", written by \`stepwise lab train-judge --critique verify\`); this one has stepwise.kind = ${JSON.stringify(h.strings["stepwise.kind"] ?? null)}, stepwise.judge_template = ${JSON.stringify(h.strings["stepwise.judge_template"] ?? null)}`);
    const arch = h.strings["general.architecture"];
    const train = arch ? h.numbers[`${arch}.context_length`] : undefined;
    return train === undefined ? {} : {maxInputTokens: Math.min(p.options.contextSize ?? train, train)};
}

/** A verifier scorer from an engine spec (`llama:FILE.gguf`), checked by {@link checkVerifierFile} before the model is loaded. */
export async function createVerifierScorer(engineSpec: string): Promise<VerifierScorer> {
    const {maxInputTokens} = checkVerifierFile(engineSpec);
    return new VerifierScorer(await createEngine(engineSpec), maxInputTokens);
}
