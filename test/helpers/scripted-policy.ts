/**
 * Test doubles for the decoders: a character-level policy whose next-character distribution is a
 * function of the text so far (so tests know every probability exactly), and a step scorer whose
 * score is a function of the step text.
 */
import type {Engine, EngineCapabilities, GenerateRequest, GeneratedToken, Sample} from "../../src/engines/types.ts";
import {ScriptedEngineBase} from "./scripted-engine.ts";
import type {StepScorer} from "../../src/prm/scorer.ts";
import {resolveFormat} from "../../src/prm/formats.ts";
import {deriveSeed, Rng} from "../../src/util/rng.ts";

/** Next-character distribution after `context` (prompt + response); "" is end of sequence. */
export type Script = (context: string) => Array<[string, number]>;

/** Follow `text` character by character, then end; `branches` override the distribution after given contexts. */
export function scriptFrom(follow: (context: string) => string | null, branches: Record<string, Array<[string, number]>> = {}): Script {
    return (context) => {
        for (const [suffix, dist] of Object.entries(branches)) if (context.endsWith(suffix)) return dist;
        const next = follow(context);
        return next === null ? [["", 1]] : [[next, 1]];
    };
}

export class ScriptedPolicy extends ScriptedEngineBase {
    readonly info = {kind: "scripted", model: "scripted-policy"};
    readonly capabilities: EngineCapabilities;
    readonly prompts: string[] = [];
    constructor(
        private readonly script: Script,
        /** Whether the engine ends a sample at a token below stopBelowConfidence itself. */
        readonly nativeStop = true,
    ) {
        super();
        // nativeStop false: a third-party engine that ignores stopBelowConfidence (no such capability).
        this.capabilities = nativeStop ? {maxTopLogprobs: 20, stopBelowConfidence: "native"} : {maxTopLogprobs: 20};
    }

    async generate(r: GenerateRequest): Promise<Sample[]> {
        this.counters.requests++;
        const prompt = r.prompt as string;
        this.prompts.push(prompt);
        const stopBelow = this.nativeStop ? (r as {stopBelowConfidence?: number}).stopBelowConfidence : undefined;
        const out: Sample[] = [];
        for (let j = 0; j < (r.n ?? 1); j++) {
            const index = (r.firstIndex ?? 0) + j;
            const rng = new Rng(deriveSeed(r.seed ?? 0, index));
            const tokens: GeneratedToken[] = [];
            let text = "";
            let finishReason: Sample["finishReason"] = "length";
            let stopString: string | undefined;
            while (tokens.length < (r.maxTokens ?? 256)) {
                const dist = [...this.script(prompt + text)].sort((a, b) => b[1] - a[1]);
                let pick = 0;
                if ((r.temperature ?? 1) > 0) {
                    let u = rng.next();
                    while (pick < dist.length - 1 && u >= dist[pick][1]) u -= dist[pick++][1];
                }
                const [t, p] = dist[pick];
                if (t === "") {
                    finishReason = "eos";
                    break;
                }
                tokens.push({text: t, confidence: p, top: dist.slice(0, r.topLogprobs ?? 5).map(([text, prob]) => ({text, prob}))});
                text += t;
                this.counters.generatedTokens++;
                const hit = (r.stop ?? []).find((s) => text.endsWith(s));
                if (hit) {
                    text = text.slice(0, -hit.length);
                    tokens.splice(tokens.length - hit.length);
                    finishReason = "stop";
                    stopString = hit;
                    break;
                }
                if (stopBelow !== undefined && p < stopBelow) {
                    finishReason = "low-confidence" as Sample["finishReason"];
                    break;
                }
            }
            out.push({index, text, tokens, finishReason, ...(stopString ? {stopString} : {})});
        }
        return out;
    }
    /** This double as an Engine. */
    get engine(): Engine {
        return this;
    }
}

/** A PRM whose step score is `score(step, stepIndex, steps)`; it records every input it scored. */
export class FunctionScorer implements StepScorer {
    readonly format = resolveFormat("stepwise-lab");
    readonly inputs: string[][] = [];
    constructor(private readonly score: (step: string, i: number, steps: string[]) => number) {}
    async scoreSteps(_question: string, steps: string[]): Promise<number[]> {
        this.inputs.push(steps);
        return steps.map((s, i) => this.score(s, i, steps));
    }
    async scoreMany(items: Array<{question: string; steps: string[]}>): Promise<number[][]> {
        return Promise.all(items.map((it) => this.scoreSteps(it.question, it.steps)));
    }
    async close() {}
}
