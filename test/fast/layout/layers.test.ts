/**
 * The layering of src/: each top-level folder imports only from folders below it (LAYERS, bottom
 * first; folders on one row are independent of each other), so there are no import cycles between
 * folders and no upward imports. A new folder must be placed in LAYERS; a new import that goes up
 * or sideways fails here, naming the file and the import.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {readdirSync, readFileSync, statSync} from "node:fs";
import {dirname, join, relative, resolve} from "node:path";

/** Bottom first. The root files (index.ts) sit above all of them. */
export const LAYERS: readonly (readonly string[])[] = [
    ["util"], // errors (StepwiseError), rng
    ["io"], // files: JSONL, atomic writes, locks, outputs, datasets
    ["stats", "select", "steps"], // intervals; aggregation, Best-of-N and votes; the one step splitter
    ["model"], // tiny-llama config, weights, forward pass
    ["gguf"], // GGUF reader and writer
    ["engines"], // the Engine contract, llama and OpenAI engines
    ["grade"], // final-answer extraction and equivalence
    ["train"], // the generic trainer (tfjs)
    ["report"], // plots and HTML
    ["core"], // record types and schemas, the resumable stage runner, settings fingerprints
    ["domains"], // lab and code domains: generators, verifiers, exact truth, sandbox
    ["prm"], // PRM formats and scorers
    ["pipeline"], // sample, threshold, split, label, score, export, stats, PRM training
    ["search"], // decoders
    ["judge"], // LLM-as-a-judge
    ["filter"], // consensus filtering
    ["eval"], // Best-of-N, ProcessBench, PRMBench, analyses
    ["apps"], // demo, lab and code-lab workflows, serve, view, entry points of subpaths
    ["cli"],
];
const IGNORED = new Set(["types"]); // ambient declarations only

const src = resolve(import.meta.dirname, "../../../src");
const rank = new Map(LAYERS.flatMap((row, i) => row.map((name) => [name, i] as const)));

function tsFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
        const p = join(dir, name);
        return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
    });
}

/** Every relative import (static, dynamic, re-export) of every file under src/: [file, specifier, from folder, to folder]. */
function crossFolderImports(): Array<{file: string; spec: string; from: string; to: string}> {
    const out = [];
    for (const file of tsFiles(src)) {
        const from = relative(src, file).split("/")[0];
        for (const m of readFileSync(file, "utf8").matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
            const to = relative(src, resolve(dirname(file), m[1])).split("/")[0];
            if (to === "..") continue; // outside src/ (vendor/, package.json)
            if (to !== from) out.push({file: relative(src, file), spec: m[1], from, to});
        }
    }
    return out;
}

test("layers: every folder of src/ is placed in LAYERS", () => {
    const folders = readdirSync(src).filter((n) => statSync(join(src, n)).isDirectory() && !IGNORED.has(n));
    assert.deepEqual(folders.filter((f) => !rank.has(f)), [], "place new folders in LAYERS (test/layout/layers.test.ts)");
    assert.ok(folders.length >= 15, `read ${folders.length} folders`);
});

test("layers: no folder imports from a folder on its own row or above (no upward imports, no cycles)", () => {
    const imports = crossFolderImports();
    assert.ok(imports.length > 300, `expected the whole tree, read ${imports.length} cross-folder imports`);
    const bad = imports.filter(({from, to}) => rank.has(from) && (to.endsWith(".ts") || !rank.has(to) || rank.get(to)! >= rank.get(from)!));
    assert.deepEqual(
        bad.map((b) => `${b.file} imports ${b.spec} (${b.from} → ${b.to})`),
        [],
    );
});

test("layers: the checker catches an upward import (a file in util importing engines)", () => {
    const fake = [{from: "util", to: "engines"}, {from: "engines", to: "util"}, {from: "select", to: "steps"}];
    const up = fake.filter(({from, to}) => rank.get(to)! >= rank.get(from)!);
    assert.deepEqual(up, [{from: "util", to: "engines"}, {from: "select", to: "steps"}]);
});
