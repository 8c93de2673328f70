/**
 * A small JSON-over-HTTP client for OpenAI-compatible servers (vLLM, SGLang, llama.cpp server,
 * `stepwise serve`), built on Node's global `fetch` (undici).
 *
 * - **Several servers at once.** Each request goes to one of the base URLs, chosen by
 *   least-in-flight (default; ties broken round-robin) or plain round-robin. A retry prefers a
 *   different server than the one that just failed.
 * - **A global concurrency limit** (p-limit) over all servers. It bounds attempts, not the
 *   backoff sleeps between them, so a request waiting to retry does not hold a slot.
 * - **A per-attempt timeout** that covers the whole exchange (headers and body).
 * - **Retries** with exponential backoff and full jitter on 429 and 408 (a `Retry-After` header
 *   is honoured), 5xx, timeouts, unreadable/garbled 2xx bodies and connection faults
 *   (ECONNRESET, ECONNREFUSED, socket hang-up, ...). After the last one, a {@link StepwiseError}
 *   naming the URL, the status and an excerpt of the body.
 * - **Other 4xx fail at once** with the same kind of one-line error: retrying a bad request
 *   cannot help (e.g. vLLM's 400 for a prompt + max_tokens beyond the model's context). The
 *   error quotes the server's own message from its error object ({@link errorText}).
 * - **Redirects are not followed**: a 3xx fails at once naming the URL and its `Location`
 *   (following it would resend the request body and API key to another address).
 *
 * Base URLs may be given with or without the `/v1` suffix: `http://host:8000/v1` and
 * `http://host:8000` both name the server root `http://host:8000`, and request paths are given
 * from that root (`/v1/completions`, `/tokenize`), because vLLM serves its tokenizer routes
 * outside `/v1`.
 */
import pLimit, {type LimitFunction} from "p-limit";
import {StepwiseError} from "../types.ts";

/** How the next server is picked. */
export type BalanceStrategy = "least-in-flight" | "round-robin";

export interface HttpClientOptions {
    /** Server base URLs (`http://host:port` or `http://host:port/v1`). At least one. */
    baseUrls: string[];
    /** Maximum attempts in flight over all servers. Default 16. */
    concurrency?: number;
    /** Per-attempt timeout in milliseconds (headers and body). Default 60 000. */
    timeoutMs?: number;
    /** Retries after the first attempt on transient failures. Default 6. */
    retries?: number;
    /** Backoff scale: attempt k (0-based) sleeps uniform(0, min(max, base·2^k)). Default 250 ms. */
    backoffBaseMs?: number;
    /** Backoff cap. Default 20 000 ms. */
    backoffMaxMs?: number;
    /** Longest `Retry-After` honoured. Default 60 000 ms. */
    maxRetryAfterMs?: number;
    /** Server choice. Default "least-in-flight". */
    balance?: BalanceStrategy;
    /** Sent as `Authorization: Bearer <key>` when set. */
    apiKey?: string;
    /** Extra headers for every request. */
    headers?: Record<string, string>;
    /** Uniform [0,1) source for jitter (tests pass a seeded one). Default Math.random. */
    random?: () => number;
    /** Called before each retry with the failed URL, the retry number (1-based) and what went wrong. */
    onRetry?: (info: {url: string; attempt: number; message: string}) => void;
}

/**
 * A request that failed for good. `status` is the HTTP status of the last answer (absent for
 * connection faults and timeouts); `serverMessage` the server's own words ({@link errorText}).
 */
export class HttpRequestError extends StepwiseError {
    constructor(
        message: string,
        readonly status: number | undefined,
        readonly serverMessage: string | undefined,
        options?: {cause?: unknown},
    ) {
        super(message, options);
    }
}

/** Counters of one client. */
export interface HttpStats {
    /** Attempts sent (first tries and retries). */
    requests: number;
    /** Attempts that were retries. */
    retries: number;
    /** Requests that failed for good (after retries, or at once on a 4xx). */
    failures: number;
    /** Per server: attempts sent, attempts now in flight and the most in flight at once. */
    servers: {url: string; requests: number; inFlight: number; maxInFlight: number}[];
    /** Most attempts in flight at once over all servers. */
    maxInFlight: number;
}

/** A parsed JSON response and the URL that produced it (for error messages). */
export interface HttpResponse<T> {
    data: T;
    url: string;
}

export interface RequestOptions {
    /** Caller cancellation: aborting it stops the request and its retries (not retried). */
    signal?: AbortSignal;
    /** Override the client's per-attempt timeout. */
    timeoutMs?: number;
}

interface Server {
    root: string;
    requests: number;
    inFlight: number;
    maxInFlight: number;
}

/** One failed attempt, classified. */
interface AttemptFailure {
    retryable: boolean;
    /** One-line description without the URL, e.g. "HTTP 503 Service Unavailable: {...}". */
    message: string;
    /** Server-requested delay (Retry-After) in ms. */
    retryAfterMs?: number;
    /** HTTP status and the server's message, when the server answered. */
    status?: number;
    serverMessage?: string;
    cause?: unknown;
}

/** Longest body excerpt put into an error message. */
export const BODY_EXCERPT_CHARS = 300;

/** Error codes of connection-level faults that are worth retrying. */
const RETRYABLE_CODES = new Set([
    "ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN",
    "UND_ERR_SOCKET", "UND_ERR_CLOSED", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT",
]);

/** Normalise a base URL to its server root: strip a trailing `/` and a trailing `/v1`. */
export function serverRoot(baseUrl: string): string {
    let url: URL;
    try {
        url = new URL(baseUrl);
    } catch {
        throw new StepwiseError(`invalid server URL "${baseUrl}" (expected e.g. http://127.0.0.1:8000/v1)`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
        throw new StepwiseError(`invalid server URL "${baseUrl}": only http:// and https:// are supported`);
    if (url.search || url.hash) throw new StepwiseError(`invalid server URL "${baseUrl}": no query or fragment expected`);
    let path = url.pathname.replace(/\/+$/, "");
    if (path.endsWith("/v1")) path = path.slice(0, -3);
    return `${url.origin}${path}`;
}

/** Shorten a response body for an error message: one line, at most {@link BODY_EXCERPT_CHARS} characters. */
export function bodyExcerpt(body: string): string {
    const flat = body.replace(/\s+/g, " ").trim();
    if (flat.length === 0) return "(empty body)";
    return flat.length > BODY_EXCERPT_CHARS ? `${flat.slice(0, BODY_EXCERPT_CHARS - 1)}…` : flat;
}

/**
 * The server's own words from an error body: the message of an OpenAI error object
 * (`{error: {message, param}}`, vLLM today), of vLLM's older flat ErrorResponse
 * (`{object: "error", message, param}`), FastAPI's `{detail}` or `{error: "text"}`, with the
 * field at fault when the server names it; otherwise an excerpt of the body.
 */
export function errorText(body: string): string {
    let parsed: unknown;
    try {
        parsed = JSON.parse(body);
    } catch {
        return bodyExcerpt(body);
    }
    const o = (parsed && typeof parsed === "object" ? parsed : {}) as Record<string, unknown>;
    const inner = o.error && typeof o.error === "object" ? (o.error as Record<string, unknown>) : o;
    const message = typeof inner.message === "string" ? inner.message : typeof o.error === "string" ? o.error : typeof o.detail === "string" ? o.detail : undefined;
    if (message === undefined) return bodyExcerpt(body);
    const param = typeof inner.param === "string" && inner.param && !message.startsWith(`${inner.param}:`) ? ` (param ${inner.param})` : "";
    return bodyExcerpt(message + param);
}

/** Parse a Retry-After header (delta-seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
    if (value === null || value.trim() === "") return undefined;
    const seconds = Number(value);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(value);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Full-jitter exponential backoff: uniform(0, min(maxMs, baseMs·2^attempt)). */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
    return random() * Math.min(maxMs, baseMs * 2 ** attempt);
}

/** Describe a fetch/connection error and decide whether it is transient. */
function classifyThrown(error: unknown, timedOut: boolean, timeoutMs: number): AttemptFailure {
    if (timedOut) return {retryable: true, message: `timed out after ${timeoutMs} ms`, cause: error};
    const chain: unknown[] = [];
    for (let e: unknown = error; e && chain.length < 5; e = (e as {cause?: unknown}).cause) chain.push(e);
    for (const e of chain) {
        const code = (e as {code?: unknown}).code;
        if (typeof code === "string" && RETRYABLE_CODES.has(code)) {
            const text = (e as Error).message;
            const detail = `${code}${text && !text.includes(code) ? `: ${text}` : ""}`;
            if (code === "ECONNREFUSED") return {retryable: true, message: `connection refused (${detail}); is the server running?`, cause: error};
            return {retryable: true, message: `connection failed (${detail})`, cause: error};
        }
    }
    const messages = chain.map((e) => (e instanceof Error ? e.message : String(e)));
    const joined = messages.join(": ");
    const code = chain.map((e) => (e as {code?: unknown}).code).find((c): c is string => typeof c === "string");
    if (code === "ENOTFOUND") return {retryable: false, message: `host not found (${messages.at(-1)})`, cause: error};
    if (code !== undefined) return {retryable: false, message: `request failed (${code}: ${messages.at(-1)})`, cause: error};
    if (messages.includes("bad port"))
        return {retryable: false, message: "fetch refuses this port (one of the ports browsers block); serve on another port", cause: error};
    // undici reports a dropped connection as "fetch failed" / "other side closed" / "terminated".
    if (/fetch failed|other side closed|socket hang up|terminated|ECONNRESET/i.test(joined))
        return {retryable: true, message: `connection failed (${joined})`, cause: error};
    return {retryable: false, message: `request failed (${joined})`, cause: error};
}

/**
 * The HTTP client. One instance per engine; all methods are safe to call concurrently.
 */
export class HttpClient {
    private readonly servers: Server[];
    private readonly limit: LimitFunction;
    private readonly options: Required<Omit<HttpClientOptions, "apiKey" | "headers" | "baseUrls" | "onRetry">> &
        Pick<HttpClientOptions, "apiKey" | "onRetry"> & {headers: Record<string, string>};
    private rr = 0;
    private totalInFlight = 0;
    private counters = {requests: 0, retries: 0, failures: 0, maxInFlight: 0};

    constructor(options: HttpClientOptions) {
        if (!options.baseUrls || options.baseUrls.length === 0) throw new StepwiseError("no server URL given");
        const roots = options.baseUrls.map(serverRoot);
        this.servers = roots.map((root) => ({root, requests: 0, inFlight: 0, maxInFlight: 0}));
        const concurrency = options.concurrency ?? 16;
        if (!Number.isInteger(concurrency) || concurrency < 1) throw new StepwiseError(`concurrency must be a positive integer, got ${concurrency}`);
        const retries = options.retries ?? 6;
        if (!Number.isInteger(retries) || retries < 0) throw new StepwiseError(`retries must be a non-negative integer, got ${retries}`);
        const timeoutMs = options.timeoutMs ?? 60_000;
        if (!(timeoutMs > 0)) throw new StepwiseError(`timeout must be positive, got ${timeoutMs} ms`);
        this.options = {
            concurrency,
            timeoutMs,
            retries,
            backoffBaseMs: options.backoffBaseMs ?? 250,
            backoffMaxMs: options.backoffMaxMs ?? 20_000,
            maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
            balance: options.balance ?? "least-in-flight",
            random: options.random ?? Math.random,
            apiKey: options.apiKey,
            onRetry: options.onRetry,
            headers: options.headers ?? {},
        };
        this.limit = pLimit(concurrency);
    }

    /** The server roots, in the order given. */
    get roots(): string[] {
        return this.servers.map((s) => s.root);
    }

    /** POST a JSON body to `path` (from the server root, e.g. "/v1/completions") and parse the JSON answer. */
    postJson<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<HttpResponse<T>> {
        return this.request<T>("POST", path, JSON.stringify(body), options);
    }

    /** GET `path` from the server root and parse the JSON answer. */
    getJson<T>(path: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
        return this.request<T>("GET", path, undefined, options);
    }

    /**
     * GET `path` from one given server root (no balancing); used to check every server at start-up.
     * Retries like any other request, but only on that server.
     */
    getJsonFrom<T>(root: string, path: string, options: RequestOptions & {retries?: number} = {}): Promise<HttpResponse<T>> {
        return this.request<T>("GET", path, undefined, options, this.server(root));
    }

    /** POST to one given server root (no balancing), like {@link getJsonFrom}. */
    postJsonFrom<T>(root: string, path: string, body: unknown, options: RequestOptions & {retries?: number} = {}): Promise<HttpResponse<T>> {
        return this.request<T>("POST", path, JSON.stringify(body), options, this.server(root));
    }

    private server(root: string): Server {
        const server = this.servers.find((s) => s.root === serverRoot(root));
        if (!server) throw new StepwiseError(`${root} is not one of this client's servers`);
        return server;
    }

    stats(): HttpStats {
        return {
            ...this.counters,
            servers: this.servers.map((s) => ({url: s.root, requests: s.requests, inFlight: s.inFlight, maxInFlight: s.maxInFlight})),
        };
    }

    private pickServer(avoid: Server | undefined): Server {
        const candidates = this.servers.length > 1 && avoid ? this.servers.filter((s) => s !== avoid) : this.servers;
        const start = this.rr++ % candidates.length;
        if (this.options.balance === "round-robin") return candidates[start];
        let best = candidates[start];
        for (let i = 1; i < candidates.length; i++) {
            const s = candidates[(start + i) % candidates.length];
            if (s.inFlight < best.inFlight) best = s;
        }
        return best;
    }

    private async request<T>(
        method: "GET" | "POST",
        path: string,
        body: string | undefined,
        options: RequestOptions & {retries?: number},
        pinned?: Server,
    ): Promise<HttpResponse<T>> {
        const retries = options.retries ?? this.options.retries;
        const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
        let last: {server: Server; failure: AttemptFailure} | undefined;
        for (let attempt = 0; attempt <= retries; attempt++) {
            if (attempt > 0) {
                const failure = last!.failure;
                let delay = backoffDelay(attempt - 1, this.options.backoffBaseMs, this.options.backoffMaxMs, this.options.random);
                if (failure.retryAfterMs !== undefined) delay = Math.max(delay, Math.min(failure.retryAfterMs, this.options.maxRetryAfterMs));
                await sleep(delay, options.signal);
                this.counters.retries++;
            }
            options.signal?.throwIfAborted();
            const outcome = await this.limit(async () => {
                const server = pinned ?? this.pickServer(last?.server);
                return {server, result: await this.attempt<T>(server, method, path, body, timeoutMs, options.signal)};
            });
            const {server, result} = outcome;
            if ("data" in result) return result;
            last = {server, failure: result};
            if (!result.retryable) break;
            if (attempt < retries) this.options.onRetry?.({url: server.root + path, attempt: attempt + 1, message: result.message});
        }
        this.counters.failures++;
        const {server, failure} = last!;
        const url = server.root + path;
        const tries = failure.retryable ? ` (gave up after ${retries + 1} attempt${retries === 0 ? "" : "s"})` : "";
        throw new HttpRequestError(`${method} ${url}: ${failure.message}${tries}`, failure.status, failure.serverMessage, {cause: failure.cause});
    }

    /** One attempt on one server: a parsed response, or a classified failure. */
    private async attempt<T>(
        server: Server,
        method: string,
        path: string,
        body: string | undefined,
        timeoutMs: number,
        signal: AbortSignal | undefined,
    ): Promise<HttpResponse<T> | AttemptFailure> {
        const url = server.root + path;
        const controller = new AbortController();
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            controller.abort(new Error(`timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        const onAbort = () => controller.abort(signal!.reason);
        signal?.addEventListener("abort", onAbort, {once: true});
        server.requests++;
        server.inFlight++;
        server.maxInFlight = Math.max(server.maxInFlight, server.inFlight);
        this.counters.requests++;
        this.totalInFlight++;
        this.counters.maxInFlight = Math.max(this.counters.maxInFlight, this.totalInFlight);
        try {
            const headers: Record<string, string> = {accept: "application/json", ...this.options.headers};
            if (body !== undefined) headers["content-type"] = "application/json";
            if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
            let status: number;
            let statusText: string;
            let text: string;
            let retryAfter: string | null;
            let location: string | null;
            try {
                // Redirects are not followed: fetch would resend the body (and the API key) to
                // wherever the Location points. A 3xx is reported below instead.
                const response = await fetch(url, {method, headers, body, signal: controller.signal, redirect: "manual"});
                status = response.status;
                statusText = response.statusText;
                retryAfter = response.headers.get("retry-after");
                location = response.headers.get("location");
                text = await response.text();
            } catch (e) {
                if (signal?.aborted) throw signal.reason ?? e;
                return classifyThrown(e, timedOut, timeoutMs);
            }
            const head = `HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
            if (status >= 200 && status < 300) {
                try {
                    return {data: JSON.parse(text) as T, url};
                } catch {
                    // A garbled 2xx body is almost always a truncated transfer: retry.
                    return {retryable: true, message: `${head} with a body that is not JSON: ${bodyExcerpt(text)}`};
                }
            }
            if (status >= 300 && status < 400)
                return {
                    retryable: false,
                    message: `${head}: redirects to ${location ?? "(no Location header)"}; stepwise does not follow redirects (they would resend the request body and key to another address): give the final URL in the engine spec`,
                    status,
                };
            const retryable = status === 429 || status === 408 || status >= 500;
            const serverMessage = errorText(text);
            return {retryable, message: `${head}: ${serverMessage}`, retryAfterMs: parseRetryAfter(retryAfter), status, serverMessage};
        } finally {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            server.inFlight--;
            this.totalInFlight--;
        }
    }
}

/** Sleep that a caller's AbortSignal can cut short (it then rejects with the abort reason). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
        }, ms);
        const onAbort = () => {
            clearTimeout(timer);
            reject(signal!.reason);
        };
        signal?.addEventListener("abort", onAbort, {once: true});
    });
}
