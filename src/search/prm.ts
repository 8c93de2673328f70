/**
 * The one score interface every decoder uses: {@link SearchPrm} over any stepwise
 * {@link StepScorer} (src/prm: a tag PRM in-process, a tag or classifier PRM served by vLLM or
 * `stepwise serve --prm`), with the per-problem cost counters ({@link Meter}) that
 * `stepwise decode` reports.
 *
 * Sharing the prefix: the candidates of one TVD decision (and the children of one beam) share
 * every step but the last. With `concurrency` 1 (the default, for in-process PRMs) they are scored
 * one after the other, so the llama engine hands each call the sequence whose KV cache already
 * holds the shared prefix and evaluates only the candidate and its tag (the first candidate pays
 * for the new part of the prefix once). With a larger `concurrency` (served PRMs: vLLM caches
 * prefixes itself) up to that many inputs are in flight at once. Over HTTP each input is one
 * pooling request: the Engine's pool() takes one input.
 *
 * Scorers that read all candidates of a decision from one pass (implicit PRMs, src/prm/implicit.ts:
 * one forward pass of the PRM and one of its reference) are asked once per decision
 * ({@link SearchPrm.scoreContinuations}): one PRM input, `requestsPerCall` requests, or one
 * when the policy's own reading stands in for the reference (src/prm/implicit.ts).
 */
import pLimit from "p-limit";
import type {StepScorer} from "../prm/scorer.ts";
import {isContextOverflow} from "../util/errors.ts";
import {scoresContinuations, type Continuation, type ReferenceReading, type ContinuationOptions} from "../prm/implicit.ts";

/** Cost counters of one problem (see DecodeResult). */
export class Meter {
    /** Policy tokens generated. */
    tokens = 0;
    /** PRM inputs scored. */
    prmCalls = 0;
    /** Policy generate calls plus PRM requests. */
    requests = 0;
}

export interface SearchPrmOptions {
    /** PRM inputs in flight at once. Default 1 (see the module docs); 8 suits a PRM server. */
    concurrency?: number;
}

export class SearchPrm {
    private readonly limit: ReturnType<typeof pLimit>;
    constructor(
        readonly scorer: StepScorer,
        options: SearchPrmOptions = {},
    ) {
        this.limit = pLimit(Math.max(1, options.concurrency ?? 1));
    }

    /** Score of every step of one solution (one PRM input). */
    async scoreSteps(question: string, steps: string[], meter: Meter): Promise<number[]> {
        if (steps.length === 0) return [];
        meter.prmCalls++;
        meter.requests++;
        return this.scorer.scoreSteps(question, steps);
    }

    /** Scores of every step of several solutions of one question, in order (`concurrency` at a time). */
    async scoreMany(question: string, solutions: string[][], meter: Meter): Promise<number[][]> {
        return Promise.all(solutions.map((steps) => this.limit(() => this.scoreSteps(question, steps, meter))));
    }

    /**
     * {@link scoreMany}, with `null` for each solution whose PRM input is longer than the PRM's
     * context (a ContextOverflowError of an in-process PRM, or a server's context-length 400: see
     * util/errors `isContextOverflow`); such an input still counts as a PRM call. Other errors
     * propagate. The decoders drop such candidates or end such beams unfinished (docs/decoding.md).
     */
    async tryScoreMany(question: string, solutions: string[][], meter: Meter): Promise<Array<number[] | null>> {
        return Promise.all(
            solutions.map((steps) =>
                this.limit(async () => {
                    try {
                        return await this.scoreSteps(question, steps, meter);
                    } catch (e) {
                        if (isContextOverflow(e)) return null;
                        throw e;
                    }
                }),
            ),
        );
    }

    /**
     * The last-step score of each continuation of a shared step prefix: input j is
     * `question + tagged(prefix…, lasts[j])`, the score read at the last tag. This is TVD's
     * "response so far + candidate + step tag" (AdaptiveStep §3.3), one PRM input per candidate.
     */
    async scoreLast(question: string, prefix: string[], lasts: string[], meter: Meter): Promise<number[]> {
        const rows = await this.scoreMany(
            question,
            lasts.map((last) => [...prefix, last]),
            meter,
        );
        return rows.map((r) => r[r.length - 1]);
    }

    /** Whether the decoding policy is the scorer's reference: TVD then passes its own reading ({@link ReferenceReading}). */
    get policyIsReference(): boolean {
        return scoresContinuations(this.scorer) && this.scorer.policyIsReference === true;
    }

    /** With {@link policyIsReference}: decisions where the policy's reading stood in for πref / where the reference model ran. */
    get referenceReadings(): {reused: number; run: number} | undefined {
        const s = this.scorer;
        return scoresContinuations(s) && s.policyIsReference === true ? s.referenceReadings : undefined;
    }

    /** Whether candidates of a decision are read from one pass ({@link scoreContinuations} is one call). */
    get readsContinuations(): boolean {
        return scoresContinuations(this.scorer);
    }

    /**
     * The score of "response so far + candidate" for each candidate: `steps` are the response's
     * steps so far, each candidate is appended to the last one (an empty last step when the
     * response ends at a step end). One call of a continuation scorer (one PRM input); otherwise
     * one input per candidate, `steps` with the candidate appended, the score read at the last tag.
     * `reference`: the decoding policy's own reading, passed to a continuation scorer whose
     * reference is the policy (src/prm/implicit.ts); the meter counts the requests it reports.
     * `values`: filled by a continuation scorer that reports them with each candidate's value (the
     * logit of its score, which does not saturate; {@link ContinuationOptions.values}); left empty otherwise.
     */
    async scoreContinuations(question: string, steps: string[], candidates: Continuation[], meter: Meter, reference?: ReferenceReading, values?: number[]): Promise<number[]> {
        if (scoresContinuations(this.scorer)) {
            meter.prmCalls++;
            const usage = {requests: Number.NaN};
            const scores = await this.scorer.scoreContinuations(question, steps, candidates, {reference, usage, values});
            // Scorers that count their requests say so; others are charged requestsPerCall.
            meter.requests += Number.isNaN(usage.requests) ? this.scorer.requestsPerCall : usage.requests;
            return scores;
        }
        const head = steps.slice(0, -1);
        const last = steps.at(-1) ?? "";
        return this.scoreLast(question, head, candidates.map((c) => last + c.text), meter);
    }

    async close(): Promise<void> {
        await this.scorer.close();
    }
}
