// Installs the project's npm dependencies on a fresh clone, so `npm run demo` and `npm test` work as the first command.
// `npm install` rather than `npm ci`: the lock file cannot list platform packages this registry lacks (npm ci rejects that).
import {existsSync} from "node:fs";
import {execSync} from "node:child_process";

if (!existsSync(new URL("../node_modules/node-llama-cpp/package.json", import.meta.url))) {
    console.error("[stepwise] installing dependencies (first run) ...");
    execSync("npm install --no-audit --no-fund", {stdio: "inherit", cwd: new URL("..", import.meta.url)});
}
await import("./install-sandbox.mjs");
