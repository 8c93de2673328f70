/**
 * A chat "judge" for tests: reads the numbered steps back from the chat messages and answers with
 * a scripted function of (step count, a uniform draw seeded by (seed, sample index)) — so the
 * prompt must number the steps. Chat through `chat()` (capabilities.chat) or, with
 * `chat: false`, through formatChat + generate.
 */
import type {ChatMessage, ChatRequest, GenerateRequest, Sample} from "../../src/engines/types.ts";
import {ScriptedEngineBase} from "../helpers/scripted-engine.ts";
import {sampleRng} from "../../src/engines/sampling.ts";

export class ScriptedJudge extends ScriptedEngineBase {
    readonly info = {kind: "scripted", model: "scripted-judge"};
    readonly capabilities;
    prompts: string[] = [];
    constructor(private readonly answer: (steps: number, u: number) => string, options: {chat?: boolean} = {}) {
        super();
        this.capabilities = {tokenIds: false, maxTopLogprobs: 0, promptLogprobs: false, exactProbes: false, pooling: false, chat: options.chat ?? true, seeded: true, stopBelowConfidence: "emulated" as const};
    }
    override async formatChat(messages: ChatMessage[]): Promise<string> {
        return messages.map((m) => `<${m.role}>${m.content}`).join("") + "<assistant>";
    }
    override async chat(r: ChatRequest): Promise<Sample[]> {
        if (!this.capabilities.chat) throw new Error("chat is off");
        const {messages, ...rest} = r;
        return this.answerPrompt(await this.formatChat(messages), rest);
    }
    async generate(r: GenerateRequest): Promise<Sample[]> {
        return this.answerPrompt(r.prompt as string, r);
    }
    private answerPrompt(prompt: string, r: {n?: number; seed?: number; firstIndex?: number}): Sample[] {
        this.prompts.push(prompt);
        const steps = [...prompt.matchAll(/^Step (\d+): /gm)].length;
        this.counters.requests++;
        this.counters.promptTokens += prompt.length;
        return Array.from({length: r.n ?? 1}, (_, j) => {
            const index = (r.firstIndex ?? 0) + j;
            const text = this.answer(steps, sampleRng(r.seed ?? 0, index).next());
            this.counters.generatedTokens += text.length;
            return {index, text, tokens: [...text].map((c) => ({text: c, confidence: 1, top: []})), finishReason: "eos" as const};
        });
    }
}
