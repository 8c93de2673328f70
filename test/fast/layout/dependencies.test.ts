/**
 * One package per job: every production dependency is used by src/ (imported, dynamically
 * imported or loaded with loadPackageSync) or is the peer of one that is (commander for
 * @commander-js/extra-typings); and GGUF headers are parsed by node-llama-cpp's reader alone
 * (src/gguf/reader.ts), not by a second GGUF package.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {readdirSync, readFileSync} from "node:fs";
import {join} from "node:path";

const root = new URL("../../..", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {dependencies: Record<string, string>};
const sources = readdirSync(join(root, "src"), {recursive: true, encoding: "utf8"})
    .filter((f) => f.endsWith(".ts"))
    .map((f) => readFileSync(join(root, "src", f), "utf8"))
    .join("\n");

/** Whether src/ names `name` as a module specifier ("name" or "name/sub", in quotes). */
const usedBySrc = (name: string) => new RegExp(`["']${name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}(/[^"']*)?["']`).test(sources);

test("every production dependency is used by src/ or is the peer of one that is", () => {
    const deps = Object.keys(pkg.dependencies);
    assert.ok(deps.length > 10, `read ${deps.length} dependencies`);
    const peers = new Set(
        deps.filter(usedBySrc).flatMap((d) => {
            const manifest = JSON.parse(readFileSync(join(root, "node_modules", d, "package.json"), "utf8")) as {peerDependencies?: Record<string, string>};
            return Object.keys(manifest.peerDependencies ?? {});
        }),
    );
    assert.ok(peers.has("commander"), "commander is extra-typings' peer");
    assert.deepEqual(deps.filter((d) => !usedBySrc(d) && !peers.has(d)), []);
});

test("GGUF files are parsed by node-llama-cpp's reader alone: no @huggingface/gguf", () => {
    assert.equal(pkg.dependencies["@huggingface/gguf"], undefined, "package.json dependency");
    assert.equal(usedBySrc("@huggingface/gguf"), false, "imported by src/");
    assert.match(readFileSync(join(root, "src/gguf/reader.ts"), "utf8"), /import\("node-llama-cpp"\)[\s\S]*readGgufFileInfo/);
});
