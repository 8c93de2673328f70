/**
 * Scoring stage: PRM step scores for every record of a steps file (output of `stepwise split`
 * or `stepwise label`, or any JSONL with `question` and `steps` as strings or {text} objects).
 * Writes each record with `step_scores` and `prm` (the PRM spec) added, in input order, resuming
 * what is already there through the stage helper (stage.ts: output checks, lock, settings).
 */
import {basename} from "node:path";
import {z} from "zod";
import {readJsonl} from "../io/jsonl.ts";
import {checkPrmFile, splitPrmSpec, stepScoresSpec, withModelFile, type StepScorer} from "../prm/index.ts";
import {parseRecord, RecordId, ScoredRecordSchema, ScoreStepsSchema, Text} from "../core/schemas.ts";
import {engineFingerprint, openStage, resolveLazy, type Lazy, type Settings} from "../core/stage.ts";
import {StepwiseError} from "../util/errors.ts";

export interface ScoreFileOptions {
    /** The PRM, or a function that loads it (called after the output checks; closed at the end). */
    scorer: Lazy<StepScorer>;
    /** PRM spec, recorded in each record and in the settings fingerprint. Default: the format name. */
    prmSpec?: string;
    input: string;
    out: string;
    /** Field names. Defaults: id, question (or problem), steps. */
    idField?: string;
    questionField?: string;
    stepsField?: string;
    concurrency?: number;
    limit?: number;
    /** Skip (and count) records longer than the PRM's context instead of stopping. */
    skipTooLong?: boolean;
    onProgress?: (done: number, total: number) => void;
}

/** Step texts of a record: strings, or objects with a `text` field. */
export function stepTexts(value: unknown, where: string, field: string): string[] {
    const parsed = parseRecord(z.object({[field]: ScoreStepsSchema}), {[field]: value}, where)[field] as Array<string | {text: string}>;
    return parsed.map((s) => (typeof s === "string" ? s : s.text));
}

/**
 * Settings of a PRM spec for a fingerprint: its engine's identity plus the PRM parameters. A pair
 * (`stepwise pair-prm`) read for its step scores adds `tag_model`, the identity of the tag PRM it
 * names (so a changed tag PRM beside an unchanged pair is other settings), and `step_prm=` is
 * replaced by the settings of the spec it names (its model's bytes, not only its text). An
 * implicit reading adds `reference`, the identity of the reference model its GGUF names (a changed
 * reference changes every token value). `stepsOnly` (a caller that reads step scores only,
 * CreateScorerOptions.stepsOnly): the settings of `stepScoresSpec(spec)`, the model the step
 * scores come from, without an implicit reading's model and reference.
 */
export function prmSettings(spec: string, options: {stepsOnly?: boolean} = {}): Settings {
    if (options.stepsOnly) spec = stepScoresSpec(spec);
    const {engineSpec, params} = splitPrmSpec(spec);
    const file: ReturnType<typeof checkPrmFile> = engineSpec.startsWith("llama:") || engineSpec.startsWith("lab:") ? checkPrmFile(engineSpec, params.format) : {}; // a policy given as a PRM fails here, before any work
    let engine: Settings;
    try {
        engine = engineFingerprint(engineSpec);
    } catch (e) {
        if (e instanceof StepwiseError && /model file not found|is a folder|not a valid GGUF/.test(e.message)) throw e;
        engine = {spec: engineSpec};
    }
    return {
        ...engine,
        ...params,
        ...(file.tagFile ? {tag_model: engineFingerprint(withModelFile(engineSpec, file.tagFile))} : {}),
        // An implicit reading's reference (read from the GGUF) changes its scores as much as the PRM does.
        ...(file.implicit && params.ref === undefined ? {reference: engineFingerprint(withModelFile(engineSpec, file.implicit.reference))} : {}),
        ...(params.step_prm !== undefined ? {step_prm: prmSettings(stepScoresSpec(params.step_prm))} : {}),
    };
}

export interface ScoreSummary {
    scored: number;
    skipped: number;
    steps: number;
    /** Records not scored because they are longer than the PRM's context (with skipTooLong). */
    tooLong: Array<{where: string; message: string}>;
}

export async function scoreFile(o: ScoreFileOptions): Promise<ScoreSummary> {
    const idField = o.idField ?? "id";
    const stepsField = o.stepsField ?? "steps";
    const prm = o.prmSpec ?? (typeof o.scorer === "function" ? "unknown" : o.scorer.format.name);
    const stage = openStage({
        schema: ScoredRecordSchema,
        name: "score",
        out: o.out,
        idOf: (r) => String(r[idField]),
        inputs: [o.input],
        settings: {
            prm: o.prmSpec ? prmSettings(o.prmSpec, {stepsOnly: true}) : {format: prm},
            in: basename(o.input),
            fields: {id: idField, question: o.questionField ?? null, steps: stepsField},
        },
        checkExisting: (r) => (r.prm !== prm ? (r.prm === undefined ? "the records do not name their PRM" : `PRM ${r.prm}, now ${prm}`) : undefined),
    });
    let scorer: StepScorer | undefined;
    let created = false;
    try {
        const todo: Array<{record: Record<string, unknown>; question: string; steps: string[]; where: string; id: string}> = [];
        let total = 0;
        for await (const {record, line} of readJsonl(o.input)) {
            if (o.limit !== undefined && total >= o.limit) break;
            total++;
            const where = `${o.input}:${line}`;
            if (!(idField in record)) throw new StepwiseError(`${where}: field "${idField}": missing`);
            const id = parseRecord(z.object({[idField]: RecordId}), record, where)[idField] as string;
            if (stage.done.has(id)) continue;
            const qField = o.questionField ?? ("question" in record ? "question" : "problem");
            const question = parseRecord(z.object({[qField]: Text}), record, where)[qField] as string;
            todo.push({record, question, steps: stepTexts(record[stepsField], where, stepsField), where, id});
        }
        ({value: scorer, created} = await resolveLazy(o.scorer));
        const sc = scorer;
        let steps = 0;
        const before = total - todo.length;
        const run = await stage.runOrdered(
            todo,
            async (t) => {
                const scores = await sc.scoreSteps(t.question, t.steps);
                steps += scores.length;
                return {...t.record, step_scores: scores, prm};
            },
            {
                concurrency: o.concurrency ?? 4,
                where: (t) => `${t.where} id ${JSON.stringify(t.id)}`,
                skipTooLong: o.skipTooLong,
                onProgress: (d) => o.onProgress?.(before + d, total),
            },
        );
        return {scored: run.written, skipped: before, steps, tooLong: run.tooLong};
    } finally {
        stage.close();
        if (created) await scorer?.close();
    }
}
