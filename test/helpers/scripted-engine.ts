/**
 * The common part of the tests' scripted engines: one character per token (char codes as ids),
 * counters, and the core Engine methods a test double does not script throwing "not used".
 * Subclasses give `info`, `capabilities` and `generate` (and override what else they script).
 * No facet (chat, probeTokens, promptLogprobs, pool): a subclass that scripts one adds it, and
 * code under test sees an engine without the others, as it would a real one.
 */
import {emptyStats, type ChatMessage, type ChatRequest, type Engine, type EngineCapabilities, type EngineInfo, type EngineStats, type GenerateRequest, type Sample, type TokenProbeRequest, type TokenProbeResult} from "../../src/engines/types.ts";

export abstract class ScriptedEngineBase implements Engine {
    abstract readonly info: EngineInfo;
    abstract readonly capabilities: EngineCapabilities;
    protected counters: EngineStats = emptyStats();
    abstract generate(r: GenerateRequest): Promise<Sample[]>;
    async formatChat(_messages: ChatMessage[]): Promise<string> {
        throw new Error("not used");
    }
    samplingRecord() {
        return {};
    }
    async nextToken(): Promise<never> {
        throw new Error("not used");
    }
    async tokenize(text: string) {
        return [...text].map((c) => c.charCodeAt(0));
    }
    async detokenize(tokens: number[]) {
        return String.fromCharCode(...tokens);
    }
    stats() {
        return {...this.counters};
    }
    async close() {}
}
