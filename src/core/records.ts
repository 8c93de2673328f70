/**
 * The JSONL records that move between pipeline stages. Every record has a stable `id` so a stage
 * can resume (skip ids already written) and records of different stages can be joined.
 */
import type {GeneratedToken} from "../engines/types.ts";
import type {StepSpan} from "../steps/index.ts";

/**
 * A generated token as sample files record it: text, id, confidence, and the top alternatives only
 * when they were asked for (`stepwise sample --top-logprobs K`; opt-in because nothing in the
 * pipeline reads them from files — they were 82% of samples.jsonl — while the viewer shows them
 * when present and TVD reads them from the engine at decode time).
 */
export type RecordedToken = Omit<GeneratedToken, "top"> & Partial<Pick<GeneratedToken, "top">>;

/** Tokens as recorded: an empty `top` list is left out. */
export function recordTokens(tokens: readonly GeneratedToken[]): RecordedToken[] {
    return tokens.map((t) => {
        if (t.top.length) return t;
        const {top, ...rest} = t;
        void top;
        return rest;
    });
}

/** One sampled solution (`stepwise sample`). id = `<question_id>#<sample_index>`. */
export interface SampleRecord {
    id: string;
    question_id: string;
    sample_index: number;
    question: string;
    /** The exact prompt text sent to the engine. */
    prompt: string;
    /** The generated text. */
    text: string;
    /** Every generated token with its confidence (and top alternatives when recorded; concatenated texts = text). */
    tokens: RecordedToken[];
    finish_reason: string;
    /** Gold answer from the input row, when it had one. */
    gold?: string;
    /** Engine spec and sampling settings that produced it. */
    engine: string;
    seed: number;
    temperature: number;
}

export function sampleId(questionId: string, index: number): string {
    return `${questionId}#${index}`;
}

/** One step of a split solution (src/steps {@link StepSpan}: text, character and token spans). Offsets let a step be re-tagged for any PRM format. */
export type Step = StepSpan;

/** A sample cut into steps (`stepwise split`). Same id as its SampleRecord. */
export interface StepsRecord extends Pick<SampleRecord, "id" | "question_id" | "sample_index" | "question" | "prompt" | "text" | "gold"> {
    /** Split strategy, e.g. "adaptive", "newline", "fixed:16". */
    strategy: string;
    /** Threshold τ used by the adaptive strategy. */
    tau?: number;
    steps: Step[];
}

/** Monte-Carlo labels of the steps of one sample (`stepwise label`). Same id as its StepsRecord. */
export interface LabelRecord extends StepsRecord {
    /** Hard label per step: 1 positive, 0 negative, null not labelled (after the first negative). */
    hard: Array<0 | 1 | null>;
    /** Soft label per step: fraction of rollouts that reached the gold answer; null if not estimated. */
    soft: Array<number | null>;
    /**
     * Rollouts that count and how many were correct, per step (0/0 when the step was not
     * estimated), and how many hit the token limit before an answer (`truncated`; absent in files
     * written before it was recorded). With `--truncated skip` those are not in n.
     */
    rollouts: Array<{n: number; correct: number; truncated?: number}>;
    /** Index of the first negative step, −1 when none. */
    first_negative: number;
    /** Cost of labelling this sample. */
    cost: {rollouts: number; generated_tokens: number; prefix_evaluations: number};
    /** The labelling settings, so files of different settings are never mixed on resume. */
    method: string;
    /** The engine spec that wrote the rollouts (`stepwise label --engine`), when known. */
    rollout_engine?: string;
}
