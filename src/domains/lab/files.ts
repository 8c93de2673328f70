/**
 * The lab's file workflows, as `stepwise lab generate` and `stepwise lab verify` run them.
 * - {@link generateLabFile}: seeded problems with canonical solutions as JSONL
 *   ({id, question, answer, steps, solution, ops, meta}).
 * - {@link verifyLabFile}: exact process verdicts (first wrong step or −1, final-answer check) for
 *   model texts, one JSONL verdict per text.
 */
import {JsonlWriter, readJsonl, readJsonlAll} from "../../io/jsonl.ts";
import {StepwiseError} from "../../util/errors.ts";
import {type LabKnobs, type LabProblem, type LabSplit, DEFAULT_HELDOUT_FRACTION, DEFAULT_PRESET, PRESETS, labStream, parseOperators, verifyProcess} from "./index.ts";

export interface GenerateLabOptions {
    /** Number of problems. */
    n: number;
    /** Stream seed. Default 0. */
    seed?: number;
    /** Difficulty preset (presetNames()). Default DEFAULT_PRESET. */
    preset?: string;
    /** Train problems, or the held-out ones training never sees. Default train. */
    split?: LabSplit;
    /** Share of the problem space held out. Default DEFAULT_HELDOUT_FRACTION. */
    heldoutFraction?: number;
    /** Exactly k operations (sets minOps and maxOps). */
    ops?: number;
    minOps?: number;
    maxOps?: number;
    minOperand?: number;
    maxOperand?: number;
    /** Operators to use, e.g. "+-*\/" or "+,-". */
    operators?: string;
    parenProb?: number;
    maxValue?: number;
    allowNegative?: boolean;
    order?: LabKnobs["order"];
    style?: LabKnobs["style"];
    /** Never repeat a problem within the output. */
    unique?: boolean;
    /** Keep the meta field. Default true. */
    meta?: boolean;
    /** Output JSONL file (replaced atomically at the end); without it every line goes to `write`. */
    out?: string;
    /** Line sink when there is no `out` (e.g. stdout, honouring back-pressure). */
    write?: (line: string) => void | Promise<void>;
}

/** Problems written, and by number of operations: count and total solution characters. */
export interface GenerateLabSummary {
    written: number;
    preset: string;
    split: LabSplit;
    seed: number;
    byOps: Map<number, {count: number; chars: number}>;
}

/** Errors: StepwiseError for bad operator lists; neither `out` nor `write` is a TypeError. */
export async function generateLabFile(o: GenerateLabOptions): Promise<GenerateLabSummary> {
    if (!o.out && !o.write) throw new TypeError("generateLabFile: give out or write");
    const preset = o.preset ?? DEFAULT_PRESET;
    const split = o.split ?? "train";
    const seed = o.seed ?? 0;
    const meta = o.meta ?? true;
    const knobs: Partial<LabKnobs> = {
        minOps: o.minOps, maxOps: o.maxOps, minOperand: o.minOperand, maxOperand: o.maxOperand,
        operators: o.operators !== undefined ? parseOperators(o.operators) : undefined,
        parenProb: o.parenProb, maxValue: o.maxValue, allowNegative: o.allowNegative, order: o.order, style: o.style,
    };
    if (o.ops !== undefined) knobs.minOps = knobs.maxOps = o.ops;
    // One bound given: move the preset's other bound only if it would cross it.
    const base = PRESETS[preset] ?? PRESETS[DEFAULT_PRESET];
    if (knobs.minOps !== undefined && knobs.maxOps === undefined) knobs.maxOps = Math.max(knobs.minOps, base.maxOps);
    if (knobs.maxOps !== undefined && knobs.minOps === undefined) knobs.minOps = Math.min(knobs.maxOps, base.minOps);
    const stream = labStream({seed: seed, preset: preset, knobs, split: split, heldoutFraction: o.heldoutFraction ?? DEFAULT_HELDOUT_FRACTION, unique: o.unique});
    const writer = o.out ? new JsonlWriter(o.out, {atomic: true}) : null;
    const byOps = new Map<number, {count: number; chars: number}>();
    let written = 0;
    try {
        if (o.n > 0)
            for (const p of stream) {
                const record: LabProblem = meta ? p : {...p, meta: undefined};
                if (writer) writer.write(record);
                else await o.write!(JSON.stringify(record) + "\n");
                const s = byOps.get(p.ops) ?? {count: 0, chars: 0};
                s.count++;
                s.chars += p.solution.length;
                byOps.set(p.ops, s);
                if (++written >= o.n) break;
            }
        writer?.commit();
    } finally {
        writer?.close();
    }
    return {written, preset, split, seed, byOps};
}

/** Field names tried, in order, for a sample's text and for the id of its problem. */
const TEXT_FIELDS = ["text", "response", "completion", "output", "solution"];
const ID_FIELDS = ["problemId", "problem_id", "questionId", "question_id", "id"];

/** The texts of a sample row: a text field, or a `samples`/`texts` array of strings or {text}. */
function sampleTexts(row: Record<string, unknown>): string[] | null {
    for (const f of TEXT_FIELDS) if (typeof row[f] === "string") return [row[f] as string];
    for (const f of ["samples", "texts", "completions", "responses"]) {
        const arr = row[f];
        if (Array.isArray(arr)) {
            return arr.map((x) => {
                if (typeof x === "string") return x;
                if (x && typeof x === "object") for (const tf of TEXT_FIELDS) if (typeof (x as Record<string, unknown>)[tf] === "string") return (x as Record<string, string>)[tf];
                return "";
            });
        }
    }
    return null;
}

export interface VerifyLabOptions {
    /** Problems JSONL (from `lab generate`): id, question, answer. */
    data?: string;
    /** Samples JSONL: a problem id (problemId|problem_id|questionId|question_id|id) or a question, and a text field or a samples array. */
    samples: string;
    /** Write one verdict per sample text here (replaced atomically at the end); without it every line goes to `write`. */
    out?: string;
    /** Include per-step verdicts. */
    steps?: boolean;
    write?: (line: string) => void | Promise<void>;
}

export interface VerifyLabSummary {
    /** Texts verified. */
    total: number;
    /** By number of operations ("?" when unknown): texts, process-correct, final answer correct. */
    byOps: Map<number | "?", {n: number; correct: number; answer: number}>;
    /** Reason of each text's first error ("none", "no-answer-line" or the verifier's reason) → count. */
    firstReasons: Map<string, number>;
}

/** Errors: StepwiseError naming file:line for a sample without a known problem or a text. */
export async function verifyLabFile(o: VerifyLabOptions): Promise<VerifyLabSummary> {
    if (!o.out && !o.write) throw new TypeError("verifyLabFile: give out or write");
        const problems = new Map<string, {question: string; answer?: string; ops?: number}>();
    if (o.data)
        for (const r of await readJsonlAll(o.data))
            if (typeof r.id === "string" && typeof r.question === "string")
                problems.set(r.id, {question: r.question, answer: typeof r.answer === "string" || typeof r.answer === "number" ? String(r.answer) : undefined, ops: typeof r.ops === "number" ? r.ops : undefined});
    const writer = o.out ? new JsonlWriter(o.out, {atomic: true, inputs: [o.samples, o.data]}) : null;
    const byOps = new Map<number | "?", {n: number; correct: number; answer: number}>();
    const firstReasons = new Map<string, number>();
    let total = 0;
    try {
        for await (const {record, line} of readJsonl(o.samples)) {
            let problem: {question: string; answer?: string; ops?: number} | undefined;
            let id: string | undefined;
            for (const f of ID_FIELDS)
                if (typeof record[f] === "string" && problems.has(record[f] as string)) {
                    id = record[f] as string;
                    problem = problems.get(id);
                    break;
                }
            if (!problem && typeof record.question === "string") problem = {question: record.question, answer: typeof record.answer === "string" ? record.answer : undefined};
            if (!problem) throw new StepwiseError(`${o.samples}:${line}: no known problem id${o.data ? ` in ${o.data}` : " (give --data)"} and no question`);
            id ??= ID_FIELDS.map((f) => record[f]).find((x): x is string => typeof x === "string");
            const texts = sampleTexts(record);
            if (!texts) throw new StepwiseError(`${o.samples}:${line}: no text field (${TEXT_FIELDS.join("|")}) or samples array`);
            for (let k = 0; k < texts.length; k++) {
                const v = verifyProcess(problem, texts[k]);
                const out: Record<string, unknown> = {
                    id, ...(texts.length > 1 || !TEXT_FIELDS.some((f) => typeof record[f] === "string") ? {sampleIndex: k} : {}),
                    firstErrorStep: v.firstErrorStep, finalAnswerCorrect: v.finalAnswerCorrect, correct: v.correct, complete: v.complete,
                    answer: v.answer, expected: v.expected, numSteps: v.steps.length,
                    firstErrorReason: v.firstErrorStep >= 0 ? v.steps[v.firstErrorStep].reason : null,
                };
                if (o.steps) out.steps = v.steps.map((s) => ({index: s.index, correct: s.correct, reason: s.reason, detail: s.detail, start: s.start, end: s.end, decidedAt: s.decidedAt}));
                if (writer) writer.write(out);
                else await o.write!(JSON.stringify(out) + "\n");
                total++;
                const key = problem.ops ?? "?";
                const s = byOps.get(key) ?? {n: 0, correct: 0, answer: 0};
                s.n++;
                if (v.correct) s.correct++;
                if (v.finalAnswerCorrect) s.answer++;
                byOps.set(key, s);
                const reason = v.firstErrorStep >= 0 ? v.steps[v.firstErrorStep].reason : v.complete ? "none" : "no-answer-line";
                firstReasons.set(reason, (firstReasons.get(reason) ?? 0) + 1);
            }
        }
        writer?.commit();
    } finally {
        writer?.close();
    }
    return {total, byOps, firstReasons};
}
