// Finds test/**/*.test.ts and runs them with node's test runner through tsx.
//
// Usage: node scripts/test.mjs [--tier fast|model|pack] [--jobs N] [--typecheck] [--list] [substring ...]
//   substrings: only files whose path contains one of them;
//   --tier fast:  test/fast/<area>/: pure functions, small files, scripted engines (under a minute in all);
//   --tier model: test/model/<area>/: tests that load or train models, spawn the CLI, serve HTTP,
//                 run the sandbox or a browser;
//   --tier pack:  test/pack/: the npm pack + install smoke test;
//   no --tier: every tier (what `npm test` and CI run);
//   --typecheck: also typecheck (tsc -p tsconfig.check.json), in a child process that starts when the
//             files that run alone start (one core is idle then) or, without such files, after the
//             others; its errors are printed at the end and fail the run (what `npm test` does);
//   --jobs N: test files run N at a time (node --test-concurrency); default: the machine's cores
//             (os.availableParallelism), or STEPWISE_TEST_JOBS. Each file's tests run in order; files
//             share nothing but TMPDIR's parent, the model-hash cache and .cache/test-gguf/ (both
//             written atomically), and servers listen on port 0. --jobs 1 for one file at a time. A file that looks at the
//             whole machine (the process table, shared temporary folders) says so with a line
//             `// stepwise-test: alone` and runs after the others, by itself. A file that takes half a
//             minute or more says so with `// stepwise-test: long` and starts first, so that no long
//             file is left running alone at the end while the other jobs sit idle.
// A file's tier is its folder: test/<tier>/… . A test file anywhere else is an error (so none is
// silently left out); <area> mirrors the src/ folder under test.
// Tests run with TMPDIR set to a fresh folder that is removed afterwards, so no temporary file outlives the run.
import {mkdtempSync, readFileSync, readdirSync, rmSync, statSync} from "node:fs";
import {availableParallelism, tmpdir} from "node:os";
import {join, relative} from "node:path";
import {spawn} from "node:child_process";
import {vendorGradients} from "./vendor-gradients.mjs";

const TIERS = ["fast", "model", "pack"];

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
let tier;
let list = false;
let typecheck = false;
let jobs = process.env.STEPWISE_TEST_JOBS ?? String(availableParallelism());
const filters = [];
for (let i = 0; i < args.length; i++) {
    if (args[i] === "--tier") tier = args[++i];
    else if (args[i].startsWith("--tier=")) tier = args[i].slice(7);
    else if (args[i] === "--list") list = true;
    else if (args[i] === "--typecheck") typecheck = true;
    else if (args[i] === "--jobs") jobs = args[++i];
    else if (args[i].startsWith("--jobs=")) jobs = args[i].slice(7);
    else filters.push(args[i]);
}
if (!/^[1-9][0-9]*$/.test(jobs ?? "")) {
    console.error(`--jobs (or STEPWISE_TEST_JOBS): expected a whole number ≥ 1, got "${jobs}"`);
    process.exit(1);
}
if (tier !== undefined && !TIERS.includes(tier)) {
    console.error(`--tier: expected one of ${TIERS.join(", ")}, got "${tier}"`);
    process.exit(1);
}

/** The tier of a test file: its folder under test/ (see the header). */
function tierOf(file) {
    return file.split("/")[1];
}

const files = [];
const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (name.endsWith(".test.ts")) files.push(relative(root, p));
    }
};
walk(join(root, "test"));
const misplaced = files.filter((f) => !TIERS.includes(tierOf(f)));
if (misplaced.length) {
    console.error(`test files outside test/{${TIERS.join(",")}}/ (move each into its tier's folder):\n  ${misplaced.join("\n  ")}`);
    process.exit(1);
}
const chosen = files.filter((f) => (!filters.length || filters.some((s) => f.includes(s))) && (tier === undefined || tierOf(f) === tier));
if (list) {
    for (const f of chosen) console.log(`${tierOf(f).padEnd(6)}${f}`);
    process.exit(0);
}
if (chosen.length === 0) {
    console.error("no test files matched");
    process.exit(1);
}
await vendorGradients(); // the training tests need vendor/tfjs-gradients.js (built once)
const tmp = mkdtempSync(join(tmpdir(), "stepwise-test-"));
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"])
    process.once(signal, () => {
        rmSync(tmp, {recursive: true, force: true});
        process.exit(130);
    });
// Files marked `// stepwise-test: alone` run after the others, one at a time; `long` ones start first (see the header).
const marks = new Map(chosen.map((f) => [f, [...readFileSync(join(root, f), "utf8").matchAll(/^\/\/ stepwise-test: (\w+)\b/gm)].map((m) => m[1])]));
const marked = (f, mark) => marks.get(f).includes(mark);
const alone = chosen.filter((f) => marked(f, "alone"));
const rest = chosen.filter((f) => !alone.includes(f));
const long = rest.filter((f) => marked(f, "long"));
const together = [...long, ...rest.filter((f) => !long.includes(f))];
let status = 0;
/** The typecheck child (--typecheck): started once, awaited at the end. */
let checking;
const startTypecheck = () => {
    if (!typecheck || checking) return;
    checking = new Promise((done) => {
        const child = spawn(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.check.json")], {cwd: root, stdio: ["ignore", "pipe", "pipe"]});
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("close", (code) => done({code, out}));
    });
};
const runFiles = (files, concurrency) =>
    new Promise((done) => {
        const child = spawn(process.execPath, ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...files], {stdio: "inherit", cwd: root, env: {...process.env, TMPDIR: tmp, STEPWISE_CACHE_DIR: join(tmp, "cache")}});
        child.on("close", (code) => done(code));
    });
try {
    for (const [files, concurrency] of [[together, jobs], [alone, "1"]]) {
        if (files.length === 0) continue;
        if (concurrency === "1") startTypecheck(); // the files that run alone leave a core idle
        const code = await runFiles(files, concurrency);
        if (code !== 0) status = code ?? 1;
    }
    startTypecheck();
    if (checking) {
        const {code, out} = await checking;
        if (code !== 0) {
            console.error(`typecheck (tsc -p tsconfig.check.json) failed:\n${out}`);
            status = status || code || 1;
        } else console.error("typecheck (tsc -p tsconfig.check.json): no errors");
    }
} finally {
    rmSync(tmp, {recursive: true, force: true});
}
process.exit(status);
