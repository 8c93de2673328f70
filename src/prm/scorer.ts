/**
 * Step scorers: `scoreSteps(question, steps) → number[]`, the probability each step is correct.
 *
 * - {@link TagPrmScorer}: a generative tag PRM on any engine with probeTokens (llama engine:
 *   one forward pass per solution reads every tag position).
 * - {@link PoolingPrmScorer}: a tag or classifier PRM served by vLLM's pooling API (or
 *   `stepwise serve --prm`): one request per solution, one row of numbers per tag.
 *
 * Both guard against the known silent failure of tag PRMs: when the tag merges with the text
 * around it in the tokenizer, fewer tag tokens than steps are found and the scores of some steps
 * would be missing. That is an error naming the step, never a silent short list.
 */
import pLimit from "p-limit";
import {StepwiseError, type ChatMessage, type Engine} from "../engines/types.ts";
import {ContextOverflowError} from "../util/errors.ts";
import type {OpenAIEngine} from "../engines/openai/engine.ts";
import {plainInput, taggedSteps, type PrmFormat} from "./formats.ts";

export interface StepScorer {
    readonly format: PrmFormat;
    scoreSteps(question: string, steps: string[]): Promise<number[]>;
    /** Score many solutions, `concurrency` at a time. */
    scoreMany(items: Array<{question: string; steps: string[]}>, options?: {concurrency?: number; onProgress?: (done: number, total: number) => void}): Promise<number[][]>;
    close(): Promise<void>;
}

abstract class BaseScorer implements StepScorer {
    abstract readonly format: PrmFormat;
    abstract scoreSteps(question: string, steps: string[]): Promise<number[]>;
    abstract close(): Promise<void>;
    async scoreMany(items: Array<{question: string; steps: string[]}>, options: {concurrency?: number; onProgress?: (done: number, total: number) => void} = {}) {
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
}

/** Build the PRM input text, through the chat template when the format asks for it. */
async function buildInput(engine: Engine, format: PrmFormat, question: string, steps: string[]): Promise<string> {
    if (!format.chat) return plainInput(format, question, steps);
    const messages: ChatMessage[] = [
        {role: "system", content: format.chat.system},
        {role: "user", content: question},
        {role: "assistant", content: taggedSteps(format, steps)},
    ];
    return engine.formatChat(messages, {addGenerationPrompt: false});
}

/** Token id of a text that must be exactly one token. */
async function singleToken(engine: Engine, text: string, what: string): Promise<number> {
    const ids = await engine.tokenize(text, {addBos: false});
    if (ids.length !== 1)
        throw new StepwiseError(`${what} ${JSON.stringify(text)} is ${ids.length} tokens (${ids.join(", ")}) in this model's vocabulary; it must be exactly one token`);
    return ids[0];
}

/** Find the tag positions; fail loudly when a tag merged with its neighbours. */
export function tagPositions(tokens: number[], tagId: number, steps: string[], text: string): number[] {
    const positions = tokens.flatMap((t, i) => (t === tagId ? [i] : []));
    if (positions.length !== steps.length) {
        const where = positions.length < steps.length ? `only ${positions.length} step tags found for ${steps.length} steps` : `${positions.length} step tags found for ${steps.length} steps (a step contains the tag text)`;
        throw new StepwiseError(
            `PRM input: ${where}: the tag merged with the text around it in the tokenizer, or appears inside a step. Input: ${JSON.stringify(text.length > 400 ? text.slice(0, 400) + "…" : text)}`,
        );
    }
    return positions;
}

export class TagPrmScorer extends BaseScorer {
    private ids?: Promise<{tag: number; good: number; bad: number}>;
    constructor(
        readonly engine: Engine,
        readonly format: PrmFormat,
        /** Longest input the PRM reads whole (its context per sequence); longer inputs are a ContextOverflowError. */
        readonly maxInputTokens?: number,
    ) {
        super();
        if (!format.goodToken || !format.badToken) throw new StepwiseError(`PRM format ${format.name} has no label tokens: it needs a pooling (classifier) scorer`);
    }

    private tokenIds() {
        this.ids ??= (async () => ({
            tag: await singleToken(this.engine, this.format.stepTag, "step tag"),
            good: await singleToken(this.engine, this.format.goodToken, "good label token"),
            bad: await singleToken(this.engine, this.format.badToken, "bad label token"),
        }))();
        return this.ids;
    }

    async scoreSteps(question: string, steps: string[]): Promise<number[]> {
        if (steps.length === 0) return [];
        const ids = await this.tokenIds();
        const text = await buildInput(this.engine, this.format, question, steps);
        const tokens = await this.engine.tokenize(text);
        if (this.maxInputTokens !== undefined && tokens.length > this.maxInputTokens)
            throw new ContextOverflowError(
                `PRM input is ${tokens.length} tokens (${steps.length} steps), longer than the PRM's context (${this.maxInputTokens} tokens): its last steps would be scored without the start of the solution`,
                tokens.length,
                this.maxInputTokens,
            );
        const positions = tagPositions(tokens, ids.tag, steps, text);
        const {probs} = await this.engine.probeTokens({input: tokens, positions, candidates: [ids.good, ids.bad]});
        return probs.map(([g, b]) => (g + b > 0 ? g / (g + b) : 0.5));
    }

    async close() {
        await this.engine.close();
    }
}

export class PoolingPrmScorer extends BaseScorer {
    constructor(
        readonly engine: OpenAIEngine,
        readonly format: PrmFormat,
        readonly options: {endpoint?: "pooling" | "embeddings"; task?: string} = {},
    ) {
        super();
    }

    async scoreSteps(question: string, steps: string[]): Promise<number[]> {
        if (steps.length === 0) return [];
        const text = await buildInput(this.engine, this.format, question, steps);
        const rows = await this.engine.pool(text, {endpoint: this.options.endpoint, task: this.options.task});
        if (rows.length !== steps.length)
            throw new StepwiseError(
                `PRM server returned ${rows.length} step scores for ${steps.length} steps: the tag merged with the text around it in the tokenizer, or the server's step tag id differs from ${JSON.stringify(this.format.stepTag)}. Input: ${JSON.stringify(text.slice(0, 400))}`,
            );
        const k = this.format.positiveIndex ?? 0;
        return rows.map((r) => {
            const sum = r.reduce((a, b) => a + b, 0);
            return sum > 0 ? r[k] / sum : 0.5;
        });
    }

    async close() {
        await this.engine.close();
    }
}
