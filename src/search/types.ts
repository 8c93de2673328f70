/**
 * Decoding with a PRM: the shared types and defaults of every search strategy.
 *
 * A strategy is a function `(problem, {policy, prm, config}) → DecodeResult`:
 * - `policy`: an {@link Engine} that generates (llama in-process or an OpenAI-compatible server);
 * - `prm`: a {@link SearchPrm}, the one score interface every PRM sits behind (./prm.ts);
 * - `config`: {@link SearchConfig}, the strategy's knobs with defaults from the papers
 *   ({@link DEFAULT_SEARCH_CONFIG}).
 *
 * Every strategy returns the same {@link DecodeResult} (one `stepwise decode` record) and a trace
 * of what it did, so results of different strategies join on `id` and compare.
 */
import type {z} from "zod";
import type {Engine} from "../engines/types.ts";
import type {BeamIterationSchema, CandidateTraceSchema, DecodeResultSchema, TraceEventSchema, TvdInterventionSchema, TvdSkipSchema} from "../core/schemas.ts";
import type {AnswerGrader} from "../grade/grader.ts";
import type {Aggregation} from "../select/aggregate.ts";
import type {SearchPrm} from "./prm.ts";
import {decisionBound, type Cutoff, type StepRule} from "../steps/index.ts";

/** One question to decode. */
export interface SearchProblem {
    /** Stable id (the data set's id). */
    id: string;
    /** The question, as the PRM sees it. */
    question: string;
    /** The exact policy prompt (question rendered through the template / chat template). */
    prompt: string;
    /** Gold answer text when known (a bare answer, or a whole solution such as GSM8K's `… #### N`). */
    gold?: string;
}

/** Where a step ends: after a decision token (confidence < τ, AdaptiveStep) or at a delimiter string. */
export type StepEnd = {kind: "adaptive"} | {kind: "delimiter"; text: string};

export interface SearchConfig {
    /** Most policy tokens per solution (the whole response). Default 256. */
    maxTokens: number;
    /** Stop strings that end a whole solution (not a step). Default none. */
    stop: string[];
    /**
     * Decision threshold τ on the top-1 (greedy) or sampled token's raw probability. Default 0.55
     * (the released TVD value for math; 0.28 for code), or τ from `stepwise threshold`.
     */
    tau: number;
    /**
     * How p is compared with τ (src/steps/cutoff.ts): `"percent2"` as the released TVD code,
     * `np.round(100·p, 2) < 100·τ` (two-decimal percents, halves to even: at τ = 0.55, p = 0.5499
     * is a decision and p = 0.54995 is not); `"raw"` p < τ, as `stepwise split` compares. Default
     * "percent2" (the released settings); `stepwise decode --threshold FILE` uses "raw".
     */
    cutoff: Cutoff;
    /** TVD: candidate tokens scored at each decision token (top-k of the raw distribution). Default 8. */
    topK: number;
    /**
     * TVD: candidates less likely than this are not scored (the greedy token always is). Default 0:
     * all top-k, as the released code does.
     */
    minCandidateProb: number;
    /**
     * TVD: keep the greedy token unless another candidate's PRM score beats it by more than this
     * margin. Default 0 (the released code takes the argmax).
     */
    scoreMargin: number;
    /**
     * TVD: weight w of the policy's own log-probability in the choice: the candidate with the
     * highest logit(score) + w·log p(candidate) is kept (ties and the margin as before). Default 0:
     * the PRM score alone, as the released code. With an implicit PRM (logit(score) =
     * q + β·log πθ(c)/πref(c)) and its reference as the policy, w = β ranks by πθ itself.
     */
    priorWeight: number;
    /**
     * TVD: only intervene inside code (`insideCode` of src/domains/code/extract.ts: an open ``` or ~~~ fence
     * at a line start, or an answer that reads as raw code), as the released code domain does. Default false.
     */
    codeBlocksOnly: boolean;
    /**
     * TVD: most tokens of prompt plus response (the released code stops a request at 1,024 for
     * math, 2,048 for code: {@link TVD_DOMAIN_DEFAULTS}); the prompt is counted with the policy's
     * tokenizer and the response gets at most maxTotalTokens − prompt tokens (and maxTokens).
     * Default 0: no total bound, only maxTokens.
     */
    maxTotalTokens: number;
    /**
     * TVD: end-of-sequence among the top-k is a candidate, as in the released code: a top-k entry
     * with empty text (how engines report EOS; another special token reads the same) is scored as
     * the response so far, ending, and if the PRM picks it the response ends there, finished.
     * Default true. False: only text tokens are candidates (EOS can still end the response as the
     * greedy token).
     */
    eosCandidate: boolean;
    /**
     * TVD: what the PRM input starts with: the problem's question (`"question"`, default, the
     * released math layout) or the whole policy prompt, template included (`"prompt"`, the
     * released code layout). The PRM format lays the rest out (src/prm/formats.ts).
     */
    prmContext: "question" | "prompt";
    /** TVD with an engine without native `stopBelowConfidence`: tokens per generate call. Default 64. */
    chunkTokens: number;
    /** Samples (Best-of-N, weighted vote) or beams/expansions budget (beam search, DVTS). Default 8. */
    n: number;
    /** Beam search and DVTS: beam width M (search-and-learn's default 4). */
    beamWidth: number;
    /** Beam search and DVTS: most step iterations (search-and-learn's num_iterations, 40). */
    maxSteps: number;
    /**
     * Beam search and DVTS: how a beam's step scores rank it, for the survivors of each beam
     * iteration, DVTS's best child, and the final pick. Default "last" (search-and-learn's
     * agg_strategy: the PRM's value of the prefix).
     */
    beamAggregation: Aggregation;
    /**
     * Beam search: when it ends. `"all-done"` (default, search-and-learn): when no beam is active
     * (or after maxSteps iterations). `"n-completed"`: as soon as N beams completed, which picks
     * the same answer with fewer tokens unless sortCompleted (only the first N completed count).
     */
    beamStop: "all-done" | "n-completed";
    /**
     * Beam search: the final pool is the first N completed beams in completion order (false,
     * default: search-and-learn's sort_completed=False) or the N best completed by beamAggregation
     * (true: sort_completed=True).
     */
    sortCompleted: boolean;
    /**
     * DVTS: the final pool. `"siblings"` (default, search-and-learn): all M children of each
     * subtree's last expansion (N candidates); `"best"`: the child each subtree kept (N / M).
     */
    dvtsPool: "siblings" | "best";
    /** Where a step ends for beam search, DVTS and for splitting Best-of-N candidates into steps. Default adaptive. */
    stepEnd: StepEnd;
    /** Sampling temperature of the sampling strategies (search-and-learn's 0.8). */
    temperature: number;
    /** Nucleus mass of the sampling strategies. Default 1. */
    topP: number;
    /** Best-of-N ranking rule (beam search / DVTS: beamAggregation). Default mean (best on the lab, docs/lab-results.md). */
    aggregation: Aggregation;
    /** PRM-weighted vote weight rule. Default product (the Qwen paper's default). */
    voteAggregation: Aggregation;
    /** Let Best-of-N / vote / beam pick an unfinished candidate (no final answer). Default false. */
    allowUnfinished: boolean;
    /** Base seed; each problem derives its own from it and its id. Default 0. */
    seed: number;
}

/** Defaults: TVD's released settings, search-and-learn's beam settings (see each field). */
export const DEFAULT_SEARCH_CONFIG: Readonly<SearchConfig> = {
    maxTokens: 256,
    stop: [],
    tau: 0.55,
    cutoff: "percent2",
    topK: 8,
    minCandidateProb: 0,
    scoreMargin: 0,
    priorWeight: 0,
    codeBlocksOnly: false,
    maxTotalTokens: 0,
    eosCandidate: true,
    prmContext: "question",
    chunkTokens: 64,
    n: 8,
    beamWidth: 4,
    maxSteps: 40,
    beamAggregation: "last",
    beamStop: "all-done",
    sortCompleted: false,
    dvtsPool: "siblings",
    stepEnd: {kind: "adaptive"},
    temperature: 0.8,
    topP: 1,
    aggregation: "mean",
    voteAggregation: "product",
    allowUnfinished: false,
    seed: 0,
};

/** The released TVD thresholds per domain (AdaptiveStep code: 55 for math, 28 for code, in percent). */
export const TVD_DOMAIN_TAU: Readonly<Record<"math" | "code", number>> = {math: 0.55, code: 0.28};

/**
 * The released TVD settings per domain (Lux0926/ASPRM evaluation/{math,code}/TVD): τ, the total
 * token bound of a request (prompt + response), whether only code is intervened at, and what the
 * PRM input starts with (math: the question; code: the whole prompt, code template included).
 * What `stepwise decode --domain` sets; explicit flags override each.
 */
export const TVD_DOMAIN_DEFAULTS: Readonly<Record<"math" | "code", Pick<SearchConfig, "tau" | "maxTotalTokens" | "codeBlocksOnly" | "prmContext">>> = {
    math: {tau: TVD_DOMAIN_TAU.math, maxTotalTokens: 1024, codeBlocksOnly: false, prmContext: "question"},
    code: {tau: TVD_DOMAIN_TAU.code, maxTotalTokens: 2048, codeBlocksOnly: true, prmContext: "prompt"},
};

/** What a strategy needs besides the problem. */
export interface SearchContext {
    policy: Engine;
    /** Required by every strategy except greedy. */
    prm?: SearchPrm;
    config?: Partial<SearchConfig>;
    /** Final-answer extraction and equivalence (default: the project's grader, src/grade). */
    grader?: AnswerGrader;
}

/** One TVD intervention: a decision token and what the PRM made of its candidates (schema: core/schemas.ts). */
export type TvdIntervention = z.output<typeof TvdInterventionSchema>;

/** One decision token TVD did not intervene at (codeBlocksOnly and outside a code block). */
export type TvdSkip = z.output<typeof TvdSkipSchema>;

/** One iteration of beam search / DVTS: the candidates scored and which survived. */
export type BeamIteration = z.output<typeof BeamIterationSchema>;

/** Best-of-N / weighted vote: every sampled candidate with its score and answer. */
export type CandidateTrace = z.output<typeof CandidateTraceSchema>;

export type TraceEvent = z.output<typeof TraceEventSchema>;

/** The result of one strategy on one problem (a `stepwise decode` record without id/correct; schema: core/schemas.ts). */
export type DecodeResult = z.output<typeof DecodeResultSchema>;

/** The strategies by name. */
export const STRATEGIES = ["greedy", "tvd", "best-of-n", "weighted-vote", "beam", "dvts"] as const;
export type StrategyName = (typeof STRATEGIES)[number];

export type Strategy = (problem: SearchProblem, context: SearchContext) => Promise<DecodeResult>;

/** Resolve a partial config against the defaults, validating ranges (StepwiseError-free: RangeError names the field). */
export function resolveConfig(config: Partial<SearchConfig> = {}): SearchConfig {
    const c: SearchConfig = {...DEFAULT_SEARCH_CONFIG, ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined))};
    const int = (name: keyof SearchConfig, min: number) => {
        const v = c[name] as number;
        if (!Number.isInteger(v) || v < min) throw new RangeError(`search config ${name} must be an integer ≥ ${min}, got ${v}`);
    };
    int("maxTokens", 1);
    int("topK", 1);
    int("chunkTokens", 1);
    int("maxTotalTokens", 0);
    if (c.prmContext !== "question" && c.prmContext !== "prompt") throw new RangeError(`search config prmContext must be "question" or "prompt", got ${JSON.stringify(c.prmContext)}`);
    int("n", 1);
    int("beamWidth", 1);
    int("maxSteps", 1);
    if (!(c.tau >= 0 && c.tau <= 1)) throw new RangeError(`search config tau must be in [0, 1], got ${c.tau}`);
    if (!(c.priorWeight >= 0 && Number.isFinite(c.priorWeight))) throw new RangeError(`search config priorWeight must be a finite number ≥ 0, got ${c.priorWeight}`);
    if (!(c.temperature >= 0)) throw new RangeError(`search config temperature must be ≥ 0, got ${c.temperature}`);
    if (c.beamStop !== "all-done" && c.beamStop !== "n-completed") throw new RangeError(`search config beamStop must be "all-done" or "n-completed", got ${JSON.stringify(c.beamStop)}`);
    if (c.dvtsPool !== "siblings" && c.dvtsPool !== "best") throw new RangeError(`search config dvtsPool must be "siblings" or "best", got ${JSON.stringify(c.dvtsPool)}`);
    if (c.cutoff !== "raw" && c.cutoff !== "percent2") throw new RangeError(`search config cutoff must be "raw" or "percent2", got ${JSON.stringify(c.cutoff)}`);
    if (c.stepEnd.kind === "delimiter" && c.stepEnd.text === "") throw new RangeError("search config stepEnd delimiter must not be empty");
    return c;
}

/**
 * The probability below which a token is a decision token: τ compared under config.cutoff,
 * as one raw bound b (p is a decision ⇔ p < b; src/steps decisionBound). What engines get as
 * `stopBelowConfidence`.
 */
export function decisionCutoff(c: Pick<SearchConfig, "tau" | "cutoff">): number {
    return decisionBound(c.tau, c.cutoff);
}

/**
 * Where the decoders cut a response into steps, as a src/steps rule: adaptive (after each decision
 * token under τ and config.cutoff) or a delimiter, with src/steps' whitespace rule (a whitespace
 * decision token is kept as a step, blank delimiter steps merge), the rule `stepwise split` applies.
 * TVD always cuts adaptively.
 */
export function stepRuleOf(c: Pick<SearchConfig, "tau" | "cutoff" | "stepEnd">, options: {adaptive?: boolean} = {}): StepRule {
    return c.stepEnd.kind === "delimiter" && !options.adaptive ? {kind: "delimiter", text: c.stepEnd.text} : {kind: "adaptive", tau: c.tau, cutoff: c.cutoff};
}
