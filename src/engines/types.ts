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

export type FinishReason = "stop" | "length" | "eos";

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
    /** Seed: the same prompt, options and seed give the same samples on the llama engine. */
    seed?: number;
    /** Stop strings: generation ends before the first occurrence of any of them. */
    stop?: string[];
    /** Maximum number of generated tokens. Default 256. */
    maxTokens?: number;
    /** How many alternatives to record per token (0..20). Default 5. */
    topLogprobs?: number;
}

export interface GenerateRequest extends SamplingOptions {
    /** Prompt text, or already tokenized prompt (token ids; llama engine only). */
    prompt: string | number[];
    /** Number of samples. Default 1. On the llama engine the prompt is evaluated once for all of them. */
    n?: number;
    /** Whether to add the model's BOS token before a text prompt (llama engine). Default: the model's own setting. */
    addBos?: boolean;
    /**
     * Index of the first sample (default 0): samples get indices firstIndex..firstIndex+n−1. On the
     * llama engine sample i's random stream depends only on (seed, i), so asking for samples 0–3
     * and then 4–7 gives exactly the samples of one request for 0–7 (used by early stopping).
     * OpenAI-compatible servers seed per request, so there only the indices are offset.
     */
    firstIndex?: number;
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
}

export interface TokenProbeResult {
    /** probs[j][c] = raw probability of candidates[c] at positions[j]. */
    probs: number[][];
}

export interface ChatMessage {
    role: "system" | "user" | "assistant";
    content: string;
}

export interface EngineInfo {
    /** "llama" or "openai". */
    kind: string;
    /** Model name or file. */
    model: string;
    /** Vocabulary size where known. */
    vocabSize?: number;
}

export interface Engine {
    readonly info: EngineInfo;
    /** Sample n continuations of a prompt, recording every token's confidence and top alternatives. */
    generate(request: GenerateRequest): Promise<Sample[]>;
    /** Top-k next-token distribution after a text or token prefix. */
    nextToken(prefix: string | number[], options?: {topK?: number; addBos?: boolean}): Promise<NextTokenDistribution>;
    /** Probabilities of candidate tokens at given positions of one input, in one forward pass. */
    probeTokens(request: TokenProbeRequest): Promise<TokenProbeResult>;
    tokenize(text: string, options?: {addBos?: boolean; special?: boolean}): Promise<number[]>;
    detokenize(tokens: number[]): Promise<string>;
    /** Render chat messages with the model's chat template into a prompt ready for generate(). */
    formatChat(messages: ChatMessage[], options?: {addGenerationPrompt?: boolean}): Promise<string>;
    /** Counters for benchmarks and cost reports. */
    stats(): EngineStats;
    close(): Promise<void>;
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

/** An error with a one-line, user-facing message that names the file/line/field/URL at fault. */
export class StepwiseError extends Error {
    constructor(message: string, options?: {cause?: unknown}) {
        super(message, options);
        this.name = "StepwiseError";
    }
}
