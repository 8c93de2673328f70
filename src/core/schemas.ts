/**
 * The records that move between stages, one zod schema per record kind, and the one way to read
 * them: {@link readRecords} (stream) / {@link readRecordsAll} (array). The TypeScript types of the
 * records (core/records.ts, `VerdictRecord`, `DecodeRecord`, `CodeVerdict`) are `z.output` of these
 * schemas, so a record's shape is written down once.
 *
 * | record | written by | schema |
 * |---|---|---|
 * | sample | `stepwise sample` (pipeline/sample.ts) | {@link SampleRecordSchema} |
 * | steps | `stepwise split` | {@link StepsRecordSchema} |
 * | labels | `stepwise label` | {@link LabelRecordSchema} |
 * | scores | `stepwise score` (its input record + `step_scores`, `prm`) | {@link ScoredRecordSchema} |
 * | decode | `stepwise decode` (search/decode-file.ts) | {@link DecodeRecordSchema} |
 * | verdicts | `stepwise judge` (judge/judge.ts) | {@link VerdictRecordSchema} |
 * | filtered labels | `stepwise filter --consensus` | {@link FilteredLabelRecordSchema} |
 * | code run verdicts | `stepwise code run` | {@link CodeVerdictSchema} |
 * | code-graded samples | `stepwise code grade` (its input + `correct`, `code_status`, `code_detail`) | {@link CodeGradedRecordSchema} |
 *
 * Schemas validate on READ. Writers keep building their objects field by field (the field order of
 * written JSON is theirs), and {@link readRecords} yields each record as read (same object, same
 * field order, unknown fields kept) once it passed its schema. The first problem of a bad record
 * is a one-line StepwiseError naming `file:line`, the field path and what was expected, e.g.
 * `steps.jsonl:3: field "steps[0]": expected a step object {text, start, end} (from \`stepwise split\`), got a string`.
 *
 * Readers that accept less than a whole record (e.g. `stepwise threshold` reads only sample
 * confidences) use a `.pick()` / `.partial()` of the record's base schema, never a second
 * hand-written check.
 */
import {z} from "zod";
import {StepwiseError} from "../util/errors.ts";
import {readJsonl, type ReadLinesOptions} from "../io/jsonl.ts";
import {JUDGE_TEMPLATES} from "./constants.ts";

function describe(v: unknown): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "an array";
    if (typeof v === "object") return "an object";
    if (typeof v === "string") return v.length > 40 ? "a string" : `the string ${JSON.stringify(v)}`;
    return `${typeof v} ${JSON.stringify(v)}`;
}

/** A zod issue path as a field name: `steps[0].text`. */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
    return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("");
}

function valueAt(raw: unknown, path: ReadonlyArray<PropertyKey>): unknown {
    let v = raw;
    for (const p of path) v = v !== null && typeof v === "object" ? Object.getOwnPropertyDescriptor(v, p)?.value : undefined;
    return v;
}

const KINDS: Record<string, string> = {number: "a number", int: "an integer", string: "a string", boolean: "true or false", array: "an array", object: "an object", null: "null"};

/** Messages for checks without one of their own: what was expected, in the words of the other messages ("expected a number"). */
function expected(issue: z.core.$ZodRawIssue): string | undefined {
    switch (issue.code) {
        case "invalid_type":
            return `expected ${KINDS[issue.expected] ?? issue.expected}`;
        case "invalid_value":
            return `expected ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}`;
        case "too_small":
            return issue.origin === "array" || issue.origin === "string" ? undefined : `expected a number ≥ ${String(issue.minimum)}`;
        case "too_big":
            return issue.origin === "array" || issue.origin === "string" ? undefined : `expected a number ≤ ${String(issue.maximum)}`;
        default:
            return undefined;
    }
}

/**
 * Parse `raw` with `schema` and return zod's output (a new object in the schema's field order,
 * transforms applied). On failure throw a StepwiseError `<where>: field "<path>": <what was
 * expected>, got <the value's kind>` for the first problem (`… field "x": missing` for a missing
 * field; custom checks give their own detail).
 */
export function parseRecord<S extends z.ZodType>(schema: S, raw: unknown, where: string): z.output<S> {
    const r = schema.safeParse(raw, {error: expected});
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const path = fieldPath(issue.path);
    const got = valueAt(raw, issue.path);
    const missing = got === undefined && issue.code === "invalid_type";
    const message = missing ? "missing" : `${issue.message}${issue.code !== "custom" ? `, got ${describe(got)}` : ""}`;
    throw new StepwiseError(`${where}: ${path ? `field "${path}"` : "record"}: ${message}`);
}

/**
 * Check `raw` against `schema` (errors as {@link parseRecord}) and return `raw` itself: the record
 * as read, its field order and unknown fields kept. The schema must not transform (input type =
 * output type), so the checked input is the output.
 */
export function checkRecord<T>(schema: z.ZodType<T, T>, raw: unknown, where: string): T {
    parseRecord(schema, raw, where);
    return raw as T; // checked just above; the schema's input type is its output type
}

/**
 * Stream the records of a JSONL file, each checked against `schema` (see {@link checkRecord}):
 * `{record, line, where}` with the 1-based line and `where` = `file:line`. Blank lines are skipped;
 * bad JSON, bad UTF-8 and a bad record are StepwiseErrors naming file:line (and the field).
 */
export async function* readRecords<T>(file: string, schema: z.ZodType<T, T>, options: ReadLinesOptions = {}): AsyncGenerator<{record: T; line: number; where: string}> {
    for await (const {record, line} of readJsonl(file, options)) {
        const where = `${file}:${line}`;
        yield {record: checkRecord(schema, record, where), line, where};
    }
}

/** All records of a JSONL file, checked (see {@link readRecords}), in file order. */
export async function readRecordsAll<T>(file: string, schema: z.ZodType<T, T>, options: ReadLinesOptions = {}): Promise<T[]> {
    const out: T[] = [];
    for await (const {record} of readRecords(file, schema, options)) out.push(record);
    return out;
}

/** Any JSON object (a record of a stage without a schema of its own). */
export const AnyRecordSchema = z.record(z.string(), z.unknown());

// ── Field kinds ────────────────────────────────────────────────────────────────────────────────

/** An id copied into output records: a non-empty string, or a finite number (made a string). Transforms: for {@link parseRecord} only. */
export const RecordId = z
    .union([z.string().min(1, "expected a non-empty id"), z.number().refine(Number.isFinite)], {error: "expected a string or number id"})
    .transform((v) => String(v));

/** A text field (question, problem). */
export const Text = z.string({error: "expected a string"});

const count = (what: string) => z.number({error: `expected ${what}`}).int(`expected ${what}`).nonnegative(`expected ${what}`);
const finite = (what = "a number") => z.number({error: `expected ${what}`});

/** Steps to score: strings, or objects with a `text` string. */
export const ScoreStepsSchema = z.array(z.union([z.string(), z.looseObject({text: z.string()})], {error: 'expected a string or an object with a "text" string'}), {
    error: "expected an array of steps",
});

// ── sample (`stepwise sample`) ─────────────────────────────────────────────────────────────────

/** Confidences may exceed 1 by rounding (exp of a logprob ≈ 0); anything beyond this is an error. */
export const CONFIDENCE_SLACK = 1e-6;

/** One of the most likely tokens at a position (engines/types.ts `TokenAlternative`). */
export const TokenAlternativeSchema = z.object({text: z.string({error: "expected a string"}), id: z.number().int().optional(), prob: finite("a probability")});

/** A generated token as sample files record it: `top` only when asked for (`--top-logprobs K`). */
export const RecordedTokenSchema = z.object(
    {
        text: z.string({error: "expected a string"}),
        /** Token id where known. */
        id: z.number({error: "expected a token id"}).int().optional(),
        /** Raw probability of the token, in [0, 1]. */
        confidence: z.number({error: "expected a number in [0, 1]"}).min(0, "expected a number in [0, 1]").max(1 + CONFIDENCE_SLACK, "expected a number in [0, 1]"),
        top: z.array(TokenAlternativeSchema).optional(),
    },
    {error: "expected a token object {text, confidence}"},
);

const isSamples = "(is this a samples file from `stepwise sample`?)";

/** A SampleRecord without its cross-field check (for `.pick()` / `.partial()`). */
export const SampleRecordBase = z.object({
    /** `<question_id>#<sample_index>`. */
    id: z.string({error: `expected a non-empty string ${isSamples}`}).min(1, `expected a non-empty string ${isSamples}`),
    question_id: z.string({error: "expected a string"}),
    sample_index: count("a sample index ≥ 0"),
    question: Text,
    /** The exact prompt text sent to the engine. */
    prompt: Text,
    /** The generated text. */
    text: Text,
    /** Every generated token with its confidence; their texts concatenate to `text`. */
    tokens: z.array(RecordedTokenSchema, {error: `expected an array of {text, confidence} ${isSamples}`}),
    finish_reason: z.string({error: "expected a string"}),
    /** Gold answer from the input row, when it had one. */
    gold: z.string({error: "expected a string"}).optional(),
    /** Engine spec and sampling settings that produced it. */
    engine: z.string({error: "expected a string"}),
    seed: finite(),
    temperature: finite(),
});

/** The token texts must concatenate to the text (checked by every reader of whole samples). */
function tokensMakeText(r: {id: string; text: string; tokens: ReadonlyArray<{text: string}>}, ctx: z.RefinementCtx): void {
    const joined = r.tokens.map((t) => t.text).join("");
    if (joined === r.text) return;
    let at = 0;
    while (at < joined.length && at < r.text.length && joined[at] === r.text[at]) at++;
    ctx.addIssue({code: "custom", path: ["tokens"], message: `token texts do not concatenate to "text" of sample "${r.id}" (first difference at character ${at})`});
}

/** One sampled solution (`stepwise sample`), token texts concatenating to its text. */
export const SampleRecordSchema = SampleRecordBase.superRefine(tokensMakeText);

/**
 * What `split`, `stats` and `eval analyze --candidates` need of a sample: id, text and tokens
 * (token texts concatenating to the text); the other fields, when present, as in a SampleRecord.
 */
export const SampleInputSchema = SampleRecordBase.partial().required({id: true, text: true, tokens: true}).superRefine(tokensMakeText);

/** A sample as `eval analyze --candidates` reads it: {@link SampleInputSchema} plus an optional verdict `correct` (e.g. from `stepwise code grade`). */
export const CandidateSampleSchema = SampleRecordBase.partial()
    .required({id: true, text: true, tokens: true})
    .extend({correct: z.boolean({error: "expected true or false"}).optional()})
    .superRefine(tokensMakeText);

/** What `stepwise threshold` needs of a sample: id, text and token confidences (texts not compared). */
export const SampleConfidencesSchema = SampleRecordBase.pick({id: true, text: true, tokens: true});

// ── steps (`stepwise split`) ───────────────────────────────────────────────────────────────────

/** One step of a split sample: its text, character offsets into the sample text, and token span (ends exclusive). */
export const StepSchema = z.object(
    {
        /** Exactly text.slice(start, end) of the record. */
        text: z.string({error: "expected a string"}),
        start: z.number({error: "expected a character offset"}).int().nonnegative(),
        end: z.number({error: "expected a character offset"}).int().nonnegative(),
        /** Token span into the sample's tokens (written by `split`; absent in hand-made files). */
        token_start: z.number().int().nonnegative().optional(),
        token_end: z.number().int().nonnegative().optional(),
    },
    {error: "expected a step object {text, start, end} (from `stepwise split`)"},
);

const fromSplit = "(from `stepwise split`)";

/**
 * A StepsRecord without its offset check. Loose: other fields are kept (label copies them).
 * Field order matters to `stepwise label`, which writes zod's output of this schema.
 */
export const StepsRecordBase = z.looseObject({
    id: z.string({error: `expected a string id ${fromSplit}`}).min(1, "expected a non-empty id"),
    question: Text,
    prompt: Text,
    text: Text,
    steps: z.array(StepSchema, {error: `expected an array of step objects {text, start, end} ${fromSplit}`}),
    /** Gold answer of the sample, when known (a number or null is reported by the stage that needs gold). */
    gold: z.union([z.string(), z.number()], {error: "expected a string or number"}).optional().nullable(),
    question_id: z.string({error: "expected a string"}),
    sample_index: count("a sample index ≥ 0"),
    /** Split strategy, e.g. "adaptive", "newline", "fixed:16". */
    strategy: z.string({error: `expected a string ${fromSplit}`}),
    /** Threshold τ of the adaptive strategy. */
    tau: finite().optional(),
});

/** Each step must be `text[start..end]` of the record, in order. */
function stepsInText(r: {text: string; steps: ReadonlyArray<{text: string; start: number; end: number}>}, ctx: z.RefinementCtx): void {
    let prevEnd = 0;
    r.steps.forEach((s, i) => {
        if (s.end < s.start || s.end > r.text.length || s.start < prevEnd)
            ctx.addIssue({code: "custom", path: ["steps", i], message: `offsets ${s.start}..${s.end} are not inside the text (${r.text.length} characters) after the previous step`});
        else if (r.text.slice(s.start, s.end) !== s.text) ctx.addIssue({code: "custom", path: ["steps", i, "text"], message: `is not text[${s.start}..${s.end}] of the record`});
        prevEnd = s.end;
    });
}

/** A sample cut into steps (`stepwise split`). Same id as its SampleRecord. Extra fields are kept. */
export const StepsRecordSchema = StepsRecordBase.superRefine(stepsInText);

/**
 * What `stepwise label` (and so a label record) needs of a steps record: a StepsRecord whose
 * `question_id`, `sample_index` and `strategy` may be missing (hand-made or converted step files).
 */
export const StepsInputBase = StepsRecordBase.partial({question_id: true, sample_index: true, strategy: true});
export const StepsInputSchema = StepsInputBase.superRefine(stepsInText);

/** What the lab judge and Lab-ProcessBench read of a split (or labelled) sample: id, question, text, steps. */
export const StepTextsSchema = StepsRecordBase.pick({id: true, question: true, text: true, steps: true, question_id: true}).partial({question_id: true}).superRefine(stepsInText);

/** Exact per-step truth of a sample (from a domain that knows it, e.g. src/domains/lab/verifier.ts). */
export const StepTruthSchema = z.object({
    /** Index of the first wrong step (−1: none). */
    first_error: z.number({error: "expected a step index (-1: none)"}).int().min(-1),
    /** Per step: true correct, false the first wrong step, null after it. */
    correct: z.array(z.boolean().nullable(), {error: "expected an array of true, false or null"}),
});

// ── labels (`stepwise label`) ──────────────────────────────────────────────────────────────────

const perStep = (field: string) => (r: {steps: readonly unknown[]} & Record<string, unknown>, ctx: z.RefinementCtx) => {
    const v = r[field];
    if (Array.isArray(v) && v.length !== r.steps.length) ctx.addIssue({code: "custom", path: [field], message: `expected one value per step (${r.steps.length}), got ${v.length}`});
};

const isLabels = "(is this a labels file from `stepwise label`?)";

/** The label fields `stepwise label` adds to a StepsRecord. */
export const LabelFields = {
    /** Hard label per step: 1 positive, 0 negative, null not labelled (after the first negative). */
    hard: z.array(z.union([z.literal(0), z.literal(1), z.null()], {error: "expected 0, 1 or null"}), {error: `expected an array with one label per step ${isLabels}`}),
    /** Soft label per step: fraction of rollouts that reached the gold answer; null if not estimated. */
    soft: z.array(z.number({error: "expected a number in [0, 1] or null"}).min(0, "expected a number in [0, 1] or null").max(1, "expected a number in [0, 1] or null").nullable(), {
        error: "expected an array with one value per step",
    }),
    /**
     * Rollouts that count and how many were correct, per step (0/0 when the step was not
     * estimated), and how many hit the token limit before an answer (`truncated`; absent in files
     * written before it was recorded). With `--truncated skip` those are not in n.
     */
    rollouts: z.array(z.object({n: count("a count"), correct: count("a count"), truncated: count("a count").optional()}), {error: "expected an array of {n, correct}"}),
    /** Index of the first negative step, −1 when none. */
    first_negative: z.number({error: "expected a step index or -1"}).int().min(-1),
    /** Cost of labelling this sample. */
    cost: z.object({rollouts: count("a count"), generated_tokens: count("a count"), prefix_evaluations: count("a count")}),
    /** The labelling settings, so files of different settings are never mixed on resume. */
    method: z.string({error: "expected a string"}),
    /** The engine spec that wrote the rollouts (`stepwise label --engine`), when known. */
    rollout_engine: z.string({error: "expected a string"}).optional(),
    /** Exact per-step truth, when the domain knows it (`stepwise label --truth`). */
    truth: z.lazy(() => StepTruthSchema).optional(),
};

/** A LabelRecord without its cross-field checks. */
export const LabelRecordBase = StepsInputBase.extend({
    id: z.string({error: `expected a string id ${isLabels}`}).min(1, "expected a non-empty id"),
    steps: z.array(StepSchema, {error: `expected an array of step objects ${isLabels}`}),
    ...LabelFields,
});

function labelsPerStep(r: z.output<typeof LabelRecordBase>, ctx: z.RefinementCtx): void {
    stepsInText(r, ctx);
    for (const f of ["hard", "soft", "rollouts"]) perStep(f)(r, ctx);
}

/** Monte-Carlo labels of the steps of one sample (`stepwise label`). Same id as its StepsRecord. */
export const LabelRecordSchema = LabelRecordBase.superRefine(labelsPerStep);

/** A label record kept by `stepwise filter --consensus`: unchanged, plus the judge's first wrong step. */
export const FilteredLabelRecordSchema = LabelRecordBase.extend({judge_first_error: z.number({error: "expected a step index or -1"}).int().min(-1)}).superRefine(labelsPerStep);

// ── branch labels (`stepwise label-branches`) ─────────────────────────────────────────────────

/** One candidate token at a decision: its text and policy probability, the PRM input it makes, and its rollouts. */
export const BranchCandidateSchema = z.object({
    text: z.string({error: "expected a string"}),
    prob: finite("a probability"),
    /** The step texts a tag PRM reads for this candidate at this decision (TVD's "response so far + candidate", cut as TVD cuts it). */
    steps: z.array(z.string({error: "expected a string"}), {error: "expected an array of step texts"}),
    /** Rollouts from "prompt + response so far + candidate" that count, and how many reached the gold answer. */
    n: count("a count"),
    correct: count("a count"),
    /** Rollouts that hit the token limit before an answer (counted as failed). */
    truncated: count("a count"),
});

/** One decision token of a sample and its candidates' rollout labels (candidate 0 is the sample's own token). */
export const BranchDecisionSchema = z.object({
    /** Token index of the decision in the sample's tokens. */
    position: count("a token index"),
    /** Character offset of the decision token in the sample's text. */
    offset: count("a character offset"),
    /** Probability of the most likely token there (what τ is compared with). */
    top_prob: finite("a probability"),
    candidates: z.array(BranchCandidateSchema, {error: "expected an array of candidates"}),
});

/**
 * Monte-Carlo labels of the top-k alternatives at a sample's decision tokens (`stepwise
 * label-branches`): the values TVD needs to rank candidates. Same id as its SampleRecord.
 */
export const BranchLabelRecordSchema = z.looseObject({
    id: z.string({error: "expected a string id (is this a file from `stepwise label-branches`?)"}).min(1, "expected a non-empty id"),
    question_id: z.string({error: "expected a string"}),
    question: Text,
    prompt: Text,
    gold: z.string({error: "expected a string"}).optional(),
    tau: finite(),
    cutoff: z.enum(["raw", "percent2"], {error: 'expected "raw" or "percent2"'}),
    decisions: z.array(BranchDecisionSchema, {error: "expected an array of decisions (is this a file from `stepwise label-branches`?)"}),
    cost: z.object({rollouts: count("a count"), generated_tokens: count("a count"), prefix_evaluations: count("a count")}),
    method: z.string({error: "expected a string"}),
    rollout_engine: z.string({error: "expected a string"}).optional(),
});

// ── scores (`stepwise score`) ──────────────────────────────────────────────────────────────────

/** A record of `stepwise score`: its input record (any fields) plus the PRM's step scores and spec. */
export const ScoredRecordSchema = z.looseObject({
    step_scores: z.array(finite("a score"), {error: "expected an array of step scores (from `stepwise score`)"}),
    /** The PRM spec that scored it (absent in files written before it was recorded). */
    prm: z.string({error: "expected the PRM spec (from `stepwise score`)"}).optional(),
});

/** A line of the ProcessBench scoring cache (`eval processbench --scores-out`): a sample's step scores. */
export const ScoreCacheRecordSchema = z.object({
    id: z.string({error: "expected a string id"}),
    /** The ProcessBench split the sample belongs to. */
    split: z.string({error: "expected a split name"}),
    step_scores: z.array(finite("a score"), {error: "expected an array of step scores"}),
    /** The PRM spec that scored it (absent in caches written before it was recorded). */
    prm: z.string().optional(),
});

// ── verdicts (`stepwise judge`) ────────────────────────────────────────────────────────────────

/** The judge's prompt templates (judge/prompt.ts); listed in ./constants.ts. */
export {JUDGE_TEMPLATES};
/** Why a judge answer is unparsable (judge/parse.ts). */
export const PARSE_FAILURES = ["no-box", "unclosed-box", "several-boxes", "not-an-integer", "out-of-range"] as const;

const stepIndex = z.number({error: "expected a step index (-1: none)"}).int().min(-1);

/** The protocol a verdict was made with. */
export const JudgeProtocolSchema = z.object({
    template: z.enum(JUDGE_TEMPLATES, {error: `expected ${JUDGE_TEMPLATES.join(" or ")}`}),
    n: count("a number of answers"),
    temperature: finite(),
    /** Nucleus mass; 1 = off. */
    top_p: finite(),
    /** 0 = off. */
    top_k: count("a count"),
    max_tokens: count("a count"),
    /** The vote's tie rule. */
    ties: z.enum(["none", "first-seen"]),
});

const isVerdicts = "(use the output of `stepwise judge`)";

/** One verdict (`stepwise judge`): the voted first wrong step of one solution, with every answer kept. */
export const VerdictRecordSchema = z.object({
    /** The input record's id (a sample id `<question_id>#<index>` for split/label output). */
    id: z.string({error: `expected a string id ${isVerdicts}`}),
    question_id: z.string().optional(),
    /** Number of steps the judge saw. */
    steps: count("a number of steps"),
    /** Voted index of the earliest wrong step (0-based), −1 for none, null when there is no majority or nothing parsed. */
    first_error: stepIndex.nullable(),
    /** Each answer's parsed index (null: unparsable), in sample order. */
    votes: z.array(stepIndex.nullable()),
    /** Template "processbench": each answer's last box text (null: no box), what the vote counts. */
    boxes: z.array(z.string().nullable()).optional(),
    /** Each answer's raw text. */
    raw: z.array(z.string()),
    /** Why each answer is unparsable (null: parsed). */
    parse_failures: z.array(z.enum(PARSE_FAILURES).nullable()),
    /** Share of the n answers that voted for the winner (0 when first_error is null). */
    agreement: finite("a share in [0, 1]").min(0).max(1),
    /** Why first_error is null. */
    no_verdict: z.enum(["tie", "all-unparsable", "winner-unparsable"]).optional(),
    /** Tokens the judge generated for this solution (all n answers). */
    generated_tokens: count("a count"),
    /** How the verdict was made: template, sampling and vote (absent in files written before it was recorded). */
    protocol: JudgeProtocolSchema.optional(),
    /** The judging settings, so files of different settings are never mixed on resume. */
    method: z.string({error: "expected a string"}),
});

// ── decode (`stepwise decode`) ─────────────────────────────────────────────────────────────────

/**
 * A PRM score in a decode trace: a number, or null where JSON wrote NaN (the PRM input did not fit
 * the PRM's context; in memory a decoder holds NaN). Check with `Number.isFinite` (true for neither
 * NaN nor null).
 */
const NanScore = z.number().nullable();

/** One TVD intervention: a decision token and what the PRM made of its candidates. */
export const TvdInterventionSchema = z.object({
    type: z.literal("tvd"),
    /** Index in the final response's tokens where the chosen token sits. */
    position: z.number().int(),
    /** Character offset of that token in the final text. */
    offset: z.number().int(),
    /** Probability of the greedy (top-1) token. */
    greedy_prob: z.number(),
    /**
     * `score` NaN in memory, null in JSON: this candidate's PRM input was longer than the PRM's context (never chosen).
     * `value`: the score's logit q, recorded when the PRM reports it (implicit PRMs); it decides between scores that rounded to 1 (src/search/tvd.ts chooseCandidate); −∞ in memory, null in JSON, for an unreadable candidate.
     */
    candidates: z.array(z.object({text: z.string(), prob: z.number(), score: NanScore, value: NanScore.optional()})),
    /** Index into candidates of the chosen one (0 = the greedy token). */
    chosen: z.number().int(),
});

/** One decision token TVD did not intervene at (codeBlocksOnly and outside a code block). */
export const TvdSkipSchema = z.object({type: z.literal("tvd-skip"), position: z.number().int(), greedy_prob: z.number()});

/** One iteration of beam search / DVTS: the candidates scored and which survived. */
export const BeamIterationSchema = z.object({
    type: z.literal("beam"),
    iteration: z.number().int(),
    /** Subtree index (DVTS) or 0 (beam search). */
    tree: z.number().int(),
    /** `score` NaN in memory, null in JSON: the child's PRM input was longer than the PRM's context (it ended there, unfinished). */
    candidates: z.array(z.object({parent: z.number().int(), step: z.string(), score: NanScore, done: z.boolean(), kept: z.boolean()})),
});

/** Best-of-N / weighted vote: every sampled candidate with its score and answer. */
export const CandidateTraceSchema = z.object({
    type: z.literal("candidate"),
    index: z.number().int(),
    answer: z.string().nullable(),
    finished: z.boolean(),
    step_scores: z.array(NanScore),
    /** NaN in memory, null in JSON, when the candidate's PRM input was longer than the PRM's context (never chosen over a scored one). */
    score: NanScore,
    chosen: z.boolean(),
});

/** One event of a strategy's trace. */
export const TraceEventSchema = z.discriminatedUnion("type", [TvdInterventionSchema, TvdSkipSchema, BeamIterationSchema, CandidateTraceSchema], {
    error: 'expected a trace event with "type" tvd, tvd-skip, beam or candidate',
});

/** The result of one strategy on one problem (a `stepwise decode` record without id/correct). */
export const DecodeResultSchema = z.object({
    strategy: z.string({error: "expected a strategy name"}),
    /** The chosen response. */
    text: Text,
    /** Its final answer (grader extraction), or null. */
    answer: z.string({error: "expected a string or null"}).nullable(),
    /** Whether it has a final answer and did not run out of tokens. */
    finished: z.boolean({error: "expected true or false"}),
    /** Policy tokens generated for this problem (all candidates, all beams, cut-off chunks included). */
    tokens: count("a count"),
    /** PRM inputs scored (one per candidate, solution or beam scored). */
    prm_calls: count("a count"),
    /** Engine calls: policy generate calls plus PRM scoring batches. */
    requests: count("a count"),
    trace: z.array(TraceEventSchema, {error: "expected an array of trace events"}),
    /**
     * Why the chosen response stopped before its end, when a context did it: "policy" (prompt plus
     * response filled the policy's context) or "prm" (TVD: no candidate's PRM input fit the PRM's
     * context; beam / DVTS: the chosen beam's did not; Best-of-N / vote: no candidate's did). Such a
     * response is unfinished. Absent otherwise.
     */
    context_end: z.enum(["policy", "prm"]).optional(),
    /** Tokens of the chosen response (greedy and TVD only), for viewers. */
    response_tokens: z.array(z.object({text: z.string(), confidence: z.number()})).optional(),
});

/** One line of a `stepwise decode` output file. */
export const DecodeRecordSchema = DecodeResultSchema.extend({
    /** The question id. */
    id: z.string({error: "expected a string id (from `stepwise decode`)"}),
    question: Text,
    /** Gold answer (as extracted from the data set's answer field), when known. */
    gold: z.string().optional(),
    /** Whether `answer` equals `gold` under the grader; present only when gold is known. */
    correct: z.boolean({error: "expected true or false"}).optional(),
    /** Strategy and settings; a file holds one method. */
    method: z.string({error: "expected a string"}),
    /** Wall time of this question, seconds. */
    wall_s: finite("seconds").nonnegative(),
});

// ── code verdicts (`stepwise code run`, `stepwise code grade`) ──────────────────────────────────

/** Outcomes of a sandboxed program run (domains/code/verifier.ts). */
export const CODE_STATUSES = ["pass", "fail", "timeout", "memory", "error"] as const;

/** One verdict of `stepwise code run`. */
export const CodeVerdictSchema = z.object({
    id: z.string({error: "expected a string id (from `stepwise code run`)"}),
    task_id: z.string({error: "expected a string"}),
    status: z.enum(CODE_STATUSES, {error: `expected one of ${CODE_STATUSES.join(", ")}`}),
    /** The failing assertion (fail), the exception (error/memory) or the limit hit (timeout). */
    detail: z.string({error: "expected a string"}),
    /** Wall time of the sandboxed run in ms. */
    wall_ms: finite("milliseconds").nonnegative(),
});

/** A record of `stepwise code grade`: its samples-like input record plus the verdict of its program. */
export const CodeGradedRecordSchema = z.looseObject({
    id: z.string({error: "expected a string id"}),
    correct: z.boolean({error: "expected true or false"}),
    code_status: z.enum([...CODE_STATUSES, "no-code"], {error: `expected one of ${[...CODE_STATUSES, "no-code"].join(", ")}`}),
    code_detail: z.string({error: "expected a string"}),
});
