/**
 * Reading samples for the split, stats and analysis stages, checked against the sample schema
 * (core/schemas.ts {@link SampleInputSchema}), so that errors name the file, line and field of the
 * first problem (a stage fed a wrong file fails at once, not halfway).
 */
import {readRecords, SampleInputSchema} from "../../core/schemas.ts";
import type {SampleInput} from "../../core/records.ts";

/**
 * Stream the samples of a JSONL file with line numbers: id, text and tokens (each `{text,
 * confidence}`, confidence in [0, 1], texts concatenating to the text) required, the other
 * SampleRecord fields checked when present. A bad record is a StepwiseError naming file:line and the field.
 */
export async function* readSamples(file: string): AsyncGenerator<{record: SampleInput; line: number; where: string}> {
    yield* readRecords(file, SampleInputSchema);
}

export {tokenOffsets} from "../../steps/index.ts";
