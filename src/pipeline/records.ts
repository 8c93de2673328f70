/**
 * The JSONL records that move between pipeline stages. Every record has a stable `id` so a stage
 * can resume (skip ids already written) and records of different stages can be joined.
 */
import type {GeneratedToken} from "../engines/types.ts";

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
    /** Every generated token with its confidence and top alternatives (concatenated texts = text). */
    tokens: GeneratedToken[];
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
