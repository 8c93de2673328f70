/**
 * Policy candidates for lab evaluations: k samples (temperature 1 unless told) and one greedy solution per
 * held-out problem, written as SampleRecords (resumable) so PRM evaluations can reuse them.
 */
import {existsSync} from "node:fs";
import {writeFileAtomic} from "../../../io/atomic.ts";
import {join} from "node:path";
import type {Engine} from "../../../engines/types.ts";
import {generateProblems, checkAnswer, type LabProblem} from "../../../domains/lab/index.ts";
import {sampleDataset} from "../../../pipeline/sample.ts";
import {readRecordsAll, SampleRecordSchema} from "../../../core/schemas.ts";
import type {SampleRecord} from "../../../core/records.ts";
import {LAB_MAX_TOKENS, labPrompt} from "./policy.ts";

export interface LabCandidates {
    problems: LabProblem[];
    samples: SampleRecord[];
    greedyAccuracy: number;
}

export async function labCandidates(o: {engine: Engine; engineSpec: string; dir: string; problems: number; k: number; seed?: number; temperature?: number; onProgress?: (d: number, t: number) => void}): Promise<LabCandidates> {
    const problems = generateProblems(o.problems, {seed: 3000 + (o.seed ?? 0), split: "heldout"});
    const data = join(o.dir, "problems.jsonl");
    if (!existsSync(data)) writeFileAtomic(data, problems.map((p) => JSON.stringify(p)).join("\n") + "\n");
    const out = join(o.dir, "candidates.jsonl");
    await sampleDataset({engine: o.engine, engineSpec: o.engineSpec, data, out, n: o.k, temperature: o.temperature ?? 1, maxTokens: LAB_MAX_TOKENS, topLogprobs: 0, seed: o.seed ?? 0, concurrency: 2, onProgress: o.onProgress});
    const samples = await readRecordsAll(out, SampleRecordSchema);
    let greedyRight = 0;
    for (const p of problems) {
        const [g] = await o.engine.generate({prompt: labPrompt(p), n: 1, temperature: 0, maxTokens: LAB_MAX_TOKENS, topLogprobs: 0});
        if (checkAnswer(p, g.text).correct) greedyRight++;
    }
    return {problems, samples, greedyAccuracy: greedyRight / problems.length};
}
