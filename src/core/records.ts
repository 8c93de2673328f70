/**
 * The JSONL records that move between pipeline stages. Every record has a stable `id` so a stage
 * can resume (skip ids already written) and records of different stages can be joined. Each type
 * is the `z.output` of its schema in ./schemas.ts (one source of truth; read them with
 * `readRecords(file, Schema)`).
 */
import type {z} from "zod";
import type {GeneratedToken} from "../engines/types.ts";
import type {
    FilteredLabelRecordSchema,
    LabelRecordSchema,
    BranchLabelRecordSchema,
    RecordedTokenSchema,
    SampleInputSchema,
    SampleRecordSchema,
    ScoredRecordSchema,
    StepSchema,
    StepsInputSchema,
    StepsRecordSchema,
} from "./schemas.ts";

/**
 * A generated token as sample files record it: text, id, confidence, and the top alternatives only
 * when they were asked for (`stepwise sample --top-logprobs K`; opt-in because nothing in the
 * pipeline reads them from files — they were 82% of samples.jsonl — while the viewer shows them
 * when present and TVD reads them from the engine at decode time). Schema: {@link RecordedTokenSchema}.
 */
export type RecordedToken = z.output<typeof RecordedTokenSchema>;

/** Tokens as recorded: an empty `top` list is left out. */
export function recordTokens(tokens: readonly GeneratedToken[]): RecordedToken[] {
    return tokens.map((t) => {
        if (t.top.length) return t;
        const {top, ...rest} = t;
        void top;
        return rest;
    });
}

/** One sampled solution (`stepwise sample`). id = `<question_id>#<sample_index>`. Schema: {@link SampleRecordSchema}. */
export type SampleRecord = z.output<typeof SampleRecordSchema>;

/** What readers of samples files require of a sample (id, text, tokens; the rest optional). Schema: {@link SampleInputSchema}. */
export type SampleInput = z.output<typeof SampleInputSchema>;

export function sampleId(questionId: string, index: number): string {
    return `${questionId}#${index}`;
}

/** One step of a split solution: text, character span and (from `split`) token span. Offsets let a step be re-tagged for any PRM format. Schema: {@link StepSchema}. */
export type Step = z.output<typeof StepSchema>;

/** A sample cut into steps (`stepwise split`). Same id as its SampleRecord; extra fields are kept. Schema: {@link StepsRecordSchema}. */
export type StepsRecord = z.output<typeof StepsRecordSchema>;

/** A steps record as `stepwise label` reads it (question_id, sample_index, strategy may be missing). Schema: {@link StepsInputSchema}. */
export type StepsInput = z.output<typeof StepsInputSchema>;

/** Monte-Carlo labels of the steps of one sample (`stepwise label`). Same id as its StepsRecord. Schema: {@link LabelRecordSchema}. */
export type LabelRecord = z.output<typeof LabelRecordSchema>;

/** Monte-Carlo labels of the top-k candidates at a sample's decision tokens (`stepwise label-branches`). Schema: {@link BranchLabelRecordSchema}. */
export type BranchLabelRecord = z.output<typeof BranchLabelRecordSchema>;

/** A label record kept by consensus filtering (`stepwise filter --consensus`). Schema: {@link FilteredLabelRecordSchema}. */
export type FilteredLabelRecord = z.output<typeof FilteredLabelRecordSchema>;

/** A record of `stepwise score`: its input plus `step_scores` and `prm`. Schema: {@link ScoredRecordSchema}. */
export type ScoredRecord = z.output<typeof ScoredRecordSchema>;
