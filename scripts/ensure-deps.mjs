// Makes a fresh clone runnable as the first command (`npm run demo`, `npm test`):
// 1. installs the npm dependencies when node_modules lacks one of package.json's (a fresh clone,
//    or a merge that added a dependency). `npm install` rather than `npm ci`: the lock file cannot
//    list platform packages this registry lacks (npm ci rejects that);
// 2. builds dist/ (the bin runs built JavaScript) when it is missing or older than any file
//    under src/ or tsconfig.json;
// 3. system packages the tests use (scripts/ensure-browser.mjs: installed only when missing).
import {existsSync, readFileSync, readdirSync, statSync} from "node:fs";
import {join} from "node:path";
import {execSync, spawnSync} from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const missing = Object.keys({...pkg.dependencies, ...pkg.devDependencies}).filter((name) => !existsSync(join(root, "node_modules", name, "package.json")));
if (missing.length) {
    console.error(`[stepwise] installing dependencies (missing: ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}) ...`);
    execSync("npm install --no-audit --no-fund", {stdio: "inherit", cwd: root});
}

/** Newest modification time (ms) of the files under `dir`. */
function newest(dir) {
    let t = 0;
    for (const e of readdirSync(dir, {withFileTypes: true})) {
        const p = join(dir, e.name);
        t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }
    return t;
}

const {vendorGradients} = await import("./vendor-gradients.mjs");
await vendorGradients();
const stamp = join(root, "dist/.build-stamp");
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (built < Math.max(newest(join(root, "src")), statSync(join(root, "tsconfig.json")).mtimeMs)) {
    console.error(`[stepwise] ${built ? "src/ changed since dist/ was built" : "dist/ is not built"}: building ...`);
    const r = spawnSync(process.execPath, [join(root, "scripts/build.mjs")], {stdio: "inherit", cwd: root});
    if (r.status !== 0) process.exit(r.status ?? 1);
}

if (process.argv.includes("--build-only")) process.exit(0);
execSync(`node ${join(root, "scripts/ensure-browser.mjs")}`, {stdio: "inherit"});
execSync(`node ${join(root, "scripts/install-sandbox.mjs")}`, {stdio: "inherit"});
