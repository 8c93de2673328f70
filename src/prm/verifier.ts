/**
 * The lab verifier: a generative verifier that checks a solution step by step, as a judge
 * (`stepwise judge`, template `verify`) and as a step scorer (PRM spec
 * `llama:models/lab-verifier.gguf?format=verifier`).
 *
 * Layout ({@link verifyUserMessage}, then the GGUF's chat template): the user message holds the
 * problem and {@link VERIFY_INSTRUCTION}; in the verifier's turn each step is quoted
 * (`Step i: <step>`, given, never generated) and the verifier writes its check of that step and
 * the verdict right under it:
 *
 *     Step 0: First, 12 + 7 = 19, so 19 * 3 - 45 / 5.
 *     12 + 7 = 19, so 19 * 3 - 45 / 5 | right
 *     Step 1: Then 19 * 3 = 58, so 58 - 45 / 5.
 *     19 * 3 = 57, so 57 - 45 / 5 | wrong
 *     \boxed{1}
 *
 * The check redoes the step (the lab: the operation with its exact value and the remaining
 * expression) from the text just above it, so a tiny model reads its operands one line up, as
 * the lab policy does; the verdict compares. After the first "wrong", or after the last step,
 * comes `\boxed{index}` (−1: none), read like every judge answer (last box). The verifier is
 * trained to write that box, but when it judges, the box is given: the index of the step it
 * marked wrong (−1 when it marked none). A generated box disagreed with the step verdicts just
 * above it (a tiny model miscounts steps): on 200 held-out lab solutions, the third run's own box
 * named another step (or none) than the one it had marked wrong on 22 of them, and the given box
 * raised its lab-ProcessBench F1 from 49.4 to 58.3, and from 53.9 to 58.2 on 300 fresh ones
 * (docs/judge.md).
 *
 * {@link verifierDecode} runs it: greedy or sampled, as a judge (stops at the first "wrong";
 * the box is given) or as a scorer (step i's score is
 * P("r") / (P("r") + P("w")) at the verdict, read exactly; then " right" is given, so later
 * steps are checked as if every earlier one were right: a PRM's "is this step correct given the
 * prefix"). Cost per solution: one prompt evaluation (kept in the KV cache across steps) plus the
 * step quotes and generated checks; {@link VerifierScorer.cost} counts them.
 *
 * This module sits below src/judge (its `verify` template runs {@link verifierDecode}) and
 * src/apps/lab/judge (which writes the training text from the lab's exact step truth).
 */
import {requireFacet, type Engine} from "../engines/types.ts";
import {createEngine, parseEngineSpec} from "../engines/spec.ts";
import {checkGgufHeader} from "../gguf/reader.ts";
import {ContextOverflowError, StepwiseError} from "../util/errors.ts";
import type {PrmFormat} from "./formats.ts";
import {BaseScorer, type StepScorer} from "./scorer.ts";

/** The instruction of the `verify` judge template (short: a tiny lab verifier reads every character). */
export const VERIFY_INSTRUCTION = "Check each step, then box the first wrong one (-1: none).";
/** Between a check and its verdict. */
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

/** The numbered steps of the compact prompt: one `Step i: …` line per step. */
export function numberedSteps(steps: readonly string[]): string {
    return steps.map((s, i) => `Step ${i}: ${showStep(s)}`).join("\n");
}

/** The `verify` template's user message: "Problem: …" and {@link VERIFY_INSTRUCTION} (the steps come quoted in the verifier's turn). */
export function verifyUserMessage(question: string): string {
    return `Problem: ${question.trim()}\n${VERIFY_INSTRUCTION}`;
}

/** The quote of step i that precedes its check: `Step i: <step>` and a line break (given, not generated). */
export function stepQuote(i: number, step: string): string {
    return `Step ${i}: ${showStep(step)}\n`;
}

/** A check line: `<check> | right` (or `| wrong`), without its line break. */
export function checkLine(check: string, right: boolean): string {
    return `${check}${VERIFY_SEPARATOR}${right ? VERDICT_RIGHT : VERDICT_WRONG}`;
}

/** One part of {@link verificationParts}: given text (a quote) or written text (a check, a verdict, the box). */
export interface VerificationPart {
    text: string;
    written: boolean;
    /** The verdict after a check (`right\n` or `wrong\n`): its first token decides it. */
    verdict?: true;
}

/**
 * The verifier's whole turn for a solution, as parts: each step's quote (`given`), its check up to
 * and with the separator (`written`) and its verdict with the line break (`written`, `verdict`),
 * up to the first wrong step (`firstError`, −1: none), then `\boxed{firstError}` (`written`).
 * `checks[i]` is step i's check; a check and its verdict joined are {@link checkLine}. Training puts
 * the loss on the written parts.
 */
export function verificationParts(steps: readonly string[], checks: readonly string[], firstError: number): VerificationPart[] {
    if (checks.length !== steps.length) throw new StepwiseError(`verification: ${checks.length} checks for ${steps.length} steps`);
    const last = firstError < 0 ? steps.length - 1 : firstError;
    const parts: VerificationPart[] = [];
    for (let i = 0; i <= last; i++)
        parts.push(
            {text: stepQuote(i, steps[i]), written: false},
            {text: `${checks[i]}${VERIFY_SEPARATOR}`, written: true},
            {text: `${i !== firstError ? VERDICT_RIGHT : VERDICT_WRONG}\n`, written: true, verdict: true},
        );
    parts.push({text: boxOf(firstError), written: true});
    return parts;
}

/** The box that ends a verification: `\boxed{index}` of the first wrong step (−1: none). */
export function boxOf(firstError: number): string {
    return `\\boxed{${firstError}}`;
}

/** {@link verificationParts} joined: the verifier's turn as text. */
export function verificationText(steps: readonly string[], checks: readonly string[], firstError: number): string {
    return verificationParts(steps, checks, firstError)
        .map((p) => p.text)
        .join("");
}

/** Most tokens of one check line (a check that runs on is cut here and read as it stands). */
const MAX_CHECK_TOKENS = 96;

/** Options of {@link verifierDecode}. */
export interface VerifierDecodeOptions {
    /** "judge": stop at the first "wrong" and let the verifier write its box; "score": read P(right) at every step, "right" given. */
    mode: "judge" | "score";
    /** Sampling temperature of the checks and verdicts (judge mode; the scorer is greedy). Default 0. */
    temperature?: number;
    topP?: number;
    topK?: number;
    seed?: number;
    /** Longest input (prompt + turn) in tokens: the verifier's context. A longer one is a ContextOverflowError. */
    maxInputTokens?: number;
    /** Judge mode: most tokens the verifier writes in all (checks and box). Default: no limit but the context. */
    maxTokens?: number;
}

/** Result of {@link verifierDecode}. */
export interface VerifierDecode {
    /** The verifier's turn: quotes, checks with verdicts, and (judge mode) its box. */
    text: string;
    /** Score mode: P(right) per step. Judge mode: empty. */
    scores: number[];
    /** Tokens the verifier generated (checks, verdicts, box). */
    generated: number;
}

/** Token ids of the verdicts' first characters, read in context (after a separator). */
async function verdictIds(engine: Engine): Promise<{right: number; wrong: number}> {
    const prefix = `1 + 1 = 2${VERIFY_SEPARATOR}`;
    const a = await engine.tokenize(prefix);
    const id = async (word: string): Promise<number> => {
        const b = await engine.tokenize(prefix + word);
        if (b.length <= a.length || !a.every((t, i) => b[i] === t)) throw new StepwiseError(`verifier: "${word}" merges with the text before it in this model's vocabulary`);
        return b[a.length];
    };
    const ids = {right: await id(VERDICT_RIGHT), wrong: await id(VERDICT_WRONG)};
    if (ids.right === ids.wrong) throw new StepwiseError(`verifier: "${VERDICT_RIGHT}" and "${VERDICT_WRONG}" start with the same token in this model's vocabulary`);
    return ids;
}

/**
 * Run the verifier on a solution (see the module docs): the prompt through the engine's chat
 * template, then per step the quote (given) and the verifier's check up to ` | `. Judge mode:
 * the verdict is written by the verifier (sampled at `temperature`); at the first "wrong", or
 * after the last step, the verifier writes its box. Score mode: greedy checks, P(right) read at
 * each verdict, " right" given. Throws a ContextOverflowError when the turn reaches `maxInputTokens`.
 */
export async function verifierDecode(engine: Engine, question: string, steps: readonly string[], o: VerifierDecodeOptions): Promise<VerifierDecode> {
    const head = await engine.formatChat([{role: "user", content: verifyUserMessage(question)}], {addGenerationPrompt: true});
    const ids = o.mode === "score" ? await verdictIds(engine) : undefined;
    const sampling = {temperature: o.mode === "score" ? 0 : (o.temperature ?? 0), topP: o.topP, topK: o.topK, topLogprobs: 0};
    let turn = "";
    let generated = 0;
    const scores: number[] = [];
    const room = async (i: number): Promise<number> => {
        const budget = o.maxTokens !== undefined && o.mode === "judge" ? o.maxTokens - generated : Infinity;
        const left = o.maxInputTokens !== undefined ? o.maxInputTokens - (await engine.tokenize(head + turn)).length - 1 : Infinity;
        if (left <= 0) throw new ContextOverflowError(`verifier input reached the verifier's context (${o.maxInputTokens} tokens) at step ${i} of ${steps.length}`, undefined, o.maxInputTokens);
        return Math.min(budget, left);
    };
    const gen = async (maxTokens: number, stop: string[], k: number) => {
        const [s] = await engine.generate({prompt: head + turn, maxTokens, stop, seed: (o.seed ?? 0) + k, ...sampling});
        generated += s.tokens.length;
        return s;
    };
    let wrongAt = -1;
    for (let i = 0; i < steps.length; i++) {
        turn += stepQuote(i, steps[i]);
        if (o.mode === "judge") {
            const max = Math.min(MAX_CHECK_TOKENS, await room(i));
            if (max <= 0) return {text: turn, scores, generated};
            const s = await gen(max, ["\n"], i);
            turn += s.text;
            if (s.finishReason !== "stop") return {text: turn, scores, generated}; // cut by the budget, or ended: no box follows
            turn += "\n";
            if (s.text.endsWith(VERIFY_SEPARATOR + VERDICT_WRONG)) {
                wrongAt = i;
                break;
            }
            continue;
        }
        const s = await gen(Math.min(MAX_CHECK_TOKENS, await room(i)), [VERIFY_SEPARATOR, "\n"], i);
        turn += s.text.replace(/\n.*$/s, "") + VERIFY_SEPARATOR;
        const tokens = await engine.tokenize(head + turn);
        if (o.maxInputTokens !== undefined && tokens.length >= o.maxInputTokens)
            throw new ContextOverflowError(`verifier input reached the verifier's context (${o.maxInputTokens} tokens) at step ${i} of ${steps.length}`, tokens.length, o.maxInputTokens);
        const {probs} = await requireFacet(engine, "probeTokens", "the verifier read as a PRM").probeTokens({input: tokens, positions: [tokens.length - 1], candidates: [ids!.right, ids!.wrong]});
        const [r, w] = probs[0];
        scores.push(r + w > 0 ? r / (r + w) : 0.5);
        turn += `${VERDICT_RIGHT}\n`;
    }
    // The box is given (module docs): the step marked wrong, or −1 when every step was marked right.
    if (o.mode === "judge") turn += boxOf(wrongAt);
    return {text: turn, scores, generated};
}

export class VerifierScorer extends BaseScorer {
    readonly format = VERIFIER_FORMAT;
    private counts = {solutions: 0, steps: 0};
    private readonly start;

    constructor(
        readonly engine: Engine,
        /** Longest input (prompt + verification) the verifier reads: its context. */
        readonly maxInputTokens?: number,
    ) {
        super();
        const s = engine.stats();
        this.start = {prompt: s.promptTokens, generated: s.generatedTokens};
    }

    async scoreSteps(question: string, steps: string[]): Promise<number[]> {
        if (steps.length === 0) return [];
        const {scores} = await verifierDecode(this.engine, question, steps, {mode: "score", maxInputTokens: this.maxInputTokens});
        this.counts.solutions++;
        this.counts.steps += steps.length;
        return scores;
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
