/**
 * The verification text the lab verifier is trained to write, made from the lab's exact step
 * truth (src/domains/lab/verify.ts): for each step of a split lab sample, the checks of the
 * lines the step completes (each line's `check`: the operation redone with its exact value and
 * the correct remaining expression, or why it cannot be), then "right" or "wrong"; lines up to
 * the first wrong step, each under the quote of its step, then `\boxed{first wrong step}`
 * (src/prm/verifier.ts lays it out).
 *
 * Which step a line belongs to: the step holding the line's anchor — its last character for a
 * correct line, the character where its error is decided (`decidedAt`) for the first wrong line,
 * the same anchor {@link labelSegments} uses for the step truth, so the verdicts here are
 * exactly `labTruth`'s. A step that holds no anchor (an adaptive step that ends inside a line)
 * gets the check {@link PARTIAL_CHECK}; several anchors, the checks joined by "; ".
 *
 * With `contrast` the first wrong line's check states the disagreement (StepVerdict.contrast:
 * `19 * 3 = 57, not 58`), so the verdict follows a comparison the verifier has just written,
 * right after the value it computed; lines without one (an operation that is not next, an
 * unreadable line) keep their check.
 *
 * With `claim` each line's check copies the step's own value next to the exact one
 * (StepVerdict.claim: `19 * 3 = 57 (step: 58)`, `12 + 7 = 19 (step: 19), so 19 * 3 - 45 / 5`), so
 * the verdict compares two numbers written side by side in the verifier's own line, right or
 * wrong, instead of a number it computed against one a line up; lines without a readable value
 * keep their check (or, with `contrast` too, their contrast).
 *
 * With `rebuild` each equation line's check starts from the expression before the step
 * (StepVerdict.rebuild: `from 19 * 3 - 45 / 5: 19 * 3 = 57, so 57 - 45 / 5`), so the remaining
 * expression the verifier writes is an edit of one it has just written, not a copy of the step's
 * own restatement, which is how the contrast-trained verifier misses wrong restatements
 * (docs/judge.md: 3 of 36 caught on pb3); a wrong line states the disagreement as with `contrast`.
 */
import {StepwiseError} from "../../../util/errors.ts";
import {labelSegments, verifyProcess} from "../../../domains/lab/index.ts";
import {PARTIAL_CHECK, verificationText} from "../../../prm/verifier.ts";

/** Options of {@link labStepChecks}. */
export interface LabCheckOptions {
    /** The wrong line's check states the disagreement (`19 * 3 = 57, not 58`; module docs). Default false. */
    contrast?: boolean;
    /**
     * Every line's check copies the step's own value beside the exact one (`19 * 3 = 57 (step: 58)`,
     * StepVerdict.claim; module docs); a wrong restatement states the disagreement as with
     * `contrast`. Default false.
     */
    claim?: boolean;
    /**
     * Every equation line's check is rebuilt from the expression before it (`from 19 * 3 - 45 / 5:
     * 19 * 3 = 57, so 57 - 45 / 5`, StepVerdict.rebuild; module docs), a wrong line's with the
     * disagreement stated as with `contrast`; other lines keep their check (or, with `contrast`,
     * their contrast). Takes precedence over `claim`. Default false.
     */
    rebuild?: boolean;
}

/** Step checks and first wrong step of a split lab sample (`stepEnds`: each step's end offset in `text`). */
export function labStepChecks(question: string, text: string, stepEnds: readonly number[], options: LabCheckOptions = {}): {checks: string[]; first_error: number} {
    const verdict = verifyProcess(question, text);
    const seg = labelSegments(verdict, stepEnds);
    const checks: string[][] = stepEnds.map(() => []);
    for (const s of verdict.steps) {
        if (s.correct === null) break;
        const anchor = s.correct ? s.end - 1 : s.decidedAt ?? s.end - 1;
        const at = stepEnds.findIndex((e) => anchor < e);
        if (at < 0) break;
        if (s.check === undefined) throw new StepwiseError(`lab verification: step ${s.index} of "${question}" has no check`);
        checks[at].push(
            options.rebuild && s.rebuild !== undefined ? s.rebuild : options.claim && s.claim !== undefined ? s.claim : options.contrast && !s.correct && s.contrast !== undefined ? s.contrast : s.check,
        );
        if (!s.correct) break;
    }
    return {checks: checks.map((c) => (c.length ? c.join("; ") : PARTIAL_CHECK)), first_error: seg.firstErrorSegment};
}

/** The verifier's turn for a split lab sample (see the module docs): quotes, checks, box. */
export function labVerificationText(question: string, text: string, stepEnds: readonly number[], options: LabCheckOptions = {}): string {
    const {checks, first_error} = labStepChecks(question, text, stepEnds, options);
    return verificationText(stepEnds.map((e, i) => text.slice(i ? stepEnds[i - 1] : 0, e)), checks, first_error);
}
