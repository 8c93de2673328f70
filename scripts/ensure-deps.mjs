// Installs the project's npm dependencies on a fresh clone, so `npm run demo` and `npm test` work as the first command,
// and again when package.json gained a dependency that node_modules lacks (e.g. after a merge).
// `npm install` rather than `npm ci`: the lock file cannot list platform packages this registry lacks (npm ci rejects that).
import {existsSync, readFileSync} from "node:fs";
import {execSync} from "node:child_process";

const root = new URL("..", import.meta.url);
const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
const missing = Object.keys({...pkg.dependencies, ...pkg.devDependencies}).filter((name) => !existsSync(new URL(`node_modules/${name}/package.json`, root)));
if (missing.length) {
    console.error(`[stepwise] installing dependencies (missing: ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", …" : ""}) ...`);
    execSync("npm install --no-audit --no-fund", {stdio: "inherit", cwd: root});
}

// System packages the tests use (installed only when missing, as root, with apt-get).
execSync(`node ${new URL("./ensure-browser.mjs", import.meta.url).pathname}`, {stdio: "inherit"});
