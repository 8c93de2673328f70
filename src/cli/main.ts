/**
 * The `stepwise` command line: a thin layer over the library. Each command lives in
 * src/cli/commands/<name>.ts and exports `register(program)`.
 */
import {readFileSync} from "node:fs";
import {Command} from "commander";
import {StepwiseError} from "../engines/types.ts";
import "../domains.ts";
import {commands} from "./commands/index.ts";

const program = new Command();
program
    .name("stepwise")
    .description("Process reward models end to end: sample with confidences, split steps, label, train and score PRMs, evaluate and decode.")
    .version((JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {version: string}).version)
    .showHelpAfterError()
    .configureHelp({sortSubcommands: false});
for (const register of commands) register(program);

try {
    await program.parseAsync(process.argv);
} catch (e) {
    if (e instanceof StepwiseError) {
        console.error(`stepwise: ${e.message}`);
        process.exitCode = 1;
    } else throw e;
}
