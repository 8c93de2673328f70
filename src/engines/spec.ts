/**
 * Engine specs: one string that says which model to run and where.
 *
 * ```text
 * llama:PATH[?threads=N&contextSize=N&sequences=N&batchSize=N&kv=F32|F16&gpu=false|auto|cuda|vulkan|metal]
 * lab:policy|prm|tag-prm|verifier|judge|implicit-prm|policy-rl|code-policy[?the llama parameters]
 * openai:URL[,URL...][?model=NAME&concurrency=N&timeout=SECONDS&retries=N&key=KEY&balance=least-in-flight|round-robin&maxN=N&probeMissing=error|bound&dialect=vllm|llama.cpp|openai&tokenIds=true&maxModelLen=N]
 * ```
 *
 * - `llama:./models/tiny.gguf` — a GGUF file run in-process by node-llama-cpp.
 *   `threads` (default 1), `contextSize` (tokens per sequence), `sequences` (parallel
 *   sequences, default 8; `1` for bit-for-bit repeatable runs, see LlamaEngine), `batchSize`, `kv` (KV cache type: F32 for exact probabilities, the
 *   default for models under 2 GB; F16 halves the memory of large models), `gpu` (default
 *   false = CPU with exact probabilities; auto|cuda|vulkan|metal offload every layer, faster but
 *   confidences differ in the last digits, see LlamaEngine). Integers are range-checked
 *   ({@link SPEC_RANGES}: sequences 1–256, threads 1–1024, contextSize 16–1048576, batchSize 1–65536).
 * - `lab:policy` — a model shipped in this package's models/ folder (`lab:policy`, `lab:prm`,
 *   `lab:tag-prm`, `lab:verifier`, `lab:judge`, `lab:implicit-prm`, `lab:policy-rl`, `lab:code-policy`
 *   = models/lab-policy.gguf, lab-prm.gguf (an implicit PRM paired with the tag PRM: `stepwise
 *   pair-prm`), lab-tag-prm.gguf, lab-verifier.gguf, lab-judge.gguf, lab-implicit-prm.gguf,
 *   lab-policy-rl.gguf, lab-code-policy.gguf), found from the installed package wherever the command runs (a relative
 *   `llama:models/…` path is relative to the current folder, so it works only in a checkout of
 *   stepwise). Parsed as the `llama:` spec of that file ({@link labModelPath}); same parameters.
 * - `openai:http://127.0.0.1:8000/v1?model=Qwen/Qwen2.5-Math-7B-Instruct` — an OpenAI-compatible
 *   server (vLLM, SGLang, llama.cpp server, `stepwise serve`). Several comma-separated URLs
 *   serving the same model are load-balanced (`openai:http://a:8000/v1,http://b:8000/v1?...`).
 *   The `/v1` suffix is optional. Parameters:
 *   - `model`: model name; default the first one the server lists at `/v1/models`;
 *   - `concurrency`: requests in flight over all servers (default 16; 1–4096);
 *   - `timeout`: seconds per attempt (default 60);
 *   - `retries`: retries on 429/5xx/timeouts/connection faults (default 6; 0–100);
 *   - `key`: API key sent as a Bearer token (default: the `OPENAI_API_KEY` environment variable);
 *   - `balance`: `least-in-flight` (default) or `round-robin`;
 *   - `maxN`: most samples per request; a larger n is split (default 16; 1–4096);
 *   - `probeMissing`: `error` (default) or `bound`, see OpenAIEngine.probeTokens;
 *   - `dialect`: the sampling fields the server understands, `vllm` (default; also SGLang and
 *     `stepwise serve`), `llama.cpp` (llama.cpp's llama-server; `maxN` then defaults to its `total_slots`) or `openai`; every
 *     field of the dialect is sent with neutral values when unset (see OpenAIEngine);
 *   - `tokenIds`: `true` asks for token ids (vLLM's `return_tokens_as_token_ids`), see OpenAIEngineOptions;
 *   - `maxModelLen`: the server's context length in tokens (vLLM's `--max-model-len`), for servers
 *     that do not report it (default: read from `max_model_len` at `/v1/models`, or llama.cpp
 *     server's `/props`). Known, it lets samples that reach the context end there with finish
 *     reason "length" (as on the llama engine) instead of the server's 400; see OpenAIEngine.generate.
 *
 * Values are URL-encoded like any query string (`model=org%2Fname` or `model=org/name` both work).
 * The llama engine module is imported only for `llama:` specs, so OpenAI-only use never loads
 * node-llama-cpp.
 */
import {realpathSync} from "node:fs";
import {resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {StepwiseError, type Engine, type SamplingOptions} from "./types.ts";
import {dialectSamplingBody, type OpenAIEngineOptions} from "./openai/engine.ts";
import {inProcessSamplingRecord} from "./sampling.ts";
import type {LlamaEngineOptions} from "./llama/engine.ts";
import {checkGgufHeader, type GgufHeaderSummary} from "../gguf/reader.ts";

/** The models this package ships in models/, by their `lab:` name. */
export const LAB_MODELS = {
    policy: "lab-policy.gguf",
    prm: "lab-prm.gguf",
    "tag-prm": "lab-tag-prm.gguf",
    verifier: "lab-verifier.gguf",
    judge: "lab-judge.gguf",
    "implicit-prm": "lab-implicit-prm.gguf",
    "policy-rl": "lab-policy-rl.gguf",
    "code-policy": "lab-code-policy.gguf",
} as const;
export type LabModel = keyof typeof LAB_MODELS;

/**
 * The absolute path of a shipped model (`lab:NAME`): the package's models/ folder, found from
 * this module's own location (src/engines/ in a checkout, dist/engines/ when installed), so it
 * resolves from any working directory. StepwiseError for an unknown name.
 */
export function labModelPath(name: string): string {
    const file = (LAB_MODELS as Record<string, string>)[name];
    if (!file) throw new StepwiseError(`lab model "${name}": unknown (known: ${Object.keys(LAB_MODELS).map((k) => `lab:${k}`).join(", ")})`);
    return resolve(fileURLToPath(new URL(`../../models/${file}`, import.meta.url)));
}

/** The valid forms, for error messages. */
export const ENGINE_SPEC_FORMS = "llama:PATH[?threads=N&contextSize=N&sequences=N&kv=F32|F16&gpu=false|auto|cuda|vulkan|metal], lab:policy|prm|tag-prm|verifier|judge|implicit-prm|policy-rl|code-policy[?same parameters] (the models shipped with stepwise) or openai:URL[,URL...][?model=NAME&concurrency=N&timeout=S&retries=N&key=KEY&maxN=N&dialect=vllm|llama.cpp|openai&tokenIds=true&maxModelLen=N]";

export type EngineSpec =
    | {kind: "llama"; path: string; options: Pick<LlamaEngineOptions, "threads" | "contextSize" | "sequences" | "batchSize" | "kvCacheType" | "gpu">}
    | {kind: "openai"; urls: string[]; options: Omit<OpenAIEngineOptions, "baseUrls">};

/** Per-kind defaults merged under the spec's own parameters (the spec wins). */
export interface CreateEngineOptions {
    llama?: LlamaEngineOptions;
    openai?: Partial<OpenAIEngineOptions>;
    /**
     * The role the model is loaded for: a local GGUF whose `stepwise.kind` metadata names another
     * kind is refused before loading ({@link checkModelKind}). Default: no check.
     */
    role?: ModelRole;
}

/** What a model is used as; `stepwise.kind` values of stepwise's own GGUF files. */
export type ModelRole = "policy" | "prm" | "judge";

const ROLE_USE: Record<ModelRole, {use: string; example: string}> = {
    policy: {use: "its samples would mean nothing. Give a policy GGUF", example: "models/lab-policy.gguf"},
    prm: {use: "its scores would mean nothing. Give a PRM GGUF", example: "models/lab-prm.gguf"},
    judge: {use: "its verdicts would mean nothing. Give a judge GGUF", example: "models/lab-judge.gguf"},
};

/**
 * The one model-kind check: a GGUF file whose `stepwise.kind` metadata (written by stepwise's
 * trainers) names another kind than `role` is refused with a one-line StepwiseError naming the
 * file and its kind, and a shipped model of the right kind as an example unless `example` is false
 * (callers that want a particular kind of PRM say so themselves). Files without the key (any GGUF
 * from elsewhere) pass. Reads the header only (src/gguf/reader.ts `checkGgufHeader`, which also
 * refuses a file that is not a valid GGUF) and returns that summary.
 */
export function checkModelKind(path: string, role: ModelRole, options: {example?: boolean} = {}): GgufHeaderSummary {
    const h = checkGgufHeader(path);
    const kind = h.strings["stepwise.kind"];
    if (kind !== undefined && kind !== role) {
        const {use, example} = ROLE_USE[role];
        throw new StepwiseError(`${path}: is a stepwise ${kind} model (GGUF metadata stepwise.kind = "${kind}"), not a ${role === "prm" ? "PRM" : role}; ${use}${options.example === false ? "" : ` (e.g. ${example})`}`);
    }
    return h;
}

const LLAMA_PARAMS = ["threads", "contextSize", "sequences", "batchSize", "kv", "gpu"] as const;
const OPENAI_PARAMS = ["model", "concurrency", "timeout", "retries", "key", "balance", "maxN", "probeMissing", "dialect", "tokenIds", "maxModelLen"] as const;
const GPU_VALUES = ["false", "auto", "cuda", "vulkan", "metal"] as const;

/**
 * Allowed ranges of the integer parameters (inclusive). `sequences` is llama.cpp's own limit
 * (n_seq_max ≤ 256); the others bound what one machine can use, so that a typo (an extra zero)
 * is a one-line error naming the parameter instead of a failed allocation deep in llama.cpp.
 */
export const SPEC_RANGES = {
    threads: [1, 1024],
    contextSize: [16, 1 << 20],
    sequences: [1, 256],
    batchSize: [1, 1 << 16],
    concurrency: [1, 4096],
    retries: [0, 100],
    maxN: [1, 4096],
    maxModelLen: [1, 1 << 24],
} as const satisfies Record<string, readonly [number, number]>;

/** An integer parameter inside its {@link SPEC_RANGES} range, else a StepwiseError naming it and the range. */
function rangedInt(spec: string, name: keyof typeof SPEC_RANGES, value: string): number {
    const [min, max] = SPEC_RANGES[name];
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
        throw new StepwiseError(`engine spec "${spec}": ${name} must be an integer from ${min} to ${max}, got "${value}"`);
    return n;
}

/** Split "BODY?QUERY" and decode the query, rejecting unknown or repeated parameters. */
function splitQuery(spec: string, rest: string, known: readonly string[]): {body: string; params: Map<string, string>} {
    const q = rest.indexOf("?");
    const body = q < 0 ? rest : rest.slice(0, q);
    const params = new Map<string, string>();
    if (q >= 0) {
        for (const [key, value] of new URLSearchParams(rest.slice(q + 1))) {
            if (!known.includes(key))
                throw new StepwiseError(`engine spec "${spec}": unknown parameter "${key}" (known: ${known.join(", ")})`);
            if (params.has(key)) throw new StepwiseError(`engine spec "${spec}": parameter "${key}" given twice`);
            params.set(key, value);
        }
    }
    return {body, params};
}

/**
 * Whether two engine specs name the same model read the same way (probabilities equal): llama
 * specs with the same file (after resolving links) and KV cache type; any other specs when the
 * strings are equal. Unparsable specs are not the same.
 */
export function sameModelSpec(a: string, b: string): boolean {
    if (a === b) return true;
    let x: EngineSpec, y: EngineSpec;
    try {
        [x, y] = [parseEngineSpec(a), parseEngineSpec(b)];
    } catch {
        return false;
    }
    if (x.kind !== "llama" || y.kind !== "llama") return false;
    const real = (p: string): string => {
        try {
            return realpathSync(p);
        } catch {
            return resolve(p);
        }
    };
    return real(x.path) === real(y.path) && x.options.kvCacheType === y.options.kvCacheType;
}

/** Parse an engine spec (see the module docs); throws a StepwiseError listing the valid forms. */
export function parseEngineSpec(spec: string): EngineSpec {
    const colon = spec.indexOf(":");
    const scheme = colon < 0 ? "" : spec.slice(0, colon);
    const rest = colon < 0 ? "" : spec.slice(colon + 1);
    if (scheme === "llama" || scheme === "lab") {
        const {body: name, params} = splitQuery(spec, rest, LLAMA_PARAMS);
        if (name === "") throw new StepwiseError(`engine spec "${spec}": no model ${scheme === "lab" ? "name" : "path"} (expected ${ENGINE_SPEC_FORMS})`);
        let body = name;
        if (scheme === "lab") {
            try {
                body = labModelPath(name);
            } catch (e) {
                throw new StepwiseError(`engine spec "${spec}": ${(e as Error).message}`);
            }
        }
        const options: Extract<EngineSpec, {kind: "llama"}>["options"] = {};
        for (const [key, value] of params) {
            if (key === "kv") {
                if (value !== "F32" && value !== "F16") throw new StepwiseError(`engine spec "${spec}": kv must be F32 or F16, got "${value}"`);
                options.kvCacheType = value;
            } else if (key === "gpu") {
                if (!(GPU_VALUES as readonly string[]).includes(value))
                    throw new StepwiseError(`engine spec "${spec}": gpu must be one of ${GPU_VALUES.join(", ")}, got "${value}"`);
                options.gpu = value === "false" ? false : (value as "auto" | "cuda" | "vulkan" | "metal");
            } else options[key as "threads" | "contextSize" | "sequences" | "batchSize"] = rangedInt(spec, key as "threads" | "contextSize" | "sequences" | "batchSize", value);
        }
        return {kind: "llama", path: body, options};
    }
    if (scheme === "openai") {
        const {body, params} = splitQuery(spec, rest, OPENAI_PARAMS);
        const urls = body.split(",").map((u) => u.trim()).filter((u) => u !== "");
        if (urls.length === 0) throw new StepwiseError(`engine spec "${spec}": no server URL (expected ${ENGINE_SPEC_FORMS})`);
        for (const u of urls) {
            let url: URL | undefined;
            try {
                url = new URL(u);
            } catch {
                url = undefined;
            }
            if (!url || (url.protocol !== "http:" && url.protocol !== "https:"))
                throw new StepwiseError(`engine spec "${spec}": "${u}" is not an http(s) URL`);
        }
        const options: Extract<EngineSpec, {kind: "openai"}>["options"] = {};
        for (const [key, value] of params) {
            switch (key) {
                case "model":
                    if (value === "") throw new StepwiseError(`engine spec "${spec}": empty model name`);
                    options.model = value;
                    break;
                case "concurrency":
                    options.concurrency = rangedInt(spec, key, value);
                    break;
                case "timeout": {
                    const s = Number(value);
                    if (!(s > 0) || !Number.isFinite(s)) throw new StepwiseError(`engine spec "${spec}": timeout must be a positive number of seconds, got "${value}"`);
                    options.timeoutMs = s * 1000;
                    break;
                }
                case "retries":
                    options.retries = rangedInt(spec, key, value);
                    break;
                case "key":
                    options.apiKey = value;
                    break;
                case "balance":
                    if (value !== "least-in-flight" && value !== "round-robin")
                        throw new StepwiseError(`engine spec "${spec}": balance must be least-in-flight or round-robin, got "${value}"`);
                    options.balance = value;
                    break;
                case "maxN":
                    options.maxNPerRequest = rangedInt(spec, key, value);
                    break;
                case "probeMissing":
                    if (value !== "error" && value !== "bound")
                        throw new StepwiseError(`engine spec "${spec}": probeMissing must be error or bound, got "${value}"`);
                    options.probeMissing = value;
                    break;
                case "dialect":
                    if (value !== "vllm" && value !== "llama.cpp" && value !== "openai")
                        throw new StepwiseError(`engine spec "${spec}": dialect must be vllm, llama.cpp or openai, got "${value}"`);
                    options.dialect = value;
                    break;
                case "tokenIds":
                    if (value !== "true" && value !== "false") throw new StepwiseError(`engine spec "${spec}": tokenIds must be true or false, got "${value}"`);
                    options.tokenIds = value === "true";
                    break;
                case "maxModelLen":
                    options.maxModelLen = rangedInt(spec, key, value);
                    break;
            }
        }
        return {kind: "openai", urls, options};
    }
    throw new StepwiseError(`unknown engine spec "${spec}": expected ${ENGINE_SPEC_FORMS}`);
}

/**
 * Create an engine from a spec. With `options.role`, a local GGUF of another stepwise kind is
 * refused first ({@link checkModelKind}). `openai:` specs connect first (every server must answer
 * `/v1/models`), so a server that is down fails here with a one-line error naming its URL. The
 * API key comes from the spec's `key`, else `options.openai.apiKey`, else `OPENAI_API_KEY`.
 */
export async function createEngine(spec: string, options: CreateEngineOptions = {}): Promise<Engine> {
    const parsed = parseEngineSpec(spec);
    if (parsed.kind === "llama") {
        if (options.role) checkModelKind(parsed.path, options.role);
        const {LlamaEngine} = await import("./llama/engine.ts");
        return LlamaEngine.load(parsed.path, {...options.llama, ...parsed.options});
    }
    const {OpenAIEngine} = await import("./openai/engine.ts");
    return OpenAIEngine.connect({...options.openai, ...parsed.options, baseUrls: parsed.urls});
}

/** How sample i of a request seeded s is drawn, per engine kind (stored with the fields sent). */
export const SEED_RULES = {
    llama: "sample i of a request seeded s draws from the generator seeded s + i (in-process)",
    openai: "sample i of a request seeded s: each request is sent seed = s + the index of its first sample, and the server seeds its choice j with seed + j (vLLM, llama-server)",
} as const;

/**
 * What an engine of this spec sends (OpenAI servers: the request's sampling fields, as the
 * spec's dialect names them) or applies (in-process) for these sampling options, with its seed
 * rule: what settings files record as "sampled with", known without creating the engine. The
 * same fields as the engine's samplingRecord. Throws the spec parser's errors, and for an option
 * the spec's dialect cannot send (top-k on dialect openai).
 */
export function samplingSent(spec: string, o: SamplingOptions): Record<string, unknown> {
    const p = parseEngineSpec(spec);
    if (p.kind === "llama") return {...inProcessSamplingRecord(o), seed_rule: SEED_RULES.llama};
    return {...dialectSamplingBody(p.options.dialect ?? "vllm", o), seed_rule: SEED_RULES.openai};
}
