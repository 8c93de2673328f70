/**
 * `POST /get_reward`: a process reward for RL trainers, in the shape of OpenRLHF's remote reward
 * model API (openrlhf/cli/serve_rm.py, and the client in openrlhf/utils/agent.py
 * `SingleTurnAgentExecutor._fetch_rewards_via_http`, read at OpenRLHF 3c3be62, 2026-08-13).
 *
 * Request (JSON): `{query: string[], prompts?: string[] | null, labels?: unknown[] | null}`.
 * OpenRLHF sends, per sample, `{"query": [q], "prompts": [p], "labels": [label]}` where q is the
 * tokenizer's decode of prompt + response tokens (special tokens kept, so an EOS text such as
 * `</s>` or `<|im_end|>` may end it) and p the prompt text; with several reward URLs the list is
 * sharded, so a server can get empty lists. Older clients batch many queries in one request.
 * A bare string `query` is taken as a list of one. `labels` are accepted and not used.
 *
 * For each query: the response is the query after its prompt (`prompts[i]`, or a prompt the
 * trainer cut from the left: the query then begins with the prompt's end, at least
 * {@link MIN_TRUNCATED_OVERLAP} characters of it; without `prompts`, everything up to the first
 * `promptEnd`); end-of-sequence texts ({@link RewardConfig.eos}) are stripped from its end; it
 * is cut into steps by the PRM's rule (src/steps: a delimiter, or adaptively after every token
 * the policy was unsure of); the PRM scores every step, and the steps' scores are aggregated
 * (src/select/aggregate.ts) into the reward. A response with no step (empty) gets 0.
 *
 * Response: `{rewards, scores, extra_logs, step_scores}`: `rewards` and `scores` the aggregated
 * score per query (as serve_rm.py, both the same number), `extra_logs` per-query numbers only
 * (OpenRLHF turns every value into a tensor per sample and averages it in its logs: `prm_steps`
 * the number of steps, `prm_min_step` the lowest step score, `prompt_truncated` 1 when the prompt
 * was found cut from the left, `prm_too_long` 1 for a query longer than the PRM's context, scored
 * {@link RewardConfig.tooLongReward}; without that option such a query is a 400 naming it), and `step_scores` every step's score (a field OpenRLHF ignores).
 *
 * Errors are the server's OpenAI error objects; a query at fault names itself (`query.3: …`).
 */
import pLimit from "p-limit";
import {z} from "zod";
import {requireFacet, type Engine} from "../../engines/types.ts";
import type {StepScorer} from "../../prm/scorer.ts";
import {aggregate, type Aggregation} from "../../select/aggregate.ts";
import {splitStepTexts, type Cutoff} from "../../steps/index.ts";
import {StepwiseError, isContextOverflow} from "../../util/errors.ts";
import {HttpError, type RequestLimits} from "./requests.ts";

/** End-of-sequence texts stripped from the end of a response by default (a decode with special tokens keeps them). */
export const DEFAULT_EOS_TEXTS: readonly string[] = ["</s>", "<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<|end|>", "<｜end▁of▁sentence｜>"];

/** Shortest end of a prompt accepted at the start of a query whose prompt was cut from the left (characters). */
export const MIN_TRUNCATED_OVERLAP = 32;

/** Where a response's steps end: after every occurrence of a delimiter, or adaptively (after each token the policy gave probability below τ). */
export type RewardSteps = {kind: "delimiter"; text: string} | {kind: "adaptive"; tau: number; cutoff?: Cutoff; policy: Engine};

/**
 * Each PRM format's own step rule, as its training data was cut: Math-Shepherd one step per line
 * ("\n"), Qwen2.5-Math-PRM on "\n\n" (its card), ASPRM and the stepwise lab PRM (trained on
 * `stepwise split` adaptive steps) after decision tokens. A format not listed has no default.
 */
export const FORMAT_STEPS: Readonly<Record<string, "adaptive" | {delimiter: string}>> = {
    "math-shepherd": {delimiter: "\n"},
    "qwen-prm": {delimiter: "\n\n"},
    asprm: "adaptive",
    "stepwise-lab": "adaptive",
};

export interface RewardConfig {
    /** The PRM (src/prm createScorer). */
    scorer: StepScorer;
    /** How step scores become one reward (min, product, last, mean, max). */
    aggregation: Aggregation;
    /** The step rule (see {@link RewardSteps}); adaptive needs a policy engine with promptLogprobs. */
    steps: RewardSteps;
    /** For queries sent without `prompts`: the prompt ends after the first occurrence of this text. Default none (such queries are a 400). */
    promptEnd?: string;
    /** The question given to the PRM: the first capture group of this pattern on the prompt. Default: the prompt with surrounding whitespace trimmed. */
    question?: RegExp;
    /** Texts stripped (repeatedly) from the end of a response. Default {@link DEFAULT_EOS_TEXTS}. */
    eos?: readonly string[];
    /** Queries of one request scored at once. Default 4. */
    concurrency?: number;
    /**
     * The reward of a query longer than the PRM's context (`extra_logs.prm_too_long` 1, no step
     * scores). Default none: the whole request is a 400 naming the query (an RL trainer that gets
     * it retries, then stops).
     */
    tooLongReward?: number;
}

/** The per-query result of {@link scoreQuery}. */
export interface QueryReward {
    reward: number;
    stepScores: number[];
    steps: string[];
    promptTruncated: boolean;
    /** Longer than the PRM's context, scored {@link RewardConfig.tooLongReward}. */
    tooLong?: boolean;
}

const rewardSchema = z.object({
    query: z.union([z.string(), z.array(z.string())], {error: "expected a string or a list of strings (the decoded prompt + response of each sample)"}).transform((q) => (typeof q === "string" ? [q] : q)),
    prompts: z
        .union([z.string(), z.array(z.string())])
        .nullish()
        .transform((p) => (p == null ? undefined : typeof p === "string" ? [p] : p)),
    labels: z.unknown().optional(),
});

/** Validate a /get_reward body (400s name the field, as every serve route's do). */
export function parseRewardRequest(body: unknown, limits: Pick<RequestLimits, "maxPrompts">): {queries: string[]; prompts?: string[]} {
    const r = rewardSchema.safeParse(body);
    if (!r.success) {
        const issue = r.error.issues[0];
        const param = issue.path.join(".") || null;
        throw new HttpError(400, `${param ?? "body"}: ${issue.message}`, param);
    }
    const {query, prompts} = r.data;
    if (query.length > limits.maxPrompts) throw new HttpError(400, `query: at most ${limits.maxPrompts} queries per request, got ${query.length}`, "query");
    if (prompts && prompts.length !== query.length)
        throw new HttpError(400, `prompts: ${prompts.length} prompts for ${query.length} queries; give one prompt per query, or none`, "prompts");
    return {queries: query, prompts};
}

/**
 * Length of the longest prefix of `query` that is a suffix of `prompt` (what is left of a prompt
 * cut from the left), by Knuth–Morris–Pratt: linear in the two lengths.
 */
export function truncatedPromptOverlap(prompt: string, query: string): number {
    const p = query.slice(0, prompt.length);
    if (p.length === 0) return 0;
    const fail = new Array<number>(p.length).fill(0);
    for (let i = 1, k = 0; i < p.length; i++) {
        while (k > 0 && p[i] !== p[k]) k = fail[k - 1];
        if (p[i] === p[k]) k++;
        fail[i] = k;
    }
    let j = 0;
    for (let i = 0; i < prompt.length; i++) {
        while (j > 0 && (j === p.length || prompt[i] !== p[j])) j = fail[j - 1];
        if (prompt[i] === p[j]) j++;
    }
    return j;
}

/**
 * Split one query into prompt and response (see the module docs). Throws an HttpError naming
 * `query.i` when the prompt cannot be found.
 */
export function splitQuery(query: string, prompt: string | undefined, promptEnd: string | undefined, i: number): {prompt: string; response: string; promptTruncated: boolean} {
    const param = `query.${i}`;
    if (prompt !== undefined) {
        if (query.startsWith(prompt)) return {prompt, response: query.slice(prompt.length), promptTruncated: false};
        const overlap = truncatedPromptOverlap(prompt, query);
        if (overlap >= MIN_TRUNCATED_OVERLAP) return {prompt, response: query.slice(overlap), promptTruncated: true};
        throw new HttpError(400, `${param}: does not begin with prompts.${i} (nor with the last ${MIN_TRUNCATED_OVERLAP}+ characters of it, as when a trainer cuts a long prompt from the left)`, param);
    }
    if (promptEnd === undefined)
        throw new HttpError(400, `prompts: this server needs each query's prompt to find the response in it (send "prompts", or start stepwise serve with --prompt-end TEXT)`, "prompts");
    const at = query.indexOf(promptEnd);
    if (at < 0) throw new HttpError(400, `${param}: no prompts given and the query has no ${JSON.stringify(promptEnd)} (the end of the prompt, --prompt-end)`, param);
    const end = at + promptEnd.length;
    return {prompt: query.slice(0, end), response: query.slice(end), promptTruncated: false};
}

/** `text` without the end-of-sequence texts at its end (stripped again while one is left). */
export function stripEos(text: string, eos: readonly string[]): string {
    let out = text;
    for (let again = true; again; ) {
        again = false;
        for (const e of eos)
            if (e !== "" && out.endsWith(e)) {
                out = out.slice(0, -e.length);
                again = true;
            }
    }
    return out;
}

/**
 * The response's tokens as the policy wrote them, each with its probability under `policy`:
 * prompt and response are tokenized apart (as the policy generated the response after the
 * prompt's tokens) and read in one promptLogprobs pass. Token texts come from the engine; when
 * they do not concatenate to the response (a character split over tokens), from decoding each
 * prefix. A StepwiseError when neither reproduces the response.
 */
export async function responseTokens(policy: Engine, prompt: string, response: string, signal?: AbortSignal): Promise<Array<{text: string; confidence: number}>> {
    if (response === "") return [];
    const engine = requireFacet(policy, "promptLogprobs", "adaptive steps in /get_reward (the policy's confidence of each response token)");
    const p = await engine.tokenize(prompt);
    const r = await engine.tokenize(response, {addBos: false});
    const lp = await engine.promptLogprobs([...p, ...r], {topK: 0, signal});
    const entries = lp.slice(p.length);
    let texts = entries.map((e) => e?.text ?? "");
    if (texts.join("") !== response) {
        texts = [];
        let before = "";
        for (let k = 1; k <= r.length; k++) {
            const now = await engine.detokenize(r.slice(0, k));
            texts.push(now.startsWith(before) ? now.slice(before.length) : "");
            before = now;
        }
        if (texts.join("") !== response) throw new StepwiseError(`the policy's tokens of the response do not decode to its text; cut steps with a delimiter instead of adaptively`);
    }
    // Entry 0 of promptLogprobs is null (nothing predicts the first token); a response token always has a predecessor (at least BOS or the prompt).
    return texts.map((text, k) => ({text, confidence: entries[k]?.prob ?? 1}));
}

/** The steps of one response under the configured rule (src/steps). */
export async function rewardSteps(steps: RewardSteps, prompt: string, response: string, signal?: AbortSignal): Promise<string[]> {
    if (steps.kind === "delimiter") {
        // One "token" per character: a step ends right after each delimiter, as `stepwise split` cuts on characters.
        const tokens = [...response].map((text) => ({text, confidence: 1}));
        return splitStepTexts({text: response, tokens}, {kind: "delimiter", text: steps.text});
    }
    const tokens = await responseTokens(steps.policy, prompt, response, signal);
    return splitStepTexts({text: response, tokens}, {kind: "adaptive", tau: steps.tau, cutoff: steps.cutoff});
}

/** The question the PRM reads, from a prompt (see {@link RewardConfig.question}). */
export function questionOf(prompt: string, pattern: RegExp | undefined, i: number): string {
    if (!pattern) return prompt.trim();
    const m = pattern.exec(prompt);
    if (!m || m[1] === undefined) throw new HttpError(400, `prompts.${i}: does not match the question pattern ${pattern} (--question; its first group is the question)`, `prompts.${i}`);
    return m[1].trim();
}

/** Reward of one query (see the module docs). */
export async function scoreQuery(config: RewardConfig, query: string, prompt: string | undefined, i: number, signal?: AbortSignal): Promise<QueryReward> {
    const split = splitQuery(query, prompt, config.promptEnd, i);
    const question = questionOf(split.prompt, config.question, i);
    const response = stripEos(split.response, config.eos ?? DEFAULT_EOS_TEXTS);
    const steps = await rewardSteps(config.steps, split.prompt, response, signal);
    const stepScores = steps.length ? await config.scorer.scoreSteps(question, steps) : [];
    return {reward: aggregate(stepScores, config.aggregation), stepScores, steps, promptTruncated: split.promptTruncated};
}

/**
 * The /get_reward answer for a parsed request. `checkLength(text, param)` refuses a text that
 * certainly exceeds the context before any tokenizing (the server's check). A StepwiseError of
 * one query (too long for the PRM, tokens that merge with the tag) is a 400 naming it.
 */
export async function answerRewardRequest(
    config: RewardConfig,
    req: {queries: string[]; prompts?: string[]},
    options: {checkLength?: (text: string, param: string) => void; signal?: AbortSignal} = {},
) {
    const tooLong = config.tooLongReward;
    const tooLongResult = (): QueryReward => ({reward: tooLong!, stepScores: [], steps: [], promptTruncated: false, tooLong: true});
    const hint = tooLong === undefined ? " (--too-long-reward R gives such a query the reward R instead of failing the request)" : "";
    // The cheap length check first (a multi-megabyte query is refused before it is tokenized).
    const certainlyLong = req.queries.map((q, i) => {
        try {
            options.checkLength?.(q, `query.${i}`);
            return false;
        } catch (e) {
            if (!(e instanceof HttpError)) throw e;
            if (tooLong === undefined) throw new HttpError(e.status, `${e.message}: the PRM's context${hint}`, e.param);
            return true;
        }
    });
    const limit = pLimit(Math.max(1, config.concurrency ?? 4));
    const results = await Promise.all(
        req.queries.map((q, i) =>
            limit(async () => {
                if (certainlyLong[i]) return tooLongResult();
                try {
                    return await scoreQuery(config, q, req.prompts?.[i], i, options.signal);
                } catch (e) {
                    if (tooLong !== undefined && isContextOverflow(e)) return tooLongResult();
                    if (e instanceof StepwiseError && (e.name === "StepwiseError" || e.name === "ContextOverflowError")) throw new HttpError(400, `query.${i}: ${e.message}${isContextOverflow(e) ? hint : ""}`, `query.${i}`);
                    throw e;
                }
            }),
        ),
    );
    const rewards = results.map((r) => r.reward);
    return {
        rewards,
        scores: rewards,
        extra_logs: {
            prm_steps: results.map((r) => r.steps.length),
            prm_min_step: results.map((r) => aggregate(r.stepScores, "min")),
            prompt_truncated: results.map((r) => (r.promptTruncated ? 1 : 0)),
            prm_too_long: results.map((r) => (r.tooLong ? 1 : 0)),
        },
        step_scores: results.map((r) => r.stepScores),
    };
}
