import {emptyStats, type ChatMessage, type Engine, type EngineStats, type GenerateRequest, type Sample} from "../../src/engines/types.ts";
import {deriveSeed, Rng} from "../../src/util/rng.ts";

/**
 * A chat "judge" for tests: reads the numbered steps back from the rendered prompt and answers
 * with a scripted function of (step count, sample index, seed) — so the prompt must number steps.
 */
export class ScriptedJudge implements Engine {
    readonly info = {kind: "scripted", model: "scripted-judge"};
    private counters: EngineStats = emptyStats();
    prompts: string[] = [];
    constructor(private readonly answer: (steps: number, u: number) => string) {}
    async formatChat(messages: ChatMessage[]): Promise<string> {
        return messages.map((m) => `<${m.role}>${m.content}`).join("") + "<assistant>";
    }
    async generate(r: GenerateRequest): Promise<Sample[]> {
        const prompt = r.prompt as string;
        this.prompts.push(prompt);
        const steps = [...prompt.matchAll(/^Step (\d+): /gm)].length;
        this.counters.requests++;
        this.counters.promptTokens += prompt.length;
        return Array.from({length: r.n ?? 1}, (_, index) => {
            const text = this.answer(steps, new Rng(deriveSeed(r.seed ?? 0, index)).next());
            this.counters.generatedTokens += text.length;
            return {index, text, tokens: [...text].map((c) => ({text: c, confidence: 1, top: []})), finishReason: "eos" as const};
        });
    }
    async nextToken(): Promise<never> {
        throw new Error("not used");
    }
    async probeTokens(): Promise<never> {
        throw new Error("not used");
    }
    async tokenize(text: string) {
        return [...text].map((c) => c.charCodeAt(0));
    }
    async detokenize(t: number[]) {
        return String.fromCharCode(...t);
    }
    stats() {
        return {...this.counters};
    }
    async close() {}
}

