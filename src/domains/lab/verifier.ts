/**
 * The lab's verifier for the label stage (`--verifier lab`): the exact answer check (first answer
 * line equals the exact value) and the exact per-step truth of a split sample (the process
 * verifier's first wrong step mapped onto the sample's step boundaries).
 */
import {StepwiseError} from "../../util/errors.ts";
import type {StepsRecord} from "../../core/records.ts";
import type {StepTruth} from "../verifier.ts";
import type {VerifierDefinition} from "../verifier.ts";
import {checkAnswer, labelSegments, verifyProcess} from "./index.ts";

/** Exact truth of a lab sample's steps: the first wrong step (−1: none) and per-step correctness. */
export function labTruth(record: Pick<StepsRecord, "question" | "text" | "steps">): StepTruth {
    const verdict = verifyProcess(record.question, record.text);
    const seg = labelSegments(verdict, record.steps.map((s) => s.end));
    return {first_error: seg.firstErrorSegment, correct: seg.labels};
}

/** The `lab` verifier definition (registered by src/apps/domains.ts). */
export const labVerifier: VerifierDefinition = {
    name: "lab",
    description: "the lab's exact answer check (synthetic arithmetic; exact step truth available)",
    create: () => ({question, solution}) => {
        try {
            return checkAnswer(question, solution).correct;
        } catch (e) {
            throw new StepwiseError(`lab verifier: cannot read the problem "${question.slice(0, 80)}" (${(e as Error).message})`);
        }
    },
    truth: labTruth,
};
