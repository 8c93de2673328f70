/**
 * Validation of OpenAI/vLLM request bodies for `stepwise serve`. Bad requests get a 400 whose
 * message names the field, as vLLM's do.
 */
import {z} from "zod";
import type {ChatMessage} from "../engines/types.ts";

export class HttpError extends Error {
    constructor(
        readonly status: 400 | 404 | 500,
        message: string,
    ) {
        super(message);
    }
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
    const r = schema.safeParse(body);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    throw new HttpError(400, `${issue.path.join(".") || "body"}: ${issue.message}`);
}

const tokenIds = z.array(z.number().int().nonnegative());
const stop = z.union([z.string(), z.array(z.string())]).nullish().transform((s) => (s == null ? [] : typeof s === "string" ? [s] : s));
const sampling = {
    model: z.string().optional(),
    n: z.number().int().min(1).max(256).default(1),
    temperature: z.number().min(0).max(10).default(1),
    top_p: z.number().gt(0).max(1).default(1),
    top_k: z.number().int().min(-1).default(-1),
    seed: z.number().int().nullish(),
    stop,
};

/** The sampling fields shared by completions and chat completions, as engine options. */
function samplingOptions(r: {n: number; temperature: number; top_p: number; top_k: number; seed?: number | null; stop: string[]}) {
    return {n: r.n, temperature: r.temperature, topP: r.top_p, topK: r.top_k > 0 ? r.top_k : 0, seed: r.seed ?? undefined, stop: r.stop};
}

const completionSchema = z.object({
    ...sampling,
    prompt: z.union([z.string(), tokenIds, z.array(z.string()).min(1), z.array(tokenIds).min(1)]),
    max_tokens: z.number().int().min(0).default(16),
    logprobs: z.number().int().min(0).max(20).nullish(),
    echo: z.boolean().default(false),
    prompt_logprobs: z.number().int().min(0).max(20).nullish(),
    stream: z.literal(false).optional(),
});

export function parseCompletionRequest(body: unknown) {
    const r = parse(completionSchema, body);
    const p = r.prompt;
    const prompts: Array<string | number[]> =
        typeof p === "string" ? [p] : p.length > 0 && typeof p[0] === "number" ? [p as number[]] : (p as Array<string | number[]>);
    if (r.max_tokens === 0 && !r.echo && r.prompt_logprobs == null) throw new HttpError(400, "max_tokens: must be ≥ 1 unless echo or prompt_logprobs is set");
    return {
        model: r.model,
        prompts,
        sampling: samplingOptions(r),
        maxTokens: r.max_tokens,
        logprobs: r.logprobs ?? undefined,
        echo: r.echo,
        promptLogprobs: r.prompt_logprobs ?? undefined,
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
    logprobs: z.boolean().default(false),
    top_logprobs: z.number().int().min(0).max(20).default(0),
    stream: z.literal(false).optional(),
});

export function parseChatRequest(body: unknown) {
    const r = parse(chatSchema, body);
    return {
        model: r.model,
        messages: r.messages as ChatMessage[],
        sampling: samplingOptions(r),
        maxTokens: r.max_completion_tokens ?? r.max_tokens ?? 256,
        logprobs: r.logprobs,
        topLogprobs: r.logprobs ? Math.max(1, r.top_logprobs) : 0,
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
    if ((r.prompt === undefined) === (r.messages === undefined)) throw new HttpError(400, "give exactly one of `prompt` or `messages`");
    return {
        model: r.model,
        prompt: r.prompt,
        messages: r.messages as ChatMessage[] | undefined,
        addSpecialTokens: r.add_special_tokens,
        addGenerationPrompt: r.add_generation_prompt,
    };
}

const poolingSchema = z.object({
    model: z.string().optional(),
    input: z.union([z.string(), tokenIds, z.array(z.string()).min(1), z.array(tokenIds).min(1)]),
});

export function parsePoolingRequest(body: unknown) {
    const r = parse(poolingSchema, body);
    const i = r.input;
    const inputs: Array<string | number[]> =
        typeof i === "string" ? [i] : i.length > 0 && typeof i[0] === "number" ? [i as number[]] : (i as Array<string | number[]>);
    return {model: r.model, inputs};
}
