// Finds test/**/*.test.ts and runs them with node's test runner through tsx.
// Usage: node scripts/test.mjs [substring ...]   (only files whose path contains a substring)
import {readdirSync, statSync} from "node:fs";
import {join, relative} from "node:path";
import {spawnSync} from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const files = [];
const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (name.endsWith(".test.ts")) files.push(relative(root, p));
    }
};
walk(join(root, "test"));
const filters = process.argv.slice(2);
const chosen = filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
if (chosen.length === 0) {
    console.error("no test files matched");
    process.exit(1);
}
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...chosen], {stdio: "inherit", cwd: root});
process.exit(r.status ?? 1);
