// Makes a fresh clone runnable as the first command (`npm run demo`, `npm test`):
// 1. installs the npm dependencies when node_modules lacks one of package.json's (a fresh clone,
//    or a merge that added a dependency). `npm install` rather than `npm ci`: the lock file cannot
//    list platform packages this registry lacks (npm ci rejects that);
// 2. builds dist/ (the bin runs built JavaScript) when it is missing or older than any file
//    under src/ or tsconfig.json;
// 3. system packages the tests use (scripts/ensure-browser.mjs: installed only when missing).
import {existsSync, readFileSync} from "node:fs";
import {join} from "node:path";
import {execSync, spawnSync} from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const missing = Object.keys({...pkg.dependencies, ...pkg.devDependencies}).filter((name) => !existsSync(join(root, "node_modules", name, "package.json")));
if (missing.length) {
    console.error(`[stepwise] installing dependencies (missing: ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}) ...`);
    execSync("npm install --no-audit --no-fund", {stdio: "inherit", cwd: root});
}

const {vendorGradients} = await import("./vendor-gradients.mjs");
await vendorGradients();
const {distStale} = await import("../bin/dist-stale.mjs");
const stale = distStale(new URL("..", import.meta.url));
if (stale) {
    console.error(`[stepwise] ${stale}: building ...`);
    const r = spawnSync(process.execPath, [join(root, "scripts/build.mjs")], {stdio: "inherit", cwd: root});
    if (r.status !== 0) process.exit(r.status ?? 1);
}

if (process.argv.includes("--build-only")) process.exit(0);
execSync(`node ${join(root, "scripts/ensure-browser.mjs")}`, {stdio: "inherit"});
execSync(`node ${join(root, "scripts/install-sandbox.mjs")}`, {stdio: "inherit"});
