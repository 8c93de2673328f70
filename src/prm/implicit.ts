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
 */
import {BaseScorer} from "./scorer.ts";
import {StepwiseError, ContextOverflowError} from "../util/errors.ts";
import {requireFacet, type Engine, type PromptTokenLogprob} from "../engines/types.ts";
import type {PrmFormat} from "./formats.ts";

/** GGUF metadata keys of an implicit PRM (written by `stepwise train-prm --objective implicit`). */
export const IMPLICIT_META = {
    /** "implicit" (absent: a tag PRM). */
    objective: "stepwise.prm.objective",
    /** β (float). */
    beta: "stepwise.prm.beta",
    /** The reference model's file, relative to the PRM file's folder. */
    reference: "stepwise.prm.reference",
    /** Prompt layout around the question, e.g. "{question}\n". */
    template: "stepwise.prm.template",
} as const;

/** The prompt an implicit PRM reads a solution after: its template with `{question}` replaced. */
export function implicitPrompt(template: string, question: string): string {
    return template.split("{question}").join(question);
}

/** The format entry of implicit PRMs (no tags, no label tokens: scores come from log-ratios). */
export const IMPLICIT_FORMAT: PrmFormat = {name: "implicit", stepTag: "", goodToken: "", badToken: "", questionSeparator: "\n", stepSeparator: "", stepText: "intact"};

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
    scoreContinuations(question: string, steps: string[], continuations: Continuation[]): Promise<number[]>;
    /** Model requests one scoreContinuations or scoreSteps call sends (one per model: 2). */
    readonly requestsPerCall: number;
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
        for (const [what, e] of [["PRM", model], ["reference", reference]] as const)
            if (!e.capabilities.exactProbes && !e.promptLogprobs)
                throw new StepwiseError(`implicit PRM: the ${what} engine (${e.info.model}) reads neither exact token probabilities nor prompt logprobs (in-process llama engine, or vLLM / stepwise serve with dialect=vllm)`);
    }

    async scoreSteps(question: string, steps: string[]): Promise<number[]> {
        if (steps.length === 0) return [];
        const {values} = await this.read(question, steps, []);
        return values.map(sigmoid);
    }

    async scoreContinuations(question: string, steps: string[], continuations: Continuation[]): Promise<number[]> {
        if (continuations.length === 0) return [];
        const {total, candidates} = await this.read(question, steps, continuations);
        return candidates.map((lr) => (lr === null ? 0 : sigmoid(total + this.beta * lr)));
    }

    /**
     * Values q at every step end (β·Σ log-ratio up to the step's last token), the total q of the
     * response, and β-free log-ratios of the continuations at its end (null: unreadable).
     */
    private async read(question: string, steps: string[], continuations: Continuation[]): Promise<{values: number[]; total: number; candidates: Array<number | null>}> {
        const prompt = implicitPrompt(this.template, question);
        const text = prompt + steps.join("");
        // Character offset where each step ends.
        const ends: number[] = [];
        let at = prompt.length;
        for (const s of steps) ends.push((at += s.length));
        const exact = this.model.capabilities.exactProbes && this.reference.capabilities.exactProbes;
        const {tokenEnds, from, readings} = exact ? await this.readExact(prompt, text, continuations) : await this.readLogprobs(prompt.length, text, continuations);
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
        return {values, total: q, candidates};
    }

    private checkLength(n: number): void {
        const max = this.options.maxInputTokens;
        if (max !== undefined && n > max)
            throw new ContextOverflowError(`PRM input is ${n} tokens, longer than the implicit PRM's context (${max} tokens)`, n, max);
    }

    /** Recent in-process readings (tokens, token ends, log p per model), so a longer prefix probes only its new tokens. */
    private cache: Array<{tokens: number[]; ends: number[]; lp: [number[], number[]]}> = [];

    /**
     * In-process: one probeTokens call per model, over the positions not read before for the same
     * token prefix (TVD's successive decisions extend one response: each call evaluates only the
     * new tokens and reads the candidates at the end).
     */
    private async readExact(prompt: string, text: string, continuations: Continuation[]): Promise<{tokenEnds: number[]; from: number; readings: Reading[]}> {
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
        const positions: number[] = [];
        for (let p = Math.max(0, reuse - 1); p < tokens.length; p++) positions.push(p);
        const candidateIds = [...new Set([...tokens.slice(reuse), ...ids.filter((x): x is number => x !== null)])];
        const lp: [number[], number[]] = [new Array<number>(tokens.length).fill(NaN), new Array<number>(tokens.length).fill(NaN)];
        const readings = await Promise.all(
            [this.model, this.reference].map(async (e, m): Promise<Reading> => {
                const {probs} = candidateIds.length ? await requireFacet(e, "probeTokens", "implicit PRM scoring").probeTokens({input: tokens, positions, candidates: candidateIds}) : {probs: positions.map(() => [])};
                const byPos = new Map(positions.map((p, k) => [p, probs[k]]));
                const col = new Map(candidateIds.map((id, k) => [id, k]));
                const own = new Map<number, number>();
                for (let j = from; j < tokens.length; j++) {
                    lp[m][j] = j < reuse ? best!.lp[m][j] : log(byPos.get(j - 1)![col.get(tokens[j])!]);
                    own.set(j, lp[m][j]);
                }
                const last = byPos.get(tokens.length - 1);
                return {tokens: own, candidates: ids.map((id) => (id === null || !last ? null : log(last[col.get(id)!])))};
            }),
        );
        const entry = {tokens, ends: tokenEnds, lp};
        if (best && common === best.tokens.length) this.cache[this.cache.indexOf(best)] = entry;
        else {
            this.cache.push(entry);
            if (this.cache.length > 8) this.cache.shift();
        }
        return {tokenEnds, from, readings};
    }

    /** Over a server: one promptLogprobs request per model over the text (+ the first candidate, whose position lists the top-k). */
    private async readLogprobs(promptChars: number, text: string, continuations: Continuation[]): Promise<{tokenEnds: number[]; from: number; readings: Reading[]}> {
        const input = continuations.length ? text + continuations[0].text : text;
        const topK = continuations.length ? Math.min(this.model.capabilities.maxTopLogprobs, this.reference.capabilities.maxTopLogprobs, 20) : 0;
        const [a, b] = await Promise.all([this.model, this.reference].map((e) => requireFacet(e, "promptLogprobs", "implicit PRM scoring over a server").promptLogprobs(input, {topK})));
        if (a.length !== b.length) throw new StepwiseError(`implicit PRM: the PRM and its reference tokenize the input differently (${a.length} vs ${b.length} tokens); they must share a tokenizer`);
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
        return {tokenEnds, from, readings: [reading(a), reading(b)]};
    }

    async close(): Promise<void> {
        await Promise.all([this.model.close(), this.reference === this.model ? Promise.resolve() : this.reference.close()]);
    }
}
