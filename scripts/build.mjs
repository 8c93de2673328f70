// Builds dist/ from src/ (tsc -p tsconfig.json) into a clean folder, stamps it and swaps it in; first
// vendor/tfjs-gradients.js when missing (scripts/vendor-gradients.mjs).
// `npm run build`; also run by `prepare` (npm install in a clone, npm pack) and by
// scripts/ensure-deps.mjs when dist/ is missing or older than a source file.
import {existsSync, renameSync, rmSync, writeFileSync} from "node:fs";
import {spawnSync} from "node:child_process";
import {createRequire} from "node:module";
import {vendorGradients} from "./vendor-gradients.mjs";

const root = new URL("..", import.meta.url);
const dist = new URL("dist/", root);
let tsc;
try {
    tsc = new URL("bin/tsc", new URL("file://" + createRequire(new URL("package.json", root)).resolve("typescript/package.json"))).pathname;
} catch {
    console.error("[stepwise] cannot build dist/: the typescript dev dependency is not installed (run npm install)");
    process.exit(1);
}
await vendorGradients();
// Built into a folder beside dist/, then swapped in by two renames, so a process that runs dist/
// meanwhile (a test's CLI while the pack test builds, a long run while you rebuild) never finds it
// half written or gone for the length of a compile.
const next = new URL(`dist.build-${process.pid}/`, root);
const old = new URL(`dist.old-${process.pid}/`, root);
rmSync(next, {recursive: true, force: true});
const r = spawnSync(process.execPath, [tsc, "-p", new URL("tsconfig.json", root).pathname, "--outDir", next.pathname], {stdio: "inherit", cwd: root});
if (r.status !== 0) {
    rmSync(next, {recursive: true, force: true});
    process.exit(r.status ?? 1);
}
writeFileSync(new URL(".build-stamp", next), new Date().toISOString() + "\n");
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, {recursive: true, force: true});
