/**
 * Presentation variants of an answer that every grader must accept as equal to the original:
 * thousands separators, `\dfrac`, `\left( … \right)`, `\text{}` wrappers and units, and the
 * answer embedded in a model-style sentence. Used by the tests and the `grade` benchmark.
 */

/** A named variant of an answer. */
export interface AnswerVariant {
    name: string;
    text: string;
}

/** Insert thousands separators into integers of 5+ digits (4-digit numbers are often years or codes). */
function withCommas(answer: string, sep: string): string {
    if (answer.includes("_")) return answer; // base-n numerals such as 2516_8
    return answer.replace(/(?<![\d.,{])\d{5,}(?![\d.}])/g, (d) => d.replace(/\B(?=(\d{3})+(?!\d))/g, sep));
}

/** All presentation variants of a gold answer (the ones that apply to it). */
export function answerVariants(answer: string): AnswerVariant[] {
    const out: AnswerVariant[] = [];
    const add = (name: string, text: string) => {
        if (text !== answer) out.push({name, text});
    };
    add("commas", withCommas(answer, ","));
    add("tex-commas", withCommas(answer, "{,}"));
    add("thin-space-commas", withCommas(answer, ",\\!"));
    add("dfrac", answer.replace(/\\frac(?![a-zA-Z])/g, "\\dfrac"));
    add("left-right", answer.replace(/\\left|\\right/g, "").replace(/(?<!\\)([([])/g, "\\left$1 ").replace(/(?<!\\)([)\]])/g, " \\right$1"));
    const text = /^\\text\{([^{}]*)\}$/.exec(answer);
    if (text) add("untext", text[1]);
    else if (/^[A-Za-z][A-Za-z ]+$/.test(answer)) add("text", `\\text{${answer}}`);
    else if (/^-?\d+(?:\.\d+)?$/.test(answer)) add("units", `${answer}\\text{ units}`);
    add("sentence", `So the final answer is $${answer}$.`);
    add("boxed", `Putting it together, the answer is $\\boxed{${answer}}$.`);
    const all = [withCommas, (a: string) => a.replace(/\\frac(?![a-zA-Z])/g, "\\dfrac")].reduce((acc, f) => f(acc, ","), answer);
    add("combined", `Therefore $\\boxed{${all.replace(/(?<!\\)\(/g, "\\left(").replace(/(?<!\\)\)/g, "\\right)")}}$`);
    return out;
}
