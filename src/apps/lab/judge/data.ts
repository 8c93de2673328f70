/**
 * Training data of the lab judge: lab solutions cut into steps (the output of `stepwise split` or
 * `stepwise label` on policy samples of lab problems) with their exact first wrong step from the
 * lab verifier (src/domains/lab/verify.ts, mapped to the steps by `labTruth`).
 *
 * One example = BOS + the judge chat (src/judge/prompt.ts rendered by the lab judge's template)
 * + the critique ({@link critiqueText}) + EOS; the loss covers the critique and EOS only.
 */
import {readRecords, StepTextsSchema} from "../../../core/schemas.ts";
import type {CharTokenizer} from "../../../model/vocab.ts";
import type {StepsRecord} from "../../../core/records.ts";
import {labTruth} from "../../../domains/lab/verifier.ts";
import type {TrainExample} from "../../../train/index.ts";
import {judgeMessages} from "../../../judge/prompt.ts";
import {critiqueText, renderLabJudgeChat} from "./template.ts";

/** One judged solution: the question, its step texts and the true first wrong step (−1: none). */
export interface JudgeItem {
    id: string;
    question_id: string;
    question: string;
    steps: string[];
    first_error: number;
}

/** The exact first-error item of one split lab sample. */
export function judgeItem(record: Pick<StepsRecord, "id" | "question_id" | "question" | "text" | "steps">): JudgeItem {
    const truth = labTruth(record);
    return {id: record.id, question_id: record.question_id, question: record.question, steps: record.steps.map((s) => s.text), first_error: truth.first_error};
}

/** Read steps files (split or label output) of lab samples into judge items; ids are prefixed with the file index so two splits of one sample stay distinct. */
export async function readJudgeItems(files: readonly string[]): Promise<JudgeItem[]> {
    const items: JudgeItem[] = [];
    for (const [k, file] of files.entries()) {
        for await (const {record: r} of readRecords(file, StepTextsSchema)) {
            if (r.steps.length === 0) continue;
            const item = judgeItem({...r, question_id: r.question_id ?? r.id});
            items.push({...item, id: files.length > 1 ? `${k}:${item.id}` : item.id});
        }
    }
    return items;
}

/** The prompt text the lab judge reads for an item (without BOS). */
export function labJudgePrompt(question: string, steps: readonly string[]): string {
    return renderLabJudgeChat(judgeMessages(question, steps), {addGenerationPrompt: true});
}

/** The training example of an item: loss on the critique and EOS. */
export function labJudgeExample(item: JudgeItem, tokenizer: CharTokenizer): TrainExample {
    const prompt = tokenizer.encode(labJudgePrompt(item.question, item.steps), {addBos: true});
    const tokens = [...prompt, ...tokenizer.encode(critiqueText(item.steps.length, item.first_error)), tokenizer.vocab.eosId];
    return {tokens, lossMask: {start: prompt.length, end: tokens.length}};
}
