/**
 * Reading SampleRecords for the split and threshold stages, with checks that name the file,
 * line and field of the first problem (a stage fed a wrong file fails at once, not halfway).
 */
import {StepwiseError} from "../../util/errors.ts";
import {readJsonl} from "../../io/jsonl.ts";
import type {SampleRecord} from "../../core/records.ts";

/** Confidences may exceed 1 by rounding (exp of a logprob ≈ 0); anything beyond this is an error. */
const CONFIDENCE_SLACK = 1e-6;

/**
 * Check one parsed JSONL object as a SampleRecord. `where` is `file:line` for messages.
 * With `checkText` (default), the token texts must concatenate to the record's text.
 * Returns the record typed; throws a StepwiseError naming where and the field otherwise.
 */
export function checkSampleRecord(raw: Record<string, unknown>, where: string, options: {checkText?: boolean} = {}): SampleRecord {
    const fail = (field: string, what: string): never => {
        throw new StepwiseError(`${where}: field "${field}": ${what}`);
    };
    if (typeof raw.id !== "string" || raw.id === "") fail("id", "expected a non-empty string (is this a samples file from `stepwise sample`?)");
    if (typeof raw.text !== "string") fail("text", `expected a string, got ${typeof raw.text}`);
    if (!Array.isArray(raw.tokens)) fail("tokens", "expected an array of {text, confidence} (is this a samples file from `stepwise sample`?)");
    const tokens = raw.tokens as unknown[];
    for (let i = 0; i < tokens.length; i++) {
        const t = tokens[i] as Record<string, unknown> | null;
        if (!t || typeof t !== "object") fail(`tokens[${i}]`, "expected an object");
        if (typeof t!.text !== "string") fail(`tokens[${i}].text`, "expected a string");
        const c = t!.confidence;
        if (typeof c !== "number" || !Number.isFinite(c) || c < 0 || c > 1 + CONFIDENCE_SLACK)
            fail(`tokens[${i}].confidence`, `expected a number in [0, 1], got ${JSON.stringify(c)}`);
    }
    if (options.checkText !== false) {
        const joined = (tokens as Array<{text: string}>).map((t) => t.text).join("");
        const text = raw.text as string;
        if (joined !== text) {
            let at = 0;
            while (at < joined.length && at < text.length && joined[at] === text[at]) at++;
            fail("tokens", `token texts do not concatenate to "text" of sample "${raw.id}" (first difference at character ${at})`);
        }
    }
    return raw as unknown as SampleRecord;
}

/** Stream the SampleRecords of a JSONL file, checked (see {@link checkSampleRecord}), with line numbers. */
export async function* readSamples(file: string, options: {checkText?: boolean} = {}): AsyncGenerator<{record: SampleRecord; line: number}> {
    for await (const {record, line} of readJsonl(file)) yield {record: checkSampleRecord(record, `${file}:${line}`, options), line};
}

export {tokenOffsets} from "../../steps/index.ts";
