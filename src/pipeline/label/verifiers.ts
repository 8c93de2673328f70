/**
 * Rollout verifiers: does a completed solution (step prefix + rollout) reach the gold answer?
 * - `lab`: the lab's exact answer check (first answer line equals the exact value);
 * - `math`: the answer grader (extraction + equivalence, src/grade), for GSM8K/MATH-style data;
 * - `code` / `code:PROBLEMS`: run the solution's program against unit tests in the sandbox (src/code/pipeline.ts).
 */
import {StepwiseError} from "../../engines/types.ts";
import {checkAnswer} from "../../lab/domain/index.ts";

export type VerifierName = "lab" | "math" | "code" | `code:${string}`;

/** Returns true when `solution` (the whole text after the prompt) reaches the gold answer. */
export type Verifier = (input: {question: string; gold: string | undefined; solution: string}) => boolean | Promise<boolean>;

export async function makeVerifier(name: VerifierName): Promise<Verifier> {
    if (name === "lab")
        return ({question, solution}) => {
            try {
                return checkAnswer(question, solution).correct;
            } catch (e) {
                throw new StepwiseError(`lab verifier: cannot read the problem "${question.slice(0, 80)}" (${(e as Error).message})`);
            }
        };
    if (name === "math") {
        const grader = (await import("../../grade/index.ts")) as unknown as {grade: (gold: string, pred: string, o?: unknown) => {equal: boolean}};
        return ({gold, solution}) => {
            if (gold === undefined) throw new StepwiseError("math verifier: record has no gold answer (field `gold`)");
            return grader.grade(gold, solution).equal;
        };
    }
    if (name === "code" || name.startsWith("code:")) return (await import("../../code/pipeline.ts")).makeCodeVerifier({problems: name.startsWith("code:") ? name.slice(5) : undefined});
    throw new StepwiseError(`unknown verifier "${name}" (use lab, math, code or code:PROBLEMS.jsonl)`);
}
