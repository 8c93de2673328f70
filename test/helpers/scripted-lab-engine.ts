/**
 * A deterministic stand-in policy for labeller tests: it reads the lab problem and the partial
 * solution from the prompt and finishes it with an answer line. From a prefix with no error it
 * reaches the right answer with probability `pGood`; from a prefix with an error, with
 * probability `pLucky` (a wrong step can still lead to the right answer, as in real MC data).
 */
import type {GenerateRequest, Sample} from "../../src/engines/types.ts";
import {ScriptedEngineBase} from "./scripted-engine.ts";
import {sampleRng} from "../../src/engines/sampling.ts";
import {problemAnswer, verifyProcess} from "../../src/domains/lab/index.ts";

export class ScriptedLabEngine extends ScriptedEngineBase {
    readonly info = {kind: "scripted", model: "scripted-lab"};
    readonly capabilities = {maxTopLogprobs: 0};
    constructor(
        private readonly pGood = 0.7,
        private readonly pLucky = 0.1,
    ) {
        super();
    }

    async generate(r: GenerateRequest): Promise<Sample[]> {
        const prompt = r.prompt as string;
        const nl = prompt.indexOf("\n");
        const question = prompt.slice(0, nl);
        const prefix = prompt.slice(nl + 1);
        const verdict = verifyProcess(question, prefix.slice(0, prefix.lastIndexOf("\n") + 1) || "");
        const partialOk = verdict.firstErrorStep === -1 && verifyProcess(question, prefix).firstErrorStep === -1;
        const answer = problemAnswer(question);
        this.counters.requests++;
        this.counters.prefixEvaluations++;
        const out: Sample[] = [];
        for (let j = 0; j < (r.n ?? 1); j++) {
            const index = (r.firstIndex ?? 0) + j;
            const u = sampleRng(r.seed ?? 0, index).next();
            const right = u < (partialOk ? this.pGood : this.pLucky);
            const text = `\nThe answer is ${right ? answer : answer + 1}.`;
            this.counters.generatedTokens += text.length;
            out.push({index, text, tokens: [...text].map((c) => ({text: c, confidence: 1, top: []})), finishReason: "eos"});
        }
        return out;
    }
}
