/**
 * Grading a JSONL file of `{gold, pred}` records (other fields are kept): one result record per
 * input record and a summary, with agreement figures when records carry an `expected` verdict.
 */
import {StepwiseError} from "../util/errors.ts";
import {requireGold} from "../io/dataset.ts";
import {readJsonl} from "../io/jsonl.ts";
import {grade} from "./grade.ts";
import type {GradeOptions} from "./policy.ts";

/** One graded record: the input fields plus the verdict. */
export type GradedRecord = Record<string, unknown> & {
    equal: boolean;
    gold_answer: string | null;
    gold_extractor: string | null;
    pred_answer: string | null;
    pred_extractor: string | null;
    reason?: string;
    /** Present when the record had a boolean `expected`: whether the verdict matches it. */
    agree?: boolean;
};

/** Totals over a graded file. */
export interface GradeSummary {
    summary: true;
    policy: string;
    n: number;
    equal: number;
    not_equal: number;
    /** Records that could not be compared (no answer found, unparseable, time limit). */
    undecided: number;
    /** Records with a boolean `expected`, and how many verdicts agree with it. */
    with_expected: number;
    agree: number;
    agreement: number | null;
    /** Verdicts reached by the slow symbolic path. */
    symbolic: number;
    seconds: number;
}

/**
 * Grade every record of a JSONL file. Each record needs string fields `gold` (not empty: see
 * io/dataset.ts `requireGold`) and `pred`; a numeric
 * `precision` overrides the option for that record. Throws a {@link StepwiseError} naming file:line
 * and field on a bad record.
 */
export async function gradeJsonlFile(file: string, options: GradeOptions, onRecord: (r: GradedRecord) => void): Promise<GradeSummary> {
    const t0 = performance.now();
    const s: GradeSummary = {
        summary: true,
        policy: options.policy ?? "lenient",
        n: 0,
        equal: 0,
        not_equal: 0,
        undecided: 0,
        with_expected: 0,
        agree: 0,
        agreement: null,
        symbolic: 0,
        seconds: 0,
    };
    for await (const {record, line} of readJsonl(file)) {
        requireGold(record.gold, `${file}:${line}`, "gold");
        for (const field of ["pred"]) {
            const v = record[field];
            if (typeof v !== "string" && typeof v !== "number")
                throw new StepwiseError(`${file}:${line}: field "${field}" must be a string (got ${v === undefined ? "nothing" : typeof v})`);
        }
        if (record.precision !== undefined && !(Number.isInteger(record.precision) && (record.precision as number) >= 0 && (record.precision as number) <= 15))
            throw new StepwiseError(`${file}:${line}: field "precision" must be an integer in 0..15`);
        if (record.expected !== undefined && typeof record.expected !== "boolean")
            throw new StepwiseError(`${file}:${line}: field "expected" must be true or false`);
        const recOptions: GradeOptions = {...options};
        if (typeof record.precision === "number") recOptions.precision = record.precision;
        if (typeof record.allow_set_relation_comp === "boolean") recOptions.allowSetRelation = record.allow_set_relation_comp;
        const r = grade(String(record.gold), String(record.pred), recOptions);
        const out: GradedRecord = {
            ...record,
            equal: r.equal,
            gold_answer: r.gold.answer,
            gold_extractor: r.gold.extractor,
            pred_answer: r.pred.answer,
            pred_extractor: r.pred.extractor,
            ...(r.reason ? {reason: r.reason} : {}),
        };
        s.n++;
        if (r.equal) s.equal++;
        else s.not_equal++;
        if (r.path === "none") s.undecided++;
        if (r.path === "symbolic") s.symbolic++;
        if (typeof record.expected === "boolean") {
            out.agree = r.equal === record.expected;
            s.with_expected++;
            if (out.agree) s.agree++;
        }
        onRecord(out);
    }
    s.agreement = s.with_expected ? s.agree / s.with_expected : null;
    s.seconds = +((performance.now() - t0) / 1000).toFixed(3);
    return s;
}
