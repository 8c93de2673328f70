/**
 * Lab-ProcessBench: lab solutions cut into steps, in ProcessBench's record shape
 * (`{id, generator, problem, steps: string[], final_answer_correct, label}`, label = index of the
 * first wrong step or −1), with exact labels from the lab verifier instead of expert annotation.
 * `stepwise eval processbench --data FILE` then evaluates PRMs (`--prm`) and judges (`--judge`) on
 * it exactly as on the real benchmark (Qwen arXiv 2501.07301 §3).
 */
import type {StepsRecord} from "../../../core/records.ts";
import {readRecords, StepTextsSchema} from "../../../core/schemas.ts";
import {checkAnswer} from "../../../domains/lab/index.ts";
import {labTruth} from "../../../domains/lab/verifier.ts";

export interface ProcessBenchRow {
    id: string;
    generator: string;
    problem: string;
    steps: string[];
    final_answer_correct: boolean;
    label: number;
}

/** The ProcessBench row of one split lab sample. */
export function labProcessBenchRow(record: Pick<StepsRecord, "id" | "question" | "text" | "steps">, generator = "lab-policy"): ProcessBenchRow {
    return {
        id: record.id,
        generator,
        problem: record.question,
        steps: record.steps.map((s) => s.text),
        final_answer_correct: checkAnswer(record.question, record.text).correct,
        label: labTruth(record).first_error,
    };
}

/** Rows of every sample of a steps file (split/label output of lab samples); samples without steps are skipped. */
export async function labProcessBench(stepsFile: string, generator?: string): Promise<ProcessBenchRow[]> {
    const rows: ProcessBenchRow[] = [];
    for await (const {record} of readRecords(stepsFile, StepTextsSchema)) if (record.steps.length > 0) rows.push(labProcessBenchRow(record, generator));
    return rows;
}
