/**
 * `import "stepwise"` is light: it loads no training (tfjs), plotting (vega, vega-lite, resvg),
 * symbolic-math (@cortex-js/compute-engine), Markdown (marked) or POS-tagger (pos) package.
 * Those load on first use (the grader's symbolic path, the token categories' tagger, plots) or
 * behind a subpath (`stepwise/train`, `stepwise/lab`, `stepwise/demo`, …). A child node records
 * every package it resolves (test/helpers/load-hook.mjs) while it imports the root and then uses
 * the two lazily loaded packages, so the test also shows that the hook sees a lazy load (and that
 * the first symbolic comparison, which loads the compute engine, is not cut short by the load).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {spawnSync} from "node:child_process";
import {mkdtempSync, readFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";

/** Packages `import "stepwise"` must not load (the HTTP servers too: `stepwise/serve`, `stepwise/view`). */
export const NOT_AT_ROOT = ["@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-wasm", "vega", "vega-lite", "@resvg/resvg-js", "@cortex-js/compute-engine", "marked", "pos", "hono", "@hono/node-server", "node-llama-cpp"];
const hook = new URL("../../helpers/load-hook.mjs", import.meta.url).pathname;
const rootUrl = new URL("../../../src/index.ts", import.meta.url).href;

/** Run `script` in a child node (tsx, the load hook); the packages it loaded before and after the line `MARK`. */
function loadedPackages(script: string): {before: Set<string>; after: Set<string>} {
    const log = join(mkdtempSync(join(tmpdir(), "stepwise-root-")), "loaded.txt");
    const r = spawnSync(process.execPath, ["--import", "tsx", "--import", hook, "--input-type=module", "-e", script], {encoding: "utf8", env: {...process.env, STEPWISE_LOAD_LOG: log}});
    assert.equal(r.status, 0, r.stderr);
    const [before, after = ""] = readFileSync(log, "utf8").split("MARK\n");
    const set = (s: string) => new Set(s.split("\n").filter(Boolean));
    return {before: set(before), after: set(after)};
}

test('import "stepwise" loads none of the heavy packages; the grader and the token categories load theirs on first use', () => {
    const {before, after} = loadedPackages(`
        import {appendFileSync} from "node:fs";
        const root = await import(${JSON.stringify(rootUrl)});
        appendFileSync(process.env.STEPWISE_LOAD_LOG, "MARK\\n");
        // the first symbolic comparison loads the engine; that load is not charged to its time limit
        const g = root.grade("\\\\prod_{k=1}^{4} k", "24");
        if (!g.equal || g.path !== "symbolic") throw new Error("symbolic grading failed: " + JSON.stringify(g));
        const cats = root.classifyTokens(root.MATH_SCHEME, "Then the cat sat", [0, 5, 9, 13, 16]);
        if (!cats.includes("noun")) throw new Error("categories: " + JSON.stringify(cats)); // the tagger's word
    `);
    assert.ok(before.size > 0, "the hook saw the root's packages");
    assert.deepEqual(NOT_AT_ROOT.filter((p) => before.has(p)), [], "packages loaded by the root import");
    // The lazily loaded ones are seen by the same hook (so the assertion above can fail).
    assert.deepEqual(["@cortex-js/compute-engine", "pos"].filter((p) => !after.has(p)), [], "the lazy loads were recorded");
});
