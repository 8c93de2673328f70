/**
 * `lab:` engine specs: the models shipped in the package's models/ folder, resolvable from any
 * working directory (a consumer project), unlike `llama:models/lab-policy.gguf`, which is relative
 * to the current folder. The consumer run imports the package by path from a fresh folder in
 * TMPDIR, as a project that installed stepwise would (src/ and dist/ sit at the same depth).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {spawnSync} from "node:child_process";
import {existsSync, mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {LAB_MODELS, labModelPath, parseEngineSpec} from "../../../src/engines/spec.ts";
import {splitPrmSpec} from "../../../src/prm/index.ts";

const root = new URL("../../..", import.meta.url).pathname;

test("lab:NAME parses as the llama spec of the shipped file, with the llama parameters; unknown names are one-line errors", () => {
    for (const [name, file] of Object.entries(LAB_MODELS)) {
        const p = parseEngineSpec(`lab:${name}`);
        assert.equal(p.kind, "llama");
        assert.equal(p.kind === "llama" && p.path, join(root, "models", file));
        assert.ok(existsSync(labModelPath(name)), `${file} is shipped`);
    }
    assert.deepEqual(parseEngineSpec("lab:prm?contextSize=256&sequences=2"), {kind: "llama", path: join(root, "models/lab-prm.gguf"), options: {contextSize: 256, sequences: 2}});
    assert.equal(splitPrmSpec("lab:prm?format=stepwise-lab").engineSpec, "lab:prm");
    assert.throws(() => parseEngineSpec("lab:critic"), /^StepwiseError: engine spec "lab:critic": lab model "critic": unknown \(known: lab:policy, lab:prm, lab:tag-prm, lab:verifier, lab:judge, lab:implicit-prm, lab:policy-rl, lab:code-policy\)$/);
    assert.throws(() => parseEngineSpec("lab:"), /engine spec "lab:": no model name/);
});

test("from a consumer project's folder, lab:policy and lab:prm load and run; llama:models/… does not resolve there", () => {
    const app = mkdtempSync(join(tmpdir(), "stepwise-consumer-"));
    const tsx = import.meta.resolve("tsx");
    writeFileSync(
        join(app, "run.mjs"),
        `const {createEngine} = await import(${JSON.stringify(join(root, "src/index.ts"))});
const {createScorer} = await import(${JSON.stringify(join(root, "src/prm/index.ts"))});
const policy = await createEngine("lab:policy", {role: "policy"});
const [s] = await policy.generate({prompt: "Compute 2 + 3.\\n", n: 1, temperature: 0, maxTokens: 12});
await policy.close();
const prm = await createScorer("lab:prm");
const scores = await prm.scoreSteps("Compute 2 + 3.", ["2 + 3 = 5.\\n", "The answer is 5."]);
await prm.close();
let relative = "";
try { await createEngine("llama:models/lab-policy.gguf"); } catch (e) { relative = e.message; }
console.log(JSON.stringify({text: s.text, scores, relative}));
`,
    );
    const r = spawnSync(process.execPath, ["--import", tsx, "run.mjs"], {cwd: app, encoding: "utf8", timeout: 120_000});
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    assert.ok(out.text.length > 0);
    assert.equal(out.scores.length, 2);
    for (const x of out.scores) assert.ok(x >= 0 && x <= 1);
    assert.match(out.relative, /models\/lab-policy\.gguf/);
});
