/**
 * The OpenAI-compatible engine: {@link Engine} over vLLM first, and SGLang, llama.cpp server or
 * `stepwise serve` as far as they implement the same routes.
 *
 * | Engine method | route | notes |
 * | --- | --- | --- |
 * | generate | `POST /v1/completions` | `logprobs` (≥ 1), `n` split into chunks, `seed`, vLLM's `top_k` |
 * | nextToken | `POST /v1/completions` | `max_tokens: 1`, `temperature: 0`, `logprobs: k` |
 * | probeTokens | `POST /v1/completions` | token-id prompt, `prompt_logprobs: 20` (vLLM, id-keyed), else `echo` + `logprobs` |
 * | tokenize / detokenize | `POST /tokenize`, `POST /detokenize` | vLLM, at the server root (not under /v1) |
 * | formatChat | `POST /tokenize` with `messages`, then `/detokenize` | vLLM renders its chat template |
 * | chat (extra) | `POST /v1/chat/completions` | `logprobs: true`, `top_logprobs: k` |
 * | pool (extra) | `POST /pooling` or `POST /v1/embeddings` | vLLM pooling models (step-reward PRMs) |
 *
 * Every request goes through {@link HttpClient}: several servers, a concurrency limit, retries
 * with backoff; errors are one-line {@link StepwiseError}s naming the URL.
 *
 * Token ids: servers report tokens as text, so {@link GeneratedToken.id} and
 * {@link TokenAlternative.id} are unset, unless the server runs with vLLM's
 * `--return-tokens-as-token-ids`, in which case token texts are "token_id:N" and ids are filled.
 * Two distinct tokens with the same text (e.g. byte-fallback pieces) share one entry of a
 * top-logprobs map, so `top` may then list fewer than k alternatives.
 */
import {HttpClient, type HttpClientOptions, type HttpStats} from "./http.ts";
import {
    chatTokens,
    completionTokens,
    finishReason,
    orderedChoices,
    poolRows,
    tokenIdFromKey,
    topFromMap,
    type ChatResponse,
    type CompletionChoice,
    type CompletionResponse,
    type DetokenizeResponse,
    type EmbeddingsResponse,
    type ModelsResponse,
    type PoolingResponse,
    type TokenizeResponse,
    type Usage,
} from "./protocol.ts";
import {
    emptyStats,
    StepwiseError,
    type ChatMessage,
    type Engine,
    type EngineInfo,
    type EngineStats,
    type GenerateRequest,
    type NextTokenDistribution,
    type Sample,
    type SamplingOptions,
    type TokenProbeRequest,
    type TokenProbeResult,
} from "../types.ts";

/** Most log-probabilities per position that OpenAI-compatible servers return (vLLM's default max_logprobs). */
export const MAX_LOGPROBS = 20;

/** Options of {@link OpenAIEngine}; `apiKey` defaults to the OPENAI_API_KEY environment variable. */
export interface OpenAIEngineOptions extends HttpClientOptions {
    /** Model name sent with every request. {@link OpenAIEngine.connect} fills it from `/v1/models` when unset. */
    model?: string;
    /** Largest `n` sent in one request; a larger n is split into several requests. Default 16. */
    maxNPerRequest?: number;
    /**
     * What probeTokens does with a candidate that is not among the top-k log-probabilities the
     * server returned at a position (its probability is then unknown):
     * - "error" (default): throw a StepwiseError naming the candidate and position;
     * - "bound": return an upper bound of its probability, min(k-th largest probability,
     *   1 − Σ returned probabilities), and flag it in {@link ProbeResultDetailed.missing}.
     */
    probeMissing?: "error" | "bound";
    /** How many log-probabilities probeTokens asks for per position (1..20). Default 20. */
    probeTopK?: number;
}

/** probeTokens' answer with, per value, whether it is an upper bound for a candidate outside the top-k. */
export interface ProbeResultDetailed extends TokenProbeResult {
    /** missing[j][c]: candidates[c] was absent from the server's top-k at positions[j]. */
    missing: boolean[][];
}

export interface ChatOptions extends SamplingOptions {
    /** Number of samples. Default 1. */
    n?: number;
}

export interface PoolOptions {
    /** "pooling" (vLLM's `POST /pooling`, default) or "embeddings" (`POST /v1/embeddings`). */
    endpoint?: "pooling" | "embeddings";
    /** Row width used to cut a flat vector into rows (embeddings route). Default 2. */
    stepWidth?: number;
    /** vLLM pooling task (e.g. "token_classify", "encode"), sent only when set. */
    task?: string;
}

/** A seed for chunk c of a split request: chunk 0 keeps the seed, others get a fixed mix of it. */
export function chunkSeed(seed: number, chunk: number): number {
    if (chunk === 0) return seed;
    let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(chunk, 0x85ebca6b)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
    return (h ^ (h >>> 16)) & 0x7fffffff;
}

/** The API key from the environment (OPENAI_API_KEY), if set. */
function defaultApiKey(): string | undefined {
    return process.env.OPENAI_API_KEY || undefined;
}

function checkTopK(value: number, name: string): number {
    if (!Number.isInteger(value) || value < 0 || value > MAX_LOGPROBS)
        throw new StepwiseError(`${name} must be an integer in 0..${MAX_LOGPROBS} on OpenAI-compatible servers, got ${value}`);
    return value;
}

/**
 * {@link Engine} over an OpenAI-compatible server, or several serving the same model.
 * Create it with {@link OpenAIEngine.connect} (checks the servers, finds the model name) or
 * `createEngine("openai:URL?model=NAME")`.
 */
export class OpenAIEngine implements Engine {
    readonly info: EngineInfo;
    readonly http: HttpClient;
    private readonly model: string;
    private readonly maxN: number;
    private readonly probeMissing: "error" | "bound";
    private readonly probeTopK: number;
    private readonly counters = emptyStats();
    /** Candidate id → token text, for servers that key top-logprobs by text. */
    private readonly pieceCache = new Map<number, Promise<string>>();

    /** Build without touching the network; `options.model` is required here. */
    constructor(options: OpenAIEngineOptions) {
        if (!options.model) throw new StepwiseError("OpenAI engine: no model name (add ?model=NAME to the engine spec)");
        this.http = new HttpClient({...options, apiKey: options.apiKey ?? defaultApiKey()});
        this.model = options.model;
        this.maxN = options.maxNPerRequest ?? 16;
        if (!Number.isInteger(this.maxN) || this.maxN < 1) throw new StepwiseError(`maxNPerRequest must be a positive integer, got ${this.maxN}`);
        this.probeMissing = options.probeMissing ?? "error";
        this.probeTopK = checkTopK(options.probeTopK ?? MAX_LOGPROBS, "probeTopK");
        if (this.probeTopK < 1) throw new StepwiseError("probeTopK must be at least 1");
        this.info = {kind: "openai", model: this.model};
    }

    /**
     * Check that every server answers `GET /v1/models` (a down server fails fast with a one-line
     * error naming its URL, after at most 2 quick retries) and take the first listed model when
     * `options.model` is unset.
     */
    static async connect(options: OpenAIEngineOptions): Promise<OpenAIEngine> {
        const probe = new HttpClient({...options, apiKey: options.apiKey ?? defaultApiKey(), retries: Math.min(options.retries ?? 6, 2), backoffMaxMs: Math.min(options.backoffMaxMs ?? 1000, 1000)});
        const answers = await Promise.all(probe.roots.map((root) => probe.getJsonFrom<ModelsResponse>(root, "/v1/models")));
        let model = options.model;
        if (!model) {
            const first = answers[0];
            const id = first.data?.data?.[0]?.id;
            if (typeof id !== "string") throw new StepwiseError(`GET ${first.url}: no model listed; add ?model=NAME to the engine spec`);
            model = id;
        }
        return new OpenAIEngine({...options, model});
    }

    // ---------------------------------------------------------------- generate

    /**
     * Sample n continuations via `/v1/completions`. n is split into requests of at most
     * `maxNPerRequest` samples; sample indices stay 0..n-1 whatever the split and retries, and a
     * response with missing or repeated choices is an error. With a seed, chunk c uses
     * {@link chunkSeed}(seed, c), so results are reproducible for a fixed split. A text prompt
     * is tokenized by the server (`addBos` → vLLM's `add_special_tokens`); token ids are sent as
     * they are.
     */
    async generate(request: GenerateRequest): Promise<Sample[]> {
        const n = request.n ?? 1;
        if (!Number.isInteger(n) || n < 1) throw new StepwiseError(`n must be a positive integer, got ${n}`);
        const k = checkTopK(request.topLogprobs ?? 5, "topLogprobs");
        const base = this.samplingBody(request);
        const body: Record<string, unknown> = {model: this.model, prompt: request.prompt, ...base, logprobs: Math.max(1, k)};
        if (typeof request.prompt === "string" && request.addBos !== undefined) body.add_special_tokens = request.addBos;
        const hadStop = (request.stop?.length ?? 0) > 0;
        return this.chunked(n, request.seed, async (count, seed) => {
            const {data, url} = await this.http.postJson<CompletionResponse>("/v1/completions", {...body, n: count, ...(seed !== undefined ? {seed} : {})});
            const where = `POST ${url}`;
            const choices = orderedChoices(data.choices, count, where);
            this.account(data.usage, choices.reduce((s, c) => s + (c.logprobs?.tokens?.length ?? 0), 0));
            return choices.map((c) => ({text: c.text ?? "", tokens: completionTokens(c.logprobs, k, where), finishReason: finishReason(c, hadStop)}));
        });
    }

    /**
     * Chat-completions sampling (`/v1/chat/completions`), the server applying the model's chat
     * template. Same splitting, seeding and index guarantees as {@link generate}.
     */
    async chat(messages: ChatMessage[], options: ChatOptions = {}): Promise<Sample[]> {
        const n = options.n ?? 1;
        if (!Number.isInteger(n) || n < 1) throw new StepwiseError(`n must be a positive integer, got ${n}`);
        const k = checkTopK(options.topLogprobs ?? 5, "topLogprobs");
        const body: Record<string, unknown> = {model: this.model, messages, ...this.samplingBody(options), logprobs: true, top_logprobs: k};
        const hadStop = (options.stop?.length ?? 0) > 0;
        return this.chunked(n, options.seed, async (count, seed) => {
            const {data, url} = await this.http.postJson<ChatResponse>("/v1/chat/completions", {...body, n: count, ...(seed !== undefined ? {seed} : {})});
            const where = `POST ${url}`;
            const choices = orderedChoices(data.choices, count, where);
            this.account(data.usage, choices.reduce((s, c) => s + (c.logprobs?.content?.length ?? 0), 0));
            return choices.map((c) => ({
                text: c.message?.content ?? "",
                tokens: chatTokens(c.logprobs?.content, k, where),
                finishReason: finishReason(c, hadStop),
            }));
        });
    }

    /** Sampling fields shared by completions and chat; optional ones only when set. */
    private samplingBody(o: SamplingOptions): Record<string, unknown> {
        const body: Record<string, unknown> = {temperature: o.temperature ?? 1, max_tokens: o.maxTokens ?? 256};
        if (o.topP !== undefined && o.topP < 1) body.top_p = o.topP;
        if (o.topK !== undefined && o.topK > 0) body.top_k = o.topK;
        if (o.stop && o.stop.length > 0) body.stop = o.stop;
        return body;
    }

    /** Run n samples as chunks of at most maxN, in parallel, and number them 0..n-1. */
    private async chunked(
        n: number,
        seed: number | undefined,
        run: (count: number, seed: number | undefined) => Promise<Omit<Sample, "index">[]>,
    ): Promise<Sample[]> {
        const jobs: Promise<Sample[]>[] = [];
        for (let start = 0, chunk = 0; start < n; start += this.maxN, chunk++) {
            const count = Math.min(this.maxN, n - start);
            const s = seed === undefined ? undefined : chunkSeed(seed, chunk);
            const first = start;
            jobs.push(run(count, s).then((samples) => samples.map((sample, i) => ({index: first + i, ...sample}))));
        }
        return (await Promise.all(jobs)).flat();
    }

    private account(usage: Usage | undefined, generatedFallback: number): void {
        this.counters.prefixEvaluations++;
        this.counters.promptTokens += usage?.prompt_tokens ?? 0;
        this.counters.generatedTokens += usage?.completion_tokens ?? generatedFallback;
    }

    // ---------------------------------------------------------------- next token / probes

    /** Top-k (default 10 as on the llama engine, at most 20) next-token distribution: one greedy token with `logprobs: k`. */
    async nextToken(prefix: string | number[], options: {topK?: number; addBos?: boolean} = {}): Promise<NextTokenDistribution> {
        const k = checkTopK(options.topK ?? 10, "topK");
        const body: Record<string, unknown> = {model: this.model, prompt: prefix, max_tokens: 1, temperature: 0, n: 1, logprobs: Math.max(1, k)};
        if (typeof prefix === "string" && options.addBos !== undefined) body.add_special_tokens = options.addBos;
        const {data, url} = await this.http.postJson<CompletionResponse>("/v1/completions", body);
        const [choice] = orderedChoices(data.choices, 1, `POST ${url}`);
        this.account(data.usage, 1);
        const top = choice.logprobs?.top_logprobs?.[0];
        if (!top) throw new StepwiseError(`POST ${url}: the server returned no top log-probabilities`);
        return {top: topFromMap(top, k)};
    }

    /**
     * Probabilities of candidate tokens at given positions, from the prompt log-probabilities
     * of one `/v1/completions` request over the input's token ids, cut just after the last
     * position read. A text input is first tokenized with `/tokenize`, so positions index the
     * same tokens as {@link tokenize}. vLLM's `prompt_logprobs` (keyed by token id) is used when
     * the server returns it; otherwise the `echo` + `logprobs` top-logprobs maps, keyed by
     * "token_id:N" or, failing that, by token text (candidates are then matched by their
     * `/detokenize` text, and ones that decode to "" or "\uFFFD" are refused as ambiguous).
     *
     * A server only reports the top-k (k ≤ 20) tokens per position (plus the input token that
     * follows). A candidate outside them has no exact probability: by default this throws a
     * StepwiseError naming it; serve tag-based PRMs with vLLM's pooling API and read them with
     * {@link pool}, or construct the engine with `probeMissing: "bound"` to get an upper bound
     * instead (flagged in {@link probeTokensDetailed}).
     */
    async probeTokens(request: TokenProbeRequest): Promise<TokenProbeResult> {
        const {probs} = await this.probeTokensDetailed(request);
        return {probs};
    }

    /** {@link probeTokens} plus, per value, whether it is an upper bound (candidate outside the top-k). */
    async probeTokensDetailed(request: TokenProbeRequest): Promise<ProbeResultDetailed> {
        const {positions, candidates} = request;
        if (positions.length === 0) return {probs: [], missing: []};
        const ids = typeof request.input === "string" ? await this.tokenize(request.input, {addBos: request.addBos}) : request.input;
        const maxPos = Math.max(...positions);
        for (const p of positions)
            if (!Number.isInteger(p) || p < 0 || p >= ids.length) throw new StepwiseError(`probeTokens: position ${p} is outside the ${ids.length} input tokens`);
        const k = this.probeTopK;
        // Prompt entry j holds the distribution after tokens 0..j-1, so position p is entry p+1.
        // The prompt is cut after token maxPos+1; when the input ends at maxPos, any token will do
        // as the last one (it is never read, only what precedes it).
        const prompt = ids.slice(0, maxPos + 1).concat([ids[maxPos + 1] ?? ids[maxPos]]);
        const body = {
            model: this.model,
            prompt,
            max_tokens: 1,
            temperature: 0,
            n: 1,
            echo: true,
            logprobs: k,
            prompt_logprobs: k,
            return_tokens_as_token_ids: true,
        };
        const {data, url} = await this.http.postJson<CompletionResponse>("/v1/completions", body);
        const where = `POST ${url}`;
        const [choice] = orderedChoices<CompletionChoice>(data.choices, 1, where);
        this.account(data.usage, 1);
        const need = maxPos + 2;
        let maps: (Record<string, number> | null)[];
        let keys: string[];
        if (Array.isArray(choice.prompt_logprobs) && choice.prompt_logprobs.length >= need) {
            // vLLM's own format, keyed by token id: exact whatever the token texts.
            maps = choice.prompt_logprobs.map((entry) =>
                entry ? Object.fromEntries(Object.entries(entry).map(([id, v]) => [id, typeof v === "number" ? v : v.logprob])) : null,
            );
            keys = candidates.map(String);
        } else {
            const tops = choice.logprobs?.top_logprobs;
            if (!tops || tops.length < need)
                throw new StepwiseError(
                    `${where}: expected prompt log-probabilities for ${need} tokens, got ${tops?.length ?? 0} (the server must support "prompt_logprobs", or "echo" with "logprobs")`,
                );
            maps = tops;
            const byId = Object.keys(tops[need - 1] ?? {}).some((key) => tokenIdFromKey(key) !== undefined);
            keys = byId ? candidates.map((c) => `token_id:${c}`) : await this.candidateTexts(candidates);
        }
        const probs: number[][] = [];
        const missing: boolean[][] = [];
        for (const p of positions) {
            const map = maps[p + 1] ?? {};
            const rowProbs: number[] = [];
            const rowMissing: boolean[] = [];
            candidates.forEach((cand, c) => {
                const lp = map[keys[c]];
                if (typeof lp === "number") {
                    rowProbs.push(Math.exp(lp));
                    rowMissing.push(false);
                    return;
                }
                if (this.probeMissing === "error")
                    throw new StepwiseError(
                        `probeTokens: candidate token ${cand} is not among the top ${k} tokens ${url} returned at position ${p}, so its probability is unknown; ` +
                            `serve tag PRMs with vLLM's pooling API (pool()), or use probeMissing: "bound" for an upper bound`,
                    );
                // Absent from a map that holds the true top k: at most the k-th largest probability,
                // and at most the mass the map leaves over.
                const sorted = Object.values(map).map(Math.exp).sort((a, b) => b - a);
                const kth = sorted[Math.min(k, sorted.length) - 1] ?? 1;
                const rest = Math.max(0, 1 - sorted.reduce((sum, x) => sum + x, 0));
                rowProbs.push(Math.min(kth, rest));
                rowMissing.push(true);
            });
            probs.push(rowProbs);
            missing.push(rowMissing);
        }
        return {probs, missing};
    }

    /** Texts of candidate ids (cached), for servers that key top-logprobs by token text. */
    private async candidateTexts(candidates: number[]): Promise<string[]> {
        const texts = await Promise.all(
            candidates.map((id) => {
                let piece = this.pieceCache.get(id);
                if (!piece) {
                    piece = this.detokenize([id]);
                    piece.catch(() => this.pieceCache.delete(id));
                    this.pieceCache.set(id, piece);
                }
                return piece;
            }),
        );
        const seen = new Map<string, number>();
        texts.forEach((t, c) => {
            if (t === "" || t.includes("\uFFFD"))
                throw new StepwiseError(
                    `probeTokens: candidate ${candidates[c]} decodes to ${JSON.stringify(t)}, which this server's text-keyed log-probabilities cannot identify (use vLLM, which reports prompt_logprobs by token id)`,
                );
            const other = seen.get(t);
            if (other !== undefined)
                throw new StepwiseError(
                    `probeTokens: candidates ${candidates[other]} and ${candidates[c]} both decode to ${JSON.stringify(t)}, which this server's text-keyed log-probabilities cannot tell apart`,
                );
            seen.set(t, c);
        });
        return texts;
    }

    // ---------------------------------------------------------------- tokenizer and chat template

    /**
     * vLLM `POST /tokenize` with `add_special_tokens = addBos ?? true`. `special` is ignored:
     * vLLM always parses special-token text.
     */
    async tokenize(text: string, options: {addBos?: boolean; special?: boolean} = {}): Promise<number[]> {
        const {data, url} = await this.http.postJson<TokenizeResponse>("/tokenize", {model: this.model, prompt: text, add_special_tokens: options.addBos ?? true});
        if (!Array.isArray(data.tokens)) throw new StepwiseError(`POST ${url}: response has no "tokens" array`);
        return data.tokens;
    }

    /** vLLM `POST /detokenize`. */
    async detokenize(tokens: number[]): Promise<string> {
        const {data, url} = await this.http.postJson<DetokenizeResponse>("/detokenize", {model: this.model, tokens});
        if (typeof data.prompt !== "string") throw new StepwiseError(`POST ${url}: response has no "prompt" string`);
        return data.prompt;
    }

    /**
     * Render messages with the server's chat template: vLLM's `POST /tokenize` with `messages`
     * (and `add_generation_prompt`, `add_special_tokens: false`), then `/detokenize` of those
     * tokens. The text keeps the template's special tokens (BOS included where the template
     * writes it), so pass `addBos: false` when generating from it. On servers without chat
     * tokenization, sample with {@link chat} instead.
     */
    async formatChat(messages: ChatMessage[], options: {addGenerationPrompt?: boolean} = {}): Promise<string> {
        let tokens: number[];
        try {
            const {data, url} = await this.http.postJson<TokenizeResponse>("/tokenize", {
                model: this.model,
                messages,
                add_generation_prompt: options.addGenerationPrompt ?? true,
                add_special_tokens: false,
            });
            if (!Array.isArray(data.tokens)) throw new StepwiseError(`POST ${url}: response has no "tokens" array`);
            tokens = data.tokens;
        } catch (e) {
            if (e instanceof StepwiseError)
                throw new StepwiseError(`formatChat needs vLLM's /tokenize with "messages" (use chat() on other servers): ${e.message}`, {cause: e});
            throw e;
        }
        return this.detokenize(tokens);
    }

    // ---------------------------------------------------------------- pooling

    /**
     * Step rewards from a pooling model (a PRM served with `vllm serve ... --runner pooling`).
     * Returns the rows as the server computes them: with STEP pooling, one row per step-tag token
     * holding the softmax over the configured `returned_token_ids` or the classifier's classes,
     * in that order (math-shepherd's `[+, -]` puts the positive column first; Qwen2.5-Math-PRM's
     * two-class head puts it second). The "pooling" route (`POST /pooling {model, input}`)
     * answers `{data: [{data: number[][]}]}`; the "embeddings" route
     * (`POST /v1/embeddings`) answers one flat vector, cut into rows of `stepWidth` (default 2).
     */
    async pool(input: string | number[], options: PoolOptions = {}): Promise<number[][]> {
        const width = options.stepWidth ?? 2;
        const body: Record<string, unknown> = {model: this.model, input};
        if (options.task !== undefined) body.task = options.task;
        if ((options.endpoint ?? "pooling") === "pooling") {
            const {data, url} = await this.http.postJson<PoolingResponse>("/pooling", body);
            const entry = data.data?.[0];
            if (!entry) throw new StepwiseError(`POST ${url}: response has no "data" entry`);
            this.counters.prefixEvaluations++;
            return poolRows(entry.data, width, `POST ${url}`);
        }
        const {data, url} = await this.http.postJson<EmbeddingsResponse>("/v1/embeddings", body);
        const entry = data.data?.[0];
        if (!entry) throw new StepwiseError(`POST ${url}: response has no "data" entry`);
        this.counters.prefixEvaluations++;
        return poolRows(entry.embedding, width, `POST ${url}`);
    }

    // ---------------------------------------------------------------- bookkeeping

    stats(): EngineStats {
        const h: HttpStats = this.http.stats();
        return {...this.counters, requests: h.requests, retries: h.retries};
    }

    /** Nothing to release: connections belong to Node's global fetch dispatcher. */
    async close(): Promise<void> {}
}
