import {test} from "node:test";
import assert from "node:assert/strict";
import {plural} from "../../../src/util/plural.ts";

test("plural: one and many, irregular forms, thousands separated", () => {
    assert.equal(plural(1, "step"), "1 step");
    assert.equal(plural(0, "step"), "0 steps");
    assert.equal(plural(640, "sample"), "640 samples");
    assert.equal(plural(1, "intervention"), "1 intervention");
    assert.equal(plural(2, "process", "processes"), "2 processes");
    assert.equal(plural(12000, "token"), "12,000 tokens");
});
