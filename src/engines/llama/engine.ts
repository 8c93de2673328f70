/**
 * The llama engine: any GGUF model run in-process by node-llama-cpp.
 *
 * - Defaults are tuned for small CPUs: one thread per context (the default thread count made
 *   generation ~500× slower on 2-core machines), flash attention off and, for models under 2 GB,
 *   an F32 KV cache so probabilities match the model exactly (F16 above, to halve the memory).
 * - Sampling is done here, from the raw logits llama.cpp returns, with a seeded PRNG: the same
 *   request and seed give the same samples, and the recorded confidence is the raw probability
 *   of the chosen token whatever temperature / top-k / top-p do (see ../types.ts).
 * - `stopBelowConfidence` is native: the sampling loop ends a sample right after the first token
 *   whose raw probability is below the threshold.
 * - Streaming (capabilities.streaming): `stream.token` is called from the sampling loop as each
 *   token becomes final (tokens that may still begin a stop string are held back, see
 *   StopMatcher.finalLength), before the next token is evaluated; `stream.end` per sample.
 * - `gpu` (spec `gpu=auto|cuda|vulkan|metal|false`, default false): GPU offload of all layers.
 *   The CPU path with an F32 KV cache and no flash attention gives the model's exact
 *   probabilities; GPU kernels sum in other orders (and may use reduced precision), so
 *   confidences then differ in the last digits and a token near a threshold may flip. On the CPU,
 *   parallel sequences are decoded in batches whose grouping depends on timing, and a token's
 *   probabilities depend in the last digits on its batch: two identical runs differ in the last
 *   digits of confidences (up to 4e-6 measured on lab-policy, README). `sequences: 1` on the CPU is bit
 *   for bit; use it when outputs must reproduce exactly.
 * - The prompt's KV cache is copied between sequences with node-llama-cpp's
 *   `_copyStateFromOtherSequence` (an internal method, hence the exact version pin in
 *   package.json and the test in test/engines/llama.test.ts that fails when it disappears);
 *   without it the engine falls back to evaluating the prompt on each sequence.
 * - `generate({n})` evaluates the prompt once: the prompt's KV cache is copied into up to
 *   `sequences` parallel sequences, which then decode in one batch; a sequence that finished a
 *   sample rewinds to the prompt and takes the next one; while another call waits for a
 *   sequence, a finished sample's sequence is handed to it instead (fair sharing, see
 *   SequencePool), so one large `n` delays a small request by about one sample, not all of
 *   them. A sequence also keeps its tokens
 *   between calls, so a request whose prompt extends an earlier one (rollouts from successive
 *   step prefixes) evaluates only the new tokens.
 */
import {randomInt} from "node:crypto";
import type {Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token} from "node-llama-cpp";
import {
    emptyStats,
    StepwiseError,
    type ChatMessage,
    type ChatRequest,
    type Engine,
    type EngineCapabilities,
    type EngineInfo,
    type EngineStats,
    type GeneratedToken,
    type GenerateRequest,
    type NextTokenDistribution,
    type PoolRequest,
    type PromptTokenLogprob,
    type Sample,
    type SamplingOptions,
    type StreamHandler,
    type TokenAlternative,
    type TokenProbeRequest,
    type TokenProbeResult,
} from "../types.ts";
import {checkGgufHeader} from "../../gguf/reader.ts";
import {ContextOverflowError, ModelOutputError} from "../../util/errors.ts";
import {describeBound, SpecialTokenIndex} from "./tokenize.ts";
import {DEFAULT_MAX_TOKENS, inProcessSamplingRecord, rawProb, sampleIndex, sampleRng, type RawDistribution, type SampleParams} from "../sampling.ts";
import type {Rng} from "../../util/rng.ts";
import {SequencePool} from "./pool.ts";
import {StopMatcher} from "../stop.ts";

export interface LlamaEngineOptions {
    /** Context size per sequence, in tokens. Default: the model's training context, at most 4096. */
    contextSize?: number;
    /** Parallel sequences (rollouts decoded in one batch). Default 8. */
    sequences?: number;
    /** CPU threads. Default 1 (see the module docs). */
    threads?: number;
    /** Batch size in tokens. Default: context size × sequences, capped at 2048. */
    batchSize?: number;
    /** KV cache type. Default F32 (exact probabilities) for models under 2 GB, else F16 (half the memory). */
    kvCacheType?: "F32" | "F16";
    /** Existing node-llama-cpp instance to share between engines. */
    llama?: Llama;
    /** GPU backend: false (default, CPU, exact probabilities), "auto", "cuda", "vulkan" or "metal". See the module docs. */
    gpu?: LlamaGpu;
}

/** GPU choices of the llama engine (node-llama-cpp's, prebuilt binaries only). */
export type LlamaGpu = false | "auto" | "cuda" | "vulkan" | "metal";

const sharedLlamas = new Map<string, Promise<Llama>>();

/** The process-wide node-llama-cpp instance for a GPU choice (default CPU only; prebuilt binary, quiet logs). */
export async function getSharedLlama(gpu: LlamaGpu = false): Promise<Llama> {
    const key = String(gpu);
    let llama = sharedLlamas.get(key);
    if (!llama) {
        llama = (async () => {
            const {getLlama, LlamaLogLevel} = await import("node-llama-cpp");
            try {
                return await getLlama({gpu, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false});
            } catch (e) {
                throw new StepwiseError(`llama engine: cannot start node-llama-cpp with gpu=${key} (${(e as Error).message.split("\n")[0]}); use gpu=false for the CPU`, {cause: e});
            }
        })();
        llama.catch(() => sharedLlamas.delete(key));
        sharedLlamas.set(key, llama);
    }
    return llama;
}

/** Throw the signal's reason when it is aborted. */
function checkAborted(signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw signal.reason ?? new Error("aborted");
}

/** Positions per evaluation window in promptLogprobs (each reads a full-vocabulary distribution). */
const PROMPT_LOGPROB_WINDOW = 16;
const DEFAULT_TOP_LOGPROBS = 5;

export class LlamaEngine implements Engine {
    readonly info: EngineInfo;
    readonly capabilities: EngineCapabilities;
    private readonly counters: EngineStats = emptyStats();
    private readonly sequencePool: SequencePool;
    private readonly vocabSize: number;
    private readonly specials: SpecialTokenIndex;

    private constructor(
        readonly model: LlamaModel,
        readonly context: LlamaContext,
        readonly modelPath: string,
    ) {
        this.vocabSize = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
        this.specials = SpecialTokenIndex.fromModel(model);
        this.info = {kind: "llama", model: modelPath, vocabSize: this.vocabSize || undefined, contextSize: context.contextSize / context.totalSequences};
        this.capabilities = {maxTopLogprobs: this.vocabSize || 20, exactProbes: true, stopBelowConfidence: "native", streaming: true};
        const sequences: LlamaContextSequence[] = [];
        for (let i = 0; i < context.totalSequences; i++) sequences.push(context.getSequence());
        this.sequencePool = new SequencePool(sequences);
    }

    /**
     * Load a GGUF file. Errors name the file: missing, not a GGUF file, or truncated (the header
     * and tensor data bounds are checked first, src/gguf/reader.ts `checkGgufHeader`).
     */
    static async load(modelPath: string, options: LlamaEngineOptions = {}): Promise<LlamaEngine> {
        const {existsSync} = await import("node:fs");
        if (!existsSync(modelPath)) throw new StepwiseError(`${modelPath}: model file not found`);
        // A truncated or non-GGUF file fails here in one line, before llama.cpp's parser sees it.
        checkGgufHeader(modelPath);
        const gpu = options.gpu ?? false;
        const llama = options.llama ?? (await getSharedLlama(gpu));
        let model: LlamaModel;
        try {
            model = await llama.loadModel({modelPath, gpuLayers: gpu === false ? 0 : "auto"});
        } catch (e) {
            throw new StepwiseError(`${modelPath}: cannot load model (${(e as Error).message.split("\n")[0]})`, {cause: e});
        }
        const trainContext = model.trainContextSize || 4096;
        const sequences = Math.max(1, options.sequences ?? 8);
        const contextSize = Math.min(options.contextSize ?? Math.min(trainContext, 4096), trainContext);
        const kv = options.kvCacheType ?? (model.size < 2 * 1024 ** 3 ? "F32" : "F16");
        let context: LlamaContext;
        try {
            context = await model.createContext({
                contextSize: contextSize * sequences,
                sequences,
                threads: options.threads ?? 1,
                batchSize: options.batchSize ?? Math.min(2048, contextSize * sequences),
                flashAttention: false,
                experimentalKvCacheKeyType: kv,
                experimentalKvCacheValueType: kv,
            });
        } catch (e) {
            await model.dispose();
            throw new StepwiseError(
                `${modelPath}: cannot create a context of ${contextSize} tokens × ${sequences} sequences (${(e as Error).message.split("\n")[0]}); lower contextSize or sequences`,
                {cause: e},
            );
        }
        return new LlamaEngine(model, context, modelPath);
    }

    stats(): EngineStats {
        return {...this.counters};
    }

    async tokenize(text: string, options: {addBos?: boolean; special?: boolean} = {}): Promise<number[]> {
        return this.tokenizeSync(text, options.addBos, options.special);
    }

    /** See {@link Engine.tokenLowerBound}: special tokens found by a trie in one pass (./tokenize.ts). */
    tokenLowerBound(text: string, limit?: number): {tokens: number; specialTags?: number; bytes: number} {
        const s = this.specials.scan(text, true, limit);
        return {tokens: s.minTokens, specialTags: s.specialTags, bytes: s.bytes};
    }

    async detokenize(tokens: number[]): Promise<string> {
        return this.model.detokenize(tokens as Token[], false);
    }

    async formatChat(messages: ChatMessage[], options: {addGenerationPrompt?: boolean} = {}): Promise<string> {
        const {resolveChatWrapper} = await import("node-llama-cpp");
        const wrapper = resolveChatWrapper(this.model);
        const history = messages.map((m) =>
            m.role === "assistant" ? {type: "model" as const, response: [m.content]} : {type: m.role === "developer" ? "system" : m.role, text: m.content},
        );
        if (options.addGenerationPrompt !== false && messages.at(-1)?.role !== "assistant")
            history.push({type: "model", response: []});
        const {contextText} = wrapper.generateContextState({chatHistory: history as never});
        return contextText.toString();
    }

    /** In-process sampling uses temperature, top-k, top-p and min-p (no penalties): all listed, neutral when unset. */
    samplingRecord(o: SamplingOptions): Record<string, unknown> {
        return inProcessSamplingRecord(o);
    }

    /** Chat sampling: the messages rendered with the model's chat template (see formatChat), then {@link generate}. */
    async chat(request: ChatRequest): Promise<Sample[]> {
        const {messages, ...rest} = request;
        if (!Array.isArray(messages) || messages.length === 0) throw new StepwiseError("chat: no messages");
        const prompt = await this.formatChat(messages, {addGenerationPrompt: true});
        return this.generate({...rest, prompt: this.tokenizeSync(prompt, undefined, true, this.info.contextSize)});
    }

    async generate(request: GenerateRequest): Promise<Sample[]> {
        checkAborted(request.signal);
        const n = request.n ?? 1;
        if (!Number.isInteger(n) || n < 1) throw new StepwiseError(`generate: n must be a positive integer, got ${request.n}`);
        const prompt = this.promptTokens(request.prompt, request.addBos);
        if (prompt.length === 0) throw new StepwiseError("generate: empty prompt (no tokens and no BOS)");
        const room = this.context.contextSize / this.context.totalSequences - prompt.length;
        if (room < 1) throw new StepwiseError(`generate: the prompt (${prompt.length} tokens) fills the per-sequence context (${prompt.length + room} tokens)`);
        // Samples that would run past the context end there, with finishReason "length".
        const maxTokens = Math.min(request.maxTokens ?? DEFAULT_MAX_TOKENS, room);
        const params: SampleParams = {temperature: request.temperature ?? 1, topK: request.topK ?? 0, topP: request.topP ?? 1, minP: request.minP ?? 0};
        if (!(params.minP! >= 0 && params.minP! <= 1)) throw new StepwiseError(`generate: minP must be in [0, 1], got ${request.minP}`);
        const topLogprobs = Math.max(0, Math.min(this.capabilities.maxTopLogprobs, request.topLogprobs ?? DEFAULT_TOP_LOGPROBS));
        const baseSeed = request.seed ?? randomInt(2 ** 31);
        const tau = request.stopBelowConfidence;
        if (tau !== undefined && !(tau >= 0 && tau <= 1)) throw new StepwiseError(`generate: stopBelowConfidence must be in [0, 1], got ${tau}`);
        this.counters.requests++;

        // This call's identity in the pool: its workers hand sequences only to other callers.
        const owner = {};
        const sequences = await this.sequencePool.acquire(Math.min(n, this.sequencePool.size), prompt, request.signal, owner);
        const held = new Set(sequences);
        try {
            // One prefix evaluation, copied into the other sequences.
            const [first, ...rest] = sequences;
            const firstDist = await this.evaluatePrefix(first, prompt, params, topLogprobs);
            for (const seq of rest) await this.copyPrefix(seq, first, prompt, params);
            const samples: Sample[] = new Array(n);
            const firstIndex = request.firstIndex ?? 0;
            let nextIndex = 0;
            const worker = async (start: LlamaContextSequence) => {
                let seq = start;
                while (nextIndex < n) {
                    checkAborted(request.signal);
                    const index = nextIndex++;
                    if (seq.nextTokenIndex > prompt.length) await seq.eraseContextTokenRanges([{start: prompt.length, end: seq.nextTokenIndex}]);
                    samples[index] = await this.decode(seq, prompt, firstDist, firstIndex + index, {
                        params,
                        rng: sampleRng(baseSeed, firstIndex + index),
                        maxTokens,
                        topLogprobs,
                        stop: request.stop ?? [],
                        stopBelowConfidence: tau,
                        signal: request.signal,
                        stream: request.stream,
                    });
                    request.stream?.end?.(samples[index]);
                    // Fair share: between samples, a sequence another call waits for is handed
                    // over and this worker queues again (then evaluates the prompt on the
                    // sequence it gets, reusing whatever prefix that one holds).
                    if (nextIndex < n && this.sequencePool.waitingBesides(owner)) {
                        held.delete(seq);
                        this.sequencePool.release([seq]);
                        [seq] = await this.sequencePool.acquire(1, prompt, request.signal, owner);
                        if (nextIndex >= n) {
                            this.sequencePool.release([seq]);
                            break;
                        }
                        held.add(seq);
                        await this.evaluatePrefix(seq, prompt, params, topLogprobs);
                    }
                }
            };
            // Every worker settles before the sequences go back to the pool (none is still decoding).
            const settled = await Promise.allSettled(sequences.map(worker));
            const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
            if (failed) throw failed.reason;
            return samples;
        } finally {
            this.sequencePool.release([...held]);
        }
    }

    async nextToken(prefix: string | number[], options: {topK?: number; addBos?: boolean; signal?: AbortSignal} = {}): Promise<NextTokenDistribution> {
        checkAborted(options.signal);
        const tokens = this.promptTokens(prefix, options.addBos);
        const [seq] = await this.sequencePool.acquire(1, tokens, options.signal);
        try {
            const dist = await this.evaluatePrefix(seq, tokens, {temperature: 0, topK: 0, topP: 1}, Math.max(1, options.topK ?? 10));
            return {top: this.alternatives(dist, options.topK ?? 10, tokens.slice(-8))};
        } finally {
            this.sequencePool.release([seq]);
        }
    }

    async probeTokens(request: TokenProbeRequest): Promise<TokenProbeResult> {
        checkAborted(request.signal);
        const tokens = this.promptTokens(request.input, request.addBos);
        for (const c of request.candidates)
            if (!Number.isInteger(c) || c < 0 || (this.vocabSize && c >= this.vocabSize))
                throw new StepwiseError(`probeTokens: candidate token id ${c} is outside the vocabulary (size ${this.vocabSize})`);
        for (const p of request.positions)
            if (!Number.isInteger(p) || p < 0 || p >= tokens.length)
                throw new StepwiseError(`probeTokens: position ${p} is outside the input (${tokens.length} tokens)`);
        if (request.positions.length === 0) return {probs: []};
        const wanted = new Set(request.positions);
        const start = Math.min(...request.positions);
        const [seq] = await this.sequencePool.acquire(1, tokens, request.signal);
        try {
            this.counters.requests++;
            const reuse = Math.min(seq.compareContextTokens(tokens as Token[]).firstDifferentIndex, start);
            if (reuse < seq.nextTokenIndex) await seq.eraseContextTokenRanges([{start: reuse, end: seq.nextTokenIndex}]);
            const filter = {tokens: request.candidates as Token[], includeTop: 1};
            const input = tokens.slice(reuse).map((t, j) =>
                wanted.has(reuse + j)
                    ? ([t as Token, {generateNext: {logits: {filter}, totalLogitWeight: true, options: {temperature: 0}}}] as const)
                    : (t as Token),
            );
            this.counters.promptTokens += input.length;
            this.counters.prefixEvaluations++;
            const out = await seq.controlledEvaluate(input as never);
            const byPos = new Map<number, number[]>();
            for (let j = 0; j < input.length; j++) {
                const pos = reuse + j;
                if (!wanted.has(pos)) continue;
                const next = out[j]?.next;
                if (!next?.logits || next.totalLogitWeight == null) throw new StepwiseError(`probeTokens: no logits returned at position ${pos}`);
                this.checkFinite(next.totalLogitWeight);
                for (const l of next.logits.values()) if (!Number.isFinite(l)) this.checkFinite(l);
                const max = next.logits.values().next().value as number;
                byPos.set(
                    pos,
                    request.candidates.map((c) => {
                        const l = next.logits!.get(c as Token);
                        return l == null ? 0 : Math.exp(l - max) / next.totalLogitWeight!;
                    }),
                );
            }
            return {probs: request.positions.map((p) => byPos.get(p)!)};
        } finally {
            this.sequencePool.release([seq]);
        }
    }

    /**
     * Logprobs of the input's own tokens (OpenAI `echo`, vLLM `prompt_logprobs`): entry i
     * describes token i given tokens 0..i−1 with its true vocabulary rank; entry 0 is null.
     * Evaluated in windows of {@link PROMPT_LOGPROB_WINDOW} positions on one sequence, each
     * position reading the full distribution (for the rank), so memory stays bounded.
     */
    async promptLogprobs(input: string | number[], options: {topK?: number; addBos?: boolean; signal?: AbortSignal} = {}): Promise<Array<PromptTokenLogprob | null>> {
        checkAborted(options.signal);
        const tokens = this.promptTokens(input, options.addBos);
        const topK = Math.max(0, Math.min(this.capabilities.maxTopLogprobs, options.topK ?? DEFAULT_TOP_LOGPROBS));
        const result: Array<PromptTokenLogprob | null> = tokens.length > 0 ? [null] : [];
        if (tokens.length < 2) return result;
        const [seq] = await this.sequencePool.acquire(1, tokens, options.signal);
        try {
            this.counters.requests++;
            this.counters.prefixEvaluations++;
            if (seq.nextTokenIndex > 0) await seq.eraseContextTokenRanges([{start: 0, end: seq.nextTokenIndex}]);
            const full = {generateNext: {logits: true, totalLogitWeight: true, options: {temperature: 0}}};
            for (let from = 0; from < tokens.length - 1; from += PROMPT_LOGPROB_WINDOW) {
                checkAborted(options.signal);
                const window = tokens.slice(from, Math.min(tokens.length - 1, from + PROMPT_LOGPROB_WINDOW));
                this.counters.promptTokens += window.length;
                const out = await seq.controlledEvaluate(window.map((t) => [t as Token, full]) as never);
                for (let j = 0; j < window.length; j++) {
                    const next = out[j]?.next as {logits?: Map<Token, number>; totalLogitWeight?: number} | undefined;
                    const dist = this.toDist(next);
                    const id = tokens[from + j + 1];
                    const at = Array.from(dist.ids).indexOf(id);
                    if (at < 0) throw new StepwiseError(`promptLogprobs: token ${id} missing from the model's distribution`);
                    // Rank as vLLM reports it: 1 + the number of tokens strictly more likely.
                    let rank = 1;
                    while (rank - 1 < at && dist.logits[rank - 1] > dist.logits[at]) rank++;
                    const prev = tokens.slice(Math.max(0, from + j - 7), from + j + 1);
                    result.push({id, text: this.model.detokenize([id as Token], false, prev as Token[]), prob: rawProb(dist, at), rank, top: this.alternatives(dist, topK, prev)});
                }
            }
            return result;
        } finally {
            this.sequencePool.release([seq]);
        }
    }

    /**
     * STEP pooling in-process (what `vllm serve --override-pooler-config '{"pooling_type":"STEP",…}'`
     * does for tag PRMs): one row per `step.tagId` token of the input, the next-token
     * probabilities of `step.returnedTokenIds` renormalised to sum to 1 (uniform when all are 0).
     */
    async pool(request: PoolRequest): Promise<number[][]> {
        checkAborted(request.signal);
        if (!request.step)
            throw new StepwiseError("pool: the llama engine needs the step tag and returned token ids (PoolRequest.step)");
        const {tagId, returnedTokenIds} = request.step;
        if (returnedTokenIds.length === 0) throw new StepwiseError("pool: no returned token ids");
        const tokens = this.promptTokens(request.input);
        if (tokens.length > (this.info.contextSize ?? Infinity))
            throw new StepwiseError(`pool: the input (${tokens.length} tokens) is longer than the context (${this.info.contextSize} tokens)`);
        const positions = tokens.flatMap((t, j) => (t === tagId ? [j] : []));
        const {probs} = await this.probeTokens({input: tokens, positions, candidates: returnedTokenIds, signal: request.signal});
        return probs.map((row) => {
            const sum = row.reduce((a, b) => a + b, 0);
            return row.map((p) => (sum > 0 ? p / sum : 1 / row.length));
        });
    }

    /** Text of each token of `tokens`, decoded with the tokens before it (as generation decodes them). */
    tokenPieces(tokens: number[]): string[] {
        return tokens.map((id, i) => this.model.detokenize([id as Token], false, tokens.slice(Math.max(0, i - 8), i) as Token[]));
    }

    async close(): Promise<void> {
        await this.context.dispose();
        await this.model.dispose();
    }

    // ---- internals ----

    /**
     * llama.cpp's tokenization, in time linear in the text (special tokens found here, see
     * ./tokenize.ts). With `limit`, a text whose token lower bound exceeds it is refused before
     * tokenizing (a {@link ContextOverflowError}).
     */
    private tokenizeSync(text: string, addBos?: boolean, special = true, limit?: number): number[] {
        const scan = this.specials.scan(text, special, limit);
        const bos = this.model.tokens.bos;
        const wantBos = (addBos ?? this.model.tokens.shouldPrependBosToken) && bos != null;
        if (limit !== undefined && scan.minTokens + (wantBos ? 1 : 0) > limit)
            throw new ContextOverflowError(
                `the input has at least ${scan.minTokens + (wantBos ? 1 : 0)} tokens (${describeBound(scan)}), so it is longer than the context (${limit} tokens)`,
                scan.minTokens,
                limit,
            );
        const tokens = this.specials.tokenize(this.model, text, special, scan);
        if (wantBos && tokens[0] !== bos) return [bos, ...tokens];
        return tokens;
    }

    /**
     * Text prompts are tokenized with special-token parsing (as vLLM does), token prompts pass
     * through. A text that certainly exceeds the per-sequence context is refused before tokenizing.
     */
    private promptTokens(prompt: string | number[], addBos?: boolean): number[] {
        if (typeof prompt !== "string") {
            for (const t of prompt)
                if (!Number.isInteger(t) || t < 0 || (this.vocabSize && t >= this.vocabSize))
                    throw new StepwiseError(`token id ${t} is outside the vocabulary (size ${this.vocabSize})`);
            return [...prompt];
        }
        return this.tokenizeSync(prompt, addBos, true, this.info.contextSize);
    }

    /** How many top tokens to fetch per position: all of them when sampling needs the full vocabulary. */
    private listSize(params: SampleParams, topLogprobs: number): number {
        if (params.temperature > 0 && params.topK <= 0) return 0; // 0 = full vocabulary
        return Math.max(1, topLogprobs, params.temperature > 0 ? params.topK : 1);
    }

    private nextOptions(params: SampleParams, topLogprobs = DEFAULT_TOP_LOGPROBS) {
        const k = this.listSize(params, topLogprobs);
        return {
            generateNext: {
                logits: k === 0 ? true : {filter: {includeTop: k}},
                totalLogitWeight: true,
                options: {temperature: 0},
            },
        };
    }

    private toDist(next: {logits?: Map<Token, number>; totalLogitWeight?: number} | undefined): RawDistribution {
        if (!next?.logits || next.totalLogitWeight == null) throw new StepwiseError("llama engine: the model returned no logits");
        this.checkFinite(next.totalLogitWeight);
        const size = next.logits.size;
        const ids = new Int32Array(size);
        const logits = new Float32Array(size);
        let i = 0;
        for (const [id, l] of next.logits) {
            if (!Number.isFinite(l)) this.checkFinite(l);
            ids[i] = id;
            logits[i++] = l;
        }
        // node-llama-cpp returns them sorted by logit, highest first; keep that invariant explicit.
        for (let j = 1; j < size; j++)
            if (logits[j] > logits[j - 1]) {
                const order = Array.from(ids.keys()).sort((a, b) => logits[b] - logits[a]);
                return {ids: order.map((o) => ids[o]), logits: order.map((o) => logits[o]), totalWeight: next.totalLogitWeight};
            }
        return {ids, logits, totalWeight: next.totalLogitWeight};
    }

    /**
     * Refuse a non-finite model output (a logit, or the softmax normaliser, which is NaN or ∞ when
     * any logit is): broken weights are an error naming the model file, never data.
     */
    private checkFinite(value: number): void {
        if (Number.isFinite(value) && value >= 0) return;
        throw new ModelOutputError(
            `${this.modelPath}: the model computed a non-finite output (${value}); its weights are broken (NaN or infinite values), so no sample, score or logprob from it means anything`,
        );
    }

    /** Evaluate `prompt` on `seq` (reusing whatever prefix it already holds) and return the distribution after it. */
    private async evaluatePrefix(seq: LlamaContextSequence, prompt: number[], params: SampleParams, topLogprobs?: number): Promise<RawDistribution> {
        const common = seq.compareContextTokens(prompt as Token[]).firstDifferentIndex;
        const keep = Math.min(common, prompt.length - 1); // the last token is always re-evaluated for its logits
        if (keep < seq.nextTokenIndex) await seq.eraseContextTokenRanges([{start: keep, end: seq.nextTokenIndex}]);
        const input = prompt.slice(keep).map((t, j, arr) => (j === arr.length - 1 ? [t, this.nextOptions(params, topLogprobs)] : t));
        this.counters.promptTokens += input.length;
        this.counters.prefixEvaluations++;
        const out = await seq.controlledEvaluate(input as never);
        return this.toDist(out[input.length - 1]?.next);
    }

    /** Give `target` the KV state of `source` up to the prompt's end, without re-evaluating it. */
    private async copyPrefix(target: LlamaContextSequence, source: LlamaContextSequence, prompt: number[], params: SampleParams): Promise<void> {
        // A private method of node-llama-cpp (not in its types), probed at run time: (source, upTo) => Promise<boolean>.
        const copy: unknown = Reflect.get(target, "_copyStateFromOtherSequence");
        if (typeof copy === "function" && (await copy.call(target, source, prompt.length))) return;
        // Fallback (a node-llama-cpp without state copy): evaluate the prefix on this sequence too.
        await this.evaluatePrefix(target, prompt, params);
    }

    /**
     * The k most likely tokens of a distribution. Each text is decoded after `context` (the
     * tokens before this position), as the sampled token's is: decoded alone, a SentencePiece
     * piece loses its leading space ("▁the" → "the"), which would glue a chosen alternative to
     * the word before it.
     */
    private alternatives(dist: RawDistribution, k: number, context: number[] = []): TokenAlternative[] {
        const out: TokenAlternative[] = [];
        for (let i = 0; i < Math.min(k, dist.ids.length); i++) {
            const id = dist.ids[i];
            out.push({text: this.model.detokenize([id as Token], false, context as Token[]), id, prob: rawProb(dist, i)});
        }
        return out;
    }

    private async decode(
        seq: LlamaContextSequence,
        prompt: number[],
        firstDist: RawDistribution,
        index: number,
        o: {params: SampleParams; rng: Rng; maxTokens: number; topLogprobs: number; stop: string[]; stopBelowConfidence?: number; signal?: AbortSignal; stream?: StreamHandler},
    ): Promise<Sample> {
        const tokens: GeneratedToken[] = [];
        const ids: number[] = [];
        const stop = new StopMatcher(o.stop);
        // Streaming: tokens[0..sent) went to the hook; a token is sent once no stop string can cut it.
        let sent = 0;
        let sentChars = 0;
        const flush = (upTo: number) => {
            while (sent < tokens.length && sentChars + tokens[sent].text.length <= upTo) {
                sentChars += tokens[sent].text.length;
                o.stream!.token(index, tokens[sent++]);
            }
        };
        let dist = firstDist;
        let finishReason: Sample["finishReason"] = "length";
        const nextOpts = this.nextOptions(o.params, o.topLogprobs);
        while (tokens.length < o.maxTokens) {
            checkAborted(o.signal);
            const i = sampleIndex(dist, o.params, o.rng);
            const id = dist.ids[i];
            if (this.model.isEogToken(id as Token)) {
                finishReason = "eos";
                break;
            }
            const last = ids.length >= 8 ? ids.slice(-8) : [...prompt.slice(-(8 - ids.length)), ...ids];
            const text = this.model.detokenize([id as Token], false, last as Token[]);
            const confidence = rawProb(dist, i);
            tokens.push({text, id, confidence, top: this.alternatives(dist, o.topLogprobs, last)});
            ids.push(id);
            this.counters.generatedTokens++;
            if (stop.push(text)) {
                finishReason = "stop";
                break;
            }
            if (o.stopBelowConfidence !== undefined && confidence < o.stopBelowConfidence) {
                finishReason = "low-confidence";
                break;
            }
            if (tokens.length >= o.maxTokens) break;
            if (o.stream) flush(stop.finalLength());
            const out = await seq.controlledEvaluate([[id as Token, nextOpts] as never]);
            dist = this.toDist(out[0]?.next);
        }
        if (finishReason === "stop") stop.trim(tokens);
        if (o.stream) flush(Infinity);
        return {index, text: tokens.map((t) => t.text).join(""), tokens, finishReason, ...(stop.matched !== undefined ? {stopString: stop.matched} : {})};
    }
}
