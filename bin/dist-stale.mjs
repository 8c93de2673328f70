// The one freshness rule of dist/, used by bin/stepwise.mjs (run the sources when stale),
// scripts/ensure-deps.mjs (build when stale) and the tests' CLI helper (test/helpers/cli.ts).
import {existsSync, readdirSync, statSync} from "node:fs";

/**
 * Why `root`'s dist/ lacks a build of its current sources, or undefined when it has one:
 * "dist/ is not built" (no dist/.build-stamp or no dist/cli/main.js), or "src/ changed since
 * dist/ was built" (a file under src/, or tsconfig.json, modified after the stamp). Always
 * undefined without src/: the installed package ships dist/ only. `root`: the project folder's URL.
 */
export function distStale(root) {
    const src = new URL("src/", root);
    if (!existsSync(src)) return undefined;
    const stamp = new URL("dist/.build-stamp", root);
    if (!existsSync(stamp) || !existsSync(new URL("dist/cli/main.js", root))) return "dist/ is not built";
    const built = statSync(stamp).mtimeMs;
    const tsconfig = new URL("tsconfig.json", root);
    if (existsSync(tsconfig) && statSync(tsconfig).mtimeMs > built) return "src/ changed since dist/ was built";
    for (const f of readdirSync(src, {recursive: true})) if (statSync(new URL(String(f), src)).mtimeMs > built) return "src/ changed since dist/ was built";
    return undefined;
}
