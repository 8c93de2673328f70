import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Command} from "@commander-js/extra-typings";
import {register} from "../../../src/cli/commands/grade.ts";
import {StepwiseError} from "../../../src/util/errors.ts";

/** Run `stepwise grade …` in-process and capture stdout/stderr. */
async function run(args: string[]): Promise<{out: string; err: string}> {
    const program = new Command();
    program.exitOverride();
    register(program);
    let out = "";
    let err = "";
    const log = console.log;
    const error = console.error;
    console.log = (...a: unknown[]) => void (out += a.join(" ") + "\n");
    console.error = (...a: unknown[]) => void (err += a.join(" ") + "\n");
    try {
        await program.parseAsync(["node", "stepwise", "grade", ...args]);
    } finally {
        console.log = log;
        console.error = error;
    }
    return {out, err};
}

test("grade --gold --pred prints the verdict and the extracted answers", async () => {
    const {out} = await run(["--gold", "\\frac12", "--pred", "so the answer is $0.5$."]);
    assert.match(out, /^equal\n/);
    assert.match(out, /gold: \\frac12 +\[whole\]/);
    assert.match(out, /pred: 0\.5 +\[answer-is\]/);
    const strict = await run(["--gold", "12, 10, 6", "--pred", "6, 10, 12", "--policy", "strict", "--json"]);
    assert.equal(JSON.parse(strict.out).equal, false);
});

test("grade --file writes one result per record, keeps extra fields, and reports agreement", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-grade-"));
    try {
        const file = join(dir, "pairs.jsonl");
        const rows = [
            {id: "a", gold: "\\frac{1}{2}", pred: "\\boxed{0.5}", expected: true},
            {id: "b", gold: "(1,2)", pred: "(2,1)", expected: true},
            {id: "c", gold: "3", pred: "The answer is 3."},
        ];
        writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
        const {out, err} = await run(["--file", file, "--json"]);
        const lines = out.trim().split("\n").map((l) => JSON.parse(l));
        assert.equal(lines.length, 4);
        assert.deepEqual(
            lines.slice(0, 3).map((l) => [l.id, l.equal, l.pred_answer, l.pred_extractor, l.agree]),
            [
                ["a", true, "0.5", "boxed", true],
                ["b", false, "(2,1)", "whole", false],
                ["c", true, "3", "answer-is", undefined],
            ],
        );
        const summary = lines[3];
        assert.equal(summary.summary, true);
        assert.equal(summary.n, 3);
        assert.equal(summary.with_expected, 2);
        assert.equal(summary.agree, 1);
        assert.match(err, /agreement with expected 1\/2/);

        const outFile = join(dir, "results.jsonl");
        await run(["--file", file, "--out", outFile, "--policy", "strict"]);
        assert.equal(readFileSync(outFile, "utf8").trim().split("\n").length, 3);
    } finally {
        rmSync(dir, {recursive: true, force: true});
    }
});

test("grade reports bad input as StepwiseError naming file:line and field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-grade-"));
    try {
        const file = join(dir, "bad.jsonl");
        writeFileSync(file, '{"gold": "1", "pred": "1"}\n{"gold": "2"}\n');
        await assert.rejects(run(["--file", file]), (e: unknown) => e instanceof StepwiseError && /bad\.jsonl:2: field "pred"/.test(e.message));
        await assert.rejects(run(["--gold", "1"]), StepwiseError);
        await assert.rejects(run(["--gold", "1", "--pred", "1", "--policy", "loose"]), /lenient or strict/);
        await assert.rejects(run(["--file", join(dir, "missing.jsonl")]), /no such file/);
    } finally {
        rmSync(dir, {recursive: true, force: true});
    }
});
