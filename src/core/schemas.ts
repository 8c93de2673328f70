/**
 * Record schemas, validated in one place (zod). Stages parse each input record with
 * {@link parseRecord}, which turns the first problem into a one-line StepwiseError naming
 * `file:line`, the field path and what was expected, e.g.
 * `steps.jsonl:3: field "steps[0]": expected a step object {text, start, end} (from \`stepwise split\`), got a string`.
 */
import {z} from "zod";
import {StepwiseError} from "../util/errors.ts";

function describe(v: unknown): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "an array";
    if (typeof v === "object") return "an object";
    if (typeof v === "string") return v.length > 40 ? "a string" : `the string ${JSON.stringify(v)}`;
    return `${typeof v} ${JSON.stringify(v)}`;
}

function fieldPath(path: ReadonlyArray<PropertyKey>): string {
    return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${String(p)}`)).join("");
}

function valueAt(raw: unknown, path: ReadonlyArray<PropertyKey>): unknown {
    let v = raw;
    for (const p of path) v = v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[p] : undefined;
    return v;
}

/** Parse `raw` with `schema`; on failure throw a StepwiseError naming where, the field and the value's kind. */
export function parseRecord<S extends z.ZodType>(schema: S, raw: unknown, where: string): z.output<S> {
    const r = schema.safeParse(raw);
    if (r.success) return r.data;
    const issue = r.error.issues[0];
    const path = fieldPath(issue.path);
    const got = valueAt(raw, issue.path);
    const missing = got === undefined && issue.code === "invalid_type";
    const message = missing ? "missing" : `${issue.message}${issue.code === "invalid_type" || issue.code === "invalid_union" ? `, got ${describe(got)}` : ""}`;
    throw new StepwiseError(`${where}: ${path ? `field "${path}"` : "record"}: ${message}`);
}

/** An id copied into output records: a non-empty string, or a finite number (made a string). */
export const RecordId = z
    .union([z.string().min(1, "expected a non-empty id"), z.number().refine(Number.isFinite)], {error: "expected a string or number id"})
    .transform((v) => String(v));

/** A non-empty text field (question, problem). */
export const Text = z.string({error: "expected a string"});

/** One step of a split sample, with character offsets into the sample text. */
export const StepSchema = z.object(
    {
        text: z.string({error: "expected a string"}),
        start: z.number({error: "expected a character offset"}).int().nonnegative(),
        end: z.number({error: "expected a character offset"}).int().nonnegative(),
        token_start: z.number().int().nonnegative().optional(),
        token_end: z.number().int().nonnegative().optional(),
    },
    {error: "expected a step object {text, start, end} (from `stepwise split`)"},
);

/** A StepsRecord (output of `stepwise split`; input of `stepwise label`). Extra fields are kept. */
export const StepsRecordSchema = z
    .looseObject({
        id: z.string({error: "expected a string id (from `stepwise split`)"}).min(1, "expected a non-empty id"),
        question: Text,
        prompt: Text,
        text: Text,
        steps: z.array(StepSchema, {error: "expected an array of step objects {text, start, end} (from `stepwise split`)"}),
        gold: z.union([z.string(), z.number()], {error: "expected a string or number"}).optional().nullable(),
    })
    .superRefine((r, ctx) => {
        let prevEnd = 0;
        r.steps.forEach((s, i) => {
            if (s.end < s.start || s.end > r.text.length || s.start < prevEnd)
                ctx.addIssue({code: "custom", path: ["steps", i], message: `offsets ${s.start}..${s.end} are not inside the text (${r.text.length} characters) after the previous step`});
            else if (r.text.slice(s.start, s.end) !== s.text)
                ctx.addIssue({code: "custom", path: ["steps", i, "text"], message: `is not text[${s.start}..${s.end}] of the record`});
            prevEnd = s.end;
        });
    });

/** Steps to score: strings, or objects with a `text` string. */
export const ScoreStepsSchema = z.array(z.union([z.string(), z.looseObject({text: z.string()})], {error: 'expected a string or an object with a "text" string'}), {
    error: "expected an array of steps",
});
