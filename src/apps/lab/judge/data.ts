/**
 * Training data of the lab judge: lab solutions cut into steps (the output of `stepwise split` or
 * `stepwise label` on policy samples of lab problems) with their exact first wrong step from the
 * lab verifier (src/domains/lab/verify.ts, mapped to the steps by `labTruth`).
 *
 * One example = BOS + the judge chat (src/judge/prompt.ts rendered by the lab judge's template)
 * + the critique ({@link critiqueText}) + EOS; the loss covers the critique and EOS only.
 */
import {StepwiseError} from "../../../util/errors.ts";
import {readRecords, StepTextsSchema} from "../../../core/schemas.ts";
import type {CharTokenizer} from "../../../model/vocab.ts";
import type {StepsRecord} from "../../../core/records.ts";
import {labTruth} from "../../../domains/lab/verifier.ts";
import {perturbRestatement, shiftOffset} from "../../../domains/lab/index.ts";
import {Rng} from "../../../util/rng.ts";
import type {TrainExample} from "../../../train/index.ts";
import {judgeMessages} from "../../../judge/prompt.ts";
import {critiqueText, renderLabJudgeChat} from "./template.ts";
import {labStepChecks, type LabCheckOptions} from "./verification.ts";
import {verificationParts} from "../../../prm/verifier.ts";

/** One judged solution: the question, its step texts and the true first wrong step (−1: none). */
export interface JudgeItem {
    id: string;
    question_id: string;
    question: string;
    steps: string[];
    first_error: number;
    /** Each step's check (critique "verify"; src/apps/lab/judge/verification.ts). */
    checks?: string[];
}

/** What the trained judge writes: "compact" (one `i ok` line per step, then the box) or "verify" (each step's check, then its verdict, then the box). */
export const CRITIQUES = ["verify", "compact"] as const;
export type Critique = (typeof CRITIQUES)[number];

/** The exact first-error item of one split lab sample, with its verification text (`options.contrast`, `options.claim`: see labStepChecks). */
export function judgeItem(record: Pick<StepsRecord, "id" | "question_id" | "question" | "text" | "steps">, options: LabCheckOptions = {}): JudgeItem {
    const truth = labTruth(record);
    const ends = record.steps.map((s) => s.end);
    const {checks} = labStepChecks(record.question, record.text, ends, options);
    return {id: record.id, question_id: record.question_id, question: record.question, steps: record.steps.map((s) => s.text), first_error: truth.first_error, checks};
}

/**
 * The same split sample with one wrong restatement (src/domains/lab/perturb.ts), its step
 * boundaries carried over the edit; null when the sample has no correct restated line, every
 * drawn edit failed, or the edit would cut through a step boundary or empty a step.
 */
export function syntheticRestatementRecord<R extends Pick<StepsRecord, "question" | "text" | "steps">>(record: R, rng: Rng): R | null {
    const p = perturbRestatement(record.question, record.text, rng);
    if (p === null) return null;
    const steps: R["steps"] = [];
    for (const s of record.steps) {
        const start = shiftOffset(s.start, p.edit);
        const end = shiftOffset(s.end, p.edit);
        if (start === null || end === null || (end === start && s.end > s.start)) return null; // a step cut through, or emptied
        const {token_start: _ts, token_end: _te, ...rest} = s; // token spans of the sampled text no longer hold
        steps.push({...rest, start, end, text: p.text.slice(start, end)});
    }
    return {...record, text: p.text, steps};
}

/** The id suffix of a synthetic wrong-restatement item. */
export const SYNTHETIC_RESTATEMENT_SUFFIX = "~restate";

/** Options of {@link readJudgeItems}: the checks' form, and synthetic wrong restatements. */
export interface ReadJudgeItemsOptions extends LabCheckOptions {
    /**
     * For this share of the samples (each drawn with this probability, 0–1), up to one more item: the
     * sample with one correct line's restatement made wrong ({@link syntheticRestatementRecord}),
     * id `<id>~restate`. Default 0 (none).
     */
    syntheticRestatements?: number;
    /** Seed of those draws. Default 0. */
    seed?: number;
}

/**
 * Read steps files (split or label output) of lab samples into judge items; ids are prefixed with
 * the file index so two splits of one sample stay distinct. With `syntheticRestatements`, a
 * synthetic item follows its sample's item (id ending in {@link SYNTHETIC_RESTATEMENT_SUFFIX}).
 */
export async function readJudgeItems(files: readonly string[], options: ReadJudgeItemsOptions = {}): Promise<JudgeItem[]> {
    const share = options.syntheticRestatements ?? 0;
    if (!(share >= 0 && share <= 1)) throw new StepwiseError(`lab judge: the share of synthetic restatement errors must be in 0..1, got ${share}`);
    const rng = new Rng(`synthetic-restatements:${options.seed ?? 0}`);
    const items: JudgeItem[] = [];
    for (const [k, file] of files.entries()) {
        for await (const {record: r} of readRecords(file, StepTextsSchema)) {
            if (r.steps.length === 0) continue;
            const record = {...r, question_id: r.question_id ?? r.id};
            const prefix = files.length > 1 ? `${k}:` : "";
            const item = judgeItem(record, options);
            items.push({...item, id: prefix + item.id});
            if (share > 0 && rng.bool(share)) {
                const wrong = syntheticRestatementRecord(record, rng);
                if (wrong === null) continue;
                const made = judgeItem(wrong, options);
                items.push({...made, id: prefix + made.id + SYNTHETIC_RESTATEMENT_SUFFIX});
            }
        }
    }
    return items;
}

/** The prompt text the lab judge reads for an item (without BOS): the compact template's, or the verify template's. */
export function labJudgePrompt(question: string, steps: readonly string[], critique: Critique = "compact"): string {
    return renderLabJudgeChat(judgeMessages(question, steps, {template: critique === "verify" ? "verify" : "compact"}), {addGenerationPrompt: true});
}

/**
 * The training example of an item: loss on the critique and EOS. Critique "verify": the
 * verifier's turn (src/prm/verifier.ts `verificationParts`), loss on the checks, verdicts, box
 * and EOS, not on the quoted steps (given at inference). `verdictWeight` (critique "verify";
 * default 1): the loss weight of each verdict's first token (the one after ` | ` that decides
 * `right` or `wrong`), every other written token weighing 1 (TrainExample.lossMask weights).
 */
export function labJudgeExample(item: JudgeItem, tokenizer: CharTokenizer, critique: Critique = "compact", verdictWeight = 1): TrainExample {
    if (!(verdictWeight > 0 && Number.isFinite(verdictWeight))) throw new StepwiseError(`lab judge: verdict weight ${verdictWeight}: expected a positive number`);
    const prompt = tokenizer.encode(labJudgePrompt(item.question, item.steps, critique), {addBos: true});
    if (critique === "compact") {
        const tokens = [...prompt, ...tokenizer.encode(critiqueText(item.steps.length, item.first_error)), tokenizer.vocab.eosId];
        return {tokens, lossMask: {start: prompt.length, end: tokens.length}};
    }
    if (item.checks === undefined) throw new StepwiseError(`lab judge: item ${item.id} has no step checks`);
    const tokens = [...prompt];
    const weights: number[] = prompt.map(() => 0);
    for (const part of verificationParts(item.steps, item.checks, item.first_error)) {
        const t = tokenizer.encode(part.text);
        tokens.push(...t);
        weights.push(...t.map((_, j) => (!part.written ? 0 : part.verdict && j === 0 ? verdictWeight : 1)));
    }
    tokens.push(tokenizer.vocab.eosId);
    weights.push(1);
    return {tokens, lossMask: weights};
}
