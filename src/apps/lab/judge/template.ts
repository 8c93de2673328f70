/**
 * How the lab judge (a character-level llama without special chat tokens) takes chat messages.
 *
 * The lab judge GGUF carries a Jinja chat template in `tokenizer.chat_template`
 * ({@link LAB_JUDGE_CHAT_TEMPLATE}), so node-llama-cpp renders chats for it like for any chat
 * model (`Engine.formatChat`): every system or user message is its content followed by "\n",
 * an assistant message is "Verdict:\n" + its content + "\n", and the generation prompt is
 * "Verdict:\n". BOS is not part of the template: the engine adds it as a token. The lab judge
 * then writes its critique ({@link critiqueText}) and EOS.
 *
 * {@link renderLabJudgeChat} is the same rendering in plain JS; training uses it, and a test
 * checks it against node-llama-cpp's rendering of the template.
 */
import type {ChatMessage} from "../../../engines/types.ts";

/** The cue after which the lab judge writes its critique. */
export const VERDICT_CUE = "Verdict:\n";

/** The Jinja chat template written into the lab judge GGUF. */
export const LAB_JUDGE_CHAT_TEMPLATE =
    "{% for message in messages %}{% if message['role'] == 'assistant' %}Verdict:\n{{ message['content'] }}\n{% else %}{{ message['content'] }}\n{% endif %}{% endfor %}{% if add_generation_prompt %}Verdict:\n{% endif %}";

/** The template's rendering, in JS (BOS excluded). */
export function renderLabJudgeChat(messages: readonly ChatMessage[], options: {addGenerationPrompt?: boolean} = {}): string {
    let out = "";
    for (const m of messages) out += m.role === "assistant" ? `${VERDICT_CUE}${m.content}\n` : `${m.content}\n`;
    if (options.addGenerationPrompt !== false && messages.at(-1)?.role !== "assistant") out += VERDICT_CUE;
    return out;
}

/**
 * What the lab judge writes for a solution of `steps` steps whose first wrong step is
 * `firstError` (−1: none): one line per step up to the first wrong one ("0 ok", …, "3 bad"),
 * then the verdict in `\boxed{}`. The per-step lines are a short chain of thought: each line
 * looks at one step, which a tiny model can do better than naming the index at once.
 */
export function critiqueText(steps: number, firstError: number): string {
    const last = firstError < 0 ? steps - 1 : firstError;
    const lines: string[] = [];
    for (let i = 0; i <= last; i++) lines.push(`${i} ${i === firstError ? "bad" : "ok"}`);
    lines.push(`\\boxed{${firstError}}`);
    return lines.join("\n");
}
