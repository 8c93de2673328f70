/**
 * Loading a heavy package on first use, synchronously, so that `import "stepwise"` stays light
 * (test/model/layout/light-root.test.ts) while synchronous functions (the grader's symbolic path, the
 * POS tagger of the token categories) keep their signatures. Async code should use a plain
 * `await import(...)` instead.
 */
import {createRequire} from "node:module";
import {fileURLToPath} from "node:url";
import {StepwiseError} from "./errors.ts";

const require = createRequire(import.meta.url);

/**
 * The module namespace of package `name`, resolved as `import` resolves it (the package's ESM
 * build when it has one) and loaded with `require`: Node caches it, so later calls are cheap and
 * return the same module. An ES module package needs require(esm) (Node ≥ 20.19 or ≥ 22.12).
 * @throws StepwiseError naming the package and the Node version when this Node cannot load it synchronously
 */
export function loadPackageSync<T>(name: string): T {
    const path = fileURLToPath(import.meta.resolve(name));
    try {
        return require(path) as T;
    } catch (e) {
        const code = (e as {code?: string}).code;
        if (code === "ERR_REQUIRE_ESM" || code === "ERR_REQUIRE_ASYNC_MODULE")
            throw new StepwiseError(`${name}: Node ${process.versions.node} cannot load this ES module synchronously (${code}); use Node ≥ 20.19 or ≥ 22.12`);
        throw e;
    }
}
