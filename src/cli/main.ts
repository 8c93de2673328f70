/**
 * The `stepwise` command line: a thin layer over the library. Each command lives in
 * src/cli/commands/<name>.ts and exports `register(program)`. Command files import values only
 * from light modules (commander, ./options.ts, registries and import-free constant modules such
 * as core/constants.ts, eval/defaults.ts, pipeline/export/formats.ts) and load the library in
 * their actions (`await import(...)`), so `--help` loads no zod, model, server or training
 * package (test/cli/help.test.ts).
 */
import {readFileSync} from "node:fs";
import {Command} from "@commander-js/extra-typings";
import {describeError} from "../util/errors.ts";
import "../apps/domains.ts";
import {commands} from "./commands/index.ts";

/**
 * The error boundary: every failure ends in one line on stderr (`stepwise: <message>`, naming the
 * file, line, field or address) and exit code 1. Errors that are not StepwiseErrors or system
 * errors are stepwise bugs: one line too, and the stack trace with STEPWISE_DEBUG=1.
 */
function fail(e: unknown): void {
    const {message, internal} = describeError(e);
    console.error(`stepwise: ${message}`);
    if (internal) {
        if (process.env.STEPWISE_DEBUG) console.error(e instanceof Error ? e.stack : e);
        else console.error("stepwise: this is a bug in stepwise; re-run with STEPWISE_DEBUG=1 for the stack trace and report it");
    }
    process.exitCode = 1;
}
process.on("uncaughtException", (e) => {
    fail(e);
    process.exit(1);
});
process.on("unhandledRejection", (e) => {
    fail(e);
    process.exit(1);
});

const program = new Command();
program
    .name("stepwise")
    .description("Process reward models end to end: sample with confidences, split steps, label, train and score PRMs, evaluate and decode.")
    .version((JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {version: string}).version)
    .showHelpAfterError("(run the command with --help for its options)")
    .configureHelp({sortSubcommands: false});
for (const register of commands) register(program);

try {
    await program.parseAsync(process.argv);
} catch (e) {
    fail(e);
}
