/**
 * Every CLI action gets typed options: commands are built with `@commander-js/extra-typings`,
 * whose `Command` infers each action's options (and arguments) from its `.option()` calls, so
 * tsc checks them against the library calls. With plain `commander` an action's options are
 * `any`; so no file of src/cli may import it, and no `any` type may appear there.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {readdirSync, readFileSync} from "node:fs";
import {join, relative} from "node:path";

const cli = new URL("../../../src/cli", import.meta.url).pathname;
const files = readdirSync(cli, {recursive: true, encoding: "utf8"}).filter((f) => f.endsWith(".ts")).map((f) => join(cli, f));

/** `file:line: text` of every line matching `re`. */
function offending(re: RegExp): string[] {
    return files.flatMap((file) =>
        readFileSync(file, "utf8")
            .split("\n")
            .flatMap((line, i) => (re.test(line) ? [`src/cli/${relative(cli, file)}:${i + 1}: ${line.trim()}`] : [])),
    );
}

test("src/cli builds its commands with @commander-js/extra-typings, never plain commander (whose actions get `any` options)", () => {
    assert.ok(files.length >= 20, `read ${files.length} files`);
    assert.deepEqual(offending(/from\s+["']commander["']|import\(["']commander["']\)/), []);
    assert.ok(offending(/from\s+["']@commander-js\/extra-typings["']/).length >= 20, "the command files import extra-typings");
});

test("no `any` type in src/cli", () => {
    // `any` in a type position: `x: any`, `as any`, `<any>`, `any[]`, `Record<string, any>` (not "any" in help texts)
    const anyType = /(:\s*any\s*([;,)=|\]}>]|$)|\bas\s+any\b|<any\b|\bany\[\]|,\s*any\s*>)/;
    assert.ok(anyType.test("(o: any) => {") && anyType.test("x as any") && anyType.test("Record<string, any>") && !anyType.test("memory: any number of tokens"));
    assert.deepEqual(offending(anyType), []);
});
