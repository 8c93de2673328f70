/**
 * Runs `stepwise eval ...` in a child process without going through src/cli/commands/index.ts:
 * `node --import tsx test/helpers/cli-driver.ts eval processbench ...`. Used by the CLI tests.
 */
import {Command} from "@commander-js/extra-typings";
import {register} from "../../src/cli/commands/eval.ts";
import {StepwiseError} from "../../src/util/errors.ts";

const program = new Command().name("stepwise").exitOverride((e) => {
    throw e;
});
register(program);
program.parseAsync(process.argv).catch((e: unknown) => {
    if (e instanceof StepwiseError) {
        console.error(`stepwise: ${e.message}`);
        process.exitCode = 1;
    } else if (e && typeof e === "object" && "exitCode" in e) process.exitCode = (e as {exitCode: number}).exitCode;
    else throw e;
});
