/**
 * The library gives everything the CLI does: every name a command file (src/cli/commands/*.ts)
 * imports from the library — statically, by `const {…} = await import(…)` or by
 * `(await import(…)).name` — is exported by the package root or one of its subpaths (package.json
 * "exports"), as the same value (under any name). The test reads the imports from the source text
 * and compares the values the modules export at run time.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {readdirSync, readFileSync} from "node:fs";
import {dirname, join, relative, resolve} from "node:path";
import {pathToFileURL} from "node:url";

const root = new URL("../../..", import.meta.url).pathname;
const commands = join(root, "src/cli/commands");

/** One library name a command file uses: where it is imported and from which module. */
interface CliImport {
    where: string;
    module: string;
    name: string;
}

/** The names in `a, b as c, type T` (import clause) or `a, b: c` (destructuring), without type-only ones. */
function names(list: string): string[] {
    return list
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s && !s.startsWith("type "))
        .map((s) => s.split(/\s+as\s+|\s*:\s*/)[0].trim());
}

/** Every value a command file imports from outside src/cli. */
export function cliImports(file: string, text: string): CliImport[] {
    const out: CliImport[] = [];
    const lineOf = (index: number) => text.slice(0, index).split("\n").length;
    const add = (spec: string, list: string[], index: number) => {
        const module = resolve(dirname(file), spec);
        if (!spec.startsWith(".") || module.startsWith(join(root, "src/cli") + "/")) return; // packages, node:, the CLI's own modules
        for (const name of list) out.push({where: `${relative(root, file)}:${lineOf(index)}`, module, name});
    };
    for (const m of text.matchAll(/^import\s+(type\s+)?\{([^}]*)\}\s*from\s*["']([^"']+)["']/gm)) if (!m[1]) add(m[3], names(m[2]), m.index);
    for (const m of text.matchAll(/const\s*\{([^}]*)\}\s*=\s*await\s+import\(\s*["']([^"']+)["']\s*\)/g)) add(m[2], names(m[1]), m.index);
    for (const m of text.matchAll(/\(\s*await\s+import\(\s*["']([^"']+)["']\s*\)\s*\)\.(\w+)/g)) add(m[1], [m[2]], m.index);
    return out;
}

/** The source file of each package.json export (./dist/x.js → src/x.ts). */
function entryFiles(): Record<string, string> {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {exports: Record<string, string | {default: string}>};
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(pkg.exports)) {
        if (typeof value === "string") continue; // ./package.json
        out[key === "." ? "stepwise" : `stepwise/${key.slice(2)}`] = join(root, value.default.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts"));
    }
    return out;
}

test("the import reader finds static, destructured dynamic and member dynamic imports, and skips types and the CLI's own modules", () => {
    const file = join(commands, "x.ts");
    const text = [
        'import {a, b as c, type T} from "../../lib/one.ts";',
        'import type {U} from "../../lib/two.ts";',
        'import {own} from "../options.ts";',
        'import {Command} from "@commander-js/extra-typings";',
        '    const {d, e: f} = await import("../../lib/three.ts");',
        '    (await import("../../lib/four.ts")).g(1);',
    ].join("\n");
    assert.deepEqual(
        cliImports(file, text).map((i) => `${relative(root, i.module)} ${i.name} ${i.where.split(":")[1]}`),
        ["src/lib/one.ts a 1", "src/lib/one.ts b 1", "src/lib/three.ts d 5", "src/lib/three.ts e 5", "src/lib/four.ts g 6"],
    );
});

test("every library function and value a CLI command imports is exported by the package root or a subpath", async () => {
    const imports = readdirSync(commands)
        .filter((f) => f.endsWith(".ts"))
        .flatMap((f) => cliImports(join(commands, f), readFileSync(join(commands, f), "utf8")));
    assert.ok(imports.length > 80, `read ${imports.length} imports`);
    const exported = new Map<unknown, string>(); // value → "entry:name"
    const primitives = new Set<string>(); // "name=value" of exported strings and numbers
    for (const [entry, file] of Object.entries(entryFiles())) {
        for (const [name, value] of Object.entries((await import(pathToFileURL(file).href)) as Record<string, unknown>)) {
            if ((typeof value === "object" && value !== null) || typeof value === "function") exported.set(value, `${entry}:${name}`);
            else primitives.add(`${name}=${String(value)}`);
        }
    }
    assert.ok(exported.size > 200, `read ${exported.size} exports`);
    const missing: string[] = [];
    for (const i of imports) {
        const mod = (await import(pathToFileURL(i.module).href)) as Record<string, unknown>;
        assert.ok(i.name in mod, `${i.where}: ${relative(root, i.module)} exports no ${i.name}`);
        const value = mod[i.name];
        const found = (typeof value === "object" && value !== null) || typeof value === "function" ? exported.has(value) : primitives.has(`${i.name}=${String(value)}`);
        if (!found) missing.push(`${i.where}: ${i.name} (${relative(root, i.module)})`);
    }
    assert.deepEqual([...new Set(missing)], []);
});
