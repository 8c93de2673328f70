// A module-resolution hook that appends every npm package a process loads to $STEPWISE_LOAD_LOG
// (one name a line). Used by test/model/cli/help.test.ts to check that `stepwise --help` loads no heavy package.
import {appendFileSync} from "node:fs";
import {register} from "node:module";

if (!globalThis.__stepwiseLoadHook) {
    globalThis.__stepwiseLoadHook = true;
    register(new URL(import.meta.url).href, {parentURL: import.meta.url, data: {log: process.env.STEPWISE_LOAD_LOG}});
}

let log;
export function initialize(data) {
    log = data?.log;
}

export async function resolve(specifier, context, next) {
    const r = await next(specifier, context);
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(r.url);
    if (m && log) appendFileSync(log, m[1] + "\n");
    return r;
}
