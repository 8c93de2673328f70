/**
 * Implicit PRMs (Yuan et al., "Free Process Rewards without Process Labels", arXiv 2412.01981;
 * PRIME, arXiv 2502.01456): a language model πθ trained on outcome labels only with
 * r(y) = β·log πθ(y)/πref(y). Every token then has its own reward β·log πθ(yₜ|y<ₜ)/πref(yₜ|y<ₜ),
 * and the value of a prefix is the running sum q = β·Σₜ log πθ/πref; a step's score here is σ(q)
 * at the step's last token (the model's probability that the answer will be right, as the
 * outcome loss σ(r) is trained to be).
 *
 * What this gives TVD: at a decision token every candidate c has its own value
 * q + β·log πθ(c)/πref(c), read for all candidates from ONE forward pass of each model over the
 * response so far ({@link ImplicitPrmScorer.scoreContinuations}); a tag PRM needs one input per
 * candidate, and reads the prefix's value nearly regardless of c.
 *
 * Two engines: the PRM (πθ) and its reference (πref, the policy it was trained from). In-process
 * (engines with exact probes, the llama engine) both read the probabilities of the response's
 * tokens and of the candidates in one `probeTokens` call each, reusing the KV cache of the prefix.
 * On OpenAI-compatible servers (vLLM `prompt_logprobs`, `stepwise serve`) each model gets one
 * `promptLogprobs` request over the input text (no `/tokenize` call: the OpenAI engine reads the
 * prompt's token ids from the echo); candidates are read from the top-k alternatives at the last
 * position (those outside πθ's or πref's top-k get score 0).
 *
 * Input: the prompt template (`{question}` replaced; the lab policy's is "{question}\n") followed
 * by the steps as they are, no tags.
 *
 * The policy as the reference ({@link ImplicitPrmOptions.policyIsReference}): an implicit PRM is
 * trained from the policy it then guides, so at a TVD decision the policy has already given πref
 * of every response token (its recorded raw probabilities) and of every candidate (its top-k).
 * TVD hands them over ({@link ReferenceReading}) and only πθ is run: one forward pass (one
 * request) per decision instead of two. They are used only when they line up with the PRM's own
 * reading — the same prompt text, the same response tokens (text by text) and a probability for
 * every candidate; otherwise the reference model is run as usual.
 */
import {BaseScorer, type StepScorer} from "./scorer.ts";
import {StepwiseError, ContextOverflowError} from "../util/errors.ts";
import {requireFacet, type Engine, type PromptTokenLogprob} from "../engines/types.ts";
import type {PrmFormat} from "./formats.ts";

/** GGUF metadata keys of an implicit PRM (written by `stepwise train-prm --objective implicit`). */
export const IMPLICIT_META = {
    /**
     * "implicit"; "tag+implicit": read two ways, step scores at step tags as a tag PRM (this model's
     * own tags, or those of the tag PRM named by `tagModel`) and token values log πθ/πref for TVD's
     * candidates ({@link HybridPrmScorer}); absent or "tag": a tag PRM.
     */
    objective: "stepwise.prm.objective",
    /** β (float). */
    beta: "stepwise.prm.beta",
    /** The reference model's file, relative to the PRM file's folder. */
    reference: "stepwise.prm.reference",
    /** Prompt layout around the question, e.g. "{question}\n". */
    template: "stepwise.prm.template",
    /**
     * "tag+implicit" only: the tag PRM whose step scores this file's tag reading is, relative to
     * this file's folder (`stepwise pair-prm`). Absent: the file's own step tags.
     */
    tagModel: "stepwise.prm.tag_model",
} as const;

/** The prompt an implicit PRM reads a solution after: its template with `{question}` replaced. */
export function implicitPrompt(template: string, question: string): string {
    return template.split("{question}").join(question);
}

/** The format entry of implicit PRMs (no tags, no label tokens: scores come from log-ratios). */
export const IMPLICIT_FORMAT: PrmFormat = {name: "implicit", stepTag: "", goodToken: "", badToken: "", questionSeparator: "\n", stepSeparator: "", stepText: "intact"};

/**
 * πref already read by the policy that decodes (see the module docs): the prompt it was given,
 * the response's tokens as it generated them with its raw probability of each, and its
 * probability of each continuation at the end (same order as the continuations).
 */
export interface ReferenceReading {
    prompt: string;
    tokens: ReadonlyArray<{text: string; prob: number}>;
    candidates: readonly number[];
}

/** Optional inputs and outputs of {@link ContinuationScorer.scoreContinuations}. */
export interface ContinuationOptions {
    /** The decoding policy's own reading, used as πref when it lines up (scorers whose reference is the policy). */
    reference?: ReferenceReading;
    /** Model requests the call sent are added here (1 when the reference reading was used, else 2). */
    usage?: {requests: number};
    /**
     * When given, filled with each continuation's value q = logit of its score (same order; −Infinity
     * for an unreadable one, whose score is 0). Scores are σ(q) and round to exactly 1 above q ≈ 36.7
     * (exactly 0 below q ≈ −709.8), so candidates that differ only there tie as scores; TVD ranks such
     * ties by these values.
     */
    values?: number[];
}

/** A candidate continuation at a decision point: its text and, when known, its token id. */
export interface Continuation {
    text: string;
    id?: number;
}

/**
 * Scorers that read several one-token continuations of a response from one pass (TVD's candidates).
 * `scoreContinuations(question, steps, cs)[j]` = the score of the last step of `steps` with cs[j]
 * appended to it (the response so far + the candidate), as scoreSteps would give it.
 */
export interface ContinuationScorer {
    scoreContinuations(question: string, steps: string[], continuations: Continuation[], options?: ContinuationOptions): Promise<number[]>;
    /** Model requests one scoreContinuations or scoreSteps call sends at most (one per model: 2). */
    readonly requestsPerCall: number;
    /** Whether the decoding policy is this scorer's reference, so TVD should pass {@link ContinuationOptions.reference}. */
    readonly policyIsReference?: boolean;
    /** Continuation calls that used the policy's reading as πref / that ran the reference model. */
    readonly referenceReadings?: {reused: number; run: number};
}

/** Whether a scorer reads continuations from one pass ({@link ContinuationScorer}). */
export function scoresContinuations<T extends object>(scorer: T): scorer is T & ContinuationScorer {
    return typeof (scorer as Partial<ContinuationScorer>).scoreContinuations === "function";
}

const MIN_PROB = 1e-30;
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
const log = (p: number): number => Math.log(Math.max(MIN_PROB, p));

export interface ImplicitPrmOptions {
    /** β of r = β·log πθ/πref (from the GGUF, or the spec's `beta=`). */
    beta: number;
    /** Prompt layout, `{question}` replaced. Default "{question}\n". */
    template?: string;
    /** Longest input the models read whole; longer inputs are a ContextOverflowError. */
    maxInputTokens?: number;
    /**
     * The policy that decodes with this PRM is its reference (the same model; `createScorer` sets it
     * when `--policy` names the reference's file or spec). TVD then passes the policy's probabilities
     * as πref (module docs). Default false.
     */
    policyIsReference?: boolean;
}

/** Per-model log-probabilities of the response tokens and of the candidates at the end. */
interface Reading {
    /** log p of response token j (j from `from`), by absolute token index. */
    tokens: Map<number, number>;
    /** log p of each candidate at the end, or null when the model did not report it. */
    candidates: Array<number | null>;
}

export class ImplicitPrmScorer extends BaseScorer implements ContinuationScorer {
    readonly format: PrmFormat = IMPLICIT_FORMAT;
    readonly requestsPerCall = 2;
    readonly policyIsReference: boolean;
    /** Continuation calls that used the policy's reading as πref / that ran the reference model. */
    readonly referenceReadings = {reused: 0, run: 0};
    readonly beta: number;
    readonly template: string;
    constructor(
        /** πθ: the implicit PRM. */
        readonly model: Engine,
        /** πref: its reference policy. */
        readonly reference: Engine,
        readonly options: ImplicitPrmOptions,
    ) {
        super();
        if (!(options.beta > 0 && Number.isFinite(options.beta))) throw new StepwiseError(`implicit PRM: beta must be a positive number, got ${options.beta}`);
        this.beta = options.beta;
        this.template = options.template ?? "{question}\n";
        this.policyIsReference = options.policyIsReference ?? false;
        for (const [what, e] of [["PRM", model], ["reference", reference]] as const)
            if (!e.capabilities.exactProbes && !e.promptLogprobs)
                throw new StepwiseError(`implicit PRM: the ${what} engine (${e.info.model}) reads neither exact token probabilities nor prompt logprobs (in-process llama engine, or vLLM / stepwise serve with dialect=vllm)`);
    }

    async scoreSteps(question: string, steps: string[]): Promise<number[]> {
        if (steps.length === 0) return [];
        const {values} = await this.read(question, steps, []);
        return values.map(sigmoid);
    }

    async scoreContinuations(question: string, steps: string[], continuations: Continuation[], options: ContinuationOptions = {}): Promise<number[]> {
        if (continuations.length === 0) return [];
        const {total, candidates, requests} = await this.read(question, steps, continuations, options.reference);
        if (options.usage) options.usage.requests = (Number.isNaN(options.usage.requests) ? 0 : options.usage.requests) + requests;
        const qs = candidates.map((lr) => (lr === null ? -Infinity : total + this.beta * lr));
        if (options.values) options.values.splice(0, options.values.length, ...qs);
        return qs.map(sigmoid);
    }

    /**
     * Values q at every step end (β·Σ log-ratio up to the step's last token), the total q of the
     * response, and β-free log-ratios of the continuations at its end (null: unreadable).
     */
    private async read(question: string, steps: string[], continuations: Continuation[], reference?: ReferenceReading): Promise<{values: number[]; total: number; candidates: Array<number | null>; requests: number}> {
        const prompt = implicitPrompt(this.template, question);
        const text = prompt + steps.join("");
        // Character offset where each step ends.
        const ends: number[] = [];
        let at = prompt.length;
        for (const s of steps) ends.push((at += s.length));
        const exact = this.model.capabilities.exactProbes && this.reference.capabilities.exactProbes;
        const given = reference && reference.prompt === prompt && reference.candidates.length === continuations.length ? reference : undefined;
        const {tokenEnds, from, readings, reused} = exact ? await this.readExact(prompt, text, continuations, given) : await this.readLogprobs(prompt.length, text, continuations, given);
        const lr = (j: number): number => readings[0].tokens.get(j)! - readings[1].tokens.get(j)!;
        const values: number[] = [];
        let q = 0;
        let j = from;
        for (const end of ends) {
            // Tokens ending at or before the step's last character belong to it (a token that straddles belongs where it ends).
            while (j < tokenEnds.length && tokenEnds[j] <= end) q += this.beta * lr(j++);
            values.push(q);
        }
        while (j < tokenEnds.length) q += this.beta * lr(j++);
        const candidates = continuations.map((_, c) => {
            const a = readings[0].candidates[c];
            const b = readings[1].candidates[c];
            return a === null || b === null ? null : a - b;
        });
        if (continuations.length) reused ? this.referenceReadings.reused++ : this.referenceReadings.run++;
        return {values, total: q, candidates, requests: reused ? 1 : 2};
    }

    /**
     * πref from the policy's reading when its tokens are the response's tokens from `from` on
     * (`tokenText(j)`: the text of token j as the PRM tokenized it), else undefined.
     */
    private referenceFrom(given: ReferenceReading | undefined, from: number, n: number, tokenText: (j: number) => string): Reading | undefined {
        if (!given || given.tokens.length !== n - from) return undefined;
        for (let j = from; j < n; j++) if (given.tokens[j - from].text !== tokenText(j)) return undefined;
        const tokens = new Map<number, number>();
        for (let j = from; j < n; j++) tokens.set(j, log(given.tokens[j - from].prob));
        return {tokens, candidates: given.candidates.map(log)};
    }

    private checkLength(n: number): void {
        const max = this.options.maxInputTokens;
        if (max !== undefined && n > max)
            throw new ContextOverflowError(`PRM input is ${n} tokens, longer than the implicit PRM's context (${max} tokens)`, n, max);
    }

    /** Recent in-process readings (tokens, token ends, log p per model), so a longer prefix probes only its new tokens. */
    private cache: Array<{tokens: number[]; ends: number[]; lp: [number[], number[]]; refFrom: number}> = [];

    /**
     * In-process: one probeTokens call per model, over the positions not read before for the same
     * token prefix (TVD's successive decisions extend one response: each call evaluates only the
     * new tokens and reads the candidates at the end).
     */
    private async readExact(prompt: string, text: string, continuations: Continuation[], given?: ReferenceReading): Promise<{tokenEnds: number[]; from: number; readings: Reading[]; reused: boolean}> {
        const engine = this.model;
        const tokens = await engine.tokenize(text);
        this.checkLength(tokens.length + (continuations.length ? 1 : 0));
        const promptTokens = await engine.tokenize(prompt);
        let from = 0;
        while (from < promptTokens.length && promptTokens[from] === tokens[from]) from++;
        // The cached reading sharing the longest token prefix.
        let best: (typeof this.cache)[number] | undefined;
        let common = 0;
        for (const e of this.cache) {
            let l = 0;
            while (l < e.tokens.length && l < tokens.length && e.tokens[l] === tokens[l]) l++;
            if (l > common) [best, common] = [e, l];
        }
        const reuse = Math.max(from, common); // tokens before this have their log p (and end) cached
        // Character end of every token (decoded prefixes: exact for prefix-stable vocabularies).
        const tokenEnds = new Array<number>(tokens.length).fill(prompt.length);
        for (let i = from; i < tokens.length; i++) tokenEnds[i] = i < reuse && best ? best.ends[i] : prompt.length + (await engine.detokenize(tokens.slice(from, i + 1))).length;
        // Candidate ids: given, else the one token a candidate adds after the text.
        const ids: Array<number | null> = [];
        for (const c of continuations) {
            if (c.id !== undefined) {
                ids.push(c.id);
                continue;
            }
            const t = await engine.tokenize(text + c.text);
            ids.push(t.length === tokens.length + 1 && tokens.every((x, i) => t[i] === x) ? t[tokens.length] : null);
        }
        const lp: [number[], number[]] = [new Array<number>(tokens.length).fill(NaN), new Array<number>(tokens.length).fill(NaN)];
        // The prompt must be tokenized alone as in the full text (no token straddles its end).
        const policyReading = from === promptTokens.length ? this.referenceFrom(given, from, tokens.length, (j) => text.slice(j === from ? prompt.length : tokenEnds[j - 1], tokenEnds[j])) : undefined;
        if (policyReading) for (const [j, x] of policyReading.tokens) lp[1][j] = x;
        // A cache entry's reference log-probs from position `refFrom` on came from the policy's reading;
        // when the reference model runs, only those before it are reused (the rest it reads itself).
        const reuseOf = (m: number): number => (m === 1 && best ? Math.min(reuse, Math.max(from, best.refFrom)) : reuse);
        const refFrom = policyReading ? from : tokens.length;
        const readings = await Promise.all(
            (policyReading ? [this.model] : [this.model, this.reference]).map(async (e, m): Promise<Reading> => {
                const r = reuseOf(m);
                const positions: number[] = [];
                for (let p = Math.max(0, r - 1); p < tokens.length; p++) positions.push(p);
                const candidateIds = [...new Set([...tokens.slice(r), ...ids.filter((x): x is number => x !== null)])];
                const {probs} = candidateIds.length ? await requireFacet(e, "probeTokens", "implicit PRM scoring").probeTokens({input: tokens, positions, candidates: candidateIds}) : {probs: positions.map(() => [])};
                const byPos = new Map(positions.map((p, k) => [p, probs[k]]));
                const col = new Map(candidateIds.map((id, k) => [id, k]));
                const own = new Map<number, number>();
                for (let j = from; j < tokens.length; j++) {
                    lp[m][j] = j < r ? best!.lp[m][j] : log(byPos.get(j - 1)![col.get(tokens[j])!]);
                    own.set(j, lp[m][j]);
                }
                const last = byPos.get(tokens.length - 1);
                return {tokens: own, candidates: ids.map((id) => (id === null || !last ? null : log(last[col.get(id)!])))};
            }),
        );
        if (policyReading) readings.push(policyReading);
        const entry = {tokens, ends: tokenEnds, lp, refFrom};
        if (best && common === best.tokens.length) this.cache[this.cache.indexOf(best)] = entry;
        else {
            this.cache.push(entry);
            if (this.cache.length > 8) this.cache.shift();
        }
        return {tokenEnds, from, readings, reused: policyReading !== undefined};
    }

    /** Over a server: one promptLogprobs request per model over the text (+ the first candidate, whose position lists the top-k). */
    private async readLogprobs(promptChars: number, text: string, continuations: Continuation[], given?: ReferenceReading): Promise<{tokenEnds: number[]; from: number; readings: Reading[]; reused: boolean}> {
        const input = continuations.length ? text + continuations[0].text : text;
        const topK = continuations.length ? Math.min(this.model.capabilities.maxTopLogprobs, this.reference.capabilities.maxTopLogprobs, 20) : 0;
        const read = (e: Engine) => requireFacet(e, "promptLogprobs", "implicit PRM scoring over a server").promptLogprobs(input, {topK});
        const sameTokens = (x: unknown[], y: unknown[]): void => {
            if (x.length !== y.length) throw new StepwiseError(`implicit PRM: the PRM and its reference tokenize the input differently (${x.length} vs ${y.length} tokens); they must share a tokenizer`);
        };
        // With the policy's reading at hand, πθ is read first and πref only if the tokens do not line up.
        let a: Array<PromptTokenLogprob | null>;
        let b: Array<PromptTokenLogprob | null> | undefined;
        if (given) a = await read(this.model);
        else {
            [a, b] = await Promise.all([read(this.model), read(this.reference)]);
            sameTokens(a, b);
        }
        this.checkLength(a.length);
        // Character ends from the token texts, aligned at the end of the input (a BOS has no text).
        const n = continuations.length ? a.length - 1 : a.length;
        const lengths = a.map((e) => (e ? e.text.length : 0));
        const shift = input.length - lengths.reduce((x, y) => x + y, 0);
        const tokenEnds: number[] = [];
        let c = shift;
        for (let i = 0; i < n; i++) tokenEnds.push((c += lengths[i]));
        // Response tokens: those ending past the prompt.
        let from = 0;
        while (from < n && tokenEnds[from] <= promptChars) from++;
        const reading = (entries: Array<PromptTokenLogprob | null>): Reading => {
            const tokens = new Map<number, number>();
            for (let i = from; i < n; i++) tokens.set(i, entries[i] ? log(entries[i]!.prob) : 0);
            const last = continuations.length ? entries[entries.length - 1] : null;
            const candidates = continuations.map((cand, k) => {
                if (!last) return null;
                if (k === 0) return log(last.prob);
                const hit = last.top.find((t) => (cand.id !== undefined && t.id !== undefined ? t.id === cand.id : t.text === cand.text));
                return hit ? log(hit.prob) : null;
            });
            return {tokens, candidates};
        };
        // A token must end exactly at the prompt's end (none straddles it).
        const policyReading = from > 0 && tokenEnds[from - 1] === promptChars ? this.referenceFrom(given, from, n, (j) => a[j]?.text ?? "") : undefined;
        if (policyReading) return {tokenEnds, from, readings: [reading(a), policyReading], reused: true};
        if (!b) {
            b = await read(this.reference);
            sameTokens(a, b);
        }
        return {tokenEnds, from, readings: [reading(a), reading(b)], reused: false};
    }

    async close(): Promise<void> {
        await Promise.all([this.model.close(), this.reference === this.model ? Promise.resolve() : this.reference.close()]);
    }
}

/**
 * A PRM read two ways: a model trained on both objectives (`train-prm --objective tag+implicit`),
 * or an implicit PRM paired with a tag PRM (`stepwise pair-prm`); read as a tag PRM for step scores (`scoreSteps`: P(good) at step tags, what Best-of-N, beam search and
 * ProcessBench use) and as an implicit PRM for TVD's candidates (`scoreContinuations`: σ(q +
 * β·log πθ(c)/πref(c)) from one pass, the policy's own reading as πref when it is the reference).
 * A tag reading barely separates the tokens that end a step (docs/decoding.md); the log-ratio does.
 */
export class HybridPrmScorer extends BaseScorer implements ContinuationScorer {
    readonly format: PrmFormat;
    readonly requestsPerCall: number;
    readonly policyIsReference: boolean;
    constructor(
        /** Step scores: the model as a tag PRM, a paired tag PRM, or any PRM (`step_prm=`). */
        readonly tag: StepScorer,
        /** Token values: the implicit model against its reference. */
        readonly implicit: ImplicitPrmScorer,
        /** Whether the tag reading has an engine of its own (a paired tag PRM), closed with this scorer. Default false: it shares the implicit model's. */
        readonly ownsTag = false,
    ) {
        super();
        this.format = tag.format;
        this.requestsPerCall = implicit.requestsPerCall;
        this.policyIsReference = implicit.policyIsReference;
    }
    get referenceReadings(): {reused: number; run: number} {
        return this.implicit.referenceReadings;
    }
    scoreSteps(question: string, steps: string[]): Promise<number[]> {
        return this.tag.scoreSteps(question, steps);
    }
    scoreContinuations(question: string, steps: string[], continuations: Continuation[], options?: ContinuationOptions): Promise<number[]> {
        return this.implicit.scoreContinuations(question, steps, continuations, options);
    }
    /** Closes the implicit reading's engines, and the tag reading's when it has its own. */
    async close(): Promise<void> {
        await Promise.all([this.implicit.close(), this.ownsTag ? this.tag.close() : Promise.resolve()]);
    }
}
