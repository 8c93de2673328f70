/**
 * No double casts in src/: a record is typed by reading it through its schema (core/schemas.ts
 * `readRecords`), other values by narrowing (instanceof, `in`, type guards), never by
 * `as unknown as`, which turns off the type checker for that value.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join, relative, resolve} from "node:path";

const src = resolve(import.meta.dirname, "../../../src");

function tsFiles(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
        const p = join(dir, name);
        return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
    });
}

/** Every `as unknown as` in the given files, as `file:line`. */
function doubleCasts(files: readonly string[]): string[] {
    return files.flatMap((file) =>
        readFileSync(file, "utf8")
            .split("\n")
            .flatMap((line, i) => (/\bas\s+unknown\s+as\b/.test(line) ? [`${relative(src, file)}:${i + 1}`] : [])),
    );
}

test("casts: no `as unknown as` in src/ (read records through their schema; narrow other values)", () => {
    const files = tsFiles(src);
    assert.ok(files.length > 200, `read ${files.length} files`);
    assert.deepEqual(doubleCasts(files), []);
});

test("casts: the scan finds a double cast and names its line", () => {
    const file = join(mkdtempSync(join(tmpdir(), "stepwise-casts-")), "x.ts");
    writeFileSync(file, "const a = 1;\nconst b = a as unknown as string;\n");
    assert.deepEqual(doubleCasts([file]).map((w) => w.split(":").at(-1)), ["2"]);
});
