/**
 * The engine interface: one contract over in-process GGUF models (node-llama-cpp) and
 * OpenAI-compatible servers (vLLM, SGLang, llama.cpp server, `stepwise serve`).
 *
 * Every stage of stepwise (sampling, rollouts, PRM scoring, decoding, judging) talks to a model
 * only through {@link Engine}, so the same code runs on a laptop and against a GPU cluster.
 *
 * ## What "confidence" means
 * For every generated token, `confidence` is the probability the model assigned to the chosen
 * token in its **raw** next-token distribution: softmax of the logits at temperature 1, before
 * temperature scaling, top-k, top-p or min-p filtering. Sampling filters change which token is
 * drawn, never the recorded confidence. This is the `c = p(token | prefix)` of AdaptiveStep.
 * `top` lists the most likely tokens of that same raw distribution.
 *
 * On OpenAI-compatible servers the value is `exp(logprob)` as the server returns it. vLLM returns
 * raw-model logprobs by default (`logprobs_mode = raw_logprobs`); a server configured to return
 * processed logprobs would report post-filter values.
 */
import {StepwiseError} from "../util/errors.ts";

/** One alternative token and its raw probability. */
export interface TokenAlternative {
    /** Token text (decoded piece). */
    text: string;
    /** Token id where the engine knows it (always on the llama engine). */
    id?: number;
    /** Raw probability (0..1). */
    prob: number;
}

/** One generated token with its confidence. */
export interface GeneratedToken {
    text: string;
    /** Token id where known (always on the llama engine; not on OpenAI-compatible servers). */
    id?: number;
    /** Raw probability of this token (see the module docs): the AdaptiveStep confidence. */
    confidence: number;
    /** Most likely tokens of the raw distribution at this position, most likely first. */
    top: TokenAlternative[];
}

/**
 * Why a sample ended: a stop string ("stop"), the token budget or the context end ("length"),
 * the model's end-of-generation token ("eos"), or the first generated token whose confidence is
 * below {@link GenerateRequest.stopBelowConfidence} ("low-confidence"; that token is included).
 */
export type FinishReason = "stop" | "length" | "eos" | "low-confidence";

/** One sampled continuation. */
export interface Sample {
    /** Index of this sample among the n asked for (0-based). */
    index: number;
    /** The generated text (stop string not included). */
    text: string;
    tokens: GeneratedToken[];
    finishReason: FinishReason;
    /** The stop string that ended the sample, when finishReason is "stop" and the engine knows it. */
    stopString?: string;
}

export interface SamplingOptions {
    /** Sampling temperature; 0 is greedy. Default 1. */
    temperature?: number;
    /** Keep only the k most likely tokens before sampling; 0 or undefined = no limit. */
    topK?: number;
    /** Nucleus sampling mass; 1 or undefined = no limit. */
    topP?: number;
    /** Min-p: keep tokens whose (temperature-scaled) probability is at least minP × the top one's; 0 or undefined = off (vLLM's min_p). */
    minP?: number;
    /** Seed: the same prompt, options and seed give the same samples on the llama engine (bit for bit with `sequences=1`; with parallel sequences confidences may differ in the last digits between runs, see LlamaEngine). */
    seed?: number;
    /** Stop strings: generation ends before the first occurrence of any of them. */
    stop?: string[];
    /** Maximum number of generated tokens. Default 256. */
    maxTokens?: number;
    /** How many alternatives to record per token (0..capabilities.maxTopLogprobs). Default 5. */
    topLogprobs?: number;
    /**
     * End the generation right AFTER the first generated token whose confidence (raw probability,
     * see the module docs) is below this value; that token is included and the sample's
     * finishReason is "low-confidence". This is AdaptiveStep's step end (a step ends at a token
     * the policy is unsure of; arXiv 2502.13943 §3.1), used by token-level value-guided decoding
     * and step-level search. Unset: no confidence stop. A stop string, EOS or the token budget
     * that comes first still ends the sample as usual. How an engine does it:
     * {@link EngineCapabilities.stopBelowConfidence}.
     */
    stopBelowConfidence?: number;
}

export interface GenerateRequest extends SamplingOptions {
    /** Prompt text, or already tokenized prompt (token ids; llama engine only). */
    prompt: string | number[];
    /** Number of samples. Default 1. On the llama engine the prompt is evaluated once for all of them. */
    n?: number;
    /** Whether to add the model's BOS token before a text prompt (llama engine). Default: the model's own setting. */
    addBos?: boolean;
    /**
     * Index of the first sample (default 0): samples get indices firstIndex..firstIndex+n−1, and
     * sample i's randomness depends only on (seed, i) on every engine, so asking for samples 0–3
     * and then 4–7 gives exactly the samples of one request for 0–7 (used by early stopping).
     * The rule is vLLM's parallel sampling (vllm/v1/engine/parallel_sampling.py: child j of a
     * seeded request with n > 1 is seeded `seed + j`): sample i is drawn with seed `seed + i`.
     * The llama engine does this itself; the OpenAI engine sends `seed + firstIndex` with n.
     */
    firstIndex?: number;
    /** Aborting it stops the generation (in-process decoding or the HTTP requests); the call rejects with the abort reason. */
    signal?: AbortSignal;
    /**
     * Streaming hook, called only by engines with {@link EngineCapabilities.streaming} (others
     * ignore it): `token(index, token)` for each token of sample `index` as soon as it is final,
     * in order, then `end(sample)` when that sample is complete (before generate() resolves).
     * The tokens passed to `token` are exactly the sample's `tokens`: a token that could still
     * turn out to start a stop string is held back until it cannot (as vLLM holds back streamed
     * text), and the part of a token past a stop string is never passed. Callbacks must not throw.
     */
    stream?: StreamHandler;
}

/** Receives a generation's tokens as they are produced ({@link GenerateRequest.stream}). */
export interface StreamHandler {
    /** A final token of sample `index` (its number among the n samples, firstIndex included). */
    token(index: number, token: GeneratedToken): void;
    /** Sample `sample.index` is complete (its tokens were all passed to `token` before). */
    end?(sample: Sample): void;
}

/** Chat sampling: messages rendered with the model's chat template (on the engine or the server). */
export interface ChatRequest extends SamplingOptions {
    messages: ChatMessage[];
    /** Number of samples. Default 1. */
    n?: number;
    /** As {@link GenerateRequest.firstIndex}. */
    firstIndex?: number;
    signal?: AbortSignal;
    /** As {@link GenerateRequest.stream}. */
    stream?: StreamHandler;
}

/**
 * Pooling: one row of numbers per step-tag token of the input (vLLM's STEP pooling, how
 * tag PRMs such as math-shepherd are served: `--override-pooler-config
 * '{"pooling_type":"STEP","step_tag_id":…,"returned_token_ids":[…]}'`), or a classifier's per-step rows.
 */
export interface PoolRequest {
    /** Text, or token ids. */
    input: string | number[];
    /**
     * STEP pooling done by the engine itself (llama engine; required there): at every position
     * holding `tagId`, the softmax over `returnedTokenIds` of the next-token distribution
     * (renormalised over those ids, in that order). On an OpenAI-compatible server this is
     * configured on the server, and only checked against what it returns (the row width).
     */
    step?: {tagId: number; returnedTokenIds: number[]};
    /** OpenAI engine: "pooling" (vLLM's `POST /pooling`, default) or "embeddings" (`POST /v1/embeddings`). */
    endpoint?: "pooling" | "embeddings";
    /** OpenAI engine: row width used to cut a flat embeddings vector into rows. Default: step.returnedTokenIds.length, else 2. */
    stepWidth?: number;
    /** OpenAI engine: vLLM pooling task (e.g. "token_classify"), sent only when set. */
    task?: string;
    signal?: AbortSignal;
}

/** Log-probability of one input token given the tokens before it (vLLM `prompt_logprobs`). */
export interface PromptTokenLogprob {
    /** The input token. */
    id: number;
    text: string;
    /** Raw probability of this token given the prefix. */
    prob: number;
    /** Its 1-based rank in the whole vocabulary (1 = most likely), as vLLM reports it. */
    rank: number;
    /** The k most likely tokens at this position, most likely first. */
    top: TokenAlternative[];
}

/** Next-token distribution after a prefix. */
export interface NextTokenDistribution {
    /** Top tokens with raw probabilities, most likely first. */
    top: TokenAlternative[];
}

/** Probabilities of chosen candidate tokens at chosen positions, read in one forward pass. */
export interface TokenProbeRequest {
    /** The whole text (or token ids) to evaluate once. */
    input: string | number[];
    /**
     * Positions to read, as token indices into the tokenized input: the distribution read at
     * position i is the one predicting token i+1 (i.e. after the prefix input[0..i]).
     */
    positions: number[];
    /** Candidate token ids whose probabilities are returned at every position. */
    candidates: number[];
    addBos?: boolean;
    signal?: AbortSignal;
}

export interface TokenProbeResult {
    /** probs[j][c] = raw probability of candidates[c] at positions[j]. */
    probs: number[][];
}

/** A chat message. "developer" is OpenAI's newer name for a system message (rendered as system). */
export interface ChatMessage {
    role: "system" | "developer" | "user" | "assistant";
    content: string;
}

export interface EngineInfo {
    /** "llama" or "openai". */
    kind: string;
    /** Model name or file. */
    model: string;
    /** Vocabulary size where known. */
    vocabSize?: number;
    /** Tokens per sequence (prompt + generation) where known. */
    contextSize?: number;
}

/**
 * What an engine's methods do, beyond whether it has them. Whether an engine can do a thing at all
 * (chat, probe tokens, prompt logprobs, pool) is the presence of the method on {@link Engine}, never
 * a flag here; these fields describe how the methods it has behave.
 */
export interface EngineCapabilities {
    /**
     * Largest `topLogprobs` (generate, chat) and `topK` (nextToken, promptLogprobs) accepted, in
     * tokens. llama: the vocabulary size (20 when the file does not tell); OpenAI: 20 (vLLM's
     * default max_logprobs). Larger values: llama returns at most this many; OpenAI throws a StepwiseError.
     */
    maxTopLogprobs: number;
    /**
     * {@link Engine.probeTokens} returns the exact probability of any candidate (llama: true).
     * False or absent where only the server's top-k tokens per position are visible (OpenAI: a
     * candidate outside them is a StepwiseError, or an upper bound with `probeMissing: "bound"`).
     * createScorer reads it: tag PRMs are probed only where it is true, else pooled.
     */
    exactProbes?: boolean;
    /**
     * How {@link GenerateRequest.stopBelowConfidence} is honoured: "native" stops decoding at the
     * token (no waste); "emulated" asks the server for a chunk with logprobs and cuts it at the
     * token, so the tokens after it are generated and paid for, then dropped (at most `maxTokens`
     * per sample). Absent: the engine ignores the option (a third-party engine); callers cut the
     * samples themselves (token-level decoding then asks for short chunks).
     */
    stopBelowConfidence?: "native" | "emulated";
    /**
     * generate() calls {@link GenerateRequest.stream} as tokens are generated (llama: from its
     * sampling loop). Absent or false: the hook is ignored and callers stream the finished samples
     * (`stepwise serve` replays them).
     */
    streaming?: boolean;
}

/** The part of the contract every engine has. */
export interface EngineCore {
    readonly info: EngineInfo;
    readonly capabilities: EngineCapabilities;
    /** Sample n continuations of a prompt, recording every token's confidence and top alternatives. */
    generate(request: GenerateRequest): Promise<Sample[]>;
    /** Top-k next-token distribution after a text or token prefix. */
    nextToken(prefix: string | number[], options?: {topK?: number; addBos?: boolean; signal?: AbortSignal}): Promise<NextTokenDistribution>;
    tokenize(text: string, options?: {addBos?: boolean; special?: boolean}): Promise<number[]>;
    /**
     * A lower bound on the tokens `text` tokenizes to (special tokens parsed, BOS not counted),
     * found in one linear pass without tokenizing, so that a caller can refuse a text that
     * certainly exceeds a context before paying for its tokenization. `bytes`: its UTF-8 length;
     * `specialTags`: special tokens certainly in it, undefined when not counted (with `limit`, a
     * text whose bytes alone need more than `limit` tokens is answered without the pass).
     * Optional (the llama engine has it).
     */
    tokenLowerBound?(text: string, limit?: number): {tokens: number; specialTags?: number; bytes: number};
    detokenize(tokens: number[]): Promise<string>;
    /**
     * The sampling parameters this engine applies for these options, as sent to the server or
     * used in-process, every filter explicit (neutral values where the caller set none). Store it
     * in records as what the samples were drawn with.
     */
    samplingRecord(options: SamplingOptions): Record<string, unknown>;
    /** Render chat messages with the model's chat template into a prompt ready for generate(). */
    formatChat(messages: ChatMessage[], options?: {addGenerationPrompt?: boolean}): Promise<string>;
    /** Counters for benchmarks and cost reports. */
    stats(): EngineStats;
    close(): Promise<void>;
}

/**
 * An engine: {@link EngineCore} plus optional facets. An engine that cannot do a thing does not
 * have the method at all (never one that throws "unsupported"), so `if (engine.pool)` is the
 * capability check and narrows the type; {@link requireFacet} is the check that throws a
 * StepwiseError naming the engine and what needed the facet. Wrappers of an engine must have
 * exactly the facets of the engine they wrap.
 *
 * | facet | llama | OpenAI-compatible |
 * |---|---|---|
 * | chat | yes (the model's chat template) | yes (`/v1/chat/completions`) |
 * | probeTokens | yes, exact | yes, from the server's top-k (`capabilities.exactProbes` false) |
 * | promptLogprobs | yes | dialect vllm only (vLLM's `prompt_logprobs`) |
 * | pool | yes (STEP pooling with `step`) | dialect vllm only (a pooling model on the server) |
 */
export interface Engine extends EngineCore {
    /** Sample replies to chat messages. Same seeding, indices and stops as generate. */
    chat?(request: ChatRequest): Promise<Sample[]>;
    /** Probabilities of candidate tokens at given positions of one input, in one forward pass (exact or not: capabilities.exactProbes). */
    probeTokens?(request: TokenProbeRequest): Promise<TokenProbeResult>;
    /**
     * Log-probabilities of the input's own tokens: entry i describes token i given tokens
     * 0..i−1; entry 0 is null (nothing predicts it). `topK` alternatives per position.
     */
    promptLogprobs?(input: string | number[], options?: {topK?: number; addBos?: boolean; signal?: AbortSignal}): Promise<Array<PromptTokenLogprob | null>>;
    /** Per-step rows of a pooling PRM, see {@link PoolRequest}. */
    pool?(request: PoolRequest): Promise<number[][]>;
}

/** The optional methods of {@link Engine}. */
export type EngineFacet = "chat" | "probeTokens" | "promptLogprobs" | "pool";

/** An engine known to have the facets F (what {@link requireFacet} returns). */
export type EngineWith<F extends EngineFacet> = Engine & Required<Pick<Engine, F>>;

/** What each facet is, for error messages. */
const FACET_NAMES: Record<EngineFacet, string> = {
    chat: "chat() (chat sampling)",
    probeTokens: "probeTokens() (token probabilities at chosen positions)",
    promptLogprobs: "promptLogprobs() (log-probabilities of the input's own tokens, vLLM's prompt_logprobs)",
    pool: "pool() (a pooling PRM: vLLM's pooling API, or STEP pooling in-process)",
};

/** "the openai engine (model NAME)": how errors name an engine. */
export function describeEngine(engine: EngineCore): string {
    return `the ${engine.info.kind} engine (model ${engine.info.model})`;
}

/**
 * `engine`, typed as having `facet`, or a StepwiseError naming the engine, the facet and `what`
 * needed it (e.g. "PRM format math-shepherd needs pool() (…); the openai engine (model m) has
 * none"). `what` is a short noun phrase: the caller, option or route that needs the facet.
 */
export function requireFacet<E extends Engine, F extends EngineFacet>(engine: E, facet: F, what: string): E & EngineWith<F> {
    if (!hasFacet(engine, facet)) throw new StepwiseError(`${what} needs ${FACET_NAMES[facet]}; ${describeEngine(engine)} has none`);
    return engine;
}

/** Whether `engine` has `facet`, narrowing the engine itself (`if (engine.pool)` narrows only the method). */
export function hasFacet<E extends Engine, F extends EngineFacet>(engine: E, facet: F): engine is E & EngineWith<F> {
    return typeof engine[facet] === "function";
}

export interface EngineStats {
    /** Tokens evaluated as prompt/prefix (not generated). */
    promptTokens: number;
    /** Tokens generated. */
    generatedTokens: number;
    /** Number of prefix evaluations (one per generate() call on the llama engine, however large n is). */
    prefixEvaluations: number;
    /** Requests sent (OpenAI engine) or generate/probe calls (llama engine). */
    requests: number;
    /** Retries after transient failures (OpenAI engine). */
    retries: number;
}

export function emptyStats(): EngineStats {
    return {promptTokens: 0, generatedTokens: 0, prefixEvaluations: 0, requests: 0, retries: 0};
}

/** Re-exported from util/errors.ts, where it is defined (engines sit above util). */
export {StepwiseError};
