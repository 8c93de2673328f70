/**
 * Validation of OpenAI/vLLM request bodies for `stepwise serve`. Bad requests get a 400 whose
 * error object names the field in `param`, as vLLM's do (vllm/entrypoints/openai/protocol.py is
 * the reference for field names, defaults and what is refused).
 *
 * Sampling fields this server cannot honour are refused, never ignored: the penalties
 * (repetition/frequency/presence), logit_bias, min_tokens and ignore_eos are accepted only with
 * their neutral values (what a client that sends every field explicitly sends), anything else is
 * a 400 naming the field.
 */
import {z} from "zod";
import type {ChatMessage} from "../../engines/types.ts";

export class HttpError extends Error {
    constructor(
        readonly status: 400 | 403 | 404 | 413 | 415 | 500 | 503,
        message: string,
        /** The request field at fault (OpenAI error objects' `param`). */
        readonly param: string | null = null,
    ) {
        super(message);
    }
}

/** Limits that bound one request's work. */
export interface RequestLimits {
    /** Most choices in one request (prompts × n). Default 256. */
    maxChoices: number;
    /** Most prompts / inputs in one request. Default 256. */
    maxPrompts: number;
}

export const DEFAULT_LIMITS: RequestLimits = {maxChoices: 256, maxPrompts: 256};

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
    const r = schema.safeParse(body);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const param = issue.path.join(".") || null;
    throw new HttpError(400, `${param ?? "body"}: ${issue.message}`, param);
}

const tokenIds = z.array(z.number().int().nonnegative()).min(1, "empty token list");
const stop = z.union([z.string(), z.array(z.string())]).nullish().transform((s) => (s == null ? [] : typeof s === "string" ? [s] : s));
/** A field accepted only at its neutral value. */
const neutral = (value: number) =>
    z
        .number()
        .nullish()
        .refine((v) => v == null || v === value, {message: `only ${value} is supported by this server (it would change sampling)`});
const sampling = {
    model: z.string().optional(),
    n: z.number().int().min(1).max(256).nullish().transform((v) => v ?? 1),
    temperature: z.number().min(0).max(10).nullish().transform((v) => v ?? 1),
    top_p: z.number().gt(0).max(1).nullish().transform((v) => v ?? 1),
    top_k: z.number().int().min(-1).nullish().transform((v) => v ?? -1),
    min_p: z.number().min(0).max(1).nullish().transform((v) => v ?? 0),
    seed: z.number().int().nullish(),
    stop,
    repetition_penalty: neutral(1),
    frequency_penalty: neutral(0),
    presence_penalty: neutral(0),
    min_tokens: neutral(0),
    ignore_eos: z
        .boolean()
        .nullish()
        .refine((v) => !v, {message: "only false is supported by this server"}),
    logit_bias: z
        .record(z.string(), z.number())
        .nullish()
        .refine((v) => v == null || Object.keys(v).length === 0, {message: "not supported by this server (it would change sampling)"}),
    stream: z.boolean().nullish().transform((v) => v ?? false),
    stream_options: z.object({include_usage: z.boolean().nullish(), continuous_usage_stats: z.boolean().nullish()}).nullish(),
    return_tokens_as_token_ids: z.boolean().nullish().transform((v) => v ?? false),
    user: z.string().nullish(),
};

/**
 * vLLM's stream_options: only with `stream: true` (else 400); `include_usage` adds a last chunk
 * with the usage and no choices; `continuous_usage_stats` (with include_usage) puts the usage so
 * far of the chunk's choice in every chunk.
 */
function streamOptions(r: {stream: boolean; stream_options?: {include_usage?: boolean | null; continuous_usage_stats?: boolean | null} | null}) {
    if (r.stream_options != null && !r.stream) throw new HttpError(400, "stream_options: can only be given with stream: true", "stream_options");
    const includeUsage = r.stream_options?.include_usage ?? false;
    return {stream: r.stream, includeUsage, continuousUsage: includeUsage && (r.stream_options?.continuous_usage_stats ?? false)};
}

/** Sampling fields as engine options. */
function samplingOptions(r: {n: number; temperature: number; top_p: number; top_k: number; min_p: number; seed?: number | null; stop: string[]}) {
    return {n: r.n, temperature: r.temperature, topP: r.top_p, topK: r.top_k > 0 ? r.top_k : 0, minP: r.min_p, seed: r.seed ?? undefined, stop: r.stop};
}

const completionSchema = z.object({
    ...sampling,
    prompt: z.union([z.string().min(1, "empty prompt"), tokenIds, z.array(z.string().min(1, "empty prompt")).min(1, "empty prompt list"), z.array(tokenIds).min(1, "empty prompt list")]),
    /** vLLM: default 16; null = the rest of the context. */
    max_tokens: z.number().int().min(0).nullish(),
    logprobs: z.number().int().min(0).max(20).nullish(),
    echo: z.boolean().nullish().transform((v) => v ?? false),
    prompt_logprobs: z.number().int().min(0).max(20).nullish(),
    suffix: z
        .string()
        .nullish()
        .refine((v) => !v, {message: "not supported"}),
    best_of: z
        .number()
        .int()
        .nullish(),
});

export function parseCompletionRequest(body: unknown, limits: RequestLimits = DEFAULT_LIMITS) {
    const r = parse(completionSchema, body);
    const p = r.prompt;
    const prompts: Array<string | number[]> =
        typeof p === "string" ? [p] : p.length > 0 && typeof p[0] === "number" ? [p as number[]] : (p as Array<string | number[]>);
    if (r.best_of != null && r.best_of !== r.n) throw new HttpError(400, "best_of: only best_of = n is supported", "best_of");
    if (prompts.length > limits.maxPrompts) throw new HttpError(400, `prompt: at most ${limits.maxPrompts} prompts per request, got ${prompts.length}`, "prompt");
    if (prompts.length * r.n > limits.maxChoices)
        throw new HttpError(400, `n: ${prompts.length} prompts × n = ${r.n} is ${prompts.length * r.n} choices; at most ${limits.maxChoices} per request`, "n");
    const maxTokens = r.max_tokens === undefined ? 16 : r.max_tokens;
    if (maxTokens === 0 && !r.echo && r.prompt_logprobs == null) throw new HttpError(400, "max_tokens: must be ≥ 1 unless echo or prompt_logprobs is set", "max_tokens");
    return {
        model: r.model,
        prompts,
        sampling: samplingOptions(r),
        /** null: as many as the context holds. */
        maxTokens,
        logprobs: r.logprobs ?? undefined,
        echo: r.echo,
        promptLogprobs: r.prompt_logprobs ?? undefined,
        ...streamOptions(r),
        tokenIds: r.return_tokens_as_token_ids,
    };
}

/**
 * A chat message as vLLM accepts it: roles system, developer (OpenAI's newer system), user and
 * assistant; content a string or an array of text parts (`[{type: "text", text}]`, joined with
 * "\n" as vLLM does). Other part types (images, audio) are refused: this server is text-only.
 */
const textPart = z.object({type: z.literal("text"), text: z.string()});
const message = z
    .object({role: z.enum(["system", "developer", "user", "assistant"]), content: z.union([z.string(), z.array(textPart).min(1)])})
    .transform((m) => ({role: m.role, content: typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join("\n")}));
const chatSchema = z.object({
    ...sampling,
    messages: z.array(message).min(1),
    max_tokens: z.number().int().min(1).nullish(),
    max_completion_tokens: z.number().int().min(1).nullish(),
    logprobs: z.boolean().nullish().transform((v) => v ?? false),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
});

export function parseChatRequest(body: unknown, limits: RequestLimits = DEFAULT_LIMITS) {
    const r = parse(chatSchema, body);
    // vLLM: top_logprobs needs logprobs: true; without it no alternatives (not one).
    if (r.top_logprobs != null && r.top_logprobs > 0 && !r.logprobs)
        throw new HttpError(400, "top_logprobs: when using `top_logprobs`, `logprobs` must be set to true", "top_logprobs");
    if (r.n > limits.maxChoices) throw new HttpError(400, `n: at most ${limits.maxChoices} choices per request`, "n");
    return {
        model: r.model,
        messages: r.messages as ChatMessage[],
        sampling: samplingOptions(r),
        /** null: as many as the context holds. */
        maxTokens: r.max_completion_tokens ?? r.max_tokens ?? null,
        /** The field that set maxTokens (named in errors). */
        maxTokensParam: r.max_completion_tokens != null ? "max_completion_tokens" : "max_tokens",
        logprobs: r.logprobs,
        topLogprobs: r.logprobs ? (r.top_logprobs ?? 0) : 0,
        ...streamOptions(r),
        tokenIds: r.return_tokens_as_token_ids,
    };
}

const tokenizeSchema = z.object({
    model: z.string().optional(),
    prompt: z.string().optional(),
    messages: z.array(message).optional(),
    add_special_tokens: z.boolean().default(true),
    add_generation_prompt: z.boolean().default(true),
});

export function parseTokenizeRequest(body: unknown) {
    const r = parse(tokenizeSchema, body);
    if ((r.prompt === undefined) === (r.messages === undefined)) throw new HttpError(400, "give exactly one of `prompt` or `messages`", "prompt");
    return {
        model: r.model,
        prompt: r.prompt,
        messages: r.messages as ChatMessage[] | undefined,
        addSpecialTokens: r.add_special_tokens,
        addGenerationPrompt: r.add_generation_prompt,
    };
}

/** `/detokenize`: ids must be integers inside the vocabulary (checked by the caller against the model). */
export function parseDetokenizeRequest(body: unknown, vocabSize: number | undefined) {
    const r = parse(z.object({model: z.string().optional(), tokens: z.array(z.number().int())}), body);
    r.tokens.forEach((t, i) => {
        if (t < 0 || (vocabSize !== undefined && t >= vocabSize))
            throw new HttpError(400, `tokens.${i}: token id ${t} is outside the vocabulary (0..${(vocabSize ?? Infinity) - 1})`, `tokens.${i}`);
    });
    return r;
}

const poolingSchema = z.object({
    model: z.string().optional(),
    input: z.union([z.string().min(1, "empty input"), tokenIds, z.array(z.string().min(1, "empty input")).min(1), z.array(tokenIds).min(1)]),
    encoding_format: z.enum(["float", "base64"]).nullish().transform((v) => v ?? "float"),
    task: z.string().nullish(),
    dimensions: z
        .number()
        .nullish()
        .refine((v) => v == null, {message: "not supported"}),
    user: z.string().nullish(),
});

export function parsePoolingRequest(body: unknown, limits: RequestLimits = DEFAULT_LIMITS) {
    const r = parse(poolingSchema, body);
    const i = r.input;
    const inputs: Array<string | number[]> =
        typeof i === "string" ? [i] : i.length > 0 && typeof i[0] === "number" ? [i as number[]] : (i as Array<string | number[]>);
    if (inputs.length > limits.maxPrompts) throw new HttpError(400, `input: at most ${limits.maxPrompts} inputs per request, got ${inputs.length}`, "input");
    return {model: r.model, inputs, encoding: r.encoding_format};
}
