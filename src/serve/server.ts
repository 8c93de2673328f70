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
 *   prompt_logprobs (vLLM: true vocabulary rank and decoded token), stream (SSE, logprobs in
 *   the chunks, `data: [DONE]`), return_tokens_as_token_ids
 * - `POST /v1/chat/completions`: messages (system, developer, user, assistant; content a string
 *   or text parts), the same sampling fields, max_tokens / max_completion_tokens (default: the
 *   rest of the context), logprobs, top_logprobs (default none; needs logprobs), stream
 * - `POST /tokenize`, `POST /detokenize` (vLLM's; ids checked against the vocabulary)
 * - `POST /pooling` and `POST /v1/embeddings`: vLLM's STEP pooling for tag PRMs (for every
 *   step-tag token, the softmax over the returned label tokens, positive first);
 *   `encoding_format` float or base64 (little-endian float32, the npm SDK's default)
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
import type {ChatMessage, Engine, GeneratedToken, PromptTokenLogprob, Sample, TokenAlternative} from "../engines/types.ts";
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

export interface StepPoolingConfig {
    /** Token id of the step tag (e.g. the id of " ки" or `<|step|>`). */
    stepTagId: number;
    /** Label token ids whose softmax is returned at each tag, positive first. */
    returnedTokenIds: number[];
}

export interface ServerOptions {
    /** An engine with prompt log-probabilities (echo, prompt_logprobs) and, for --prm, pooling: in practice the llama engine. */
    engine: Engine;
    /** Address to bind. Default 127.0.0.1 (loopback only). */
    host?: string;
    /** Port; 0 picks a free one. Default 8000. */
    port?: number;
    /** Model name reported and accepted in requests. Default: the file name. */
    modelName?: string;
    /** Enables /pooling and /v1/embeddings for a tag PRM. */
    pooling?: StepPoolingConfig;
    /** Per-request bounds. Default {@link DEFAULT_LIMITS}. */
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
    close(): Promise<void>;
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

/** An OpenAI error object. */
function errorBody(message: string, status: number, param: string | null = null) {
    const type = status === 404 ? "NotFoundError" : status === 413 ? "RequestTooLarge" : status >= 500 ? "InternalServerError" : "BadRequestError";
    return {error: {message, type, param, code: status}};
}

export function createApp(options: ServerOptions): Hono {
    const {engine} = options;
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
    const promptIds = async (prompt: string | number[], param: string): Promise<number[]> => {
        const ids = typeof prompt === "string" ? await engine.tokenize(prompt) : prompt;
        if (engine.info.vocabSize !== undefined)
            ids.forEach((t, i) => {
                if (t >= engine.info.vocabSize!) throw new HttpError(400, `${param}: token id ${t} at position ${i} is outside the vocabulary (size ${engine.info.vocabSize})`, param);
            });
        if (ids.length >= maxModelLen)
            throw new HttpError(400, `${param}: this model's maximum context length is ${maxModelLen} tokens; the prompt has ${ids.length}`, param);
        return ids;
    };
    /** A token as the client sees it: its text, or "token_id:N" with return_tokens_as_token_ids. */
    const shown = (t: {text: string; id?: number}, asIds: boolean) => (asIds && t.id !== undefined ? `token_id:${t.id}` : t.text);
    const sse = (c: Context, events: unknown[]) => {
        const text = events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("") + "data: [DONE]\n\n";
        return c.body(text, 200, {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache"});
    };

    app.get("/health", (c) => c.text("", 200));
    app.get("/v1/models", (c) =>
        c.json({object: "list", data: [{id: modelName, object: "model", created: 0, owned_by: "stepwise", root: modelName, max_model_len: maxModelLen}]}),
    );

    app.post("/v1/completions", async (c) => {
        const req = parseCompletionRequest(withDefaults(await body(c)), limits);
        checkModel(req.model);
        const signal = c.req.raw.signal;
        const id = newId("cmpl");
        const created = Math.floor(Date.now() / 1000);
        const choices: Array<{index: number; sample: Sample; promptText: string; echo?: Echo; promptLp?: Array<PromptTokenLogprob | null>; ids: number[]}> = [];
        let promptTokens = 0;
        let completionTokens = 0;
        for (let p = 0; p < req.prompts.length; p++) {
            const ids = await promptIds(req.prompts[p], "prompt");
            promptTokens += ids.length;
            const maxTokens = Math.min(req.maxTokens ?? maxModelLen - ids.length, maxModelLen - ids.length);
            const samples = await engine.generate({prompt: ids, ...req.sampling, maxTokens, topLogprobs: req.logprobs ?? 0, signal});
            const needPrompt = req.echo || req.promptLogprobs !== undefined;
            const promptLp = needPrompt ? await engine.promptLogprobs(ids, {topK: Math.max(req.logprobs ?? 0, req.promptLogprobs ?? 0, 1), signal}) : undefined;
            const promptText = req.echo ? await engine.detokenize(ids) : "";
            const first = ids.length ? await engine.detokenize(ids.slice(0, 1)) : "";
            const echo = req.echo && promptLp ? {tokens: ids.map((tid, i) => ({id: tid, text: i === 0 ? first : promptLp[i]!.text})), logprobs: promptLp} : undefined;
            for (const s of samples) {
                completionTokens += s.tokens.length;
                choices.push({index: p * req.sampling.n + s.index, sample: s, promptText, echo, promptLp, ids});
            }
        }
        const usage = {prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens};
        const full = (ch: (typeof choices)[number]) => ({
            index: ch.index,
            text: ch.promptText + ch.sample.text,
            logprobs: req.logprobs === undefined ? null : completionLogprobs(ch.sample.tokens, req.logprobs, ch.echo, req.tokenIds, 0),
            finish_reason: finish(ch.sample),
            stop_reason: ch.sample.stopString ?? null,
            ...(req.promptLogprobs !== undefined ? {prompt_logprobs: vllmPromptLogprobs(ch.ids, ch.promptLp!, req.promptLogprobs)} : {}),
        });
        if (!req.stream) return c.json({id, object: "text_completion", created, model: modelName, choices: choices.map(full), usage});
        // SSE: per choice, an echo chunk (when asked), one chunk per token with its logprobs, the last carrying finish_reason.
        const events: unknown[] = [];
        const chunk = (choice: unknown) => ({id, object: "text_completion", created, model: modelName, choices: [choice], usage: null});
        for (const ch of choices) {
            let offset = 0;
            if (ch.echo) {
                events.push(chunk({index: ch.index, text: ch.promptText, logprobs: req.logprobs === undefined ? null : completionLogprobs([], req.logprobs, ch.echo, req.tokenIds, 0), finish_reason: null, stop_reason: null}));
                offset = ch.promptText.length;
            }
            const toks = ch.sample.tokens;
            if (toks.length === 0) events.push(chunk({index: ch.index, text: "", logprobs: null, finish_reason: finish(ch.sample), stop_reason: ch.sample.stopString ?? null}));
            toks.forEach((t, j) => {
                const last = j === toks.length - 1;
                events.push(
                    chunk({
                        index: ch.index,
                        text: t.text,
                        logprobs: req.logprobs === undefined ? null : completionLogprobs([t], req.logprobs, undefined, req.tokenIds, offset),
                        finish_reason: last ? finish(ch.sample) : null,
                        stop_reason: last ? (ch.sample.stopString ?? null) : null,
                    }),
                );
                offset += t.text.length;
            });
        }
        if (req.includeUsage) events.push({id, object: "text_completion", created, model: modelName, choices: [], usage});
        return sse(c, events);
    });

    app.post("/v1/chat/completions", async (c) => {
        const req = parseChatRequest(withDefaults(await body(c)), limits);
        checkModel(req.model);
        const signal = c.req.raw.signal;
        const prompt = await engine.formatChat(req.messages as ChatMessage[], {addGenerationPrompt: true});
        const ids = await promptIds(await engine.tokenize(prompt), "messages");
        const maxTokens = Math.min(req.maxTokens ?? maxModelLen - ids.length, maxModelLen - ids.length);
        const samples = await engine.generate({prompt: ids, ...req.sampling, maxTokens, topLogprobs: req.topLogprobs, signal});
        const completionTokens = samples.reduce((a, s) => a + s.tokens.length, 0);
        const usage = {prompt_tokens: ids.length, completion_tokens: completionTokens, total_tokens: ids.length + completionTokens};
        const id = newId("chatcmpl");
        const created = Math.floor(Date.now() / 1000);
        const tokenLogprob = (t: GeneratedToken) => {
            const token = shown(t, req.tokenIds);
            return {
                token,
                logprob: toLogprob(t.confidence),
                bytes: bytes(t.text),
                top_logprobs: t.top.slice(0, req.topLogprobs).map((a) => ({token: shown(a, req.tokenIds), logprob: toLogprob(a.prob), bytes: bytes(a.text)})),
            };
        };
        if (!req.stream)
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
                usage,
            });
        const events: unknown[] = [];
        const chunk = (choice: unknown) => ({id, object: "chat.completion.chunk", created, model: modelName, choices: [choice], usage: null});
        for (const s of samples) {
            events.push(chunk({index: s.index, delta: {role: "assistant", content: ""}, logprobs: null, finish_reason: null}));
            s.tokens.forEach((t, j) => {
                const last = j === s.tokens.length - 1;
                events.push(chunk({index: s.index, delta: {content: t.text}, logprobs: req.logprobs ? {content: [tokenLogprob(t)]} : null, finish_reason: last ? finish(s) : null}));
            });
            if (s.tokens.length === 0) events.push(chunk({index: s.index, delta: {}, logprobs: null, finish_reason: finish(s)}));
        }
        if (req.includeUsage) events.push({id, object: "chat.completion.chunk", created, model: modelName, choices: [], usage});
        return sse(c, events);
    });

    app.post("/tokenize", async (c) => {
        const req = parseTokenizeRequest(await body(c));
        checkModel(req.model);
        const text = req.messages ? await engine.formatChat(req.messages, {addGenerationPrompt: req.addGenerationPrompt}) : req.prompt!;
        const tokens = await engine.tokenize(text, {addBos: req.addSpecialTokens ? undefined : false});
        return c.json({tokens, count: tokens.length, max_model_len: maxModelLen});
    });

    app.post("/detokenize", async (c) => {
        const req = parseDetokenizeRequest(await body(c), engine.info.vocabSize);
        checkModel(req.model);
        return c.json({prompt: await engine.detokenize(req.tokens)});
    });

    const pool = async (c: Context, shape: "pooling" | "embeddings") => {
        if (!options.pooling)
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
            const rows = await engine.pool({input: ids, step: {tagId: stepTagId, returnedTokenIds}, signal});
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
                close: () =>
                    new Promise<void>((res) => {
                        server.close(() => res());
                        (server as unknown as {closeAllConnections?: () => void}).closeAllConnections?.();
                    }),
            });
        });
        server.on("error", reject);
    });
}
