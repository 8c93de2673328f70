/**
 * The documented reproducibility rule (README, LlamaEngine): on the CPU with `sequences: 1`, two
 * runs of the same requests give bit-for-bit the same confidences, even with requests in flight
 * at once. (With parallel sequences they may differ in the last digits: batches group by timing.)
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";

const model = new URL("../../../models/lab-policy.gguf", import.meta.url).pathname;
const prompts = ["Compute 18 / 2 / 3 / 3 + 9.\n", "Compute 2 * 15 - (20 - 15) * (10 / 5).\n", "Compute 7 + 8 * 2.\n"];

async function run(): Promise<number[][]> {
    const engine = await LlamaEngine.load(model, {sequences: 1});
    try {
        const samples = await Promise.all(prompts.map((prompt, i) => engine.generate({prompt, n: 4, seed: 5 + i, maxTokens: 40, temperature: 1})));
        return samples.flat().map((s) => s.tokens.map((t) => t.confidence));
    } finally {
        await engine.close();
    }
}

test("llama engine, CPU, sequences=1: two runs give bit-for-bit the same confidences with requests in flight together", async () => {
    const a = await run();
    const b = await run();
    assert.equal(a.length, 12);
    assert.deepEqual(b, a);
});
