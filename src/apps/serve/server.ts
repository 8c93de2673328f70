/**
 * `stepwise serve`: an OpenAI-compatible HTTP server over an in-process engine (the llama
 * engine), speaking vLLM's dialect (vllm/entrypoints/openai/protocol.py and serving_*.py are the
 * reference) so that every client of vLLM — the npm and Python `openai` SDKs, stepwise's own
 * OpenAI engine — works against a GGUF model on a laptop:
 *
 * - `GET  /v1/models`, `GET /health`
 * - `POST /v1/completions`: prompt (text, token ids, or a list of either), n, temperature,
 *   top_p, top_k, min_p, seed, stop, max_tokens (default 16; null = the rest of the context),
 *   logprobs (≤ 20; the sampled token is always in its top_logprobs entry, as in vLLM), echo,
 *   prompt_logprobs (vLLM: true vocabulary rank and decoded token), stream,
 *   return_tokens_as_token_ids
 * - `POST /v1/chat/completions`: messages (system, developer, user, assistant; content a string
 *   or text parts), the same sampling fields, max_tokens / max_completion_tokens (default: the
 *   rest of the context), logprobs, top_logprobs (default none; needs logprobs), stream
 * - Context (vLLM's input validation): a prompt longer than the context, or prompt + max_tokens
 *   beyond it, is a 400 naming the field, the context length and the total asked for; nothing
 *   is shortened silently. max_tokens null (chat: absent) takes the rest of the context.
 * - `stream: true` (SSE): chunks are sent as the tokens are generated (engines with
 *   capabilities.streaming; others after the generation): per choice an echo chunk (completions,
 *   with echo) or a role chunk (chat), one chunk per token with its logprobs, the last with
 *   finish_reason; text that may still begin a stop string is held back until it cannot.
 *   `stream_options.include_usage` adds a last chunk with the usage and no choices (and
 *   `continuous_usage_stats` the usage so far in every chunk); then `data: [DONE]`. An error
 *   after the stream began is sent as an error event before `[DONE]`; a client that hangs up
 *   mid-stream stops the generation.
 * - `POST /tokenize`, `POST /detokenize` (vLLM's; ids checked against the vocabulary). Unlike
 *   vLLM, /tokenize refuses (400) a text that certainly exceeds the context, as every endpoint
 *   does: prompts are checked against a token lower bound (special tags, and bytes over the
 *   longest vocabulary entry) before tokenizing, so no single request stalls the server.
 * - `POST /pooling` and `POST /v1/embeddings`: vLLM's STEP pooling for tag PRMs (for every
 *   step-tag token, the softmax over the returned label tokens, positive first);
 *   `encoding_format` float or base64 (little-endian float32, the npm SDK's default)
 * - `POST /get_reward` (with `reward`): OpenRLHF's remote reward-model API, the aggregated
 *   process score and every step's score per query (./reward.ts)
 *
 * - Browser safety: a request whose `Host` header does not name the bound address is a 403
 *   (DNS rebinding, see src/io/host-check.ts); a POST body is parsed only with
 *   `Content-Type: application/json` (else 415), so a cross-site page cannot send one as a
 *   "simple" text/plain request.
 *
 * Penalties, logit_bias, min_tokens and ignore_eos are refused unless neutral (never ignored).
 * Every error — bad field, unknown model, unknown route, body too large — is an OpenAI error
 * object `{error: {message, type, param, code}}`. Work is bounded: prompts × n per request,
 * inputs per request, body size, and every prompt / pooling input against the context; a
 * request whose client hangs up is aborted (its generation stops).
 *
 * Logprobs are raw-model logprobs (vLLM's default `raw_logprobs` mode): see engines/types.ts.
 */
import {Hono, type Context} from "hono";
import {bodyLimit} from "hono/body-limit";
import {serve as serveNode} from "@hono/node-server";
import type {AddressInfo} from "node:net";
import type {IncomingMessage} from "node:http";
import {isAllowedHost} from "../../io/host-check.ts";
import {requireFacet, type ChatMessage, type Engine, type GeneratedToken, type GenerateRequest, type PromptTokenLogprob, type Sample, type StreamHandler, type TokenAlternative} from "../../engines/types.ts";
import {
    DEFAULT_LIMITS,
    HttpError,
    parseChatRequest,
    parseCompletionRequest,
    parseDetokenizeRequest,
    parsePoolingRequest,
    parseTokenizeRequest,
    type RequestLimits,
} from "./requests.ts";
import {answerRewardRequest, parseRewardRequest, type RewardConfig} from "./reward.ts";

export interface StepPoolingConfig {
    /** Token id of the step tag (e.g. the id of " ки" or `<|step|>`). */
    stepTagId: number;
    /** Label token ids whose softmax is returned at each tag, positive first. */
    returnedTokenIds: number[];
}

export interface ServerOptions {
    /**
     * The engine served: in practice the llama engine. echo and prompt_logprobs need its
     * promptLogprobs (a 400 naming the engine otherwise); `pooling` needs its pool (createApp
     * throws a StepwiseError otherwise).
     */
    engine: Engine;
    /** Address to bind. Default 127.0.0.1 (loopback only). Requests must name it in `Host` (see isAllowedHost). */
    host?: string;
    /** Port; 0 picks a free one. Default 8000. */
    port?: number;
    /** Model name reported and accepted in requests. Default: the file name. */
    modelName?: string;
    /** Enables /pooling and /v1/embeddings for a tag PRM. */
    pooling?: StepPoolingConfig;
    /** Enables `POST /get_reward` (OpenRLHF's remote reward model) with this PRM, step rule and aggregation (./reward.ts). */
    reward?: RewardConfig;
    /** Per-request bounds (queries of /get_reward count as prompts). Default {@link DEFAULT_LIMITS}. */
    limits?: Partial<RequestLimits>;
    /** Largest request body in bytes. Default 8 MiB. */
    maxBodyBytes?: number;
    /**
     * Sampling defaults for fields a request leaves out (e.g. `{top_p: 0.95, top_k: 40}`), as vLLM
     * applies a model's generation_config.json (`--generation-config`). Default none (neutral).
     */
    samplingDefaults?: Record<string, number>;
    /** Called once per request with method, path, status and milliseconds. */
    onRequest?: (line: string) => void;
}

export interface RunningServer {
    url: string;
    /**
     * Stop accepting connections, let the requests in flight finish (idle keep-alive sockets are
     * closed at once), and after `graceMs` (default 30,000) drop whatever is still open. Resolves
     * once every connection is closed.
     */
    close(graceMs?: number): Promise<void>;
}

const toLogprob = (p: number) => (p > 0 ? Math.log(p) : -9999);
const finish = (s: Sample) => (s.finishReason === "length" ? "length" : "stop");
const bytes = (text: string) => [...Buffer.from(text, "utf8")];

/** Little-endian float32 base64, OpenAI's `encoding_format: "base64"`. */
export function float32Base64(values: number[]): string {
    const buf = Buffer.alloc(values.length * 4);
    values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
    return buf.toString("base64");
}

type Usage = {prompt_tokens: number; completion_tokens: number; total_tokens: number};
const usageInfo = (prompt: number, completion: number): Usage => ({prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion});

/**
 * A stream handler that holds each sample's newest token back until the next one or the end
 * arrives, so the last token's chunk carries finish_reason (as vLLM's last chunk does):
 * `emit(index, token, end)` with `end` on the sample's last chunk (`token` undefined when the
 * sample has no token left to send, e.g. it ended on EOS).
 */
function lastHeldBack(emit: (index: number, token: GeneratedToken | undefined, end?: Sample) => void): StreamHandler {
    const held = new Map<number, GeneratedToken>();
    return {
        token(index, token) {
            const previous = held.get(index);
            if (previous) emit(index, previous);
            held.set(index, token);
        },
        end(sample) {
            const last = held.get(sample.index);
            held.delete(sample.index);
            emit(sample.index, last, sample);
        },
    };
}

/** n empty samples (max_tokens 0: echo / prompt_logprobs only), reported to the stream too. */
function emptySamples(n: number, stream?: StreamHandler): Sample[] {
    const samples = Array.from({length: n}, (_, index): Sample => ({index, text: "", tokens: [], finishReason: "length"}));
    for (const s of samples) stream?.end?.(s);
    return samples;
}

/** An OpenAI error object. */
function errorBody(message: string, status: number, param: string | null = null) {
    const type =
        status === 403 ? "PermissionDeniedError" : status === 404 ? "NotFoundError" : status === 413 ? "RequestTooLarge" : status === 415 ? "UnsupportedMediaType" : status >= 500 ? "InternalServerError" : "BadRequestError";
    return {error: {message, type, param, code: status}};
}

export function createApp(options: ServerOptions): Hono {
    const {engine} = options;
    const pooler = options.pooling && requireFacet(engine, "pool", "serving a PRM (ServerOptions.pooling, stepwise serve --prm)");
    const modelName = options.modelName ?? engine.info.model.split("/").pop()!.replace(/\.gguf$/, "");
    const maxModelLen = engine.info.contextSize ?? 4096;
    const limits: RequestLimits = {...DEFAULT_LIMITS, ...options.limits};
    const maxBody = options.maxBodyBytes ?? 8 * 1024 * 1024;
    const app = new Hono();
    let counter = 0;
    const newId = (prefix: string) => `${prefix}-${Date.now().toString(36)}${(counter++).toString(36)}`;

    app.onError((err, c) => {
        if (err instanceof HttpError) return c.json(errorBody(err.message, err.status, err.param), err.status);
        const message = err instanceof Error ? err.message : String(err);
        const status = err instanceof Error && err.name === "StepwiseError" ? 400 : 500;
        return c.json(errorBody(message, status), status);
    });
    app.notFound((c) => c.json(errorBody(`Not Found: ${c.req.method} ${c.req.path}`, 404), 404));
    if (options.onRequest) {
        const log = options.onRequest;
        app.use(async (c, next) => {
            const t0 = performance.now();
            await next();
            log(`${c.req.method} ${c.req.path} ${c.res.status} ${(performance.now() - t0).toFixed(0)}ms`);
        });
    }
    // DNS rebinding: only requests whose Host names the bound address (src/io/host-check.ts).
    // The port is the connection's own (the one bound, also with port 0); app.request() without
    // a socket (tests of the bare app) is not checked.
    const boundHost = options.host ?? "127.0.0.1";
    app.use(async (c, next) => {
        const port = (c.env as {incoming?: IncomingMessage} | undefined)?.incoming?.socket?.localPort;
        const host = c.req.header("host");
        if (port !== undefined && !isAllowedHost(host, boundHost, port))
            return c.json(errorBody(`Host "${host}" is not this server's address (bound to ${boundHost}:${port}); requests must name it (DNS-rebinding protection)`, 403), 403);
        await next();
    });
    app.use(
        bodyLimit({
            maxSize: maxBody,
            onError: (c) => c.json(errorBody(`request body larger than ${maxBody} bytes`, 413), 413),
        }),
    );

    const checkModel = (model: string | undefined) => {
        if (model !== undefined && model !== modelName)
            throw new HttpError(404, `The model \`${model}\` does not exist. This server serves \`${modelName}\`.`, "model");
    };
    const body = async (c: Context): Promise<Record<string, unknown>> => {
        // JSON only when labelled so: a cross-site page can POST text/plain (or no type) without
        // a CORS preflight, never application/json.
        const type = c.req.header("content-type");
        if (!type || type.split(";")[0].trim().toLowerCase() !== "application/json")
            throw new HttpError(415, `Content-Type must be application/json, got ${type ? `"${type}"` : "none"}`);
        let value: unknown;
        try {
            value = await c.req.json();
        } catch {
            throw new HttpError(400, "request body must be a JSON object");
        }
        if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
        throw new HttpError(400, "request body must be a JSON object");
    };
    /** Request fields left out take the server's sampling defaults (vLLM's generation config). */
    const withDefaults = (b: Record<string, unknown>) => {
        const out = {...b};
        for (const [k, v] of Object.entries(options.samplingDefaults ?? {})) if (out[k] === undefined) out[k] = v;
        return out;
    };
    /**
     * Refuse a text that certainly exceeds the context, from the engine's token lower bound
     * (special tags and bytes, one linear pass), before it is tokenized: tokenizing runs on the
     * event loop, so a multi-megabyte text would stall every other request.
     */
    const refuseCertainlyLonger = (text: string, param: string) => {
        const bound = engine.tokenLowerBound?.(text, maxModelLen);
        if (bound && bound.tokens > maxModelLen)
            throw new HttpError(
                400,
                `${param}: this model's maximum context length is ${maxModelLen} tokens, but the input has at least ${bound.tokens} tokens ` +
                    `(${bound.specialTags === undefined ? `${bound.bytes} bytes` : `${bound.specialTags} special tags in ${bound.bytes} bytes`}); shorten the input`,
                param,
            );
    };
    /** A prompt's token ids, checked against the vocabulary and the context (a text first with {@link refuseCertainlyLonger}). */
    const promptIds = async (prompt: string | number[], param: string): Promise<number[]> => {
        if (typeof prompt === "string") refuseCertainlyLonger(prompt, param);
        const ids = typeof prompt === "string" ? await engine.tokenize(prompt) : prompt;
        if (engine.info.vocabSize !== undefined)
            ids.forEach((t, i) => {
                if (t >= engine.info.vocabSize!) throw new HttpError(400, `${param}: token id ${t} at position ${i} is outside the vocabulary (size ${engine.info.vocabSize})`, param);
            });
        if (ids.length > maxModelLen)
            throw new HttpError(400, `${param}: this model's maximum context length is ${maxModelLen} tokens, but the input has ${ids.length} tokens; shorten the input`, param);
        return ids;
    };
    /**
     * engine.generate with a streaming hook: passed through on engines that stream
     * (capabilities.streaming), else replayed from the finished samples.
     */
    const generateStreaming = async (request: GenerateRequest): Promise<Sample[]> => {
        const hook = request.stream;
        if (!hook || engine.capabilities.streaming) return engine.generate(request);
        const samples = await engine.generate({...request, stream: undefined});
        for (const s of samples) {
            for (const t of s.tokens) hook.token(s.index, t);
            hook.end?.(s);
        }
        return samples;
    };
    /** A token as the client sees it: its text, or "token_id:N" with return_tokens_as_token_ids. */
    const shown = (t: {text: string; id?: number}, asIds: boolean) => (asIds && t.id !== undefined ? `token_id:${t.id}` : t.text);
    /**
     * An SSE response whose events are sent as `run` produces them, then `data: [DONE]`. The
     * signal given to `run` aborts when the client hangs up (the request's signal or the stream's
     * cancellation): the generation stops. An error after the stream began is sent as an error
     * event (an OpenAI error object) before `[DONE]`, as vLLM does.
     */
    const sseStream = (c: Context, run: (send: (event: unknown) => void, signal: AbortSignal) => Promise<void>): Response => {
        const controller = new AbortController();
        const requestSignal = c.req.raw.signal;
        const onAbort = () => controller.abort(requestSignal.reason ?? new Error("client disconnected"));
        if (requestSignal.aborted) onAbort();
        else requestSignal.addEventListener("abort", onAbort, {once: true});
        const encoder = new TextEncoder();
        const stream = new ReadableStream<Uint8Array>({
            start(out) {
                const write = (text: string) => {
                    if (!controller.signal.aborted) out.enqueue(encoder.encode(text));
                };
                const send = (event: unknown) => write(`data: ${JSON.stringify(event)}\n\n`);
                run(send, controller.signal)
                    .catch((err: unknown) => {
                        if (controller.signal.aborted) return;
                        const status = err instanceof HttpError ? err.status : err instanceof Error && err.name === "StepwiseError" ? 400 : 500;
                        send(errorBody(err instanceof Error ? err.message : String(err), status, err instanceof HttpError ? err.param : null));
                    })
                    .finally(() => {
                        requestSignal.removeEventListener("abort", onAbort);
                        if (controller.signal.aborted) return;
                        write("data: [DONE]\n\n");
                        out.close();
                    });
            },
            cancel(reason) {
                controller.abort(reason ?? new Error("client disconnected"));
            },
        });
        return new Response(stream, {status: 200, headers: {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"}});
    };

    /**
     * Tokens allowed for one prompt, by vLLM's rules (serving_engine.py input validation): a
     * prompt longer than the context is refused; `max_tokens` null (chat: absent) means the rest
     * of the context, which must hold at least one token; an explicit `max_tokens` with
     * prompt + max_tokens beyond the context is refused (never silently shortened). `echoOnly`:
     * max_tokens 0 with echo / prompt_logprobs, where a prompt filling the context is fine.
     */
    const tokenBudget = (promptLength: number, maxTokens: number | null, maxParam: string, promptParam: string, echoOnly: boolean): number => {
        const room = maxModelLen - promptLength;
        if (room < 0 || (room === 0 && !echoOnly && maxTokens === null))
            throw new HttpError(
                400,
                `${promptParam}: this model's maximum context length is ${maxModelLen} tokens, but the input has ${promptLength} tokens` +
                    (room === 0 ? ", which leaves no room to generate" : "") +
                    "; shorten the input",
                promptParam,
            );
        if (maxTokens === null) return room;
        if (maxTokens > room)
            throw new HttpError(
                400,
                `${maxParam}: ${maxTokens} is too large: this model's maximum context length is ${maxModelLen} tokens and the input has ${promptLength}, ` +
                    `so the request needs ${promptLength} + ${maxTokens} = ${promptLength + maxTokens} tokens; at most ${room} can be generated (lower ${maxParam} or shorten the input)`,
                maxParam,
            );
        return maxTokens;
    };

    app.get("/health", (c) => c.text("", 200));
    app.get("/v1/models", (c) =>
        c.json({object: "list", data: [{id: modelName, object: "model", created: 0, owned_by: "stepwise", root: modelName, max_model_len: maxModelLen}]}),
    );

    app.post("/v1/completions", async (c) => {
        const req = parseCompletionRequest(withDefaults(await body(c)), limits);
        checkModel(req.model);
        const id = newId("cmpl");
        const created = Math.floor(Date.now() / 1000);
        // Every prompt is checked against the context before any work (vLLM answers 400, never truncates).
        const prompts: Array<{ids: number[]; maxTokens: number}> = [];
        for (const p of req.prompts) {
            const ids = await promptIds(p, "prompt");
            prompts.push({ids, maxTokens: tokenBudget(ids.length, req.maxTokens, "max_tokens", "prompt", req.maxTokens === 0)});
        }
        const n = req.sampling.n;
        /** Echo text and prompt logprobs of one prompt (echo, prompt_logprobs). */
        const promptSide = async (ids: number[], signal: AbortSignal) => {
            const needPrompt = req.echo || req.promptLogprobs !== undefined;
            const promptLp = needPrompt ? await requireFacet(engine, "promptLogprobs", "echo / prompt_logprobs").promptLogprobs(ids, {topK: Math.max(req.logprobs ?? 0, req.promptLogprobs ?? 0, 1), signal}) : undefined;
            const promptText = req.echo ? await engine.detokenize(ids) : "";
            const first = ids.length ? await engine.detokenize(ids.slice(0, 1)) : "";
            const echo: Echo | undefined = req.echo && promptLp ? {tokens: ids.map((tid, i) => ({id: tid, text: i === 0 ? first : promptLp[i]!.text})), logprobs: promptLp} : undefined;
            return {promptLp, promptText, echo};
        };
        const generate = (ids: number[], maxTokens: number, signal: AbortSignal, stream?: StreamHandler): Promise<Sample[]> =>
            maxTokens === 0 ? Promise.resolve(emptySamples(n, stream)) : generateStreaming({prompt: ids, ...req.sampling, maxTokens, topLogprobs: req.logprobs ?? 0, signal, stream});
        const promptTokens = prompts.reduce((a, p) => a + p.ids.length, 0);

        if (!req.stream) {
            const signal = c.req.raw.signal;
            const choices = [];
            let completionTokens = 0;
            for (let p = 0; p < prompts.length; p++) {
                const {ids, maxTokens} = prompts[p];
                const samples = await generate(ids, maxTokens, signal);
                const {promptLp, promptText, echo} = await promptSide(ids, signal);
                for (const s of samples) {
                    completionTokens += s.tokens.length;
                    choices.push({
                        index: p * n + s.index,
                        text: promptText + s.text,
                        logprobs: req.logprobs === undefined ? null : completionLogprobs(s.tokens, req.logprobs, echo, req.tokenIds, 0),
                        finish_reason: finish(s),
                        stop_reason: s.stopString ?? null,
                        ...(req.promptLogprobs !== undefined ? {prompt_logprobs: vllmPromptLogprobs(ids, promptLp!, req.promptLogprobs)} : {}),
                    });
                }
            }
            return c.json({id, object: "text_completion", created, model: modelName, choices, usage: usageInfo(promptTokens, completionTokens)});
        }
        // SSE, sent as the tokens are generated: per choice an echo chunk (when asked), one chunk
        // per token with its logprobs, the last one carrying finish_reason; then usage; then [DONE].
        return sseStream(c, async (send, signal) => {
            const chunk = (choice: unknown, usage: Usage | null) => ({id, object: "text_completion", created, model: modelName, choices: [choice], usage});
            let completionTokens = 0;
            for (let p = 0; p < prompts.length; p++) {
                const {ids, maxTokens} = prompts[p];
                const {echo, promptText} = await promptSide(ids, signal);
                const offsets = new Array<number>(n).fill(0);
                const counts = new Array<number>(n).fill(0);
                const usageOf = (i: number) => (req.continuousUsage ? usageInfo(ids.length, counts[i]) : null);
                if (echo)
                    for (let i = 0; i < n; i++) {
                        send(chunk({index: p * n + i, text: promptText, logprobs: req.logprobs === undefined ? null : completionLogprobs([], req.logprobs, echo, req.tokenIds, 0), finish_reason: null, stop_reason: null}, usageOf(i)));
                        offsets[i] = promptText.length;
                    }
                const tokenChoice = (i: number, t: GeneratedToken | undefined, end?: Sample) => {
                    const choice = {
                        index: p * n + i,
                        text: t?.text ?? "",
                        logprobs: req.logprobs === undefined || !t ? null : completionLogprobs([t], req.logprobs, undefined, req.tokenIds, offsets[i]),
                        finish_reason: end ? finish(end) : null,
                        stop_reason: end ? (end.stopString ?? null) : null,
                    };
                    if (t) offsets[i] += t.text.length;
                    return choice;
                };
                const samples = await generate(ids, maxTokens, signal, lastHeldBack((i, t, end) => {
                    if (t) counts[i]++;
                    send(chunk(tokenChoice(i, t, end), usageOf(i)));
                }));
                completionTokens += samples.reduce((a, s) => a + s.tokens.length, 0);
            }
            if (req.includeUsage) send({id, object: "text_completion", created, model: modelName, choices: [], usage: usageInfo(promptTokens, completionTokens)});
        });
    });

    app.post("/v1/chat/completions", async (c) => {
        const req = parseChatRequest(withDefaults(await body(c)), limits);
        checkModel(req.model);
        const prompt = await engine.formatChat(req.messages as ChatMessage[], {addGenerationPrompt: true});
        const ids = await promptIds(prompt, "messages");
        const maxTokens = tokenBudget(ids.length, req.maxTokens, req.maxTokensParam, "messages", false);
        const id = newId("chatcmpl");
        const created = Math.floor(Date.now() / 1000);
        const generate = (signal: AbortSignal, stream?: StreamHandler) => generateStreaming({prompt: ids, ...req.sampling, maxTokens, topLogprobs: req.topLogprobs, signal, stream});
        const tokenLogprob = (t: GeneratedToken) => {
            const token = shown(t, req.tokenIds);
            return {
                token,
                logprob: toLogprob(t.confidence),
                bytes: bytes(t.text),
                top_logprobs: t.top.slice(0, req.topLogprobs).map((a) => ({token: shown(a, req.tokenIds), logprob: toLogprob(a.prob), bytes: bytes(a.text)})),
            };
        };
        if (!req.stream) {
            const samples = await generate(c.req.raw.signal);
            const completionTokens = samples.reduce((a, s) => a + s.tokens.length, 0);
            return c.json({
                id,
                object: "chat.completion",
                created,
                model: modelName,
                choices: samples.map((s) => ({
                    index: s.index,
                    message: {role: "assistant", content: s.text},
                    logprobs: req.logprobs ? {content: s.tokens.map(tokenLogprob)} : null,
                    finish_reason: finish(s),
                    stop_reason: s.stopString ?? null,
                })),
                usage: usageInfo(ids.length, completionTokens),
            });
        }
        // SSE as generated: per choice a role chunk first (vLLM's order), one chunk per token, the last with finish_reason.
        return sseStream(c, async (send, signal) => {
            const n = req.sampling.n;
            const counts = new Array<number>(n).fill(0);
            const chunk = (choice: unknown, i: number) => ({id, object: "chat.completion.chunk", created, model: modelName, choices: [choice], usage: req.continuousUsage ? usageInfo(ids.length, counts[i]) : null});
            for (let i = 0; i < n; i++) send(chunk({index: i, delta: {role: "assistant", content: ""}, logprobs: null, finish_reason: null}, i));
            const samples = await generate(signal, lastHeldBack((i, t, end) => {
                if (t) counts[i]++;
                send(chunk({index: i, delta: t ? {content: t.text} : {}, logprobs: req.logprobs && t ? {content: [tokenLogprob(t)]} : null, finish_reason: end ? finish(end) : null}, i));
            }));
            const completionTokens = samples.reduce((a, s) => a + s.tokens.length, 0);
            if (req.includeUsage) send({id, object: "chat.completion.chunk", created, model: modelName, choices: [], usage: usageInfo(ids.length, completionTokens)});
        });
    });

    app.post("/tokenize", async (c) => {
        const req = parseTokenizeRequest(await body(c));
        checkModel(req.model);
        const text = req.messages ? await engine.formatChat(req.messages, {addGenerationPrompt: req.addGenerationPrompt}) : req.prompt!;
        // Unlike vLLM's, a text that certainly exceeds the context is refused, not counted (see refuseCertainlyLonger).
        refuseCertainlyLonger(text, req.messages ? "messages" : "prompt");
        const tokens = await engine.tokenize(text, {addBos: req.addSpecialTokens ? undefined : false});
        return c.json({tokens, count: tokens.length, max_model_len: maxModelLen});
    });

    app.post("/detokenize", async (c) => {
        const req = parseDetokenizeRequest(await body(c), engine.info.vocabSize);
        checkModel(req.model);
        return c.json({prompt: await engine.detokenize(req.tokens)});
    });

    const pool = async (c: Context, shape: "pooling" | "embeddings") => {
        if (!options.pooling || !pooler)
            throw new HttpError(400, "this server was not started as a PRM (stepwise serve --prm): no STEP pooling configured");
        const req = parsePoolingRequest(await body(c), limits);
        checkModel(req.model);
        const signal = c.req.raw.signal;
        const {stepTagId, returnedTokenIds} = options.pooling;
        const data: unknown[] = [];
        let promptTokens = 0;
        for (let i = 0; i < req.inputs.length; i++) {
            const ids = await promptIds(req.inputs[i], "input");
            promptTokens += ids.length;
            const rows = await pooler.pool({input: ids, step: {tagId: stepTagId, returnedTokenIds}, signal});
            const flat = rows.flat();
            if (shape === "pooling") data.push({index: i, object: "pooling", data: req.encoding === "base64" ? float32Base64(flat) : rows});
            else data.push({index: i, object: "embedding", embedding: req.encoding === "base64" ? float32Base64(flat) : flat});
        }
        return c.json({
            id: newId(shape === "pooling" ? "pool" : "embd"),
            object: "list",
            created: Math.floor(Date.now() / 1000),
            model: modelName,
            data,
            usage: {prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0},
        });
    };
    app.post("/get_reward", async (c) => {
        if (!options.reward) throw new HttpError(400, "this server was not started as a PRM (stepwise serve --prm): no /get_reward");
        const req = parseRewardRequest(await body(c), limits);
        return c.json(await answerRewardRequest(options.reward, req, {checkLength: refuseCertainlyLonger, signal: c.req.raw.signal}));
    });
    app.post("/pooling", (c) => pool(c, "pooling"));
    app.post("/v1/embeddings", (c) => pool(c, "embeddings"));

    type Echo = {tokens: Array<{id: number; text: string}>; logprobs: Array<PromptTokenLogprob | null>};

    /**
     * Legacy completions logprobs (parallel arrays). vLLM puts the sampled token into every
     * top_logprobs entry, so an entry has k or k + 1 keys, and `logprobs: 0` gives just the
     * sampled token.
     */
    function completionLogprobs(tokens: GeneratedToken[], k: number, echo: Echo | undefined, asIds: boolean, startOffset: number) {
        const out = {tokens: [] as string[], token_logprobs: [] as Array<number | null>, top_logprobs: [] as Array<Record<string, number> | null>, text_offset: [] as number[]};
        let offset = startOffset;
        const topDict = (alts: TokenAlternative[], chosen: string, logprob: number) => {
            const d: Record<string, number> = {};
            for (const a of alts.slice(0, k)) d[shown(a, asIds)] = toLogprob(a.prob);
            if (!(chosen in d)) d[chosen] = logprob;
            return d;
        };
        const push = (t: {text: string; id?: number}, lp: number | null, top: Record<string, number> | null) => {
            out.tokens.push(shown(t, asIds));
            out.token_logprobs.push(lp);
            out.top_logprobs.push(top);
            out.text_offset.push(offset);
            offset += t.text.length;
        };
        if (echo)
            echo.tokens.forEach((t, i) => {
                const lp = echo.logprobs[i];
                push(t, lp ? toLogprob(lp.prob) : null, lp ? topDict(lp.top, shown(t, asIds), toLogprob(lp.prob)) : null);
            });
        for (const t of tokens) push(t, toLogprob(t.confidence), topDict(t.top, shown(t, asIds), toLogprob(t.confidence)));
        return out;
    }

    /** vLLM's prompt_logprobs: per token (null first) token id → {logprob, rank (true vocabulary rank), decoded_token}; the prompt token always included. */
    function vllmPromptLogprobs(ids: number[], lp: Array<PromptTokenLogprob | null>, k: number) {
        return ids.map((id, i) => {
            const entry = lp[i];
            if (!entry) return null;
            const out: Record<string, {logprob: number; rank: number; decoded_token: string}> = {};
            out[String(id)] = {logprob: toLogprob(entry.prob), rank: entry.rank, decoded_token: entry.text};
            entry.top.slice(0, k).forEach((a, r) => {
                if (a.id !== id) out[String(a.id)] = {logprob: toLogprob(a.prob), rank: r + 1, decoded_token: a.text};
            });
            return out;
        });
    }

    return app;
}

/** Start the server; resolves once it listens. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
    const app = createApp(options);
    const host = options.host ?? "127.0.0.1";
    return new Promise((resolve, reject) => {
        const server = serveNode({fetch: app.fetch, hostname: host, port: options.port ?? 8000}, (info: AddressInfo) => {
            const shownHost = info.address.includes(":") ? `[${info.address}]` : info.address;
            resolve({
                url: `http://${shownHost}:${info.port}`,
                close: (graceMs = 30_000) =>
                    new Promise<void>((res) => {
                        // A request in flight (a reward batch an RL trainer waits for) gets its answer; it
                        // used to be dropped at once with its socket.
                        const hard = setTimeout(() => {
                            if ("closeAllConnections" in server) server.closeAllConnections();
                        }, graceMs);
                        server.close(() => {
                            clearTimeout(hard);
                            res();
                        });
                        if ("closeIdleConnections" in server) server.closeIdleConnections(); // an http.Server (not HTTP/2): idle keep-alive sockets
                    }),
            });
        });
        server.on("error", reject);
    });
}
