/**
 * Token-level Value-guided Decoding (TVD; AdaptiveStep, arXiv 2502.13943 §3.3, released code
 * Lux0926/ASPRM evaluation/{math,code}/TVD).
 *
 * Decode greedily. At a decision token — the greedy token's probability is below τ (released
 * code: `np.round(100·p, 2) < 55` for math, `< 28` for code; {@link SearchConfig.cutoff}) — take
 * the top-k tokens of that position's distribution (k = 8), score each as "response so far +
 * candidate + step tag" with the PRM, keep the candidate with the highest score, and continue
 * greedily from it.
 *
 * The PRM input is the question and the response cut into steps by src/steps at every earlier
 * decision token (the decision token ends its step; a whitespace decision token is a step of its
 * own), the candidate ending the last step: the steps `stepwise split --strategy adaptive` gives
 * the response's tokens at the same τ and cutoff. The candidate's score is the one read at the last tag.
 *
 * Round trips: the released code sends one policy request per generated token and one PRM request
 * per candidate. Here one generate call runs up to the next decision token
 * (`stopBelowConfidence`: native on the llama engine, chunk-and-cut on OpenAI servers); when the
 * PRM keeps the greedy token, the rest of an engine's chunk is the greedy continuation and is used
 * as is. The k candidates of a decision are scored concurrently (see ./prm.ts).
 *
 * The choice ({@link chooseCandidate}): the highest score, the greedy token on ties. An implicit
 * PRM's scores are σ(q) and round to exactly 1 for q above ≈ 36.7 (a long response, a large β);
 * its values q (the logits) then break the tie, and stand in for logit(score) under a prior weight.
 *
 * `codeBlocksOnly` restricts interventions to code: a decision token is intervened at only when
 * the response before it is inside code by {@link insideCode} (src/domains/code/extract.ts: an open
 * CommonMark fence, ``` or ~~~ at a line start; a prompt that ends inside an open block; or an
 * answer that reads as raw code from its first line). The decision tokens outside are still step
 * ends and are traced as "tvd-skip". Partial-character (byte) tokens and special tokens other
 * than end-of-sequence are never candidates ({@link usableCandidate}); the greedy token always is.
 *
 * End-of-sequence (released code: EOS is one of the top-k): when it is the greedy token the response
 * ends there (the engine stops); with `eosCandidate` (default) a top-k entry with empty text, the
 * first one, is scored as "response so far + step tag" and, if the PRM picks it, the response ends
 * there, finished (trace: the candidate's text ""). Continuation scorers (implicit PRMs) get no EOS
 * candidate.
 *
 * Released settings per domain ({@link TVD_DOMAIN_DEFAULTS}, `stepwise decode --domain`): the
 * request's prompt plus response is bounded by `maxTotalTokens` (1,024 math, 2,048 code; the prompt
 * counted with the policy's tokenizer); the code domain intervenes inside code only and gives the
 * PRM the whole prompt (`prmContext: "prompt"`) in place of the question.
 *
 * Context ends: when the prompt plus the response so far fills the policy's context, the
 * response ends there, unfinished (`context_end: "policy"`); candidates whose PRM input is longer
 * than the PRM's context get no score (trace score NaN, null in JSON) and are never chosen, and when no
 * candidate of a decision has a score the response ends before that decision token, unfinished
 * (`context_end: "prm"`). A question whose prompt alone fills the context stays an error.
 */
import type {GeneratedToken, GenerateRequest} from "../engines/types.ts";
import {insideCode} from "../domains/code/extract.ts";
import {isFinishedSolution, requirePrm, result} from "./common.ts";
import {isContextOverflow} from "../util/errors.ts";
import {Meter} from "./prm.ts";
import {blankRule, cutSpans, firstDecision, usableCandidate} from "../steps/index.ts";

export {usableCandidate};
import {decisionCutoff, resolveConfig, type TVD_DOMAIN_DEFAULTS, stepRuleOf, type DecodeResult, type SearchContext, type SearchProblem, type TraceEvent} from "./types.ts";

/**
 * What TVD maximises over the candidates: the PRM score alone (w = 0, the released rule), else
 * logit(score) + w·log p (the policy's probability of the candidate), see SearchConfig.priorWeight.
 * `values`: the scores' logits when the scorer reports them (implicit PRMs,
 * ContinuationOptions.values); they stand in for logit(score) with w > 0, which saturates once a
 * score rounds to 1.
 */
export function rankWith(w: number, scores: readonly number[], candidates: ReadonlyArray<{prob: number}>, values?: readonly number[]): number[] {
    if (w === 0) return [...scores];
    const clamp = (p: number) => Math.min(1 - 1e-15, Math.max(1e-15, p));
    const logit = (c: number) => (values && values.length === scores.length && !Number.isNaN(values[c]) ? values[c] : Math.log(clamp(scores[c])) - Math.log(1 - clamp(scores[c])));
    return scores.map((_, c) => logit(c) + w * Math.log(Math.max(1e-30, candidates[c].prob)));
}

/**
 * The candidate TVD keeps: the greedy one (index 0) unless another's rank beats it by more than
 * `margin`; the highest rank among those, the first of equals. Ranks that are exactly equal
 * (scores σ(q) that rounded to 1 or 0) are ordered by `values` (their logits) when given, so a
 * saturated scorer still separates its candidates; −Infinity ranks are never kept over the greedy one.
 */
export function chooseCandidate(rank: readonly number[], margin: number, values?: readonly number[]): number {
    const tie = values && values.length === rank.length ? (a: number, b: number) => rank[a] === rank[b] && values[a] > values[b] : () => false;
    let chosen = 0;
    for (let c = 1; c < rank.length; c++) {
        if (rank[c] === -Infinity) continue;
        const beatsGreedy = rank[c] > rank[0] + margin || (margin === 0 && tie(c, 0));
        if (beatsGreedy && (rank[c] > rank[chosen] || tie(c, chosen))) chosen = c;
    }
    return chosen;
}

/**
 * Whether one generate call may run to the token budget: engines stop at a decision token
 * themselves (llama: natively; OpenAI: the engine cuts its chunk). An engine without
 * capabilities.stopBelowConfidence (a third-party Engine implementation) gets chunks of
 * config.chunkTokens, cut here.
 */
function stopsBelowConfidence(ctx: SearchContext): boolean {
    return ctx.policy.capabilities.stopBelowConfidence !== undefined;
}

export async function tvd(problem: SearchProblem, ctx: SearchContext): Promise<DecodeResult> {
    const config = resolveConfig(ctx.config);
    const prm = requirePrm(ctx, "tvd");
    const meter = new Meter();
    const cutoff = decisionCutoff(config);
    const trace: TraceEvent[] = [];
    const tokens: Array<Pick<GeneratedToken, "text" | "confidence">> = [];
    // Token ends of the decisions so far: the step ends, cut by src/steps (stepwise split's rule).
    const cuts: number[] = [];
    const blank = blankRule(stepRuleOf(config, {adaptive: true}));
    const stepsWith = (candidate: string): string[] => {
        const texts = [...tokens.map((t) => t.text), candidate];
        return cutSpans(texts, cuts, blank).map(([a, b]) => texts.slice(a, b).join(""));
    };
    let text = "";
    let final = false;
    const push = (t: Pick<GeneratedToken, "text" | "confidence">) => {
        tokens.push(t);
        text += t.text;
    };
    const nativeStop = stopsBelowConfidence(ctx);
    let contextEnd: "policy" | "prm" | undefined;
    // The response's token bound: maxTokens, and maxTotalTokens less the prompt's tokens.
    const cap = config.maxTotalTokens > 0 ? Math.min(config.maxTokens, config.maxTotalTokens - (await ctx.policy.tokenize(problem.prompt)).length) : config.maxTokens;
    const prmQuestion = config.prmContext === "prompt" ? problem.prompt : problem.question;
    outer: while (!final && tokens.length < cap) {
        const budget = cap - tokens.length;
        const request: GenerateRequest = {
            prompt: problem.prompt + text,
            n: 1,
            temperature: 0,
            maxTokens: nativeStop ? budget : Math.min(budget, config.chunkTokens),
            stop: config.stop,
            topLogprobs: config.topK,
            stopBelowConfidence: cutoff,
        };
        let s;
        try {
            [s] = await ctx.policy.generate(request);
        } catch (e) {
            // The response reached the policy's context end: it ends here, unfinished.
            if (text === "" || !isContextOverflow(e)) throw e;
            meter.requests++;
            contextEnd = "policy";
            break;
        }
        meter.requests++;
        meter.tokens += s.tokens.length;
        const ended = s.finishReason === "eos" || s.finishReason === "stop";
        let pos = 0;
        for (;;) {
            const rel = firstDecision(s.tokens.slice(pos), config.tau, config.cutoff);
            if (rel < 0) {
                for (const t of s.tokens.slice(pos)) push(t);
                final = ended;
                continue outer;
            }
            const j = pos + rel;
            for (const t of s.tokens.slice(pos, j)) push(t);
            const t = s.tokens[j];
            // End-of-sequence (empty text) is a candidate once (eosCandidate; not for continuation scorers).
            const eosOk = config.eosCandidate && !prm.readsContinuations;
            const candidates = t.top
                .slice(0, config.topK)
                .filter((c, k, all) => k === 0 || ((usableCandidate(c.text) || (eosOk && c.text === "" && all.findIndex((a) => a.text === "") === k)) && c.prob >= config.minCandidateProb));
            let chosen = 0;
            let chosenToken: Pick<GeneratedToken, "text" | "confidence"> = {text: t.text, confidence: t.confidence};
            if (config.codeBlocksOnly && !insideCode(text, {prompt: problem.prompt})) {
                trace.push({type: "tvd-skip", position: tokens.length, greedy_prob: t.confidence});
            } else if (candidates.length > 1) {
                // A continuation scorer (implicit PRM) reads every candidate from one pass over the
                // response so far (given the policy's own probabilities when the policy is its
                // reference); a tag PRM scores each candidate's input (null: longer than its context).
                const values: number[] = [];
                const scores: Array<number | null> = prm.readsContinuations
                    ? await prm.scoreContinuations(prmQuestion, stepsWith(""), candidates, meter, prm.policyIsReference ? {prompt: problem.prompt, tokens: tokens.map((x) => ({text: x.text, prob: x.confidence})), candidates: candidates.map((c) => c.prob)} : undefined, values)
                    : (await prm.tryScoreMany(prmQuestion, candidates.map((c) => stepsWith(c.text)), meter)).map((r) => (r ? r[r.length - 1] : null));
                // No candidate's PRM input fits the PRM's context: the response ends before this token.
                if (scores.every((x) => x === null)) {
                    contextEnd = "prm";
                    break outer;
                }
                const rank = rankWith(config.priorWeight, scores.map((x) => x ?? NaN), candidates, values).map((r, c) => (scores[c] === null ? -Infinity : r));
                chosen = chooseCandidate(rank, config.scoreMargin, values);
                trace.push({
                    type: "tvd",
                    position: tokens.length,
                    offset: text.length,
                    greedy_prob: t.confidence,
                    candidates: candidates.map((c, k) => ({text: c.text, prob: c.prob, score: scores[k] ?? NaN, ...(values.length === candidates.length ? {value: values[k]} : {})})),
                    chosen,
                });
                // The PRM picked end-of-sequence: the response ends here, finished.
                if (candidates[chosen].text === "") {
                    final = true;
                    break outer;
                }
                chosenToken = {text: candidates[chosen].text, confidence: candidates[chosen].prob};
                // A greedy token missing from the top list (ties) is replaced by the best candidate.
                if (candidates[chosen].text !== t.text) chosen = -1;
            }
            push(chosenToken);
            cuts.push(tokens.length);
            if (chosen === -1) continue outer; // the engine's continuation no longer applies
            pos = j + 1;
            if (pos >= s.tokens.length) {
                final = ended;
                continue outer;
            }
        }
    }
    return result("tvd", text, isFinishedSolution(text, !final), meter, trace, ctx, {...(contextEnd ? {context_end: contextEnd} : {}), response_tokens: tokens.map((t) => ({text: t.text, confidence: t.confidence}))});
}
