/**
 * The OpenAI-compatible engine: {@link Engine} over vLLM first, and SGLang, llama.cpp server or
 * `stepwise serve` as far as they implement the same routes.
 *
 * | Engine method | route | notes |
 * | --- | --- | --- |
 * | generate | `POST /v1/completions` | `logprobs` (≥ 1), `n` split into chunks, `seed`, vLLM's `top_k` |
 * | nextToken | `POST /v1/completions` | `max_tokens: 1`, `temperature: 0`, `logprobs: k` |
 * | probeTokens | `POST /v1/completions` | token-id prompt, `prompt_logprobs: 20` (vLLM, id-keyed), else `echo` + `logprobs` |
 * | tokenize / detokenize | `POST /tokenize`, `POST /detokenize` | vLLM, at the server root (not under /v1); llama.cpp's `content` on that dialect |
 * | (connect) | `GET /v1/models` | the model name and the context length (`max_model_len`), see {@link OpenAIEngine.connect} |
 * | formatChat | `POST /tokenize` with `messages`, then `/detokenize` | vLLM renders its chat template |
 * | chat | `POST /v1/chat/completions` | `logprobs: true`, `top_logprobs: k` |
 * | promptLogprobs | `POST /v1/completions` | `prompt_logprobs: k` (vLLM: rank and decoded_token); a text prompt's ids from `echo` + `return_tokens_as_token_ids`, no `/tokenize`; dialect vllm only |
 * | pool | `POST /pooling` or `POST /v1/embeddings` | vLLM pooling models (step-reward PRMs); dialect vllm only |
 *
 * On the dialects llama.cpp and openai the engine has no `promptLogprobs` and no `pool` (the
 * properties are absent, see {@link Engine}).
 *
 * Sampling is fully specified on every request: every parameter the dialect knows is sent, with
 * neutral values for the ones the caller did not set (top_p 1, top_k off, min_p 0, penalties
 * neutral), so a server's own defaults (llama-cpp-python: top_p 0.95, top_k 40, min_p 0.05,
 * repeat penalty 1.1; vLLM: the model's generation_config.json) never leak into the samples.
 * {@link OpenAIEngine.samplingRecord} returns exactly what is sent, for the records.
 *
 * Seeds follow vLLM's parallel sampling (child j of a seeded request with n > 1 is seeded
 * `seed + j`): a chunk of samples starting at index a is sent with `seed + a`, so sample i
 * depends only on (seed, i) however n is split and whatever `firstIndex` is.
 *
 * Tokens join to text: every sample's token texts concatenate to its text. Servers that leave
 * the stop string's tokens in the log-probabilities are reconciled on receipt (the tokens are cut
 * where the text ends, as the llama engine cuts them); anything else is an error naming the URL.
 *
 * `stopBelowConfidence` is emulated: the server generates up to `maxTokens` tokens with
 * logprobs (stop strings are then applied here, token by token, so a low-confidence token inside
 * a would-be stop string is seen as on the llama engine) and the sample is cut right after the
 * first token below the threshold. The tokens after the cut are generated, paid for and
 * dropped: the over-generation is up to `maxTokens − (cut + 1)` tokens per sample (counted in
 * stats().generatedTokens); keep `maxTokens` near the longest step you expect.
 *
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
import {HttpClient, HttpRequestError, type HttpClientOptions, type HttpResponse, type HttpStats} from "./http.ts";
import {StopMatcher} from "../stop.ts";
import {DEFAULT_MAX_TOKENS} from "../sampling.ts";
import {ContextOverflowError} from "../../util/errors.ts";
import {
    chatTokens,
    completionTokens,
    detokenizedText,
    finishReason,
    isChatStyle,
    isTooManyChoices,
    llamaServerEnd,
    loggedTokenCount,
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
    type PropsResponse,
    type TokenizeResponse,
    type Usage,
} from "./protocol.ts";
import {
    emptyStats,
    StepwiseError,
    type ChatMessage,
    type ChatRequest,
    type Engine,
    type EngineCapabilities,
    type GeneratedToken,
    type PoolRequest,
    type PromptTokenLogprob,
    type EngineInfo,
    type EngineStats,
    type GenerateRequest,
    type NextTokenDistribution,
    type Sample,
    type SamplingOptions,
    type TokenAlternative,
    type TokenProbeRequest,
    type TokenProbeResult,
} from "../types.ts";

/** Most log-probabilities per position that OpenAI-compatible servers return (vLLM's default max_logprobs). */
export const MAX_LOGPROBS = 20;

/** Options of {@link OpenAIEngine}; `apiKey` defaults to the OPENAI_API_KEY environment variable. */
export interface OpenAIEngineOptions extends HttpClientOptions {
    /** Model name sent with every request. {@link OpenAIEngine.connect} fills it from `/v1/models` when unset. */
    model?: string;
    /**
     * Largest `n` sent in one request; a larger n is split into several requests. Default 16;
     * {@link OpenAIEngine.connect} on the llama.cpp dialect: llama-server's `total_slots`.
     */
    maxNPerRequest?: number;
    /** Where `maxNPerRequest` came from, for messages. Default "maxN=N given to the engine" (or the default 16). */
    maxNSource?: string;
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
    /** Which sampling fields the server understands (see {@link SAMPLING_DIALECTS}). Default "vllm". */
    dialect?: SamplingDialect;
    /**
     * Ask for token ids (vLLM's `return_tokens_as_token_ids`, also `stepwise serve`): every
     * generated token and alternative then carries its `id`, and its text is the id's piece from
     * `/detokenize`, decoded after an anchor token so SentencePiece pieces keep their leading
     * space (cached per id), checked against the returned text. Default false; when to set it:
     * docs/real-models.md, "Token ids".
     */
    tokenIds?: boolean;
    /**
     * The server's context length in tokens, prompt + generation (vLLM's `max_model_len`).
     * When unset, {@link OpenAIEngine.connect} learns it from the server (see
     * {@link OpenAIEngine.context}); set it (spec `maxModelLen=N`) for a server that does not
     * tell. Known, it lets generate() end a sample at the context end, as the llama engine does.
     */
    maxModelLen?: number;
    /** Where `maxModelLen` came from, for messages. Default "maxModelLen=N given to the engine". */
    maxModelLenSource?: string;
}

/** The context length an engine fits requests to, and where it was read. */
export interface ServerContext {
    tokens: number;
    /** e.g. "max_model_len at GET http://host:8000/v1/models". */
    source: string;
}

/**
 * A text prompt has at most as many tokens as UTF-8 bytes (every token of a byte-level BPE or
 * byte-fallback SentencePiece vocabulary spells at least one byte), plus the special tokens the
 * server adds (BOS, EOS) and SentencePiece's dummy-prefix space: this many are allowed for them.
 * A prompt whose bound fits the context with max_tokens is sent without counting its tokens.
 */
export const PROMPT_BYTES_SLACK = 8;

/** Prompts whose token counts are remembered (a step's rollouts are often drawn in several requests). */
const PROMPT_COUNT_CACHE = 1024;

/** A server's 400 for a request that does not fit its context (vLLM, SGLang, llama.cpp server, `stepwise serve` wordings). */
export function isContextOverflowResponse(e: unknown): e is HttpRequestError {
    return e instanceof HttpRequestError && e.status === 400 && /context length|context size|model length|max_model_len|context window/i.test(e.serverMessage ?? "");
}

/** max_tokens as sent, and how it was fitted to the context. */
interface Fit {
    maxTokens: number;
    /** The prompt's token count when known (token ids, or /tokenize). */
    promptTokens?: number;
    /** Sent unfitted because the prompt's byte bound showed it fits (see PROMPT_BYTES_SLACK). */
    bounded?: boolean;
    /** Why it was not fitted, when it was not: "context" (unknown) or "count" (no /tokenize to count the prompt). */
    unfitted?: "context" | "count";
    /** A chat request (its rendered prompt is counted with /tokenize {messages}). */
    chat?: boolean;
}

function isContextLength(n: unknown): n is number {
    return typeof n === "number" && Number.isSafeInteger(n) && n > 0;
}

/** What {@link learnServer} found out about one server. */
interface Learned {
    context?: ServerContext;
    /** llama-server's `total_slots` (`--parallel`): the most choices one request may ask for. */
    slots?: {n: number; source: string};
}

/**
 * A server's context length, as far as it tells: vLLM's model card (`max_model_len` of the
 * model's entry in `GET /v1/models`); else, on the llama.cpp dialect, `GET /props`
 * (`default_generation_settings.n_ctx`, one slot's context); else, on the vllm dialect,
 * `max_model_len` of a `POST /tokenize` answer (SGLang, vLLM). On the llama.cpp dialect also the
 * slot count (`total_slots` of `/props`), unless `needSlots` is false. Unknown parts are
 * undefined (the probes are not retried; a failing probe only means "unknown").
 */
async function learnServer(
    probe: HttpClient,
    root: string,
    models: HttpResponse<ModelsResponse>,
    model: string,
    dialect: SamplingDialect,
    need: {context: boolean; slots: boolean},
): Promise<Learned> {
    const out: Learned = {};
    const cards = Array.isArray(models.data?.data) ? models.data.data : [];
    const card = cards.find((c) => c?.id === model);
    if (need.context && isContextLength(card?.max_model_len)) {
        out.context = {tokens: card.max_model_len, source: `max_model_len at GET ${models.url}`};
        need = {...need, context: false};
    }
    try {
        if (dialect === "llama.cpp" && (need.context || need.slots)) {
            const {data, url} = await probe.getJsonFrom<PropsResponse>(root, "/props", {retries: 0});
            const n = data?.default_generation_settings?.n_ctx;
            if (need.context && isContextLength(n)) out.context = {tokens: n, source: `n_ctx at GET ${url}`};
            if (need.slots && isContextLength(data?.total_slots)) out.slots = {n: data.total_slots, source: `total_slots at GET ${url}`};
        } else if (dialect === "vllm" && need.context) {
            const {data, url} = await probe.postJsonFrom<TokenizeResponse>(root, "/tokenize", {model, prompt: "a"}, {retries: 0});
            if (isContextLength(data?.max_model_len)) out.context = {tokens: data.max_model_len, source: `max_model_len at POST ${url}`};
        }
    } catch (e) {
        if (!(e instanceof StepwiseError)) throw e;
    }
    return out;
}

/**
 * Sampling-field dialects, each with the neutral value sent when the caller set nothing:
 * - "vllm" (vLLM, SGLang, `stepwise serve`): top_p, top_k (-1 = off), min_p, repetition_penalty,
 *   frequency_penalty, presence_penalty (vLLM's SamplingParams);
 * - "llama.cpp" (llama.cpp's llama-server): top_p, top_k (0 = off), min_p, repeat_penalty,
 *   frequency_penalty, presence_penalty, typical_p, mirostat, dynatemp_range, xtc_probability,
 *   dry_multiplier, top_n_sigma (-1 = off), and `samplers: ["top_k", "temperature", "min_p",
 *   "top_p"]`: llama-server's own order applies temperature last (after top-p and min-p) and
 *   runs penalties, DRY, XTC and typical-p first; this order gives stepwise's (temperature, top-k,
 *   min-p, top-p; top-k commutes with temperature), whatever the server's command line set;
 * - "openai" (servers that accept only OpenAI's own fields): top_p, frequency_penalty, presence_penalty.
 */
export type SamplingDialect = "vllm" | "llama.cpp" | "openai";

export const SAMPLING_DIALECTS: Record<SamplingDialect, {topKOff?: number; neutral: Record<string, number>; fixed?: Record<string, unknown>}> = {
    vllm: {topKOff: -1, neutral: {min_p: 0, repetition_penalty: 1, frequency_penalty: 0, presence_penalty: 0}},
    "llama.cpp": {
        topKOff: 0,
        neutral: {min_p: 0, repeat_penalty: 1, frequency_penalty: 0, presence_penalty: 0, typical_p: 1, mirostat: 0, dynatemp_range: 0, xtc_probability: 0, dry_multiplier: 0, top_n_sigma: -1},
        fixed: {samplers: ["top_k", "temperature", "min_p", "top_p"]},
    },
    openai: {neutral: {frequency_penalty: 0, presence_penalty: 0}},
};

/**
 * The sampling fields an OpenAI engine of this dialect sends for these options (without `seed`,
 * `n` and `logprobs`): every field of the dialect, neutral when unset; max_tokens as asked
 * (default 256; generate may cut it to the context, see OpenAIEngine.generate). Throws for a
 * top-k or min-p the dialect has no field for. {@link OpenAIEngine.samplingRecord}.
 */
export function dialectSamplingBody(dialect: SamplingDialect, o: SamplingOptions): Record<string, unknown> {
    const d = SAMPLING_DIALECTS[dialect];
    const body: Record<string, unknown> = {temperature: o.temperature ?? 1, max_tokens: o.maxTokens ?? DEFAULT_MAX_TOKENS, top_p: o.topP ?? 1};
    if (d.topKOff !== undefined) body.top_k = o.topK !== undefined && o.topK > 0 ? o.topK : d.topKOff;
    else if (o.topK !== undefined && o.topK > 0) throw new StepwiseError(`top-k sampling is not part of the "${dialect}" dialect; use dialect=vllm or dialect=llama.cpp`);
    Object.assign(body, d.neutral);
    if (o.minP !== undefined && o.minP > 0) {
        if (!("min_p" in d.neutral)) throw new StepwiseError(`min-p sampling is not part of the "${dialect}" dialect`);
        body.min_p = o.minP;
    }
    if (d.fixed) Object.assign(body, structuredClone(d.fixed));
    body.stop = o.stop ?? [];
    return body;
}

/** probeTokens' answer with, per value, whether it is an upper bound for a candidate outside the top-k. */
export interface ProbeResultDetailed extends TokenProbeResult {
    /** missing[j][c]: candidates[c] was absent from the server's top-k at positions[j]. */
    missing: boolean[][];
}

/**
 * Make a sample's tokens join to its text. Servers differ in what the logprobs of a sample that
 * ended on a stop string hold: vLLM cuts them with the text; others leave the stop string's
 * tokens in. Tokens past the end of the text are cut (a token straddling the end keeps its part
 * inside the text, as the llama engine's stop matcher does). Tokens that do not spell the text
 * are an error naming `where`: records must never disagree silently.
 */
export function reconcileTokens(text: string, tokens: GeneratedToken[], where: string): GeneratedToken[] {
    const joined = tokens.map((t) => t.text).join("");
    if (joined === text) return tokens;
    if (joined.startsWith(text)) {
        const out: GeneratedToken[] = [];
        let offset = 0;
        for (const t of tokens) {
            if (offset >= text.length) break;
            if (offset + t.text.length > text.length) {
                out.push({...t, text: t.text.slice(0, text.length - offset)});
                break;
            }
            out.push(t);
            offset += t.text.length;
        }
        return out;
    }
    const at = [...joined].findIndex((c, i) => c !== [...text][i]);
    throw new StepwiseError(
        `${where}: the returned tokens do not join to the returned text (they differ at character ${at}: tokens ${JSON.stringify(joined.slice(Math.max(0, at - 10), at + 20))}, text ${JSON.stringify(text.slice(Math.max(0, at - 10), at + 20))}); token ids or byte-level tokens the server cannot print?`,
    );
}

/**
 * Emulated stopBelowConfidence: walk the tokens as the llama engine's sampling loop does, the
 * stop strings first, then the confidence, so whichever comes first ends the sample (a stop
 * string is cut from the text; a low-confidence token is kept as the last one). The server was
 * sent no stop strings in this mode, or a stop string would hide the tokens after a
 * low-confidence token inside it.
 */
export function cutAtLowConfidence<S extends {text: string; tokens: GeneratedToken[]; finishReason: Sample["finishReason"]; stopString?: string}>(
    sample: S,
    tau: number | undefined,
    stops: string[] = [],
): S {
    if (tau === undefined) return sample;
    const matcher = new StopMatcher(stops);
    for (let i = 0; i < sample.tokens.length; i++) {
        const t = sample.tokens[i];
        if (matcher.push(t.text)) {
            const tokens = sample.tokens.slice(0, i + 1).map((x) => ({...x}));
            matcher.trim(tokens);
            return {...sample, tokens, text: tokens.map((x) => x.text).join(""), finishReason: "stop", stopString: matcher.matched};
        }
        if (t.confidence < tau) {
            const tokens = sample.tokens.slice(0, i + 1);
            const {stopString: _dropped, ...rest} = sample;
            return {...rest, tokens, text: tokens.map((x) => x.text).join(""), finishReason: "low-confidence"} as S;
        }
    }
    return sample;
}

/** The API key from the environment (OPENAI_API_KEY), if set. */
function defaultApiKey(): string | undefined {
    return process.env.OPENAI_API_KEY || undefined;
}

function checkTau(tau: number | undefined): void {
    if (tau !== undefined && !(tau >= 0 && tau <= 1)) throw new StepwiseError(`stopBelowConfidence must be in [0, 1], got ${tau}`);
}

/**
 * The prompt token count of an answer that is not for this prompt, or undefined when it is (or
 * the answer has no usage). llama.cpp's server was seen once answering 16 of 240 requests from
 * another request's context (four consecutive questions answered as other questions): its
 * usage.prompt_tokens (the tokens of the prompt it evaluated) is compared with the prompt's own
 * count. It catches answers given for another prompt of another length; it cannot see a wrong
 * KV cache behind the right prompt.
 */
export function promptMismatch(usage: Usage | undefined, promptTokens: number): number | undefined {
    const got = usage?.prompt_tokens;
    return typeof got === "number" && got !== promptTokens ? got : undefined;
}

/** vLLM's stop_reason when it is the stop string. */
function stopStringOf(c: {stop_reason?: string | number | null}): {stopString?: string} {
    return typeof c.stop_reason === "string" ? {stopString: c.stop_reason} : {};
}

function checkTopK(value: number, name: string): number {
    if (!Number.isInteger(value) || value < 0 || value > MAX_LOGPROBS)
        throw new StepwiseError(`${name} must be an integer in 0..${MAX_LOGPROBS} on OpenAI-compatible servers, got ${value}`);
    return value;
}

/**
 * A text prompt's token ids from a completion choice with `echo` and `return_tokens_as_token_ids`:
 * the first `prompt_logprobs.length` echoed tokens, each "token_id:N". Undefined when the choice
 * has no prompt_logprobs or its echo does not carry ids (a server that ignores the flag).
 */
function echoedPromptIds(choice: CompletionChoice): number[] | undefined {
    const n = Array.isArray(choice.prompt_logprobs) ? choice.prompt_logprobs.length : 0;
    const lp = choice.logprobs;
    if (n === 0 || isChatStyle(lp) || !Array.isArray(lp?.tokens) || lp.tokens.length < n) return undefined;
    const ids = lp.tokens.slice(0, n).map((t) => (typeof t === "string" ? tokenIdFromKey(t) : undefined));
    return ids.every((id) => id !== undefined) ? (ids as number[]) : undefined;
}

/** vLLM's prompt_logprobs entries for the prompt `ids` as {@link PromptTokenLogprob}s (null first), the top cut to rank ≤ k. */
function promptEntries(ids: number[], entries: CompletionChoice["prompt_logprobs"], k: number, where: string): Array<PromptTokenLogprob | null> {
    if (!Array.isArray(entries) || entries.length !== ids.length)
        throw new StepwiseError(`${where}: expected prompt_logprobs for ${ids.length} tokens, got ${Array.isArray(entries) ? entries.length : "none"}`);
    return ids.map((id, i) => {
        const entry = entries[i];
        if (i === 0 || !entry) return null;
        const own = entry[String(id)];
        if (own === undefined || typeof own === "number") throw new StepwiseError(`${where}: prompt_logprobs entry ${i} lacks token ${id} with its rank`);
        const top = Object.entries(entry)
            .flatMap(([key, v]) => (typeof v === "number" ? [] : [{id: Number(key), text: v.decoded_token ?? "", prob: Math.exp(v.logprob), rank: v.rank ?? Infinity}]))
            .filter((a) => a.rank <= k)
            .sort((a, b) => a.rank - b.rank)
            .map(({id, text, prob}) => ({id, text, prob}));
        return {id, text: own.decoded_token ?? "", prob: Math.exp(own.logprob), rank: own.rank ?? NaN, top};
    });
}

/**
 * {@link Engine} over an OpenAI-compatible server, or several serving the same model.
 * Create it with {@link OpenAIEngine.connect} (checks the servers, finds the model name) or
 * `createEngine("openai:URL?model=NAME")`.
 */
export class OpenAIEngine implements Engine {
    readonly info: EngineInfo;
    readonly capabilities: EngineCapabilities;
    /** {@link vllmPromptLogprobs} on dialect vllm; absent on the others. */
    declare readonly promptLogprobs?: (input: string | number[], options?: {topK?: number; addBos?: boolean; signal?: AbortSignal}) => Promise<Array<PromptTokenLogprob | null>>;
    /** {@link vllmPool} on dialect vllm; absent on the others. */
    declare readonly pool?: (request: PoolRequest) => Promise<number[][]>;
    readonly http: HttpClient;
    readonly dialect: SamplingDialect;
    /**
     * The context length generate() fits max_tokens to (from {@link OpenAIEngineOptions.maxModelLen},
     * or learned by {@link connect}); undefined when unknown.
     */
    readonly context: ServerContext | undefined;
    private readonly tokenIds: boolean;
    private readonly model: string;
    private readonly maxN: number;
    private readonly maxNSource: string;
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
        this.maxNSource = options.maxNSource ?? (options.maxNPerRequest === undefined ? "the default" : `maxN=${this.maxN} given to the engine`);
        this.probeMissing = options.probeMissing ?? "error";
        this.probeTopK = checkTopK(options.probeTopK ?? MAX_LOGPROBS, "probeTopK");
        if (this.probeTopK < 1) throw new StepwiseError("probeTopK must be at least 1");
        this.dialect = options.dialect ?? "vllm";
        if (!(this.dialect in SAMPLING_DIALECTS)) throw new StepwiseError(`unknown sampling dialect "${this.dialect}" (vllm, llama.cpp or openai)`);
        if (options.maxModelLen !== undefined) {
            if (!isContextLength(options.maxModelLen)) throw new StepwiseError(`maxModelLen must be a positive integer, got ${options.maxModelLen}`);
            this.context = {tokens: options.maxModelLen, source: options.maxModelLenSource ?? `maxModelLen=${options.maxModelLen} given to the engine`};
        }
        this.info = {kind: "openai", model: this.model, ...(this.context ? {contextSize: this.context.tokens} : {})};
        const vllm = this.dialect === "vllm";
        this.tokenIds = options.tokenIds ?? false;
        this.capabilities = {maxTopLogprobs: MAX_LOGPROBS, exactProbes: false, stopBelowConfidence: "emulated"};
        // vLLM-only routes: these facets exist only on that dialect (the fields are `declare`d, so other dialects have no such property).
        if (vllm) {
            this.promptLogprobs = (input, o) => this.vllmPromptLogprobs(input, o);
            this.pool = (request) => this.vllmPool(request);
        }
    }

    /**
     * The sampling fields sent for these options, exactly as they go on the wire (without
     * `seed`, `n` and `logprobs`): what records should store as "sampled with".
     */
    samplingRecord(o: SamplingOptions): Record<string, unknown> {
        return this.samplingBody(o);
    }

    /**
     * Check that every server answers `GET /v1/models` (a down server fails fast with a one-line
     * error naming its URL, after at most 2 quick retries) and take the first listed model when
     * `options.model` is unset. Unless `options.maxModelLen` is given, learn the context length:
     * the model card's `max_model_len` (vLLM), else llama-server's `/props` n_ctx (dialect
     * llama.cpp) or `/tokenize`'s max_model_len (dialect vllm: SGLang); with several servers the
     * smallest any of them tells. Unknown when none tells ({@link context} undefined). On the
     * llama.cpp dialect, unless `options.maxNPerRequest` is given, it defaults to the smallest
     * `total_slots` of the servers' `/props` (llama-server refuses a larger n), else 16.
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
        const dialect = options.dialect ?? "vllm";
        const need = {context: options.maxModelLen === undefined, slots: dialect === "llama.cpp" && options.maxNPerRequest === undefined};
        if (!need.context && !need.slots) return new OpenAIEngine({...options, model});
        const learned = await Promise.all(probe.roots.map((root, i) => learnServer(probe, root, answers[i], model, dialect, need)));
        const context = learned.reduce<ServerContext | undefined>((a, l) => (l.context && (!a || l.context.tokens < a.tokens) ? l.context : a), undefined);
        const slots = learned.reduce<Learned["slots"]>((a, l) => (l.slots && (!a || l.slots.n < a.n) ? l.slots : a), undefined);
        return new OpenAIEngine({
            ...options,
            model,
            ...(need.context ? {maxModelLen: context?.tokens, maxModelLenSource: context?.source} : {}),
            ...(slots ? {maxNPerRequest: slots.n, maxNSource: slots.source} : {}),
        });
    }

    // ---------------------------------------------------------------- generate

    /**
     * Sample n continuations via `/v1/completions`. n is split into requests of at most
     * `maxNPerRequest` samples; sample indices are firstIndex..firstIndex+n−1 whatever the split
     * and retries, and a response with missing or repeated choices is an error. Seeds: see the
     * module docs (sample i is drawn with `seed + i`). A text prompt is tokenized by the server
     * (`addBos` → vLLM's `add_special_tokens`); token ids are sent as they are.
     *
     * The context, as on the llama engine: when the context length is known ({@link context})
     * and prompt + maxTokens would exceed it, max_tokens is cut to the room the prompt leaves, so
     * samples that reach the context end there with finishReason "length" instead of the
     * server's 400. The prompt's tokens are counted from token ids, or with `/tokenize` (cached
     * per prompt) when its UTF-8 bytes + {@link PROMPT_BYTES_SLACK} + maxTokens could exceed the
     * context. A prompt that fills the context alone is an error (as on the llama engine). When
     * the context or the count is unknown, the request goes as asked, and a server's
     * context-overflow 400 is an error quoting the server with a hint (maxModelLen=N,
     * --max-tokens). {@link samplingRecord} keeps the max_tokens asked for.
     */
    async generate(request: GenerateRequest): Promise<Sample[]> {
        const n = request.n ?? 1;
        if (!Number.isInteger(n) || n < 1) throw new StepwiseError(`n must be a positive integer, got ${n}`);
        const k = checkTopK(request.topLogprobs ?? 5, "topLogprobs");
        checkTau(request.stopBelowConfidence);
        const cpp = this.dialect === "llama.cpp";
        // llama-server adds the model's BOS to every text prompt (it ignores add_special_tokens):
        // a prompt that must go without it is sent as token ids.
        const prompt = cpp && typeof request.prompt === "string" && request.addBos === false ? await this.tokenizeRequest(request.prompt, false, request.signal) : request.prompt;
        const body: Record<string, unknown> = {model: this.model, prompt, ...this.samplingBody(request), logprobs: Math.max(1, k)};
        if (this.tokenIds) body.return_tokens_as_token_ids = true;
        // With a confidence stop the stop strings are applied here, in token order (see cutAtLowConfidence).
        if (request.stopBelowConfidence !== undefined) body.stop = [];
        if (!cpp && typeof prompt === "string" && request.addBos !== undefined) body.add_special_tokens = request.addBos;
        const hadStop = (body.stop as string[]).length > 0;
        const asked = body.max_tokens as number;
        const addBos = cpp ? undefined : request.addBos;
        const refit = (exact: boolean) => this.fit(prompt, asked, addBos, request.signal, exact);
        const fit = await refit(false);
        // llama-server: the prompt's token count, to check each answer's usage.prompt_tokens against.
        const promptTokens = cpp ? await this.promptTokenCount(prompt, request.signal) : undefined;
        return this.chunked(n, request, async (count, seed, signal) => {
            const send = {...body, n: count, ...(seed !== undefined ? {seed} : {})};
            let answer = await this.postFitted<CompletionResponse>("/v1/completions", send, fit, () => refit(true), signal);
            if (promptTokens !== undefined && promptMismatch(answer.data.usage, promptTokens)) {
                // An answer for another prompt (llama.cpp server bug, see promptMismatch): asked once more.
                this.onMismatch?.(answer.url);
                answer = await this.postFitted<CompletionResponse>("/v1/completions", send, fit, () => refit(true), signal);
                const got = promptMismatch(answer.data.usage, promptTokens);
                if (got)
                    throw new StepwiseError(
                        `POST ${answer.url}: twice answered for a prompt of ${got} tokens, while this prompt has ${promptTokens} (usage.prompt_tokens); the server mixed up requests (llama.cpp server with parallel slots?): restart it or run it with --parallel 1`,
                    );
            }
            const {data, url} = answer;
            const where = `POST ${url}`;
            const choices = orderedChoices(data.choices, count, where);
            this.account(data.usage, choices.map((c) => loggedTokenCount(c.logprobs)));
            const out = [];
            for (const c of choices) {
                const text = c.text ?? "";
                let tokens = await this.withTexts(completionTokens(c.logprobs, k, where));
                let finish = finishReason(c, hadStop);
                if (cpp) ({tokens, finishReason: finish} = llamaServerEnd(await this.llamaServerPieces(tokens, text, where, body.stop as string[]), c, hadStop));
                const sample = {text, tokens: reconcileTokens(text, tokens, where), finishReason: finish, ...stopStringOf(c)};
                out.push(cutAtLowConfidence(sample, request.stopBelowConfidence, request.stop));
            }
            return out;
        });
    }

    /**
     * llama-server's token texts are the text it sent with each token, not the token's own piece:
     * a token that may begin a stop string is listed with "" and its text goes out with a later
     * token ("", "\nT" for "\n", "T"), and so does the text held back at EOS. When the texts show
     * that (an empty text before the last token, or texts that do not spell the sample's text), each
     * token's text is replaced by its id's piece from `/detokenize` (cached per id; see tokenPiece).
     * A token that ends inside a UTF-8 character is left out of llama-server's log-probabilities
     * altogether (its bytes go out with the next token): then the pieces cannot spell the text
     * either, and that is an error naming the URL, as no confidence is known for that token.
     */
    private async llamaServerPieces(tokens: GeneratedToken[], text: string, where: string, stops: string[]): Promise<GeneratedToken[]> {
        const joined = tokens.map((t) => t.text).join("");
        const shifted = tokens.some((t, i) => t.text === "" && i < tokens.length - 1);
        if (!shifted && (joined === text || joined.startsWith(text))) return tokens;
        if (tokens.some((t) => t.id === undefined)) return tokens;
        const pieces = await Promise.all(tokens.map((t) => this.tokenPiece(t.id!)));
        // The EOS token's piece ("</s>") is no text: a last token listed with "" stays "", and so
        // does a last token past the text whose piece begins no stop string (the server's EOS, with
        // text it held back sent along), so that llamaServerEnd sees the EOS.
        const last = pieces.length - 1;
        const before = pieces.slice(0, last).join("");
        if (last >= 0 && (tokens[last].text === "" || (before === text && !stops.some((x) => x.startsWith(pieces[last]))))) pieces[last] = "";
        const out = tokens.map((t, i) => ({...t, text: pieces[i]}));
        const spelled = pieces.join("");
        // The pieces may run past the text by the EOS piece (""), or by a stop string's tokens.
        if (!spelled.startsWith(text) && !text.startsWith(spelled.replace(/\uFFFD+$/, "")))
            throw new StepwiseError(
                `${where}: llama-server's log-probabilities do not cover every generated token (it leaves out a token that ends inside a UTF-8 character and sends its bytes with the next one), so that token's confidence is unknown (tokens ${JSON.stringify(joined.slice(0, 60))}, text ${JSON.stringify(text.slice(0, 60))}); sample such text in-process or on vLLM`,
            );
        return out;
    }

    /** Called when an answer's usage.prompt_tokens did not match the prompt (tests count retries with it). */
    onMismatch?: (url: string) => void;

    /**
     * A prompt's token count as llama-server tokenizes it (text prompts with add_special, which it
     * always sets), from `/tokenize` (cached per prompt); a token-id prompt's length. Undefined
     * when the server has no usable `/tokenize`.
     */
    private promptTokenCount(prompt: string | number[], signal: AbortSignal | undefined): Promise<number | undefined> {
        if (typeof prompt !== "string") return Promise.resolve(prompt.length);
        // The key of fit()'s count with addBos unset: one /tokenize per prompt serves both.
        return this.countTokens("text", `\u0000${prompt}`, () => this.tokenizeRequest(prompt, undefined, signal));
    }

    /**
     * Chat-completions sampling (`/v1/chat/completions`), the server applying the model's chat
     * template. Same splitting, seeding, index and token guarantees as {@link generate}, and the
     * same context rule: with the context known and dialect vllm, the rendered prompt is counted
     * with `POST /tokenize {messages}` (cached per message list) and max_tokens cut to the room
     * left, so replies that reach the context end there with finishReason "length".
     */
    async chat(request: ChatRequest): Promise<Sample[]> {
        const n = request.n ?? 1;
        if (!Number.isInteger(n) || n < 1) throw new StepwiseError(`n must be a positive integer, got ${n}`);
        const k = checkTopK(request.topLogprobs ?? 5, "topLogprobs");
        checkTau(request.stopBelowConfidence);
        // top_logprobs at least 1: llama-server answers `logprobs: null` to top_logprobs 0 (as it
        // does to logprobs 0 on completions), and the chosen token's log-probability is wanted anyway.
        const body: Record<string, unknown> = {model: this.model, messages: request.messages, ...this.samplingBody(request), logprobs: true, top_logprobs: Math.max(1, k)};
        if (this.tokenIds) body.return_tokens_as_token_ids = true;
        if (request.stopBelowConfidence !== undefined) body.stop = [];
        const hadStop = (body.stop as string[]).length > 0;
        const cpp = this.dialect === "llama.cpp";
        const fit = await this.fitChat(request.messages, body.max_tokens as number, request.signal);
        return this.chunked(n, request, async (count, seed, signal) => {
            const {data, url} = await this.postFitted<ChatResponse>("/v1/chat/completions", {...body, n: count, ...(seed !== undefined ? {seed} : {})}, fit, undefined, signal);
            const where = `POST ${url}`;
            const choices = orderedChoices(data.choices, count, where);
            this.account(data.usage, choices.map((c) => loggedTokenCount(c.logprobs)));
            const out = [];
            for (const c of choices) {
                const text = c.message?.content ?? "";
                let tokens = await this.withTexts(chatTokens(c.logprobs?.content, k, where));
                let finish = finishReason(c, hadStop);
                if (cpp) ({tokens, finishReason: finish} = llamaServerEnd(await this.llamaServerPieces(tokens, text, where, body.stop as string[]), c, hadStop));
                const sample = {text, tokens: reconcileTokens(text, tokens, where), finishReason: finish, ...stopStringOf(c)};
                out.push(cutAtLowConfidence(sample, request.stopBelowConfidence, request.stop));
            }
            return out;
        });
    }

    // ---------------------------------------------------------------- the context

    /**
     * max_tokens for a completion prompt: `asked`, cut to the room the prompt leaves in the known
     * context (see {@link generate}). `exact` counts a text prompt's tokens even when its byte
     * bound fits.
     */
    private fit(prompt: string | number[], asked: number, addBos: boolean | undefined, signal: AbortSignal | undefined, exact: boolean): Promise<Fit> {
        if (typeof prompt !== "string") return this.fitTo("generate", asked, prompt.length, undefined, async () => undefined);
        const bound = exact ? undefined : Buffer.byteLength(prompt, "utf8") + PROMPT_BYTES_SLACK;
        return this.fitTo("generate", asked, undefined, bound, () => this.countTokens("text", `${addBos ?? ""}\u0000${prompt}`, () => this.tokenizeRequest(prompt, addBos, signal)));
    }

    /**
     * max_tokens for a chat request: the rendered prompt is counted with vLLM's
     * `POST /tokenize {messages}` (add_generation_prompt true; add_special_tokens left to the
     * server, whose default for messages is its chat route's: false on vLLM, where the template
     * writes BOS; `stepwise serve` adds BOS on both), dialect vllm only.
     */
    private fitChat(messages: ChatMessage[], asked: number, signal: AbortSignal | undefined): Promise<Fit> {
        const count =
            this.dialect === "vllm"
                ? () =>
                      this.countTokens("chat", JSON.stringify(messages), async () => {
                          // add_special_tokens is left to the server: its default for messages is its chat route's.
                          const body = {model: this.model, messages, add_generation_prompt: true};
                          const {data, url} = await this.http.postJson<TokenizeResponse>("/tokenize", body, {signal});
                          if (!Array.isArray(data.tokens)) throw new StepwiseError(`POST ${url}: response has no "tokens" array`);
                          return data.tokens;
                      })
                : async () => undefined;
        return this.fitTo("chat", asked, undefined, undefined, count);
    }

    /** The fitting rule shared by generate and chat; `known` / `bound`: the prompt's token count, or an upper bound of it. */
    private async fitTo(what: "generate" | "chat", asked: number, known: number | undefined, bound: number | undefined, count: () => Promise<number | undefined>): Promise<Fit> {
        const context = this.context;
        const chat = what === "chat";
        if (!context) return {maxTokens: asked, unfitted: "context", chat};
        if (known === undefined && bound !== undefined && bound + asked <= context.tokens) return {maxTokens: asked, bounded: true, chat};
        const promptTokens = known ?? (await count());
        if (promptTokens === undefined) return {maxTokens: asked, unfitted: "count", chat};
        if (promptTokens >= context.tokens)
            throw new ContextOverflowError(
                `${what}: the prompt (${promptTokens} tokens) fills the server's context (${context.tokens} tokens, ${context.source}), leaving no room to generate; shorten the prompt`,
                promptTokens,
                context.tokens,
            );
        return {maxTokens: Math.min(asked, context.tokens - promptTokens), promptTokens, chat};
    }

    /**
     * A prompt's token count from `tokenize` (cached per kind and key); undefined when the server
     * has no usable /tokenize for that kind (a 4xx, or an answer without token ids), remembered.
     */
    private countTokens(kind: "text" | "chat", key: string, tokenize: () => Promise<number[]>): Promise<number | undefined> {
        if (this.noTokenize.has(kind)) return Promise.resolve(undefined);
        const cacheKey = `${kind}\u0000${key}`;
        let count = this.promptCounts.get(cacheKey);
        if (!count) {
            count = tokenize().then(
                (ids) => ids.length,
                (e) => {
                    this.promptCounts.delete(cacheKey);
                    if ((e instanceof HttpRequestError && e.status !== undefined && e.status >= 400 && e.status < 500) || (e instanceof StepwiseError && !(e instanceof HttpRequestError))) {
                        this.noTokenize.add(kind);
                        return undefined;
                    }
                    throw e;
                },
            );
            this.promptCounts.set(cacheKey, count);
            if (this.promptCounts.size > PROMPT_COUNT_CACHE) this.promptCounts.delete(this.promptCounts.keys().next().value!);
        }
        return count;
    }
    private readonly promptCounts = new Map<string, Promise<number | undefined>>();
    private readonly noTokenize = new Set<"text" | "chat">();

    /**
     * POST a generation request with max_tokens from `fit`. A context-overflow 400 on a request
     * sent on the byte bound alone is retried once with the prompt's tokens counted (`refit`); any
     * other context-overflow 400 is an error quoting the server, with a hint.
     */
    private async postFitted<T>(path: string, body: Record<string, unknown>, fit: Fit, refit: (() => Promise<Fit>) | undefined, signal: AbortSignal): Promise<HttpResponse<T>> {
        try {
            return await this.http.postJson<T>(path, {...body, max_tokens: fit.maxTokens}, {signal});
        } catch (e) {
            if (e instanceof HttpRequestError && e.status === 400 && isTooManyChoices(e.serverMessage) && typeof body.n === "number" && body.n > 1)
                throw new StepwiseError(
                    `${e.message} (stepwise sent n ${body.n}, its most per request (maxN, ${this.maxNSource}); add maxN=N to the engine spec with N at most the server's limit, e.g. llama-server's --parallel)`,
                    {cause: e},
                );
            if (!isContextOverflowResponse(e)) throw e;
            if (fit.bounded && refit) {
                const exact = await refit();
                if (!exact.bounded && exact.maxTokens < fit.maxTokens) return this.postFitted<T>(path, body, exact, undefined, signal);
                fit = exact;
            }
            throw new StepwiseError(`${e.message} (${this.contextHint(fit)})`, {cause: e});
        }
    }

    /** What to do about a server's context-overflow 400, given how the request was fitted. */
    private contextHint(fit: Fit): string {
        const lower = "or lower max_tokens (--max-tokens)";
        const c = this.context;
        // llama-server never refuses for max_tokens (a reply ends at the context end, "length"): only a prompt beyond a slot's context.
        if (this.dialect === "llama.cpp")
            return `llama-server refuses a prompt longer than one slot's context${c ? ` (${c.tokens} tokens, ${c.source})` : ""}: shorten the prompt, or serve with a larger -c or fewer --parallel (a slot's context is -c / --parallel)`;
        if (!c || fit.unfitted === "context")
            return (
                `stepwise does not know this server's context length (it reads max_model_len from GET /v1/models when connecting), ` +
                `so it cannot end samples at the context end as the in-process llama engine does: add maxModelLen=N, the server's context length, to the engine spec, ${lower}`
            );
        if (fit.unfitted === "count")
            return fit.chat
                ? `the rendered chat prompt's tokens could not be counted (that needs vLLM's /tokenize with messages, dialect vllm), so max_tokens was not fitted to the context (${c.tokens} tokens, ${c.source}): lower max_tokens (--max-tokens)`
                : `this server has no /tokenize to count the prompt's tokens, so max_tokens was not fitted to the context (${c.tokens} tokens, ${c.source}): send token-id prompts, ${lower}`;
        return `stepwise counted ${fit.promptTokens ?? "?"} prompt tokens and sent max_tokens ${fit.maxTokens} to fit a context of ${c.tokens} tokens (${c.source}), which the server refused: is that context larger than the server's? Correct maxModelLen=N in the engine spec, ${lower}`;
    }

    /** Sampling fields shared by completions and chat: every field of the dialect, neutral when unset. */
    private samplingBody(o: SamplingOptions): Record<string, unknown> {
        return dialectSamplingBody(this.dialect, o);
    }

    /**
     * Run n samples as chunks of at most maxN, in parallel, numbered firstIndex.. and seeded
     * `seed + index of the chunk's first sample`. When one chunk fails for good the others are
     * aborted at once (no request keeps running after the call rejected).
     */
    private async chunked(
        n: number,
        request: {seed?: number; firstIndex?: number; signal?: AbortSignal},
        run: (count: number, seed: number | undefined, signal: AbortSignal) => Promise<Omit<Sample, "index">[]>,
    ): Promise<Sample[]> {
        const firstIndex = request.firstIndex ?? 0;
        if (!Number.isInteger(firstIndex) || firstIndex < 0) throw new StepwiseError(`firstIndex must be a non-negative integer, got ${firstIndex}`);
        request.signal?.throwIfAborted();
        const controller = new AbortController();
        const onAbort = () => controller.abort(request.signal!.reason);
        request.signal?.addEventListener("abort", onAbort, {once: true});
        try {
            const jobs: Promise<Sample[]>[] = [];
            for (let start = 0; start < n; start += this.maxN) {
                const count = Math.min(this.maxN, n - start);
                const first = firstIndex + start;
                const seed = request.seed === undefined ? undefined : request.seed + first;
                jobs.push(
                    run(count, seed, controller.signal).then(
                        (samples) => samples.map((sample, i) => ({index: first + i, ...sample})),
                        (e) => {
                            controller.abort(e);
                            throw e;
                        },
                    ),
                );
            }
            return (await Promise.all(jobs)).flat();
        } finally {
            request.signal?.removeEventListener("abort", onAbort);
        }
    }

    /**
     * Count one answer: its prompt tokens once, and its generated tokens. `perChoice` are the
     * tokens each choice's log-probabilities list, used when the answer has no usage. llama-server's
     * usage with n > 1 is the first choice's alone (it merges per-choice answers and keeps the
     * first one's usage), so on that dialect the other choices add their listed tokens.
     */
    private account(usage: Usage | undefined, perChoice: number[]): void {
        this.counters.prefixEvaluations++;
        this.counters.promptTokens += usage?.prompt_tokens ?? 0;
        const listed = perChoice.reduce((a, b) => a + b, 0);
        if (typeof usage?.completion_tokens !== "number") this.counters.generatedTokens += listed;
        else if (this.dialect === "llama.cpp") this.counters.generatedTokens += usage.completion_tokens + listed - (perChoice[0] ?? 0);
        else this.counters.generatedTokens += usage.completion_tokens;
    }

    // ---------------------------------------------------------------- next token / probes

    /** Top-k (default 10 as on the llama engine, at most 20) next-token distribution: one greedy token with `logprobs: k`. */
    async nextToken(prefix: string | number[], options: {topK?: number; addBos?: boolean; signal?: AbortSignal} = {}): Promise<NextTokenDistribution> {
        const k = checkTopK(options.topK ?? 10, "topK");
        const body: Record<string, unknown> = {model: this.model, prompt: prefix, max_tokens: 1, temperature: 0, n: 1, logprobs: Math.max(1, k)};
        if (typeof prefix === "string" && options.addBos !== undefined) body.add_special_tokens = options.addBos;
        if (this.tokenIds) body.return_tokens_as_token_ids = true;
        const {data, url} = await this.http.postJson<CompletionResponse>("/v1/completions", body, {signal: options.signal});
        const [choice] = orderedChoices(data.choices, 1, `POST ${url}`);
        this.account(data.usage, [1]);
        const lp = choice.logprobs;
        let alts: TokenAlternative[];
        if (isChatStyle(lp)) alts = completionTokens(lp, k, `POST ${url}`)[0]?.top ?? [];
        else {
            const top = lp?.top_logprobs?.[0];
            if (!top) throw new StepwiseError(`POST ${url}: the server returned no top log-probabilities`);
            alts = topFromMap(top, k);
        }
        if (alts.length === 0 && k > 0) throw new StepwiseError(`POST ${url}: the server returned no top log-probabilities`);
        if (this.tokenIds) {
            const texts = await Promise.all(alts.map((a) => (a.id === undefined ? a.text : this.piece(a.id))));
            alts.forEach((a, i) => (a.text = texts[i]));
        }
        return {top: alts};
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
        const {data, url} = await this.http.postJson<CompletionResponse>("/v1/completions", body, {signal: request.signal});
        const where = `POST ${url}`;
        const [choice] = orderedChoices<CompletionChoice>(data.choices, 1, where);
        this.account(data.usage, [1]);
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
            const lp = choice.logprobs;
            const tops = isChatStyle(lp) ? undefined : lp?.top_logprobs;
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

    /** A token id's text, from `/detokenize` (cached). */
    private piece(id: number): Promise<string> {
        let piece = this.pieceCache.get(id);
        if (!piece) {
            piece = this.detokenize([id]);
            piece.catch(() => this.pieceCache.delete(id));
            this.pieceCache.set(id, piece);
        }
        return piece;
    }

    /**
     * A generated token's text from its id: the text it adds after other text. `/detokenize` of
     * the id alone is not that on SentencePiece vocabularies (Llama 2, Mistral): decoding drops
     * the leading space of a sequence's first piece, so "▁the" alone decodes to "the"
     * (google/sentencepiece#1043). So the id is decoded after an anchor token (the last token of
     * "a") and the anchor's own text is cut off: `detokenize([a, id]) − detokenize([a])`, which
     * is " the". Falls back to the id alone when the anchor's text is not a prefix. Cached per id.
     */
    private tokenPiece(id: number): Promise<string> {
        let piece = this.tokenPieceCache.get(id);
        if (!piece) {
            piece = (async () => {
                const anchor = await this.anchor();
                if (!anchor) return this.piece(id);
                const both = await this.detokenize([anchor.id, id]);
                return both.startsWith(anchor.text) ? both.slice(anchor.text.length) : this.piece(id);
            })();
            piece.catch(() => this.tokenPieceCache.delete(id));
            this.tokenPieceCache.set(id, piece);
        }
        return piece;
    }
    private readonly tokenPieceCache = new Map<number, Promise<string>>();
    private anchorToken: Promise<{id: number; text: string} | undefined> | undefined;

    /** The anchor of {@link tokenPiece}: the last token of "a" and its text (none when "a" does not tokenize to a non-empty text). */
    private anchor(): Promise<{id: number; text: string} | undefined> {
        if (!this.anchorToken) {
            this.anchorToken = (async () => {
                const ids = await this.tokenize("a", {addBos: false});
                const id = ids.at(-1);
                if (id === undefined) return undefined;
                const text = await this.detokenize([id]);
                return text ? {id, text} : undefined;
            })();
            this.anchorToken.catch(() => (this.anchorToken = undefined));
        }
        return this.anchorToken;
    }

    /** With token ids, replace "token_id:N" texts of tokens and alternatives by the ids' pieces. */
    private async withTexts(tokens: GeneratedToken[]): Promise<GeneratedToken[]> {
        if (!this.tokenIds) return tokens;
        const text = (t: {text: string; id?: number}) => (t.id === undefined ? Promise.resolve(t.text) : this.tokenPiece(t.id));
        return Promise.all(
            tokens.map(async (t) => ({...t, text: await text(t), top: await Promise.all(t.top.map(async (a) => ({...a, text: await text(a)})))})),
        );
    }

    /** Texts of candidate ids (cached), for servers that key top-logprobs by token text. */
    private async candidateTexts(candidates: number[]): Promise<string[]> {
        const texts = await Promise.all(
            candidates.map((id) => this.piece(id)),
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
     * `POST /tokenize` with `add_special_tokens = addBos ?? true` (vLLM, SGLang, `stepwise
     * serve`), or on the llama.cpp dialect llama.cpp server's `{content, add_special}`. `special`
     * is ignored: these servers always parse special-token text.
     */
    async tokenize(text: string, options: {addBos?: boolean; special?: boolean} = {}): Promise<number[]> {
        return this.tokenizeRequest(text, options.addBos, undefined);
    }

    /** `POST /tokenize`: vLLM's `{model, prompt, add_special_tokens}`, or llama.cpp server's `{content, add_special}` on that dialect. */
    private async tokenizeRequest(text: string, addBos: boolean | undefined, signal: AbortSignal | undefined): Promise<number[]> {
        const body =
            this.dialect === "llama.cpp"
                ? {content: text, add_special: addBos ?? true}
                : {model: this.model, prompt: text, add_special_tokens: addBos ?? true};
        const {data, url} = await this.http.postJson<TokenizeResponse>("/tokenize", body, {signal});
        if (!Array.isArray(data.tokens) || !data.tokens.every((t) => Number.isInteger(t))) throw new StepwiseError(`POST ${url}: response has no "tokens" array of ids`);
        return data.tokens;
    }

    /** `POST /detokenize {model, tokens}`: vLLM answers `prompt`, llama-server `content`. */
    async detokenize(tokens: number[]): Promise<string> {
        const {data, url} = await this.http.postJson<DetokenizeResponse>("/detokenize", {model: this.model, tokens});
        const text = detokenizedText(data);
        if (text === undefined) throw new StepwiseError(`POST ${url}: response has no "prompt" (vLLM) or "content" (llama-server) string`);
        return text;
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
     * vLLM `prompt_logprobs` for the input's tokens: per token its probability, true vocabulary
     * rank and decoded text, and the top-k (`topK`, 0..20, default 5); entry 0 is null. The
     * engine's `promptLogprobs` on dialect vllm (other dialects have no prompt_logprobs).
     *
     * One request (`POST /v1/completions`, max_tokens 1): a token-id input is sent as is; a text
     * input (`addBos` unset or true) is sent as text with `echo` + `logprobs: 0` +
     * `return_tokens_as_token_ids`, and its token ids are read from the echoed "token_id:N"
     * tokens, so no `/tokenize` round trip is needed. A server whose echo does not carry ids is
     * asked again the old way (`/tokenize`, then the ids), and from then on always that way.
     * With `addBos: false` the text is tokenized with `/tokenize` first (`stepwise serve` ignores
     * add_special_tokens on completions). Errors: a StepwiseError naming the URL when the answer
     * lacks prompt_logprobs for every token, or an entry lacks the prompt token with its rank.
     */
    private async vllmPromptLogprobs(input: string | number[], options: {topK?: number; addBos?: boolean; signal?: AbortSignal} = {}): Promise<Array<PromptTokenLogprob | null>> {
        const k = checkTopK(options.topK ?? 5, "topK");
        if (typeof input === "string" && input !== "" && options.addBos !== false && this.echoIds) {
            const body = {model: this.model, prompt: input, max_tokens: 1, temperature: 0, n: 1, prompt_logprobs: k, echo: true, logprobs: 0, return_tokens_as_token_ids: true};
            const {data, url} = await this.http.postJson<CompletionResponse>("/v1/completions", body, {signal: options.signal});
            const where = `POST ${url}`;
            const [choice] = orderedChoices<CompletionChoice>(data.choices, 1, where);
            this.account(data.usage, [1]);
            const ids = echoedPromptIds(choice);
            if (ids) return promptEntries(ids, choice.prompt_logprobs, k, where);
            this.echoIds = false;
        }
        const ids = typeof input === "string" ? await this.tokenize(input, {addBos: options.addBos}) : input;
        if (ids.length === 0) return [];
        const body = {model: this.model, prompt: ids, max_tokens: 1, temperature: 0, n: 1, prompt_logprobs: k};
        const {data, url} = await this.http.postJson<CompletionResponse>("/v1/completions", body, {signal: options.signal});
        const where = `POST ${url}`;
        const [choice] = orderedChoices<CompletionChoice>(data.choices, 1, where);
        this.account(data.usage, [1]);
        return promptEntries(ids, choice.prompt_logprobs, k, where);
    }
    /** Whether a text prompt's ids can be read from its echo (false once a server's echo lacked "token_id:N" tokens). */
    private echoIds = true;

    /**
     * Step rewards from a pooling model (a PRM served with `vllm serve ... --runner pooling`).
     * Returns the rows as the server computes them: with STEP pooling, one row per step-tag token
     * holding the softmax over the configured `returned_token_ids` or the classifier's classes,
     * in that order (math-shepherd's `[+, -]` puts the positive column first; Qwen2.5-Math-PRM's
     * two-class head puts it second). The "pooling" route (`POST /pooling {model, input}`)
     * answers `{data: [{data: number[][]}]}`; the "embeddings" route (`POST /v1/embeddings`,
     * `encoding_format: "float"`) answers one flat vector, cut into rows of `stepWidth` (default
     * the number of `step.returnedTokenIds`, else 2). `step` is configured on the server; when
     * given, rows of another width are an error. The engine's `pool` on dialect vllm.
     */
    private async vllmPool(request: PoolRequest): Promise<number[][]> {
        const width = request.stepWidth ?? request.step?.returnedTokenIds.length ?? 2;
        const body: Record<string, unknown> = {model: this.model, input: request.input};
        if (request.task !== undefined) body.task = request.task;
        let rows: number[][];
        if ((request.endpoint ?? "pooling") === "pooling") {
            const {data, url} = await this.http.postJson<PoolingResponse>("/pooling", body, {signal: request.signal});
            const entry = data.data?.[0];
            if (!entry) throw new StepwiseError(`POST ${url}: response has no "data" entry`);
            this.counters.prefixEvaluations++;
            rows = poolRows(entry.data, width, `POST ${url}`);
        } else {
            const {data, url} = await this.http.postJson<EmbeddingsResponse>("/v1/embeddings", {...body, encoding_format: "float"}, {signal: request.signal});
            const entry = data.data?.[0];
            if (!entry) throw new StepwiseError(`POST ${url}: response has no "data" entry`);
            this.counters.prefixEvaluations++;
            rows = poolRows(entry.embedding, width, `POST ${url}`);
        }
        if (request.step && rows.some((r) => r.length !== request.step!.returnedTokenIds.length))
            throw new StepwiseError(`pool: the server returned rows of ${rows[0]?.length} numbers, expected ${request.step.returnedTokenIds.length} (one per returned token id)`);
        return rows;
    }

    // ---------------------------------------------------------------- bookkeeping

    stats(): EngineStats {
        const h: HttpStats = this.http.stats();
        return {...this.counters, requests: h.requests, retries: h.retries};
    }

    /** Nothing to release: connections belong to Node's global fetch dispatcher. */
    async close(): Promise<void> {}
}
