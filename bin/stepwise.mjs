#!/usr/bin/env node
// The stepwise CLI: runs the built JavaScript in dist/ (the npm package ships it; in a clone
// `npm install`, `npm run build`, `npm run demo` and `npm test` build it).
// In a clone whose dist/ is missing or older than a file under src/, it runs the sources through
// tsx (a dev dependency) instead, so a developer never runs stale code.
import {distStale} from "./dist-stale.mjs";

const root = new URL("..", import.meta.url);
const main = new URL("dist/cli/main.js", root);

if (distStale(root)) {
    let register;
    try {
        ({register} = await import("tsx/esm/api"));
    } catch {
        console.error("stepwise: dist/ is not built for these sources and tsx is not installed; run `npm install` (it builds dist/)");
        process.exit(1);
    }
    if (!process.env.STEPWISE_QUIET_STALE) console.error("[stepwise] dist/ is older than src/: running the sources through tsx (`npm run build` makes startup fast again)");
    register();
    await import(new URL("src/cli/main.ts", root).href);
} else await import(main.href);
