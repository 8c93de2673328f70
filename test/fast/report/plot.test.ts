import {test} from "node:test";
import assert from "node:assert/strict";
import {histogram, histogramSpec, symlogTicks} from "../../../src/report/plot.ts";

test("histogramSpec: a symlog y axis says so and has ticks where the small bins are", () => {
    const bins = histogram([0.1, 0.1, 0.3, ...Array(20000).fill(0.99)], 10);
    const spec = histogramSpec(bins, {title: "t", xTitle: "confidence", logY: true}) as {layer: Array<{encoding: {y: {title: string; scale?: unknown; axis?: {values: number[]}}}}>};
    const y = spec.layer[0].encoding.y;
    assert.equal(y.title, "tokens (symlog scale)");
    assert.deepEqual(y.scale, {type: "symlog"});
    assert.deepEqual(y.axis!.values, [0, 1, 10, 100, 1000, 10000]);
    const linear = (histogramSpec(bins, {title: "t", xTitle: "x", yTitle: "samples"}) as typeof spec).layer[0].encoding.y;
    assert.deepEqual([linear.title, linear.scale, linear.axis], ["samples", undefined, undefined]);
    assert.deepEqual(symlogTicks(0), [0, 1]);
});
