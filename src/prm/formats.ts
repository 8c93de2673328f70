/**
 * How a PRM family wants its input laid out and where its step scores are read. Users bring
 * PRMs in a few shapes (see PAPERS.md): generative tag PRMs (Math-Shepherd, ASPRM: label-token
 * probabilities at a step tag), classifier PRMs (Qwen2.5-Math-PRM: a 2-class head read at a
 * separator token, served by vLLM's pooling API), and stepwise's own lab PRMs.
 *
 * Each format lays steps out exactly as its reference code does:
 * - `math-shepherd` (peiyi9979/math-shepherd-mistral-7b-prm card; search-and-learn's
 *   `CANDIDATE_TOKENS = [648, 387]`, `STEP_TAG_ID = 12902`): `question + " " + steps`, each step
 *   stripped and followed by " ки", steps joined by "\n". Labels "+" / "-" read in context, i.e.
 *   as the tokens that replace the tag's mark after its space: "▁+" (648) and "▁-" (387) on
 *   Mistral-7B v0.1, not "+" alone (28806).
 * - `asprm` (Lux0926/ASPRM released data and servers): the text is kept intact and " ки " (with a
 *   trailing space) follows every step; the servers read tag 12902 with tokens 1878 / 839
 *   ("▁к" / "▁и") on Mistral and tag 116624 (" ки") with 7820 / 7740 (" к" / " и") on
 *   Llama-3.1, positive first: label texts "к" / "и", read in context like Math-Shepherd's.
 * - `qwen-prm` (Qwen2.5-Math-PRM-7B card): steps (split on "\n\n", so stripped) joined by
 *   `<extra_0>`, also after the last, as the assistant turn of the chat template with the card's
 *   system prompt; 2-class head, index 1 = correct.
 * - `stepwise-lab`: question, "\n", the steps intact, each followed by `<|step|>`.
 *
 * Token ids are never looked up from the tag or label text alone (SPM's space prefix and BPE
 * merges change them); see {@link resolveTagIds} in scorer.ts, or give them explicitly.
 */
import {StepwiseError} from "../util/errors.ts";

export interface PrmFormat {
    name: string;
    /** Text placed after every step; the score is read at its (single) token. */
    stepTag: string;
    /**
     * Label texts: what replaces the tag's mark (the tag without surrounding whitespace) in the
     * training data, e.g. "+" / "-" for " ки" (" +"). The score is good / (good + bad).
     */
    goodToken: string;
    badToken: string;
    /** Text between the question and the first step. */
    questionSeparator: string;
    /** Text between a tag and the next step. */
    stepSeparator: string;
    /** How a step's text enters the input: stripped of surrounding whitespace, or intact. */
    stepText: "strip" | "intact";
    /** Classifier PRMs behind a pooling API: which of the returned numbers is "correct". Default 0. */
    positiveIndex?: number;
    /**
     * Wrap question and steps in a chat layout: system prompt + user question + assistant steps.
     * `chatml` is rendered here, as the reference renders it (Qwen card:
     * `apply_chat_template(messages, tokenize=False, add_generation_prompt=False)`, then encode);
     * `model` asks the engine for the model's own chat template.
     */
    chat?: {system: string; layout: "chatml" | "model"};
    /** Explicit token ids (spec `tag_id=`, `good_id=`, `bad_id=`); the others are resolved in context. */
    ids?: {tag?: number; good?: number; bad?: number};
    /** The reference's ids on known vocabularies (documentation and tests; never used to score). */
    referenceIds?: Record<string, {tag: number; good?: number; bad?: number}>;
}

export const PRM_FORMATS: Readonly<Record<string, PrmFormat>> = {
    /** stepwise lab PRMs: question, newline, each step followed by the `<|step|>` token. */
    "stepwise-lab": {name: "stepwise-lab", stepTag: "<|step|>", goodToken: "<|good|>", badToken: "<|bad|>", questionSeparator: "\n", stepSeparator: "", stepText: "intact"},
    /** Math-Shepherd: question + " " + stripped steps, each ending " ки", joined by "\n"; labels " +" / " -". */
    "math-shepherd": {
        name: "math-shepherd",
        stepTag: " ки",
        goodToken: "+",
        badToken: "-",
        questionSeparator: " ",
        stepSeparator: "\n",
        stepText: "strip",
        referenceIds: {"mistral-7b-v0.1": {tag: 12902, good: 648, bad: 387}},
    },
    /** ASPRM: text intact, " ки " after every step; label tokens " к" / " и", positive first. */
    asprm: {
        name: "asprm",
        stepTag: " ки ",
        goodToken: "к",
        badToken: "и",
        questionSeparator: " ",
        stepSeparator: "",
        stepText: "intact",
        referenceIds: {"mistral-7b-v0.1": {tag: 12902, good: 1878, bad: 839}, "llama-3.1": {tag: 116624, good: 7820, bad: 7740}},
    },
    /** Qwen2.5-Math-PRM: stripped steps joined by <extra_0> (also after the last) in the assistant turn; 2-class head, index 1 = correct. */
    "qwen-prm": {
        name: "qwen-prm",
        stepTag: "<extra_0>",
        goodToken: "",
        badToken: "",
        questionSeparator: "",
        stepSeparator: "",
        stepText: "strip",
        positiveIndex: 1,
        chat: {system: "Please reason step by step, and put your final answer within \\boxed{}.", layout: "chatml"},
        referenceIds: {"qwen2.5": {tag: 151651}},
    },
};

export function resolveFormat(name: string, overrides: Partial<PrmFormat> = {}): PrmFormat {
    const base = PRM_FORMATS[name];
    if (!base) throw new StepwiseError(`unknown PRM format "${name}" (known: ${Object.keys(PRM_FORMATS).join(", ")})`);
    return {...base, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined))};
}

/** A step's text as the format feeds it (stripped or intact). */
export function stepTextOf(format: PrmFormat, step: string): string {
    return format.stepText === "strip" ? step.trim() : step;
}

/** The assistant/step part of a PRM input: every step (as the format lays it out) followed by the tag. */
export function taggedSteps(format: PrmFormat, steps: string[]): string {
    return steps.map((s) => stepTextOf(format, s) + format.stepTag).join(format.stepSeparator);
}

/** The whole plain-text PRM input (no chat template). */
export function plainInput(format: PrmFormat, question: string, steps: string[]): string {
    return question + format.questionSeparator + taggedSteps(format, steps);
}

/**
 * ChatML (Qwen2.5's chat template for plain messages, no generation prompt):
 * `<|im_start|>{role}\n{content}<|im_end|>\n` per message.
 */
export function chatmlInput(system: string, question: string, assistant: string): string {
    const turn = (role: string, content: string): string => `<|im_start|>${role}\n${content}<|im_end|>\n`;
    return turn("system", system) + turn("user", question) + turn("assistant", assistant);
}

/** The tag with its mark replaced by a label: " ки" + "+" → " +", " ки " + "к" → " к " (surrounding whitespace kept). */
export function labelledTag(tag: string, label: string): string {
    const mark = tag.trim();
    if (mark === "") return tag + label;
    const at = tag.indexOf(mark);
    return tag.slice(0, at) + label + tag.slice(at + mark.length);
}
