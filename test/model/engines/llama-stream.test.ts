/**
 * The llama engine's streaming hook (GenerateRequest.stream, capabilities.streaming): the tokens
 * it passes are exactly each sample's tokens, in order, sent as they are generated, with a token
 * that may still begin a stop string held back until it cannot (so nothing sent is ever cut).
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import type {GeneratedToken, Sample} from "../../../src/engines/types.ts";
import {StopMatcher} from "../../../src/engines/stop.ts";

let engine: LlamaEngine;
before(async () => {
    engine = await LlamaEngine.load(new URL("../../../models/lab-policy.gguf", import.meta.url).pathname, {sequences: 2, contextSize: 256});
});
after(async () => {
    await engine?.close();
});

test("the stream hook passes each sample's tokens in order, then the sample; stop strings never cut what was sent", async () => {
    assert.equal(engine.capabilities.streaming, true);
    let stopped = 0;
    for (const stop of [[], ["\nNext"], [" = 1", "9 *"], ["so 5", "57"]]) {
        const streamed = new Map<number, GeneratedToken[]>();
        const ended: Sample[] = [];
        const generatedAt: number[] = [];
        const samples = await engine.generate({
            prompt: "Compute (12 + 7) * 3 - 5.\n",
            n: 4,
            firstIndex: 2,
            seed: 5,
            temperature: 1,
            maxTokens: 60,
            topLogprobs: 1,
            stop,
            stream: {
                token(index, token) {
                    assert.ok(!ended.some((s) => s.index === index), `token for sample ${index} after its end`);
                    streamed.set(index, [...(streamed.get(index) ?? []), {...token}]);
                    generatedAt.push(engine.stats().generatedTokens);
                },
                end(sample) {
                    ended.push(sample);
                },
            },
        });
        assert.deepEqual(ended.map((s) => s.index).sort(), [2, 3, 4, 5]);
        for (const s of samples) {
            assert.deepEqual(streamed.get(s.index) ?? [], s.tokens, `stop ${JSON.stringify(stop)}, sample ${s.index}`);
            assert.equal(ended.find((e) => e.index === s.index), s);
            if (s.finishReason === "stop") stopped++;
        }
        // Sent while generating: the first token went out before the last one was generated.
        if (generatedAt.length > 1) assert.ok(generatedAt[0] < generatedAt.at(-1)!);
    }
    assert.ok(stopped >= 2, `only ${stopped} samples ended on a stop string: the hold-back is not exercised`);
});

test("StopMatcher.finalLength: what no stop string can cut any more", () => {
    const m = new StopMatcher(["abc", "xy"]);
    assert.equal(new StopMatcher([]).finalLength(), Infinity);
    m.push("zz");
    assert.equal(m.finalLength(), 0); // the last (longest stop − 1) = 2 characters are always held back
    m.push("zab");
    assert.equal(m.finalLength(), 3); // "zzz" is final; "ab" is held
    assert.equal(m.push("c"), true);
    assert.equal(m.finalLength(), 3); // cut at the match
});
