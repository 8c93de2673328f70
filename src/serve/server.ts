/**
 * `stepwise serve`: an OpenAI-compatible HTTP server over the llama engine, speaking the same
 * dialect as vLLM so that every client of vLLM (including stepwise's own OpenAI engine) works
 * against a GGUF model on a laptop:
 *
 * - `GET  /v1/models`, `GET /health`
 * - `POST /v1/completions`: prompt (text, token ids, or a list of either), n, temperature,
 *   top_p, top_k, seed, stop, max_tokens, logprobs (≤ 20), echo, prompt_logprobs (vLLM)
 * - `POST /v1/chat/completions`: messages, n, temperature, top_p, top_k, seed, stop,
 *   max_tokens / max_completion_tokens, logprobs, top_logprobs
 * - `POST /tokenize`, `POST /detokenize` (vLLM's)
 * - `POST /pooling` and `POST /v1/embeddings`: vLLM's STEP pooling for tag PRMs: for every
 *   step-tag token of the input, the softmax over the returned label tokens (positive first)
 *
 * Logprobs are raw-model logprobs (vLLM's default `raw_logprobs` mode): see engines/types.ts.
 */
import {Hono, type Context} from "hono";
import {serve as serveNode} from "@hono/node-server";
import type {AddressInfo} from "node:net";
import type {Engine, PromptTokenLogprob, Sample, TokenAlternative} from "../engines/types.ts";
import {HttpError, parseChatRequest, parseCompletionRequest, parsePoolingRequest, parseTokenizeRequest} from "./requests.ts";

export interface StepPoolingConfig {
    /** Token id of the step tag (e.g. the id of " ки" or `<|step|>`). */
    stepTagId: number;
    /** Label token ids whose softmax is returned at each tag, positive first. */
    returnedTokenIds: number[];
}

export interface ServerOptions {
    /** Any engine with prompt log-probabilities (echo, prompt_logprobs) and, for --prm, pooling: in practice the llama engine. */
    engine: Engine;
    /** Address to bind. Default 127.0.0.1 (loopback only). */
    host?: string;
    /** Port; 0 picks a free one. Default 8000. */
    port?: number;
    /** Model name reported and accepted in requests. Default: the file name. */
    modelName?: string;
    /** Enables /pooling and /v1/embeddings for a tag PRM. */
    pooling?: StepPoolingConfig;
    /** Called once per request with method, path, status and milliseconds. */
    onRequest?: (line: string) => void;
}

export interface RunningServer {
    url: string;
    close(): Promise<void>;
}

const toLogprob = (p: number) => (p > 0 ? Math.log(p) : -9999);

export function createApp(options: ServerOptions): Hono {
    const {engine} = options;
    const modelName = options.modelName ?? engine.info.model.split("/").pop()!.replace(/\.gguf$/, "");
    const maxModelLen = engine.info.contextSize ?? 4096;
    const app = new Hono();
    let counter = 0;
    const newId = (prefix: string) => `${prefix}-${Date.now().toString(36)}${(counter++).toString(36)}`;

    app.onError((err, c) => {
        if (err instanceof HttpError) return c.json({error: {message: err.message, type: "invalid_request_error", code: err.status}}, err.status);
        const message = err instanceof Error ? err.message : String(err);
        const status = err instanceof Error && err.name === "StepwiseError" ? 400 : 500;
        return c.json({error: {message, type: status === 400 ? "invalid_request_error" : "internal_error", code: status}}, status);
    });
    if (options.onRequest) {
        const log = options.onRequest;
        app.use(async (c, next) => {
            const t0 = performance.now();
            await next();
            log(`${c.req.method} ${c.req.path} ${c.res.status} ${(performance.now() - t0).toFixed(0)}ms`);
        });
    }

    const checkModel = (model: string | undefined) => {
        if (model !== undefined && model !== modelName)
            throw new HttpError(404, `The model \`${model}\` does not exist. This server serves \`${modelName}\`.`);
    };
    const body = async (c: Context): Promise<Record<string, unknown>> => {
        try {
            const value = await c.req.json();
            if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
        } catch {
            /* fall through */
        }
        throw new HttpError(400, "request body must be a JSON object");
    };

    app.get("/health", (c) => c.text("", 200));
    app.get("/v1/models", (c) =>
        c.json({object: "list", data: [{id: modelName, object: "model", created: 0, owned_by: "stepwise", max_model_len: maxModelLen}]}),
    );

    app.post("/v1/completions", async (c) => {
        const req = parseCompletionRequest(await body(c));
        checkModel(req.model);
        const choices: unknown[] = [];
        let promptTokens = 0;
        let completionTokens = 0;
        for (let p = 0; p < req.prompts.length; p++) {
            const prompt = req.prompts[p];
            const ids = typeof prompt === "string" ? await engine.tokenize(prompt) : prompt;
            promptTokens += ids.length;
            const samples = await engine.generate({prompt: ids, ...req.sampling, maxTokens: req.maxTokens, topLogprobs: req.logprobs ?? 0});
            const needPrompt = req.echo || req.promptLogprobs !== undefined;
            const promptLp = needPrompt ? await engine.promptLogprobs(ids, {topK: Math.max(req.logprobs ?? 0, req.promptLogprobs ?? 0, 1)}) : undefined;
            const promptText = req.echo ? await engine.detokenize(ids) : "";
            // The prompt's token texts, once per prompt (each piece decoded after the tokens before it).
            const echo = req.echo && promptLp ? {pieces: [await engine.detokenize(ids.slice(0, 1)), ...promptLp.slice(1).map((e) => e!.text)], logprobs: promptLp} : undefined;
            for (const s of samples) {
                completionTokens += s.tokens.length;
                choices.push({
                    index: p * req.sampling.n + s.index,
                    text: promptText + s.text,
                    logprobs: req.logprobs === undefined ? null : await completionLogprobs(s, req.logprobs, echo),
                    finish_reason: s.finishReason === "length" ? "length" : "stop",
                    stop_reason: s.stopString ?? null,
                    ...(req.promptLogprobs !== undefined ? {prompt_logprobs: await vllmPromptLogprobs(ids, promptLp!, req.promptLogprobs)} : {}),
                });
            }
        }
        return c.json({
            id: newId("cmpl"),
            object: "text_completion",
            created: Math.floor(Date.now() / 1000),
            model: modelName,
            choices,
            usage: {prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens},
        });
    });

    app.post("/v1/chat/completions", async (c) => {
        const req = parseChatRequest(await body(c));
        checkModel(req.model);
        const prompt = await engine.formatChat(req.messages, {addGenerationPrompt: true});
        const ids = await engine.tokenize(prompt);
        const samples = await engine.generate({prompt: ids, ...req.sampling, maxTokens: req.maxTokens, topLogprobs: req.topLogprobs});
        const completionTokens = samples.reduce((a, s) => a + s.tokens.length, 0);
        return c.json({
            id: newId("chatcmpl"),
            object: "chat.completion",
            created: Math.floor(Date.now() / 1000),
            model: modelName,
            choices: samples.map((s) => ({
                index: s.index,
                message: {role: "assistant", content: s.text},
                logprobs: req.logprobs
                    ? {
                          content: s.tokens.map((t) => ({
                              token: t.text,
                              logprob: toLogprob(t.confidence),
                              bytes: [...Buffer.from(t.text, "utf8")],
                              top_logprobs: t.top.slice(0, req.topLogprobs).map((a) => ({
                                  token: a.text,
                                  logprob: toLogprob(a.prob),
                                  bytes: [...Buffer.from(a.text, "utf8")],
                              })),
                          })),
                      }
                    : null,
                finish_reason: s.finishReason === "length" ? "length" : "stop",
            })),
            usage: {prompt_tokens: ids.length, completion_tokens: completionTokens, total_tokens: ids.length + completionTokens},
        });
    });

    app.post("/tokenize", async (c) => {
        const req = parseTokenizeRequest(await body(c));
        checkModel(req.model);
        const text = req.messages ? await engine.formatChat(req.messages, {addGenerationPrompt: req.addGenerationPrompt}) : req.prompt!;
        const tokens = await engine.tokenize(text, {addBos: req.addSpecialTokens ? undefined : false});
        return c.json({tokens, count: tokens.length, max_model_len: maxModelLen});
    });

    app.post("/detokenize", async (c) => {
        const b = await body(c);
        checkModel(b.model as string | undefined);
        if (!Array.isArray(b.tokens) || !b.tokens.every((t) => Number.isInteger(t))) throw new HttpError(400, "`tokens` must be an array of token ids");
        return c.json({prompt: await engine.detokenize(b.tokens as number[])});
    });

    const pool = async (c: Context, shape: "pooling" | "embeddings") => {
        if (!options.pooling)
            throw new HttpError(400, "this server was not started as a PRM (stepwise serve --prm): no STEP pooling configured");
        const req = parsePoolingRequest(await body(c));
        checkModel(req.model);
        const {stepTagId, returnedTokenIds} = options.pooling;
        const data: unknown[] = [];
        let promptTokens = 0;
        for (let i = 0; i < req.inputs.length; i++) {
            const input = req.inputs[i];
            const ids = typeof input === "string" ? await engine.tokenize(input) : input;
            promptTokens += ids.length;
            const rows = await engine.pool({input: ids, step: {tagId: stepTagId, returnedTokenIds}});
            data.push(shape === "pooling" ? {index: i, object: "pooling", data: rows} : {index: i, object: "embedding", embedding: rows.flat()});
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

    async function completionLogprobs(
        s: Sample,
        k: number,
        echo: {pieces: string[]; logprobs: Array<PromptTokenLogprob | null>} | undefined,
    ) {
        const tokens: string[] = [];
        const tokenLogprobs: Array<number | null> = [];
        const top: Array<Record<string, number> | null> = [];
        const offsets: number[] = [];
        let offset = 0;
        // vLLM always includes the chosen token in its top_logprobs entry (k + 1 entries when it is outside the top k).
        const topDict = (alts: TokenAlternative[], chosen: string, logprob: number) => {
            const out: Record<string, number> = {[chosen]: logprob};
            for (const a of alts.slice(0, k)) out[a.text] = toLogprob(a.prob);
            return out;
        };
        if (echo) {
            for (let i = 0; i < echo.pieces.length; i++) {
                tokens.push(echo.pieces[i]);
                offsets.push(offset);
                offset += echo.pieces[i].length;
                const lp = echo.logprobs[i];
                tokenLogprobs.push(lp ? toLogprob(lp.prob) : null);
                top.push(lp ? topDict(lp.top, echo.pieces[i], toLogprob(lp.prob)) : null);
            }
        }
        for (const t of s.tokens) {
            tokens.push(t.text);
            offsets.push(offset);
            offset += t.text.length;
            tokenLogprobs.push(toLogprob(t.confidence));
            top.push(topDict(t.top, t.text, toLogprob(t.confidence)));
        }
        return {tokens, token_logprobs: tokenLogprobs, top_logprobs: top, text_offset: offsets};
    }

    /** vLLM's prompt_logprobs: per token (null first) token id → {logprob, rank (true vocabulary rank), decoded_token}; the prompt token always included. */
    async function vllmPromptLogprobs(ids: number[], lp: Array<PromptTokenLogprob | null>, k: number) {
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
                close: () => new Promise<void>((res) => server.close(() => res())),
            });
        });
        server.on("error", reject);
    });
}
