import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, writeFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {labCommand} from "../../../src/cli/commands/lab.ts";
import {generateProblems} from "../../../src/domains/lab/index.ts";

const run = (...args: string[]): Promise<unknown> => labCommand().exitOverride().parseAsync(["node", "lab", ...args]);
const readLines = (file: string): Array<Record<string, unknown>> => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));

test("lab generate and verify write JSONL through the CLI", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lab-cli-"));
    try {
        const data = join(dir, "p.jsonl");
        await run("generate", "--n", "20", "--seed", "3", "--ops", "3", "--out", data, "--quiet");
        const rows = readLines(data);
        assert.equal(rows.length, 20);
        assert.deepEqual(rows, JSON.parse(JSON.stringify(generateProblems(20, {seed: 3, knobs: {minOps: 3, maxOps: 3}}))));
        const samples = join(dir, "s.jsonl");
        writeFileSync(samples, rows.map((r, i) => JSON.stringify({problemId: r.id, text: i === 0 ? "The answer is 0." : r.solution})).join("\n") + "\n");
        const out = join(dir, "v.jsonl");
        const err = console.error;
        console.error = () => {};
        try {
            await run("verify", "--data", data, "--samples", samples, "--out", out);
        } finally {
            console.error = err;
        }
        const verdicts = readLines(out);
        assert.equal(verdicts.length, 20);
        assert.equal(verdicts[0].firstErrorStep, 0);
        assert.ok(verdicts.slice(1).every((v) => v.firstErrorStep === -1 && v.correct === true));
    } finally {
        rmSync(dir, {recursive: true, force: true});
    }
});
