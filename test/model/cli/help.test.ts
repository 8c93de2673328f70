/**
 * `stepwise --help` and `stepwise <command> --help` must stay cheap: commands load their library
 * modules in the action (issue 11), so help never loads the training, model, server, validation or
 * computer-algebra packages. Startup time itself is a benchmark (`npm run bench -- startup`).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {runCli} from "../../helpers/cli.ts";

const HEAVY = ["@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-wasm", "node-llama-cpp", "hono", "@hono/node-server", "zod", "@cortex-js/compute-engine", "vega", "vega-lite", "@resvg/resvg-js", "playwright-core", "marked"];
const hook = new URL("../../helpers/load-hook.mjs", import.meta.url).pathname;

for (const args of [["--help"], ["label", "--help"], ["eval", "bon", "--help"], ["decode", "--help"], ["train-prm", "--help"], ["serve", "--help"]])
    test(`stepwise ${args.join(" ")} loads no heavy package`, () => {
        const log = join(mkdtempSync(join(tmpdir(), "stepwise-help-")), "loaded.txt");
        const r = runCli(args, {env: {...process.env, STEPWISE_LOAD_LOG: log, NODE_OPTIONS: `--import ${hook}`}});
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^Usage: stepwise/m);
        const loaded = new Set(readFileSync(log, "utf8").split("\n").filter(Boolean));
        assert.ok(loaded.has("@commander-js/extra-typings"), "the hook saw the packages");
        assert.deepEqual(HEAVY.filter((p) => loaded.has(p)), []);
    });
