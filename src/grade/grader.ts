/**
 * The answer functions the evaluations need, as plain injectable functions, so the library can be
 * driven by the project's grader (the default), a stricter policy, or anything else a user has.
 */
import {answersEqual, extractAnswer, type GradeOptions} from "./index.ts";

/** Final-answer extraction and answer equivalence. */
export interface AnswerGrader {
    /** The final answer of a model output or gold solution; null when there is none. */
    extract(text: string): string | null;
    /** Whether two extracted answers are the same answer (`a` plays the gold role). */
    equal(a: string, b: string): boolean;
}

/** The project's grader (src/grade) under the given options (default: lenient policy). */
export function defaultGrader(options: GradeOptions = {}): AnswerGrader {
    return {
        extract: (text) => extractAnswer(text, {policy: options.policy})?.answer ?? null,
        equal: (a, b) => answersEqual(a, b, options),
    };
}
