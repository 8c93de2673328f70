import {test} from "node:test";
import assert from "node:assert/strict";
import {parseShard} from "../../../src/cli/options.ts";

test("--shard I/N: parsed, absent is undefined, bad values name the option", () => {
    assert.deepEqual(parseShard("1/3"), {index: 1, count: 3});
    assert.equal(parseShard(undefined), undefined);
    for (const bad of ["3/3", "1", "a/b", "-1/2", "1/0"]) assert.throws(() => parseShard(bad), new RegExp(`--shard: expected I/N with 0 ≤ I < N, got "${bad}"`));
});
