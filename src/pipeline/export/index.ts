/**
 * Export stage: LabelRecords (`stepwise label`) to the training-data formats of PRM trainers.
 *
 * Every format reproduces the sampled text EXACTLY apart from the tags it adds (and, for
 * math-shepherd, the "Step N: " numbers): whatever the split strategy — adaptive steps that end
 * inside a word ("No" | "w 3 / 3"), whitespace-only steps, newline steps — removing the tags
 * gives back the question part and the text of the kept steps ({@link recoverText}).
 *
 * - `trl`: TRL stepwise supervision, `{prompt, completions: string[], labels: bool[]}`. The
 *   completions are the steps' exact texts and `prompt` is the exact prompt the policy saw, so
 *   TRL's own concatenation `prompt + Σ (completion + step_separator)` rebuilds the sampled
 *   sequence when `PRMConfig(step_separator="")`; the label then sits on each step's last token
 *   (the decision token, or the "\n" of a newline step). Boolean labels only (TRL casts to int).
 * - `openrlhf`: OpenRLHF PRM data, `{input, label}` (keys configurable): the question, a space,
 *   then the text with the tag (default " ки") placed at the end of each step's content, before
 *   its trailing whitespace ("May.\n" → "May. ки\n", Math-Shepherd's layout); `label` has one
 *   entry per tag: "+"/"-" (hard) or the fraction of successful rollouts (soft).
 * - `asprm`: ASPRM's released data (Lux0926/ASPRM; trained with OpenRLHF `--input_key query
 *   --label_key response --placeholder_token " ки"`): `{query, response}`, the text intact with
 *   " ки " right after every step (after a lone "\n" decision token too).
 * - `math-shepherd`: the Math-Shepherd dataset pair `{input, label}`: "question Step 1: … ки\nStep
 *   2: … ки", and a copy with each tag's mark replaced by "+" or "-" (" ки" → " +"), so the label
 *   characters sit where TRL's Math-Shepherd converter looks for them. Steps are numbered
 *   "Step N: " (at the start of each step's content) unless the text already has "Step N:"
 *   markers (Math-Shepherd's policies write them) or `numbered: false`.
 *
 * Which steps are written: every labelled step, up to the first step without a label (null). With
 * `stepwise label`'s default (stop after the first negative, the Qwen recipe) that is through the
 * first negative step; labels made with `--no-stop-after-negative` keep the labelled steps after it
 * (TRL's stepwise format takes a label for every step). `stopAfterNegative` drops them at export. Skipped, and counted: samples with no labelled step, and samples whose text holds
 * the tag (a whitespace tag such as "\n\n" inside a step would write more tags than labels):
 * every row written is checked to hold exactly one tag per label.
 */
import {StepwiseError} from "../../util/errors.ts";
import {JsonlWriter} from "../../io/jsonl.ts";
import {acquireLock} from "../../io/lock.ts";
import {prepareOutput} from "../../io/output.ts";
import {checkInputFile} from "../../io/text.ts";
import {labelledTag} from "../../prm/formats.ts";
import type {LabelRecord} from "../../core/records.ts";
import {LabelRecordSchema, readRecords} from "../../core/schemas.ts";

import {EXPORT_FORMATS, type ExportFormat} from "./formats.ts";

export {EXPORT_FORMATS, type ExportFormat};

/** Where a tag goes in a step: at the very end (ASPRM), or before the step's trailing whitespace (Math-Shepherd). */
export type TagPlacement = "end" | "before-space";

export interface ExportOptions {
    format: ExportFormat;
    /** hard: 1/0 labels; soft: fraction of successful rollouts (openrlhf, asprm). Default hard. */
    labels?: "hard" | "soft";
    /** Step tag (openrlhf, math-shepherd: " ки"; asprm: " ки "). */
    tag?: string;
    /** Tag placement (asprm: end; openrlhf, math-shepherd: before-space). */
    placement?: TagPlacement;
    /** Labels for positive / negative steps (openrlhf/asprm hard, math-shepherd). Default "+" / "-". */
    positive?: string;
    negative?: string;
    /** Field names of the tagged text and the labels. Default "input" / "label" (asprm: "query" / "response"). */
    inputKey?: string;
    labelKey?: string;
    /** The prompt / question part: the record's question, or the exact prompt the policy saw. Default: prompt for trl, question otherwise. */
    promptField?: "question" | "prompt";
    /** math-shepherd: number the steps "Step N: " (unless the text already has such markers). Default true. */
    numbered?: boolean;
    /** Copy the record id into each row. Default true. */
    id?: boolean;
    /** Drop the steps after a sample's first negative step even when they are labelled. Default false. */
    stopAfterNegative?: boolean;
}

/** Why a record produced no row. */
export type SkipReason = "no-labelled-step" | "tag-in-text";

export type ExportRow = Record<string, unknown>;

type Resolved = Required<Omit<ExportOptions, "format">> & {format: ExportFormat};

/** The options with each format's defaults filled in. */
export function resolveExportOptions(options: ExportOptions): Resolved {
    const f = options.format;
    const asprm = f === "asprm";
    return {
        labels: "hard",
        tag: asprm ? " ки " : " ки",
        placement: asprm ? "end" : "before-space",
        positive: "+",
        negative: "-",
        inputKey: asprm ? "query" : "input",
        labelKey: asprm ? "response" : "label",
        promptField: f === "trl" ? "prompt" : "question",
        numbered: true,
        id: true,
        stopAfterNegative: false,
        ...stripUndefined(options),
    } as Resolved;
}

/**
 * The steps kept for training: every step up to the first unlabelled one (null hard label, or
 * null soft label for soft labels); with `stopAfterNegative`, through the first negative step.
 */
export function labelledSteps(rec: Pick<LabelRecord, "steps" | "hard" | "soft">, labels: "hard" | "soft", stopAfterNegative = false): Array<{text: string; hard: 0 | 1; soft: number | null}> {
    const out: Array<{text: string; hard: 0 | 1; soft: number | null}> = [];
    for (let i = 0; i < rec.steps.length; i++) {
        const hard = rec.hard[i];
        const soft = rec.soft[i] ?? null;
        if (hard === null || hard === undefined) break;
        if (labels === "soft" && soft === null) break;
        out.push({text: rec.steps[i].text, hard, soft});
        if (hard === 0 && stopAfterNegative) break;
    }
    return out;
}

const STEP_MARKER = /Step \d+:/;

/** The question part and the separator put before the steps ("" when the prompt already ends in whitespace). */
function head(prompt: string): string {
    return prompt === "" || /\s$/.test(prompt) ? prompt : prompt + " ";
}

/**
 * The steps with a tag after each: `tagOf(i)` is step i's tag. Placement "end" appends it;
 * "before-space" puts it after the step's content, before its trailing whitespace. `number`
 * prefixes each step's content (after its leading whitespace) with "Step N: ".
 */
function interleave(steps: string[], tagOf: (i: number) => string, placement: TagPlacement, number: boolean): string {
    return steps
        .map((s, i) => {
            const lead = number ? /^\s*/.exec(s)![0] : "";
            const body = s.slice(lead.length);
            const numbered = number ? `${lead}Step ${i + 1}: ${body}` : s;
            if (placement === "end") return numbered + tagOf(i);
            const trail = /\s*$/.exec(numbered)![0];
            return numbered.slice(0, numbered.length - trail.length) + tagOf(i) + trail;
        })
        .join("");
}

/** Non-overlapping occurrences of `needle` in `hay`. */
function count(hay: string, needle: string): number {
    if (needle === "") return 0;
    let n = 0;
    for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + needle.length)) n++;
    return n;
}

/** One output row for a record, or the reason it has none. Throws a StepwiseError for impossible settings. */
export function exportRecord(rec: LabelRecord, options: ExportOptions): ExportRow | SkipReason {
    const o = resolveExportOptions(options);
    if (o.labels === "soft" && o.format !== "openrlhf" && o.format !== "asprm")
        throw new StepwiseError(`export: soft labels are only written for --format openrlhf or asprm (${o.format} takes hard labels)`);
    if (o.tag === "") throw new StepwiseError("export: the step tag must not be empty");
    const kept = labelledSteps(rec, o.labels, o.stopAfterNegative);
    if (kept.length === 0) return "no-labelled-step";
    const texts = kept.map((s) => s.text);
    const prompt = o.promptField === "prompt" ? rec.prompt : rec.question;
    const id = o.id ? {id: rec.id} : {};
    if (o.format === "trl") return {...id, prompt, completions: texts, labels: kept.map((s) => s.hard === 1)};
    const number = o.format === "math-shepherd" && o.numbered && !texts.some((t) => STEP_MARKER.test(t));
    const input = head(prompt) + interleave(texts, () => o.tag, o.placement, number);
    // Every row: exactly one tag per label (a tag inside the question or a step would shift them).
    if (count(input, o.tag) !== kept.length) return "tag-in-text";
    if (o.format === "math-shepherd") {
        const label = head(prompt) + interleave(texts, (i) => labelledTag(o.tag, kept[i].hard === 1 ? o.positive : o.negative), o.placement, number);
        return {...id, [o.inputKey]: input, [o.labelKey]: label};
    }
    const label = o.labels === "soft" ? kept.map((s) => s.soft!) : kept.map((s) => (s.hard === 1 ? o.positive : o.negative));
    return {...id, [o.inputKey]: input, [o.labelKey]: label};
}

/**
 * The inverse of an export: the question part + the kept steps' exact text, from a row written
 * with the same options (tags, and math-shepherd's "Step N: " numbers, removed). Used by the
 * round-trip tests; useful to audit an exported file. `numbered`: whether the exporter numbered
 * this row's steps (math-shepherd numbers them unless the text already had "Step N:" markers;
 * default: numbered when options.numbered is not false).
 */
export function recoverText(row: ExportRow, options: ExportOptions, numbered?: boolean): string {
    const o = resolveExportOptions(options);
    if (o.format === "trl") return (row.prompt as string) + (row.completions as string[]).join("");
    let text = (row[o.inputKey] as string).split(o.tag).join("");
    if (o.format === "math-shepherd" && (numbered ?? o.numbered)) {
        for (let n = 1, at = 0; ; n++) {
            const marker = `Step ${n}: `;
            const i = text.indexOf(marker, at);
            if (i < 0) break;
            text = text.slice(0, i) + text.slice(i + marker.length);
            at = i;
        }
    }
    return text;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
    return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
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

/** Export a LabelRecord JSONL file to `out` (replaced atomically at the end: io/atomic.ts), streaming. Errors name file:line and field. */
export async function exportFile(input: string, out: string, options: ExportOptions): Promise<ExportSummary> {
    if (!EXPORT_FORMATS.includes(options.format)) throw new StepwiseError(`export: unknown format "${options.format}" (expected ${EXPORT_FORMATS.join(", ")})`);
    const summary: ExportSummary = {records: 0, written: 0, skipped: {"no-labelled-step": 0, "tag-in-text": 0}, steps: 0, positive: 0, negative: 0};
    checkInputFile(input);
    prepareOutput(out, {inputs: [input]});
    // Read the first record before creating the output, so a wrong input leaves no empty file.
    const it = readRecords(input, LabelRecordSchema)[Symbol.asyncIterator]();
    let next = await it.next();
    const lock = acquireLock(out, "export");
    let writer: JsonlWriter | undefined;
    try {
        // Written to a temporary file and renamed at the end: a failed or killed export never leaves a partial file.
        writer = new JsonlWriter(out, {atomic: true});
        for (; !next.done; next = await it.next()) {
            const rec = next.value.record;
            summary.records++;
            const row = exportRecord(rec, options);
            if (typeof row === "string") {
                summary.skipped[row]++;
                continue;
            }
            writer.write(row);
            summary.written++;
            const o = resolveExportOptions(options);
            const kept = labelledSteps(rec, o.labels, o.stopAfterNegative);
            summary.steps += kept.length;
            summary.positive += kept.filter((s) => s.hard === 1).length;
            summary.negative += kept.filter((s) => s.hard === 0).length;
        }
        writer.commit();
    } finally {
        writer?.close();
        lock.release();
    }
    return summary;
}
