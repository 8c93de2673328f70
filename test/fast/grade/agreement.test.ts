/**
 * Agreement targets of issue 7 on real test data (skipped, with the reason printed, when
 * ../shared/data is absent): ≥ 90% with Math-Verify's expected verdicts under `lenient`
 * (honouring a record's precision), 100% with the PRM800K grader's verdicts under `strict`.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, readFileSync} from "node:fs";
import {grade} from "../../../src/grade/index.ts";

const dir = new URL("../../../../shared/data/grader/", import.meta.url);
const mathVerify = new URL("math-verify-public.jsonl", dir);
const prm800k = new URL("prm800k-grade-answer.jsonl", dir);

interface Case {
    gold: string;
    pred: string;
    expected: boolean;
    precision?: number;
    allow_set_relation_comp?: boolean;
}

function load(file: URL): Case[] {
    return readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Case);
}

test("lenient agrees with Math-Verify on ≥ 90% of its public test cases", (t) => {
    if (!existsSync(mathVerify)) return t.skip("../shared/data/grader/math-verify-public.jsonl is absent");
    const cases = load(mathVerify);
    const misses: string[] = [];
    for (const c of cases) {
        const r = grade(c.gold, c.pred, {policy: "lenient", precision: c.precision, allowSetRelation: c.allow_set_relation_comp});
        if (r.equal !== c.expected) misses.push(`expected ${c.expected}: ${JSON.stringify(r.gold.answer)} vs ${JSON.stringify(r.pred.answer)} (${r.pred.extractor})`);
    }
    const agreement = 1 - misses.length / cases.length;
    t.diagnostic(`Math-Verify agreement ${(100 * agreement).toFixed(1)}% (${cases.length - misses.length}/${cases.length})`);
    for (const m of misses) t.diagnostic(`disagreement: ${m}`);
    assert.ok(agreement >= 0.9, `agreement ${(100 * agreement).toFixed(1)}% is below 90%`);
});

test("strict agrees with every PRM800K grader verdict", (t) => {
    if (!existsSync(prm800k)) return t.skip("../shared/data/grader/prm800k-grade-answer.jsonl is absent");
    for (const c of load(prm800k)) {
        const r = grade(c.gold, c.pred, {policy: "strict"});
        assert.equal(r.equal, c.expected, `${JSON.stringify(c.gold)} vs ${JSON.stringify(c.pred)}`);
    }
});
