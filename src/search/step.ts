/**
 * Generating one step: the primitive under TVD, step-level beam search and DVTS.
 *
 * A step ends (config.stepEnd)
 * - `adaptive`: right after the first decision token (AdaptiveStep, arXiv 2502.13943 §3.1; τ
 *   compared under config.cutoff by src/steps, the splitter `stepwise split` uses); asked of the
 *   engine as `stopBelowConfidence` (the equivalent raw bound; native on the llama engine,
 *   chunk-and-cut on OpenAI-compatible servers), and cut here again so an engine that generated
 *   past it is still exact;
 * - `delimiter`: at a delimiter string such as "\n\n" (search-and-learn's step delimiter),
 *   which stays part of the step text.
 * A solution ends at EOS, at one of config.stop, or when its token budget runs out ("length").
 * It also ends "length" at the policy's context end: engines cut a sample there, and once the
 * prompt plus the response so far fills the context, {@link generateSteps} (with `response`
 * non-empty) returns empty "length" pieces instead of the engine's context error. A question
 * whose prompt alone fills the context is still that error (`--skip-too-long` skips it).
 *
 * Prompts are text (the prompt plus the response so far), as the released TVD code and
 * search-and-learn send them; the llama engine reuses the KV cache of the longest common prefix.
 */
import type {GenerateRequest, GeneratedToken, Sample} from "../engines/types.ts";
import {isContextOverflow} from "../util/errors.ts";
import type {Meter} from "./prm.ts";
import {firstDecision} from "../steps/index.ts";
import type {SearchConfig, SearchContext} from "./types.ts";
import {decisionCutoff} from "./types.ts";

/** How a generated piece ended. */
export type PieceEnd = "step" | "eos" | "stop" | "length";

export interface Piece {
    /** Text of the piece (a step's delimiter included). */
    text: string;
    /** Its tokens (the delimiter's tokens are not listed when a stop string cut them). */
    tokens: GeneratedToken[];
    end: PieceEnd;
    /** The prompt plus the response so far filled the policy's context: nothing was generated. */
    contextEnd?: boolean;
}

/** Whether a solution piece ended the whole response. */
export function isFinal(end: PieceEnd): boolean {
    return end === "eos" || end === "stop";
}

/**
 * Generate n continuations of `prompt + response`, each up to the end of its next step (or of
 * the solution; `toEnd`: no step end at all). `budget` = tokens the response may still grow by.
 * With a non-empty `response` (already part of `prompt`), a prompt that fills the policy's
 * context gives n empty pieces ending "length" (the solution reached the context end, see the
 * module docs); otherwise the engine's error propagates.
 */
export async function generateSteps(
    ctx: SearchContext,
    config: SearchConfig,
    meter: Meter,
    o: {prompt: string; n: number; temperature: number; seed: number; firstIndex?: number; budget: number; topLogprobs?: number; toEnd?: boolean; response?: string},
): Promise<Piece[]> {
    try {
        return await generatePieces(ctx, config, meter, o);
    } catch (e) {
        if (!o.response || !isContextOverflow(e)) throw e;
        meter.requests++;
        return Array.from({length: o.n}, () => ({text: "", tokens: [], end: "length" as const, contextEnd: true}));
    }
}

async function generatePieces(
    ctx: SearchContext,
    config: SearchConfig,
    meter: Meter,
    o: {prompt: string; n: number; temperature: number; seed: number; firstIndex?: number; budget: number; topLogprobs?: number; toEnd?: boolean},
): Promise<Piece[]> {
    if (o.toEnd) {
        const samples = await ctx.policy.generate({prompt: o.prompt, n: o.n, temperature: o.temperature, topP: o.temperature > 0 ? config.topP : undefined, seed: o.seed, firstIndex: o.firstIndex, maxTokens: Math.max(1, o.budget), stop: config.stop, topLogprobs: o.topLogprobs ?? 0});
        meter.requests++;
        for (const s of samples) meter.tokens += s.tokens.length;
        return samples.map((s) => ({text: s.text, tokens: s.tokens, end: endOf(s) === "step" ? "length" : endOf(s)}));
    }
    const delimiter = config.stepEnd.kind === "delimiter" ? config.stepEnd.text : undefined;
    const cutoff = decisionCutoff(config);
    const request: GenerateRequest = {
        prompt: o.prompt,
        n: o.n,
        temperature: o.temperature,
        topP: o.temperature > 0 ? config.topP : undefined,
        seed: o.seed,
        firstIndex: o.firstIndex,
        maxTokens: Math.max(1, o.budget),
        stop: delimiter ? [...config.stop, delimiter] : config.stop,
        topLogprobs: o.topLogprobs ?? 0,
        stopBelowConfidence: delimiter ? undefined : cutoff,
    };
    const samples = await ctx.policy.generate(request);
    meter.requests++;
    for (const s of samples) meter.tokens += s.tokens.length;
    return samples.map((s) => toPiece(s, config, delimiter, config.stop));
}

/** Cut a sample into one piece: at the first decision token (adaptive) or keep the delimiter that stopped it. */
export function toPiece(s: Sample, config: Pick<SearchConfig, "tau" | "cutoff">, delimiter: string | undefined, stops: string[]): Piece {
    if (delimiter === undefined) {
        const i = firstDecision(s.tokens, config.tau, config.cutoff);
        if (i >= 0) {
            const tokens = s.tokens.slice(0, i + 1);
            // The decision token is also the last token when the engine stopped there itself.
            if (i + 1 < s.tokens.length || !["eos", "stop"].includes(s.finishReason))
                return {text: tokens.map((t) => t.text).join(""), tokens, end: "step"};
        }
        return {text: s.text, tokens: s.tokens, end: endOf(s)};
    }
    if (s.finishReason === "stop") {
        // A stop string ended it: the step delimiter unless the engine says another stop string did.
        const byDelimiter = s.stopString !== undefined ? s.stopString === delimiter : !stops.length || !stops.some((x) => x !== delimiter);
        if (byDelimiter) return {text: s.text + delimiter, tokens: s.tokens, end: "step"};
        return {text: s.text, tokens: s.tokens, end: "stop"};
    }
    return {text: s.text, tokens: s.tokens, end: endOf(s)};
}

function endOf(s: Sample): PieceEnd {
    const r = s.finishReason as string;
    if (r === "eos") return "eos";
    if (r === "stop") return "stop";
    if (r === "low-confidence") return "step";
    return "length";
}
