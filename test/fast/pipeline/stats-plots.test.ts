import {test} from "node:test";
import assert from "node:assert/strict";
import {overlaidHistogramSpec} from "../../../src/pipeline/stats/plots.ts";

type Spec = {data: {values: Array<{strategy: string; start: number; end: number; share: number}>}; encoding: {x: {axis?: {values: number[]}; bin: {step: number}}}};

test("steps per sample (integers, one per bin): each bar centred on its count, ticks at the counts", () => {
    const spec = overlaidHistogramSpec([{label: "adaptive", values: [1, 1, 2, 3]}], {title: "Steps per sample", xTitle: "steps", yTitle: "share of samples"}) as unknown as Spec;
    const bar = (k: number) => spec.data.values.find((v) => v.start < k && k < v.end)!;
    assert.deepEqual([bar(1).start, bar(1).end, bar(1).share], [0.5, 1.5, 0.5]);
    assert.deepEqual(spec.encoding.x.axis?.values, [0, 1, 2, 3]);
});

test("wide values (several per bin): bars and ticks at the bin edges", () => {
    const spec = overlaidHistogramSpec([{label: "adaptive", values: Array.from({length: 200}, (_, i) => i)}], {title: "Tokens", xTitle: "tokens", yTitle: "share"}) as unknown as Spec;
    assert.equal(spec.encoding.x.bin.step, 5);
    assert.equal(spec.data.values[0].start, 0);
    assert.equal(spec.encoding.x.axis, undefined);
});
