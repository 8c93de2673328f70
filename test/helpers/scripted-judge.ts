/**
 * A chat "judge" for tests: reads the indexed steps back from the chat messages (compact
 * "Step i: " lines or ProcessBench's "<paragraph_i>" blocks) and answers with a scripted function
 * of (step count, a uniform draw seeded by (seed, sample index), sample index) — so the prompt
 * must index the steps. Chat through `chat()`, or, with `chat: false`, an engine without chat()
 * (callers use formatChat + generate). `requests` keeps each request's sampling options; a prompt longer than
 * `contextChars` throws a ContextOverflowError.
 */
import type {ChatMessage, ChatRequest, EngineCapabilities, GenerateRequest, Sample} from "../../src/engines/types.ts";
import {ScriptedEngineBase} from "./scripted-engine.ts";
import {sampleRng} from "../../src/engines/sampling.ts";
import {ContextOverflowError} from "../../src/util/errors.ts";

export class ScriptedJudge extends ScriptedEngineBase {
    readonly info = {kind: "scripted", model: "scripted-judge"};
    readonly capabilities: EngineCapabilities = {maxTopLogprobs: 0};
    /** Present unless constructed with `chat: false` (`declare`d: no property otherwise). */
    declare readonly chat?: (r: ChatRequest) => Promise<Sample[]>;
    prompts: string[] = [];
    requests: Array<Omit<GenerateRequest, "prompt">> = [];
    private readonly contextChars: number;
    constructor(private readonly answer: (steps: number, u: number, index: number) => string, options: {chat?: boolean; contextChars?: number} = {}) {
        super();
        this.contextChars = options.contextChars ?? Infinity;
        if (options.chat ?? true)
            this.chat = async (r) => {
                const {messages, ...rest} = r;
                return this.answerPrompt(await this.formatChat(messages), rest);
            };
    }
    override async formatChat(messages: ChatMessage[]): Promise<string> {
        return messages.map((m) => `<${m.role}>${m.content}`).join("") + "<assistant>";
    }
    async generate(r: GenerateRequest): Promise<Sample[]> {
        return this.answerPrompt(r.prompt as string, r);
    }
    private answerPrompt(prompt: string, r: Omit<GenerateRequest, "prompt">): Sample[] {
        if (prompt.length > this.contextChars) throw new ContextOverflowError(`prompt of ${prompt.length} tokens is longer than the model's context (${this.contextChars})`, prompt.length, this.contextChars);
        this.prompts.push(prompt);
        this.requests.push({...r});
        const steps = [...prompt.matchAll(/^Step (\d+): /gm)].length + [...prompt.matchAll(/^<paragraph_(\d+)>$/gm)].length;
        this.counters.requests++;
        this.counters.promptTokens += prompt.length;
        return Array.from({length: r.n ?? 1}, (_, j) => {
            const index = (r.firstIndex ?? 0) + j;
            const text = this.answer(steps, sampleRng(r.seed ?? 0, index).next(), index);
            this.counters.generatedTokens += text.length;
            return {index, text, tokens: [...text].map((c) => ({text: c, confidence: 1, top: []})), finishReason: "eos" as const};
        });
    }
}
