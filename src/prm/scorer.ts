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
import {requireFacet, type ChatMessage, type Engine, type EngineWith} from "../engines/types.ts";
import {StepwiseError} from "../util/errors.ts";
import {ContextOverflowError} from "../util/errors.ts";
import {chatmlInput, labelledTag, plainInput, taggedSteps, type PrmFormat} from "./formats.ts";

export interface StepScorer {
    readonly format: PrmFormat;
    scoreSteps(question: string, steps: string[]): Promise<number[]>;
    /** Score many solutions, `concurrency` at a time. */
    scoreMany(items: Array<{question: string; steps: string[]}>, options?: {concurrency?: number; onProgress?: (done: number, total: number) => void}): Promise<number[][]>;
    close(): Promise<void>;
}

/** The shared part of step scorers: {@link StepScorer.scoreMany} over `scoreSteps`, `concurrency` at a time (default 4). */
export abstract class BaseScorer implements StepScorer {
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
    if (format.chat.layout === "chatml") return chatmlInput(format.chat.system, question, taggedSteps(format, steps));
    const messages: ChatMessage[] = [
        {role: "system", content: format.chat.system},
        {role: "user", content: question},
        {role: "assistant", content: taggedSteps(format, steps)},
    ];
    return engine.formatChat(messages, {addGenerationPrompt: false});
}

/** The question and steps {@link resolveTagIds} lays out to read ids in context. */
const PROBE_QUESTION = "What is 12 + 30?";
const PROBE_STEPS = ["12 + 30 = 42.", "The answer is 42."];

/**
 * The single token `addition` becomes right after `prefix` (tokenized as scoring tokenizes:
 * BOS and special tokens as the model does). Fails, naming the text and the spec key that takes
 * an explicit id, when it is not exactly one token there or merges with the text before it.
 */
async function tokenInContext(engine: Engine, prefix: string, addition: string, what: string, key: string): Promise<number> {
    const a = await engine.tokenize(prefix);
    const b = await engine.tokenize(prefix + addition);
    const samePrefix = a.every((t, i) => b[i] === t);
    if (samePrefix && b.length === a.length + 1) return b[a.length];
    const tail = JSON.stringify(prefix.slice(-24));
    const got = samePrefix ? `${b.length - a.length} tokens (${b.slice(a.length).join(", ")})` : `merged with the text before it (…${a.slice(-3).join(", ")} → …${b.slice(-4).join(", ")})`;
    throw new StepwiseError(`${what} ${JSON.stringify(addition)} after …${tail} is ${got} in this model's vocabulary; it must be exactly one token there (give its id with ${key}=ID in the PRM spec)`);
}

/**
 * Token ids of the step tag and the label tokens, read IN CONTEXT the way the reference code
 * does (Math-Shepherd card: `tokenizer.encode("+ -")[1:]` → 648, 387; `encode("ки")[-1]` →
 * 12902): a probe solution is laid out in the format itself; the tag id is the one token the
 * tag (without trailing whitespace) adds after the first step's text, a label id the one token
 * the labelled tag (" +" for " ки") adds there. Explicit ids in `format.ids` are used as given.
 * Looked up out of context, " ки" is two tokens with SPM's space prefix and "+" is 28806 instead
 * of 648 on Mistral-7B; here they are 12902 and 648.
 */
export async function resolveTagIds(engine: Engine, format: PrmFormat): Promise<{tag: number; good: number; bad: number}> {
    const given = format.ids ?? {};
    const full = await buildInput(engine, format, PROBE_QUESTION, PROBE_STEPS);
    const mark = format.stepTag.trimEnd();
    const firstStep = full.indexOf(PROBE_STEPS[0]);
    const at = full.indexOf(mark, firstStep < 0 ? 0 : firstStep);
    if (at < 0) throw new StepwiseError(`PRM format ${format.name}: cannot find the step tag ${JSON.stringify(format.stepTag)} in its own layout`);
    const prefix = full.slice(0, at);
    const id = async (given: number | undefined, addition: string, what: string, key: string): Promise<number> => given ?? (await tokenInContext(engine, prefix, addition, what, key));
    return {
        tag: await id(given.tag, mark, "step tag", "tag_id"),
        good: await id(given.good, labelledTag(format.stepTag, format.goodToken).trimEnd(), "good label token", "good_id"),
        bad: await id(given.bad, labelledTag(format.stepTag, format.badToken).trimEnd(), "bad label token", "bad_id"),
    };
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
    /** The PRM's engine; it has probeTokens (a StepwiseError at construction otherwise). */
    readonly engine: EngineWith<"probeTokens">;
    private ids?: Promise<{tag: number; good: number; bad: number}>;
    constructor(
        engine: Engine,
        readonly format: PrmFormat,
        /** Longest input the PRM reads whole (its context per sequence); longer inputs are a ContextOverflowError. */
        readonly maxInputTokens?: number,
    ) {
        super();
        if (!format.goodToken || !format.badToken) throw new StepwiseError(`PRM format ${format.name} has no label tokens: it needs a pooling (classifier) scorer`);
        this.engine = requireFacet(engine, "probeTokens", `tag PRM scoring (format ${format.name})`);
    }

    /** The tag and label token ids this scorer reads (resolved in context once, see resolveTagIds). */
    tokenIds(): Promise<{tag: number; good: number; bad: number}> {
        this.ids ??= resolveTagIds(this.engine, this.format);
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
    /** The PRM's engine; it has pool (a StepwiseError at construction otherwise). */
    readonly engine: EngineWith<"pool">;
    constructor(
        engine: Engine,
        readonly format: PrmFormat,
        readonly options: {endpoint?: "pooling" | "embeddings"; task?: string} = {},
    ) {
        super();
        this.engine = requireFacet(engine, "pool", `pooling PRM scoring (format ${format.name})`);
    }

    async scoreSteps(question: string, steps: string[]): Promise<number[]> {
        if (steps.length === 0) return [];
        const text = await buildInput(this.engine, this.format, question, steps);
        const rows = await this.engine.pool({input: text, endpoint: this.options.endpoint, task: this.options.task});
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
