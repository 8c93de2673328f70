/**
 * The lab PRMBench (src/domains/lab/prmbench.ts): PRMBench's kinds of error made from exact truth.
 * Each row's wrong steps agree with the lab's exact process verifier (its first wrong step is the
 * first error step; no wrong step in another valid solution); the rows load with the PRMBench
 * loader as the reference expands them (a `correct_` item per problem of a `redundency` row); the
 * CLI writes the same rows; the generation is deterministic in its seed.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {LAB_PRMBENCH_CATEGORIES, countOps, labPrmBenchRows, problemExpr, verifyProcess} from "../../../src/domains/lab/index.ts";
import {readPrmBench} from "../../../src/eval/prmbench/load.ts";
import {labCommand} from "../../../src/cli/commands/lab.ts";

test("lab PRMBench: every category full; wrong steps as the exact verifier finds them; originals are the canonical solutions", () => {
    const rows = labPrmBenchRows({perCategory: 20, seed: 5});
    assert.equal(rows.length, 20 * LAB_PRMBENCH_CATEGORIES.length);
    for (const c of LAB_PRMBENCH_CATEGORIES) assert.equal(rows.filter((r) => r.classification === c).length, 20, c);
    for (const r of rows) {
        const where = `${r.classification}_${r.idx}`;
        const v = verifyProcess(r.question, r.modified_process.join("\n"));
        if (r.classification === "multi_solutions") {
            assert.deepEqual(r.error_steps, [], where);
            assert.equal(v.correct, true, `${where}: another valid solution is right`);
            assert.notDeepEqual(r.modified_process, r.original_process, where);
        } else {
            assert.ok(r.error_steps.length > 0, where);
            assert.equal(Math.min(...r.error_steps), v.firstErrorStep + 1, `${where}: first error step ${Math.min(...r.error_steps)}, the verifier's ${v.firstErrorStep + 1}\n${r.modified_process.join("\n")}`);
            assert.ok(r.error_steps.every((s) => s >= 1 && s <= r.modified_process.length), where);
        }
        // Kinds that change a value end with a wrong answer; redundancy and circular logic keep it.
        const keepsAnswer = ["redundency", "circular", "multi_solutions"].includes(r.classification);
        assert.equal(v.finalAnswerCorrect, keepsAnswer, `${where}: answer ${v.answer}`);
        if (!keepsAnswer) assert.deepEqual(r.error_steps.at(-1), r.modified_process.length, `${where}: the answer line is wrong too`);
        assert.equal(verifyProcess(r.question, r.original_process.join("\n")).correct, true, `${where}: the original process is right`);
        assert.equal(r.original_process.length, countOps(problemExpr(r.question)) + 1, `${where}: one line per operation, then the answer`);
    }
    assert.deepEqual(labPrmBenchRows({perCategory: 20, seed: 5}), rows, "deterministic");
    assert.notDeepEqual(labPrmBenchRows({perCategory: 20, seed: 6}), rows, "another seed, other rows");
});

test("lab prmbench CLI: the rows in PRMBench's layout, loaded as the reference expands them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lab-prmbench-"));
    const err = console.error;
    console.error = () => {};
    try {
        const out = join(dir, "lab-prmbench.jsonl");
        await labCommand().exitOverride().parseAsync(["node", "lab", "prmbench", "--out", out, "--per-category", "6", "--seed", "2"]);
        const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
        assert.deepEqual(lines, JSON.parse(JSON.stringify(labPrmBenchRows({perCategory: 6, seed: 2}))));
        const data = readPrmBench([out]);
        const redundant = lines.filter((r) => r.classification === "redundency");
        assert.equal(data.items.length, lines.length + redundant.length, "one correct_ item per redundency row");
        const correct = data.items.filter((i) => i.classification === "correct");
        assert.deepEqual(correct.map((i) => i.id), redundant.map((r) => `correct_${r.idx}`));
        assert.ok(correct.every((i) => i.errorSteps.length === 0));
    } finally {
        console.error = err;
        rmSync(dir, {recursive: true, force: true});
    }
});
