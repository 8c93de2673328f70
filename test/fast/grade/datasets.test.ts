/**
 * GSM8K and MATH500 gold answers graded against themselves and against reformatted copies
 * (thousands separators, \dfrac, \left( \right), \text{}, sentences, boxes) must all be equal, under
 * both policies; whole gold solutions must yield their own answer. Skipped when ../shared/data is absent.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, readFileSync} from "node:fs";
import {grade, type Policy} from "../../../src/grade/index.ts";
import {answerVariants} from "../../../src/grade/variants.ts";

const data = new URL("../../../../shared/data/", import.meta.url);
const gsmFile = new URL("gsm8k/test.jsonl", data);
const mathFile = new URL("math500/test.jsonl", data);

function records<T>(file: URL): T[] {
    return readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as T);
}

function checkVariants(golds: string[], policy: Policy): string[] {
    const failures: string[] = [];
    for (const g of golds)
        for (const v of [{name: "self", text: g}, ...answerVariants(g)]) {
            const r = grade(g, v.text, {policy});
            if (!r.equal) failures.push(`${v.name}: ${JSON.stringify(g)} vs ${JSON.stringify(v.text)} (${r.reason ?? "judged different"})`);
        }
    return failures;
}

for (const policy of ["lenient", "strict"] as const) {
    test(`MATH500 gold answers equal themselves and their reformatted copies (${policy})`, (t) => {
        if (!existsSync(mathFile)) return t.skip("../shared/data/math500/test.jsonl is absent");
        const golds = records<{answer: string}>(mathFile).map((r) => r.answer);
        assert.deepEqual(checkVariants(golds, policy), []);
    });
    test(`GSM8K gold answers equal themselves and their reformatted copies (${policy})`, (t) => {
        if (!existsSync(gsmFile)) return t.skip("../shared/data/gsm8k/test.jsonl is absent");
        const golds = records<{answer: string}>(gsmFile).map((r) => r.answer.split("####").pop()!.trim());
        assert.deepEqual(checkVariants(golds, policy), []);
    });
}

test("whole GSM8K solutions grade equal to their gold answer (#### extractor)", (t) => {
    if (!existsSync(gsmFile)) return t.skip("../shared/data/gsm8k/test.jsonl is absent");
    const bad = records<{answer: string}>(gsmFile).filter((r) => !grade(r.answer.split("####").pop()!.trim(), r.answer).equal);
    assert.equal(bad.length, 0);
});

test("whole MATH500 solutions grade equal to their gold answer (lenient)", (t) => {
    if (!existsSync(mathFile)) return t.skip("../shared/data/math500/test.jsonl is absent");
    const bad = records<{answer: string; solution: string}>(mathFile)
        .filter((r) => !grade(r.answer, r.solution).equal)
        .map((r) => r.answer);
    assert.deepEqual(bad, []);
});
