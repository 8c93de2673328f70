/**
 * `npm run bench -- [NAME ...] [--flags]`: runs benchmarks from bench/<NAME>.ts (all when no name
 * is given). Each prints one JSON object per line on stdout, each with a `name` field; progress
 * and notes go to stderr.
 */
import {readdirSync} from "node:fs";

const here = new URL(".", import.meta.url);
const available = readdirSync(here)
    .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("_"))
    .map((f) => f.slice(0, -3))
    .sort();
const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith("--"));
const flags = args.filter((a) => a.startsWith("--"));
const unknown = names.filter((n) => !available.includes(n));
if (unknown.length) {
    console.error(`unknown benchmark ${unknown.join(", ")}; available: ${available.join(", ")}`);
    process.exit(2);
}
for (const name of names.length ? names : available) {
    const mod = (await import(new URL(`${name}.ts`, here).href)) as {default: (flags: string[]) => Promise<void>};
    console.error(`[bench] ${name}`);
    await mod.default(flags);
}
