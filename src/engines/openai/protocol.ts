/**
 * Wire shapes of the OpenAI-compatible routes the engine uses, as vLLM and llama.cpp's
 * llama-server send them, and the pure functions that turn them into stepwise's types. Kept apart
 * from the engine so they can be tested on literal responses (test/engines/llama-server.test.ts
 * replays recorded llama-server answers; vLLM's shapes are transcribed from its protocol).
 *
 * `/v1/completions` log-probabilities come in two shapes:
 * - legacy (OpenAI, vLLM, SGLang): parallel arrays `tokens`, `token_logprobs`, `top_logprobs`
 *   (one map per token, text → logprob);
 * - chat-style (llama-server): `content: [{id, token, logprob, bytes, top_logprobs: [{id, token,
 *   logprob, bytes}]}]`, the shape of `/v1/chat/completions`. llama-server fills `id` (the token
 *   id) in both the chosen token and its alternatives.
 */
import {StepwiseError, type FinishReason, type GeneratedToken, type TokenAlternative} from "../types.ts";

/** Legacy `/v1/completions` log-probabilities: parallel arrays, one entry per token. */
export interface CompletionLogprobs {
    tokens: string[];
    token_logprobs: (number | null)[];
    /** Per token, a map from token text to log-probability (the top-k, plus the chosen token); null where absent. */
    top_logprobs: (Record<string, number> | null)[] | null;
    text_offset?: number[];
}

/** Chat-style log-probabilities (chat completions everywhere; llama-server's completions too). */
export interface ChatStyleLogprobs {
    content: ChatTokenLogprob[] | null;
}

export interface CompletionChoice {
    index?: number;
    text: string;
    logprobs: CompletionLogprobs | ChatStyleLogprobs | null;
    finish_reason: string | null;
    /** vLLM: the stop string or stop token id that ended generation; null at EOS or length. */
    stop_reason?: string | number | null;
    /** vLLM, with `prompt_logprobs: k`: per prompt token (null first), token id → log-probability. */
    prompt_logprobs?: (Record<string, {logprob: number; rank?: number; decoded_token?: string} | number> | null)[] | null;
}

export interface Usage {
    prompt_tokens?: number;
    completion_tokens?: number;
}

export interface CompletionResponse {
    choices: CompletionChoice[];
    usage?: Usage;
}

/** Chat log-probability of one token; `id` and `bytes` are llama-server's additions. */
export interface ChatTokenLogprob {
    token: string;
    logprob: number;
    id?: number;
    bytes?: number[] | null;
    top_logprobs?: {token: string; logprob: number; id?: number; bytes?: number[] | null}[];
}

export interface ChatChoice {
    index?: number;
    message: {role: string; content: string | null};
    logprobs?: ChatStyleLogprobs | null;
    finish_reason: string | null;
    stop_reason?: string | number | null;
}

export interface ChatResponse {
    choices: ChatChoice[];
    usage?: Usage;
}

/** `GET /v1/models`; vLLM's ModelCard adds `max_model_len`, the context length in tokens (prompt + generation). */
export interface ModelsResponse {
    data: {id: string; max_model_len?: number | null}[];
}

/** `POST /tokenize`: vLLM and SGLang also return `count` and `max_model_len`; llama-server only `tokens`. */
export interface TokenizeResponse {
    tokens: number[];
    count?: number;
    max_model_len?: number;
}

/**
 * llama-server `GET /props`: `default_generation_settings.n_ctx` is the context of one slot (what
 * one request gets); `total_slots` the number of slots (`--parallel`), also the largest `n` one
 * request may ask for (a larger n is refused with a 400 "Field 'n': Value must be between 1 <=
 * value <= SLOTS").
 */
export interface PropsResponse {
    default_generation_settings?: {n_ctx?: number};
    total_slots?: number;
}

/** `POST /detokenize`: vLLM answers `prompt`, llama-server `content`. */
export interface DetokenizeResponse {
    prompt?: string;
    content?: string;
}

/** The text of a `/detokenize` answer in either shape; undefined when it holds none. */
export function detokenizedText(data: DetokenizeResponse | null | undefined): string | undefined {
    if (typeof data?.prompt === "string") return data.prompt;
    if (typeof data?.content === "string") return data.content;
    return undefined;
}

/** vLLM `/pooling`: one entry per input; `data` is per-token rows (STEP/ALL pooling) or one vector. */
export interface PoolingResponse {
    data: {index?: number; data: number[][] | number[] | string}[];
}

/** `/v1/embeddings`: one flattened vector per input. */
export interface EmbeddingsResponse {
    data: {index?: number; embedding: number[] | string}[];
}

/** The token-id form vLLM uses with `return_tokens_as_token_ids`: "token_id:123". */
const TOKEN_ID_KEY = /^token_id:(\d+)$/;

/** Parse a "token_id:N" key; undefined for a plain token text. */
export function tokenIdFromKey(key: string): number | undefined {
    const m = TOKEN_ID_KEY.exec(key);
    return m ? Number(m[1]) : undefined;
}

/** A token key as an alternative: a "token_id:N" key sets `id`, and is kept as the text. */
function alternative(key: string, logprob: number): TokenAlternative {
    const id = tokenIdFromKey(key);
    return id === undefined ? {text: key, prob: Math.exp(logprob)} : {text: key, id, prob: Math.exp(logprob)};
}

/** A top-logprobs map as alternatives, most likely first, at most k. */
export function topFromMap(map: Record<string, number> | null | undefined, k: number): TokenAlternative[] {
    if (!map || k <= 0) return [];
    return Object.entries(map)
        .filter(([, lp]) => typeof lp === "number" && !Number.isNaN(lp))
        .map(([key, lp]) => alternative(key, lp))
        .sort((a, b) => b.prob - a.prob)
        .slice(0, k);
}

/** Whether completions log-probabilities are in the chat-style shape (llama-server). */
export function isChatStyle(lp: CompletionChoice["logprobs"] | undefined): lp is ChatStyleLogprobs {
    return !!lp && typeof lp === "object" && "content" in lp && !("tokens" in lp);
}

/** How many generated tokens a choice's log-probabilities list (either shape); 0 without them. */
export function loggedTokenCount(lp: CompletionChoice["logprobs"] | undefined): number {
    if (isChatStyle(lp)) return Array.isArray(lp.content) ? lp.content.length : 0;
    return Array.isArray(lp?.tokens) ? lp.tokens.length : 0;
}

/**
 * Map completions log-probabilities to generated tokens, in either shape (see the module docs):
 * confidence = exp(logprob), `top` sorted most likely first and cut to k. `where` names the URL
 * for errors.
 */
export function completionTokens(lp: CompletionChoice["logprobs"], k: number, where: string): GeneratedToken[] {
    if (isChatStyle(lp)) return chatTokens(lp.content, k, where, "/v1/completions");
    if (!lp || !Array.isArray(lp.tokens) || !Array.isArray(lp.token_logprobs))
        throw new StepwiseError(`${where}: the server returned no token log-probabilities (it must support "logprobs" on /v1/completions)`);
    if (lp.token_logprobs.length !== lp.tokens.length)
        throw new StepwiseError(`${where}: malformed logprobs (${lp.tokens.length} tokens, ${lp.token_logprobs.length} logprobs)`);
    return lp.tokens.map((text, j) => {
        const logprob = lp.token_logprobs[j];
        if (typeof logprob !== "number") throw new StepwiseError(`${where}: missing logprob for generated token ${j} (${JSON.stringify(text)})`);
        const id = tokenIdFromKey(text);
        const token: GeneratedToken = {text, confidence: Math.exp(logprob), top: topFromMap(lp.top_logprobs?.[j], k)};
        if (id !== undefined) token.id = id;
        return token;
    });
}

/** A server-given token id (llama-server's `id`), or the one of a "token_id:N" text. */
function idOf(t: {token: string; id?: unknown}): number | undefined {
    return Number.isSafeInteger(t.id) && (t.id as number) >= 0 ? (t.id as number) : tokenIdFromKey(t.token);
}

/**
 * Map chat-style log-probabilities (chat completions; llama-server's completions) to generated
 * tokens. Token ids are filled where the server gives them (llama-server's `id`, or vLLM's
 * "token_id:N" texts).
 */
export function chatTokens(content: ChatTokenLogprob[] | null | undefined, k: number, where: string, route = "/v1/chat/completions"): GeneratedToken[] {
    if (!Array.isArray(content))
        throw new StepwiseError(`${where}: the server returned no token log-probabilities (it must support "logprobs" on ${route})`);
    return content.map((t, j) => {
        if (!t || typeof t.token !== "string") throw new StepwiseError(`${where}: generated token ${j} has no "token" text`);
        if (typeof t.logprob !== "number") throw new StepwiseError(`${where}: missing logprob for generated token ${j} (${JSON.stringify(t.token)})`);
        const top = (t.top_logprobs ?? [])
            .filter((a) => a && typeof a.token === "string" && typeof a.logprob === "number")
            .map((a) => {
                const id = idOf(a);
                return id === undefined ? {text: a.token, prob: Math.exp(a.logprob)} : {text: a.token, id, prob: Math.exp(a.logprob)};
            })
            .sort((a, b) => b.prob - a.prob)
            .slice(0, Math.max(0, k));
        const id = idOf(t);
        // The key order of the llama engine's tokens, so records of both engines read alike.
        return id === undefined ? {text: t.token, confidence: Math.exp(t.logprob), top} : {text: t.token, id, confidence: Math.exp(t.logprob), top};
    });
}

/**
 * Map OpenAI's finish_reason (+ vLLM's stop_reason) to ours: "length" stays; "stop" is "stop"
 * when a stop string ended it (vLLM reports it in stop_reason) and "eos" otherwise. Servers
 * without stop_reason: "stop" if the request had stop strings, else "eos".
 */
export function finishReason(choice: {finish_reason: string | null; stop_reason?: string | number | null}, hadStopStrings: boolean): FinishReason {
    if (choice.finish_reason === "length") return "length";
    if ("stop_reason" in choice && choice.stop_reason !== undefined) return typeof choice.stop_reason === "string" ? "stop" : "eos";
    return hadStopStrings ? "stop" : "eos";
}

/**
 * The end of a llama-server sample. Its finish_reason "stop" covers both a stop string and the
 * model's end-of-generation token, it has no stop_reason, and when the EOS token ended the sample
 * its log-probabilities end with that token (text "", while `text` has none): the llama engine
 * never records it. So on that dialect a "stop" choice whose last token has the text "" ended at
 * EOS: that token is dropped and the finish reason is "eos"; any other "stop" is a stop string
 * when the request had stop strings (llama-server then leaves out the stop string's tokens),
 * else EOS. "length" stays "length".
 */
export function llamaServerEnd(tokens: GeneratedToken[], choice: {finish_reason: string | null}, hadStopStrings: boolean): {tokens: GeneratedToken[]; finishReason: FinishReason} {
    if (choice.finish_reason === "length") return {tokens, finishReason: "length"};
    if (tokens.length > 0 && tokens[tokens.length - 1].text === "") return {tokens: tokens.slice(0, -1), finishReason: "eos"};
    return {tokens, finishReason: hadStopStrings ? "stop" : "eos"};
}

/** llama-server's 400 for an n above its slot count: "Field 'n': Value must be between 1 <= value <= 2". */
export function isTooManyChoices(serverMessage: string | undefined): boolean {
    return /['"]n['"]\s*:?.*\bbetween\b/i.test(serverMessage ?? "");
}

/**
 * Check that a response holds exactly `count` choices with distinct indices 0..count-1 and
 * return them ordered by index. Anything else is an error: a sample must never be dropped or
 * duplicated silently.
 */
export function orderedChoices<C extends {index?: number}>(choices: C[] | undefined, count: number, where: string): C[] {
    if (!Array.isArray(choices)) throw new StepwiseError(`${where}: response has no "choices" array`);
    if (choices.length !== count)
        throw new StepwiseError(
            `${where}: asked for ${count} choices, the server returned ${choices.length}` +
                (count > 1 && choices.length === 1 ? " (a server that cannot return n > 1: add maxN=1 to the engine spec, e.g. openai:URL?maxN=1)" : ""),
        );
    const out: C[] = new Array(count);
    choices.forEach((c, pos) => {
        const i = c.index ?? pos;
        if (!Number.isInteger(i) || i < 0 || i >= count) throw new StepwiseError(`${where}: choice index ${i} is outside 0..${count - 1}`);
        if (out[i] !== undefined) throw new StepwiseError(`${where}: choice index ${i} returned twice`);
        out[i] = c;
    });
    return out;
}

/**
 * Rows of step rewards from a pooling or embeddings answer: per-token rows are returned as
 * they are; a flat vector is cut into rows of `width` numbers (its length must divide).
 */
export function poolRows(data: number[][] | number[] | string, width: number, where: string): number[][] {
    if (typeof data === "string") throw new StepwiseError(`${where}: got a base64 vector; ask the server for "float" encoding`);
    if (!Array.isArray(data)) throw new StepwiseError(`${where}: unexpected pooling data ${JSON.stringify(data).slice(0, 100)}`);
    if (data.length === 0) return [];
    if (Array.isArray(data[0])) return data as number[][];
    const flat = data as number[];
    if (!Number.isInteger(width) || width < 1) throw new StepwiseError(`stepWidth must be a positive integer, got ${width}`);
    if (flat.length % width !== 0) throw new StepwiseError(`${where}: a vector of ${flat.length} numbers does not split into rows of ${width}`);
    const rows: number[][] = [];
    for (let i = 0; i < flat.length; i += width) rows.push(flat.slice(i, i + width));
    return rows;
}
