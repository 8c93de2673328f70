/**
 * How a PRM family wants its input laid out and where its step scores are read. Users bring
 * PRMs in a few shapes (see PAPERS.md): generative tag PRMs (Math-Shepherd, ASPRM: label-token
 * probabilities at a step tag), classifier PRMs (Qwen2.5-Math-PRM: a 2-class head read at a
 * separator token, served by vLLM's pooling API), and stepwise's own lab PRMs.
 */
import {StepwiseError} from "../engines/types.ts";

export interface PrmFormat {
    name: string;
    /** Text placed after every step; the score is read at its (single) token. */
    stepTag: string;
    /** Label tokens whose probabilities are compared at each tag; the score is good / (good + bad). */
    goodToken: string;
    badToken: string;
    /** Text between the question and the first step. */
    questionSeparator: string;
    /** Text between a tag and the next step. */
    stepSeparator: string;
    /** Classifier PRMs behind a pooling API: which of the returned numbers is "correct". Default 0. */
    positiveIndex?: number;
    /** Wrap question and steps in the model's chat template (system prompt + user question + assistant steps). */
    chat?: {system: string};
}

export const PRM_FORMATS: Readonly<Record<string, PrmFormat>> = {
    /** stepwise lab PRMs: question, newline, each step followed by the `<|step|>` token. */
    "stepwise-lab": {name: "stepwise-lab", stepTag: "<|step|>", goodToken: "<|good|>", badToken: "<|bad|>", questionSeparator: "\n", stepSeparator: ""},
    /** Math-Shepherd (peiyi9979/math-shepherd-mistral-7b-prm): question + " " + steps, each ending " ки"; labels "+" / "-". */
    "math-shepherd": {name: "math-shepherd", stepTag: " ки", goodToken: "+", badToken: "-", questionSeparator: " ", stepSeparator: "\n"},
    /** ASPRM (AdaptiveStep's PRMs): the Math-Shepherd tag; label tokens unverified, change them if your model differs. */
    asprm: {name: "asprm", stepTag: " ки", goodToken: "+", badToken: "-", questionSeparator: " ", stepSeparator: ""},
    /** Qwen2.5-Math-PRM: steps joined by <extra_0> (also after the last) in the assistant turn; 2-class head, index 1 = correct. */
    "qwen-prm": {
        name: "qwen-prm",
        stepTag: "<extra_0>",
        goodToken: "",
        badToken: "",
        questionSeparator: "",
        stepSeparator: "",
        positiveIndex: 1,
        chat: {system: "Please reason step by step, and put your final answer within \\boxed{}."},
    },
};

export function resolveFormat(name: string, overrides: Partial<PrmFormat> = {}): PrmFormat {
    const base = PRM_FORMATS[name];
    if (!base) throw new StepwiseError(`unknown PRM format "${name}" (known: ${Object.keys(PRM_FORMATS).join(", ")})`);
    return {...base, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined))};
}

/** The assistant/step part of a PRM input: every step followed by the tag. */
export function taggedSteps(format: PrmFormat, steps: string[]): string {
    return steps.map((s) => s + format.stepTag).join(format.stepSeparator);
}

/** The whole plain-text PRM input (no chat template). */
export function plainInput(format: PrmFormat, question: string, steps: string[]): string {
    return question + format.questionSeparator + taggedSteps(format, steps);
}
