/**
 * Export stage: LabelRecords (`stepwise label`) to the training-data formats of PRM trainers.
 *
 * - `trl`: TRL stepwise supervision, `{prompt, completions: string[], labels: bool[]}`. TRL
 *   appends its `step_separator` after every step itself, so steps are written without it.
 *   Boolean labels only (TRL casts labels to int).
 * - `openrlhf`: OpenRLHF PRM data, `{input, label}` (keys configurable): `input` is the question,
 *   a space, then the steps, each followed by the tag (default " ки") and `join` between them;
 *   `label` has one entry per tag: "+"/"-" (hard) or the fraction of successful rollouts (soft).
 * - `math-shepherd`: the Math-Shepherd text pair, `{input, label}`: the same tagged text, and a
 *   copy with the tag's mark replaced by "+" or "-" (" ки" → " +").
 *
 * Which steps are written (the Qwen recipe): steps up to and including the first negative step;
 * the steps after it have no hard label and are dropped. A step without a label (null) ends the
 * sample too. A sample with no labelled step is skipped. With `trim` (default) each step is
 * trimmed of surrounding whitespace, since every format puts its own separator between steps.
 */
import {StepwiseError} from "../../engines/types.ts";
import {JsonlWriter, readJsonl} from "../../io/jsonl.ts";
import {acquireLock} from "../../io/lock.ts";
import {prepareOutput} from "../../io/output.ts";
import {checkInputFile} from "../../io/text.ts";
import type {LabelRecord} from "../records.ts";

export const EXPORT_FORMATS = ["trl", "openrlhf", "math-shepherd"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportOptions {
    format: ExportFormat;
    /** hard: 1/0 labels; soft: fraction of successful rollouts (openrlhf only). Default hard. */
    labels?: "hard" | "soft";
    /** Step tag written after each step (openrlhf, math-shepherd). Default " ки". */
    tag?: string;
    /** Text between a tag and the next step. Default "\n". */
    join?: string;
    /** Labels for positive / negative steps (openrlhf hard, math-shepherd). Default "+" / "-". */
    positive?: string;
    negative?: string;
    /** Field names of the openrlhf / math-shepherd output. Default "input" / "label". */
    inputKey?: string;
    labelKey?: string;
    /** What the prompt / question part is: the record's question (default) or its exact prompt. */
    promptField?: "question" | "prompt";
    /** Trim each step's surrounding whitespace. Default true. */
    trim?: boolean;
    /** Copy the record id into each row. Default true. */
    id?: boolean;
}

/** Why a record produced no row. */
export type SkipReason = "no-labelled-step" | "tag-in-text";

export type ExportRow = Record<string, unknown>;

const DEFAULTS = {labels: "hard", tag: " ки", join: "\n", positive: "+", negative: "-", inputKey: "input", labelKey: "label", promptField: "question", trim: true, id: true} as const;

/** The steps kept for training: through the first negative, stopping at the first unlabelled one. */
export function labelledSteps(rec: Pick<LabelRecord, "steps" | "hard" | "soft">, labels: "hard" | "soft"): Array<{text: string; hard: 0 | 1; soft: number | null}> {
    const out: Array<{text: string; hard: 0 | 1; soft: number | null}> = [];
    for (let i = 0; i < rec.steps.length; i++) {
        const hard = rec.hard[i];
        const soft = rec.soft[i] ?? null;
        if (hard === null || hard === undefined) break;
        if (labels === "soft" && soft === null) break;
        out.push({text: rec.steps[i].text, hard, soft});
        if (hard === 0) break;
    }
    return out;
}

/** The tag with its mark replaced by a label: " ки" + "+" → " +". Leading whitespace of the tag is kept. */
function labelTag(tag: string, label: string): string {
    const lead = /^\s*/.exec(tag)![0];
    return lead + label;
}

/** One output row for a record, or the reason it has none. Throws a StepwiseError for impossible settings. */
export function exportRecord(rec: LabelRecord, options: ExportOptions): ExportRow | SkipReason {
    const o = {...DEFAULTS, ...stripUndefined(options)};
    if (o.labels === "soft" && o.format !== "openrlhf")
        throw new StepwiseError(`export: soft labels are only written for --format openrlhf (${o.format} takes hard labels)`);
    const kept = labelledSteps(rec, o.labels);
    const texts = kept.map((s) => (o.trim ? s.text.trim() : s.text));
    if (kept.length === 0 || texts.some((t) => t === "")) return "no-labelled-step";
    const prompt = o.promptField === "prompt" ? rec.prompt : rec.question;
    const head = o.id ? {id: rec.id} : {};
    if (o.format === "trl") return {...head, prompt, completions: texts, labels: kept.map((s) => s.hard === 1)};
    const mark = o.tag.trim();
    if (mark && (prompt.includes(mark) || texts.some((t) => t.includes(mark)))) return "tag-in-text";
    const tagged = (tagOf: (i: number) => string): string => `${prompt} ` + texts.map((t, i) => t + tagOf(i)).join(o.join);
    const input = tagged(() => o.tag);
    if (o.format === "openrlhf") {
        const label = o.labels === "soft" ? kept.map((s) => s.soft!) : kept.map((s) => (s.hard === 1 ? o.positive : o.negative));
        return {...head, [o.inputKey]: input, [o.labelKey]: label};
    }
    const labelled = tagged((i) => labelTag(o.tag, kept[i].hard === 1 ? o.positive : o.negative));
    return {...head, [o.inputKey]: input, [o.labelKey]: labelled};
}

function stripUndefined<T extends object>(o: T): Partial<T> {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkLabelRecord(raw: Record<string, unknown>, where: string): LabelRecord {
    const fail = (field: string, what: string): never => {
        throw new StepwiseError(`${where}: field "${field}": ${what}`);
    };
    if (typeof raw.id !== "string") fail("id", "expected a string (is this a labels file from `stepwise label`?)");
    if (!Array.isArray(raw.steps)) fail("steps", "expected an array of steps (is this a labels file from `stepwise label`?)");
    const steps = raw.steps as Array<Record<string, unknown>>;
    steps.forEach((s, i) => {
        if (!s || typeof s.text !== "string") fail(`steps[${i}].text`, "expected a string");
    });
    if (!Array.isArray(raw.hard) || raw.hard.length !== steps.length) fail("hard", `expected an array with one label per step (${steps.length})`);
    (raw.hard as unknown[]).forEach((h, i) => {
        if (h !== 0 && h !== 1 && h !== null) fail(`hard[${i}]`, `expected 0, 1 or null, got ${JSON.stringify(h)}`);
    });
    if (!Array.isArray(raw.soft) || raw.soft.length !== steps.length) fail("soft", `expected an array with one value per step (${steps.length})`);
    (raw.soft as unknown[]).forEach((s, i) => {
        if (s !== null && (typeof s !== "number" || !(s >= 0 && s <= 1))) fail(`soft[${i}]`, `expected a number in [0, 1] or null, got ${JSON.stringify(s)}`);
    });
    if (typeof raw.question !== "string") fail("question", "expected a string");
    if (typeof raw.prompt !== "string") fail("prompt", "expected a string");
    return raw as unknown as LabelRecord;
}

export interface ExportSummary {
    records: number;
    written: number;
    skipped: Record<SkipReason, number>;
    /** Steps written, and how many of them positive / negative (hard labels). */
    steps: number;
    positive: number;
    negative: number;
}

/** Export a LabelRecord JSONL file to `out` (overwritten), streaming. Errors name file:line and field. */
export async function exportFile(input: string, out: string, options: ExportOptions): Promise<ExportSummary> {
    if (!EXPORT_FORMATS.includes(options.format)) throw new StepwiseError(`export: unknown format "${options.format}" (expected ${EXPORT_FORMATS.join(", ")})`);
    const summary: ExportSummary = {records: 0, written: 0, skipped: {"no-labelled-step": 0, "tag-in-text": 0}, steps: 0, positive: 0, negative: 0};
    checkInputFile(input);
    prepareOutput(out, {inputs: [input]});
    // Read the first record before creating the output, so a wrong input leaves no empty file.
    const it = readJsonl(input)[Symbol.asyncIterator]();
    let next = await it.next();
    const lock = acquireLock(out, "export");
    let writer: JsonlWriter | undefined;
    try {
        writer = new JsonlWriter(out, {truncate: true});
        for (; !next.done; next = await it.next()) {
            const {record, line} = next.value;
            const rec = checkLabelRecord(record, `${input}:${line}`);
            summary.records++;
            const row = exportRecord(rec, options);
            if (typeof row === "string") {
                summary.skipped[row]++;
                continue;
            }
            writer.write(row);
            summary.written++;
            const kept = labelledSteps(rec, options.labels ?? "hard");
            summary.steps += kept.length;
            summary.positive += kept.filter((s) => s.hard === 1).length;
            summary.negative += kept.filter((s) => s.hard === 0).length;
        }
    } finally {
        writer?.close();
        lock.release();
    }
    return summary;
}
