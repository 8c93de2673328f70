/**
 * The npm package as a user gets it: `npm pack` (which builds dist/ through `prepare`, unless dist/
 * already holds a build of the current sources), then the
 * tarball installed into an empty folder (dependencies from the npm cache, else the registry),
 * then `stepwise --help`, `stepwise --version`, a short `stepwise demo` (its model-free stages
 * left out: the whole demo is test/demo's) and `import("stepwise")` plus every subpath export,
 * from that folder only.
 *
 * Optional dependencies are omitted except the native binaries for this platform that the demo
 * needs (node-llama-cpp's CPU build, resvg's): node-llama-cpp's CUDA / Vulkan binaries (610 MB,
 * for `gpu=` users) would triple the install time and are not exercised on a CPU-only machine. Slow (about a minute of CPU: pack, install, a one-problem demo),
 * so it is its own tier: `node scripts/test.mjs --tier pack`; `npm test` runs it.
 */
// stepwise-test: alone (npm pack rebuilds dist/, which the other files' CLI runs use; scripts/test.mjs)
import {distStale} from "../../bin/dist-stale.mjs";
import {test} from "node:test";
import assert from "node:assert/strict";
import {spawnSync, type SpawnSyncOptions} from "node:child_process";
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {version: string; exports: Record<string, string | {types: string}>};
const binary = `@node-llama-cpp/${process.platform}-${process.arch}`;
const binaryPkg = join(root, "node_modules", binary, "package.json");

/** The platform binary packages of this machine that the demo loads, as NAME@VERSION from the project's node_modules. */
function platformBinaries(): string[] {
    const resvg = existsSync(join(root, "node_modules/@resvg")) ? readdirSync(join(root, "node_modules/@resvg")).filter((n) => n.startsWith(`resvg-js-${process.platform}-${process.arch}`)).map((n) => `@resvg/${n}`) : [];
    return [binary, ...resvg].map((name) => `${name}@${(JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as {version: string}).version}`);
}

function run(cmd: string, args: string[], options: SpawnSyncOptions = {}) {
    const r = spawnSync(cmd, args, {encoding: "utf8", timeout: 300_000, ...options});
    const out = {status: r.status, stdout: String(r.stdout), stderr: String(r.stderr)};
    assert.equal(out.status, 0, `${cmd} ${args.join(" ")} failed (${out.status}):\n${out.stderr.slice(-3000)}`);
    return out;
}

test("npm pack → install in an empty folder → stepwise --help, demo and import('stepwise') with every subpath", {timeout: 900_000, skip: existsSync(binaryPkg) ? false : `no ${binary} in node_modules (needed for the demo)`}, () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-pack-"));
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    // `prepare` builds dist/; when dist/ already holds a build of the current sources (npm test's
    // pretest builds it), packing it as it is saves a second identical build (about 20 s).
    const fresh = distStale(new URL("../../", import.meta.url)) === undefined;
    const packed = run(npm, ["pack", "--pack-destination", dir, "--json", ...(fresh ? ["--ignore-scripts"] : [])], {cwd: root});
    const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as Array<{filename: string; files: Array<{path: string}>}>;
    const files = info[0].files.map((f) => f.path);
    assert.ok(files.includes("dist/cli/main.js") && files.includes("dist/index.d.ts") && files.includes("vendor/tfjs-gradients.js"), "built JS, types and the gradient bundle are packed");
    assert.ok(!files.some((f) => f.startsWith("src/") || f.startsWith("test/") || f.endsWith(".map")), "no sources, tests or source maps in the tarball");

    const app = join(dir, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({name: "app", version: "1.0.0", private: true, type: "module"}));
    run(npm, ["install", join(dir, info[0].filename), ...platformBinaries(), "--omit=optional", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], {cwd: app});
    const installed = join(app, "node_modules");
    for (const dev of ["tsx", "typescript", "esbuild", "@tensorflow/tfjs"]) assert.ok(!existsSync(join(installed, dev)), `${dev} is not installed for users`);

    const bin = join(installed, ".bin", "stepwise");
    const help = run(bin, ["--help"], {cwd: app});
    for (const command of ["demo", "sample", "label", "train-prm", "score", "eval", "grade", "serve", "lab"]) assert.match(help.stdout, new RegExp(`^  ${command}\\b`, "m"));
    assert.equal(run(bin, ["--version"], {cwd: app}).stdout.trim(), pkg.version);
    assert.match(run(bin, ["grade", "--gold", "\\frac12", "--pred", "so the answer is $0.5$"], {cwd: app}).stdout, /^equal/);

    // the library and each subpath, with its types
    writeFileSync(
        join(app, "check.mjs"),
        `import * as root from "stepwise";
const out = {rootExports: Object.keys(root).length, gradeWorks: root.grade("1/2", "0.5").equal, verifiers: root.verifierNames()};
for (const sub of ${JSON.stringify(Object.keys(pkg.exports).filter((k) => k.startsWith("./") && k !== "./package.json").map((k) => k.slice(2)))}) out[sub] = Object.keys(await import("stepwise/" + sub)).length;
console.log(JSON.stringify(out));`,
    );
    const check = JSON.parse(run(process.execPath, ["check.mjs"], {cwd: app}).stdout) as Record<string, unknown>;
    assert.equal(check.gradeWorks, true);
    for (const v of ["math", "lab"]) assert.ok((check.verifiers as string[]).includes(v), `verifier ${v} registered by the package entry`);
    for (const [key, value] of Object.entries(pkg.exports)) {
        if (typeof value === "string") continue;
        assert.ok(existsSync(join(installed, "stepwise", value.types)), `types of "${key}" installed (${value.types})`);
        if (key !== ".") assert.ok((check[key.slice(2)] as number) > 0, `stepwise/${key.slice(2)} exports something`);
    }

    // a short demo on the shipped policy, from the installed package: the native binaries load a model, the plots render
    const demoOut = join(app, "demo");
    run(bin, ["demo", "--problems", "1", "--k", "2", "--skip", "label,prm,decode,judge,code", "--out", demoOut], {cwd: app, timeout: 600_000});
    const report = JSON.parse(readFileSync(join(demoOut, "report.json"), "utf8")) as Record<string, unknown>;
    assert.equal(typeof report.greedy_accuracy, "number");
    for (const f of ["report.md", "report.html", "samples.jsonl", "threshold.png", "viewer/index.html"]) assert.ok(existsSync(join(demoOut, f)), f);
});
