#!/usr/bin/env node
// The stepwise CLI: runs the built JavaScript in dist/ (`npm run build`; in a clone `npm run demo`,
// `npm test` and `npm run stepwise -- ...` build it when missing or stale).
import {existsSync} from "node:fs";

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
    console.error("stepwise: dist/ is not built; run `npm run build` (or `npm run stepwise -- ARGS`, which builds it)");
    process.exit(1);
}
await import(main.href);
