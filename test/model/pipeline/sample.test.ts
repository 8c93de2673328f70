import {test} from "node:test";
import assert from "node:assert/strict";
import {spawn, spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {tinyModel} from "../../helpers/tiny-model.ts";
import {cliArgs} from "../../helpers/cli.ts";

function lines(file: string): string[] {
    return readFileSync(file, "utf8").split("\n").filter((l) => l.trim());
}

test("stepwise sample killed mid-run resumes to the records of an uninterrupted run, none duplicated", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-sample-"));
    const data = join(dir, "q.jsonl");
    writeFileSync(data, Array.from({length: 24}, (_, i) => JSON.stringify({id: `q${i}`, question: `Compute ${i} + ${2 * i}.`})).join("\n") + "\n");
    const model = tinyModel(1, 40).path;
    const args = (out: string) => cliArgs("sample", "--engine", `llama:${model}`, "--data", data, "--out", out, "--n", "3", "--max-tokens", "60", "--concurrency", "1", "--quiet");
    const full = join(dir, "full.jsonl");
    assert.equal(spawnSync(process.execPath, args(full)).status, 0);

    const part = join(dir, "part.jsonl");
    const child = spawn(process.execPath, args(part), {stdio: "ignore"});
    await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
            if (existsSync(part) && lines(part).length >= 6) {
                clearInterval(timer);
                child.kill("SIGKILL");
                resolve();
            }
        }, 20);
    });
    await new Promise((r) => child.once("exit", r));
    const killedAt = lines(part).length;
    assert.ok(killedAt < 72, `killed before the end (${killedAt} records)`);
    const again = spawnSync(process.execPath, args(part), {encoding: "utf8"});
    assert.equal(again.status, 0, again.stderr);
    const a = lines(full).map((l) => JSON.parse(l));
    const b = lines(part).map((l) => JSON.parse(l));
    assert.equal(b.length, 72);
    assert.equal(new Set(b.map((r) => r.id)).size, 72, "no duplicates");
    const byId = new Map(a.map((r) => [r.id, r.text]));
    for (const r of b) assert.equal(r.text, byId.get(r.id), `${r.id} is the same sample`);
});

test("stepwise sample: bad engine spec and unreachable server give one-line errors and exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-sample-"));
    const data = join(dir, "q.jsonl");
    writeFileSync(data, JSON.stringify({question: "Compute 1 + 1."}) + "\n");
    const r1 = spawnSync(process.execPath, cliArgs("sample", "--engine", "gpt4", "--data", data, "--out", join(dir, "o.jsonl")), {encoding: "utf8"});
    assert.equal(r1.status, 1);
    assert.match(r1.stderr, /^stepwise: .*llama:PATH/m);
    const r2 = spawnSync(process.execPath, cliArgs("sample", "--engine", "openai:http://127.0.0.1:9?retries=1&timeout=2", "--data", data, "--out", join(dir, "o.jsonl")), {encoding: "utf8"});
    assert.equal(r2.status, 1);
    assert.match(r2.stderr, /127\.0\.0\.1:9/);
});
