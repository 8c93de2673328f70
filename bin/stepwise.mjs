#!/usr/bin/env node
// The stepwise CLI: runs the TypeScript sources through tsx (a dependency), so a clone needs no build step.
import {fileURLToPath, pathToFileURL} from "node:url";
import {dirname, join} from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const {register} = await import("tsx/esm/api");
register();
await import(pathToFileURL(join(root, "src", "cli", "main.ts")).href);
