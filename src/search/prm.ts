/**
 * The one score interface every decoder uses: {@link SearchPrm} over any stepwise
 * {@link StepScorer} (src/prm: a tag PRM in-process, a tag or classifier PRM served by vLLM or
 * `stepwise serve --prm`), with the per-problem cost counters ({@link Meter}) that
 * `stepwise decode` reports.
 *
 * Batching: the candidates of one TVD decision share every step but the last; on the llama
 * engine their PRM inputs run concurrently on the engine's sequences (node-llama-cpp decodes them
 * in one batch) and each sequence reuses the KV cache of the shared prefix it already holds, so
 * only the new tokens are evaluated. Over HTTP each candidate is one pooling request (sent
 * concurrently): the Engine's pool() takes one input.
 */
import type {StepScorer} from "../prm/scorer.ts";

/** Cost counters of one problem (see DecodeResult). */
export class Meter {
    /** Policy tokens generated. */
    tokens = 0;
    /** PRM inputs scored. */
    prmCalls = 0;
    /** Policy generate calls plus PRM requests. */
    requests = 0;
}

export class SearchPrm {
    constructor(readonly scorer: StepScorer) {}

    /** Score of every step of one solution (one PRM input). */
    async scoreSteps(question: string, steps: string[], meter: Meter): Promise<number[]> {
        if (steps.length === 0) return [];
        meter.prmCalls++;
        meter.requests++;
        return this.scorer.scoreSteps(question, steps);
    }

    /** Scores of every step of several solutions of one question, scored concurrently. */
    async scoreMany(question: string, solutions: string[][], meter: Meter): Promise<number[][]> {
        return Promise.all(solutions.map((steps) => this.scoreSteps(question, steps, meter)));
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

    async close(): Promise<void> {
        await this.scorer.close();
    }
}
