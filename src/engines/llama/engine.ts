/**
 * The llama engine: any GGUF model run in-process by node-llama-cpp.
 *
 * - Defaults are tuned for small CPUs: one thread per context (the default thread count made
 *   generation ~500× slower on 2-core machines), flash attention off and, for models under 2 GB,
 *   an F32 KV cache so probabilities match the model exactly (F16 above, to halve the memory).
 * - Sampling is done here, from the raw logits llama.cpp returns, with a seeded PRNG: the same
 *   request and seed give the same samples, and the recorded confidence is the raw probability
 *   of the chosen token whatever temperature / top-k / top-p do (see ../types.ts).
 * - `generate({n})` evaluates the prompt once: the prompt's KV cache is copied into up to
 *   `sequences` parallel sequences, which then decode in one batch; a sequence that finished a
 *   sample rewinds to the prompt and takes the next one. A sequence also keeps its tokens
 *   between calls, so a request whose prompt extends an earlier one (rollouts from successive
 *   step prefixes) evaluates only the new tokens.
 */
import {randomInt} from "node:crypto";
import type {Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token} from "node-llama-cpp";
import {
    emptyStats,
    StepwiseError,
    type ChatMessage,
    type Engine,
    type EngineInfo,
    type EngineStats,
    type GeneratedToken,
    type GenerateRequest,
    type NextTokenDistribution,
    type Sample,
    type TokenAlternative,
    type TokenProbeRequest,
    type TokenProbeResult,
} from "../types.ts";
import {rawProb, sampleIndex, type RawDistribution, type SampleParams} from "../sampling.ts";
import {deriveSeed, Rng} from "../../util/rng.ts";
import {SequencePool} from "./pool.ts";
import {StopMatcher} from "./stop.ts";

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
}

let sharedLlama: Promise<Llama> | undefined;

/** The process-wide node-llama-cpp instance (CPU only, prebuilt binary, quiet logs). */
export async function getSharedLlama(): Promise<Llama> {
    if (!sharedLlama) {
        sharedLlama = (async () => {
            const {getLlama, LlamaLogLevel} = await import("node-llama-cpp");
            return getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false});
        })();
    }
    return sharedLlama;
}

const DEFAULT_MAX_TOKENS = 256;
const DEFAULT_TOP_LOGPROBS = 5;

export class LlamaEngine implements Engine {
    readonly info: EngineInfo;
    private readonly counters: EngineStats = emptyStats();
    private readonly pool: SequencePool;
    private readonly vocabSize: number;

    private constructor(
        readonly model: LlamaModel,
        readonly context: LlamaContext,
        readonly modelPath: string,
    ) {
        this.vocabSize = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length ?? 0;
        this.info = {kind: "llama", model: modelPath, vocabSize: this.vocabSize || undefined};
        const sequences: LlamaContextSequence[] = [];
        for (let i = 0; i < context.totalSequences; i++) sequences.push(context.getSequence());
        this.pool = new SequencePool(sequences);
    }

    /** Load a GGUF file. Errors name the file. */
    static async load(modelPath: string, options: LlamaEngineOptions = {}): Promise<LlamaEngine> {
        const {existsSync} = await import("node:fs");
        if (!existsSync(modelPath)) throw new StepwiseError(`${modelPath}: model file not found`);
        const llama = options.llama ?? (await getSharedLlama());
        let model: LlamaModel;
        try {
            model = await llama.loadModel({modelPath, gpuLayers: 0});
        } catch (e) {
            throw new StepwiseError(`${modelPath}: cannot load model (${(e as Error).message.split("\n")[0]})`, {cause: e});
        }
        const trainContext = model.trainContextSize || 4096;
        const sequences = Math.max(1, options.sequences ?? 8);
        const contextSize = Math.min(options.contextSize ?? Math.min(trainContext, 4096), trainContext);
        const kv = options.kvCacheType ?? (model.size < 2 * 1024 ** 3 ? "F32" : "F16");
        const context = await model.createContext({
            contextSize: contextSize * sequences,
            sequences,
            threads: options.threads ?? 1,
            batchSize: options.batchSize ?? Math.min(2048, contextSize * sequences),
            flashAttention: false,
            experimentalKvCacheKeyType: kv,
            experimentalKvCacheValueType: kv,
        });
        return new LlamaEngine(model, context, modelPath);
    }

    stats(): EngineStats {
        return {...this.counters};
    }

    async tokenize(text: string, options: {addBos?: boolean; special?: boolean} = {}): Promise<number[]> {
        return this.tokenizeSync(text, options.addBos, options.special);
    }

    async detokenize(tokens: number[]): Promise<string> {
        return this.model.detokenize(tokens as Token[], false);
    }

    async formatChat(messages: ChatMessage[], options: {addGenerationPrompt?: boolean} = {}): Promise<string> {
        const {resolveChatWrapper} = await import("node-llama-cpp");
        const wrapper = resolveChatWrapper(this.model);
        const history = messages.map((m) =>
            m.role === "assistant" ? {type: "model" as const, response: [m.content]} : {type: m.role, text: m.content},
        );
        if (options.addGenerationPrompt !== false && messages.at(-1)?.role !== "assistant")
            history.push({type: "model", response: []});
        const {contextText} = wrapper.generateContextState({chatHistory: history as never});
        return contextText.toString();
    }

    async generate(request: GenerateRequest): Promise<Sample[]> {
        const n = request.n ?? 1;
        if (!Number.isInteger(n) || n < 1) throw new StepwiseError(`generate: n must be a positive integer, got ${request.n}`);
        const prompt = this.promptTokens(request.prompt, request.addBos);
        if (prompt.length === 0) throw new StepwiseError("generate: empty prompt (no tokens and no BOS)");
        const room = this.context.contextSize / this.context.totalSequences - prompt.length;
        if (room < 1) throw new StepwiseError(`generate: the prompt (${prompt.length} tokens) fills the per-sequence context (${prompt.length + room} tokens)`);
        // Samples that would run past the context end there, with finishReason "length".
        const maxTokens = Math.min(request.maxTokens ?? DEFAULT_MAX_TOKENS, room);
        const params: SampleParams = {temperature: request.temperature ?? 1, topK: request.topK ?? 0, topP: request.topP ?? 1};
        const topLogprobs = Math.max(0, Math.min(20, request.topLogprobs ?? DEFAULT_TOP_LOGPROBS));
        const baseSeed = request.seed ?? randomInt(2 ** 31);
        this.counters.requests++;

        const sequences = await this.pool.acquire(Math.min(n, this.pool.size), prompt);
        try {
            // One prefix evaluation, copied into the other sequences.
            const [first, ...rest] = sequences;
            const firstDist = await this.evaluatePrefix(first, prompt, params);
            for (const seq of rest) await this.copyPrefix(seq, first, prompt, params);
            const samples: Sample[] = new Array(n);
            const firstIndex = request.firstIndex ?? 0;
            let nextIndex = 0;
            const worker = async (seq: LlamaContextSequence) => {
                while (nextIndex < n) {
                    const index = nextIndex++;
                    if (seq.nextTokenIndex > prompt.length) await seq.eraseContextTokenRanges([{start: prompt.length, end: seq.nextTokenIndex}]);
                    samples[index] = await this.decode(seq, prompt, firstDist, firstIndex + index, {
                        params,
                        rng: new Rng(deriveSeed(baseSeed, firstIndex + index)),
                        maxTokens,
                        topLogprobs,
                        stop: request.stop ?? [],
                    });
                }
            };
            await Promise.all(sequences.map(worker));
            return samples;
        } finally {
            this.pool.release(sequences);
        }
    }

    async nextToken(prefix: string | number[], options: {topK?: number; addBos?: boolean} = {}): Promise<NextTokenDistribution> {
        const tokens = this.promptTokens(prefix, options.addBos);
        const [seq] = await this.pool.acquire(1, tokens);
        try {
            const dist = await this.evaluatePrefix(seq, tokens, {temperature: 0, topK: 0, topP: 1}, Math.max(1, options.topK ?? 10));
            return {top: this.alternatives(dist, options.topK ?? 10)};
        } finally {
            this.pool.release([seq]);
        }
    }

    async probeTokens(request: TokenProbeRequest): Promise<TokenProbeResult> {
        const tokens = this.promptTokens(request.input, request.addBos);
        for (const p of request.positions)
            if (!Number.isInteger(p) || p < 0 || p >= tokens.length)
                throw new StepwiseError(`probeTokens: position ${p} is outside the input (${tokens.length} tokens)`);
        if (request.positions.length === 0) return {probs: []};
        const wanted = new Set(request.positions);
        const start = Math.min(...request.positions);
        const [seq] = await this.pool.acquire(1, tokens);
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
            this.pool.release([seq]);
        }
    }

    /**
     * Logprobs of a token sequence itself (OpenAI `echo`, vLLM `prompt_logprobs`), in one pass:
     * entry i describes token i given tokens 0..i-1; entry 0 is null (nothing predicts it).
     */
    async promptLogprobs(tokens: number[], topK: number): Promise<Array<null | {prob: number; top: TokenAlternative[]}>> {
        if (tokens.length < 2) return tokens.map(() => null);
        const [seq] = await this.pool.acquire(1, tokens);
        try {
            this.counters.requests++;
            if (seq.nextTokenIndex > 0) await seq.eraseContextTokenRanges([{start: 0, end: seq.nextTokenIndex}]);
            const input = tokens.slice(0, -1).map(
                (t, j) =>
                    [
                        t as Token,
                        {
                            generateNext: {
                                logits: {filter: {tokens: [tokens[j + 1] as Token], includeTop: Math.max(1, topK)}},
                                totalLogitWeight: true,
                                options: {temperature: 0},
                            },
                        },
                    ] as const,
            );
            this.counters.promptTokens += input.length;
            this.counters.prefixEvaluations++;
            const out = await seq.controlledEvaluate(input as never);
            const result: Array<null | {prob: number; top: TokenAlternative[]}> = [null];
            for (let j = 0; j < input.length; j++) {
                const dist = this.toDist(out[j]?.next);
                const actual = Array.from(dist.ids).indexOf(tokens[j + 1]);
                result.push({prob: rawProb(dist, actual), top: this.alternatives(dist, topK)});
            }
            return result;
        } finally {
            this.pool.release([seq]);
        }
    }

    async close(): Promise<void> {
        await this.context.dispose();
        await this.model.dispose();
    }

    // ---- internals ----

    private tokenizeSync(text: string, addBos?: boolean, special = true): number[] {
        const tokens = this.model.tokenize(text, special) as number[];
        const bos = this.model.tokens.bos;
        const wantBos = addBos ?? this.model.tokens.shouldPrependBosToken;
        if (wantBos && bos != null && tokens[0] !== bos) return [bos, ...tokens];
        return tokens;
    }

    /** Text prompts are tokenized with special-token parsing (as vLLM does), token prompts pass through. */
    private promptTokens(prompt: string | number[], addBos?: boolean): number[] {
        if (typeof prompt !== "string") {
            for (const t of prompt)
                if (!Number.isInteger(t) || t < 0 || (this.vocabSize && t >= this.vocabSize))
                    throw new StepwiseError(`token id ${t} is outside the vocabulary (size ${this.vocabSize})`);
            return [...prompt];
        }
        return this.tokenizeSync(prompt, addBos);
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
        const size = next.logits.size;
        const ids = new Int32Array(size);
        const logits = new Float32Array(size);
        let i = 0;
        for (const [id, l] of next.logits) {
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
        const copy = (target as unknown as {_copyStateFromOtherSequence?: (s: LlamaContextSequence, upTo: number) => Promise<boolean>})
            ._copyStateFromOtherSequence;
        if (typeof copy === "function" && (await copy.call(target, source, prompt.length))) return;
        // Fallback (a node-llama-cpp without state copy): evaluate the prefix on this sequence too.
        await this.evaluatePrefix(target, prompt, params);
    }

    private alternatives(dist: RawDistribution, k: number): TokenAlternative[] {
        const out: TokenAlternative[] = [];
        for (let i = 0; i < Math.min(k, dist.ids.length); i++) {
            const id = dist.ids[i];
            out.push({text: this.model.detokenize([id as Token], false), id, prob: rawProb(dist, i)});
        }
        return out;
    }

    private async decode(
        seq: LlamaContextSequence,
        prompt: number[],
        firstDist: RawDistribution,
        index: number,
        o: {params: SampleParams; rng: Rng; maxTokens: number; topLogprobs: number; stop: string[]},
    ): Promise<Sample> {
        const tokens: GeneratedToken[] = [];
        const ids: number[] = [];
        const stop = new StopMatcher(o.stop);
        let dist = firstDist;
        let finishReason: Sample["finishReason"] = "length";
        const nextOpts = this.nextOptions(o.params, o.topLogprobs);
        while (tokens.length < o.maxTokens) {
            const i = sampleIndex(dist, o.params, o.rng);
            const id = dist.ids[i];
            if (this.model.isEogToken(id as Token)) {
                finishReason = "eos";
                break;
            }
            const last = ids.length >= 8 ? ids.slice(-8) : [...prompt.slice(-(8 - ids.length)), ...ids];
            const text = this.model.detokenize([id as Token], false, last as Token[]);
            tokens.push({text, id, confidence: rawProb(dist, i), top: this.alternatives(dist, o.topLogprobs)});
            ids.push(id);
            this.counters.generatedTokens++;
            if (stop.push(text)) {
                finishReason = "stop";
                break;
            }
            if (tokens.length >= o.maxTokens) break;
            const out = await seq.controlledEvaluate([[id as Token, nextOpts] as never]);
            dist = this.toDist(out[0]?.next);
        }
        if (finishReason === "stop") stop.trim(tokens);
        return {index, text: tokens.map((t) => t.text).join(""), tokens, finishReason, ...(stop.matched !== undefined ? {stopString: stop.matched} : {})};
    }
}
