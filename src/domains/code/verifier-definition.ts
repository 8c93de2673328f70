/**
 * The `code` verifier of the label stage's registry (registered by src/apps/domains.ts): a rollout is
 * correct when the program in its text passes the problem's unit tests in the sandbox. Code-lab
 * questions carry their tests; for other data (LeetCodeDataset shape) pass the problems file as
 * the verifier argument `problems` (`stepwise label --verifier code --verifier-arg problems=FILE`)
 * and copy the task_id into the records' gold (`sample --answer-field task_id`); see ./pipeline.ts.
 * The arguments `timeout` and `cpu` set the sandbox's wall-clock and CPU-time limits per program.
 * Light module: the sandbox and the problems are loaded when the verifier is built.
 */
import {StepwiseError} from "../../util/errors.ts";
import type {VerifierDefinition} from "../verifier.ts";
import {DEFAULT_LIMITS} from "./sandbox.ts";

/** A positive number of seconds from argument `key`, or a StepwiseError naming it. */
function seconds(key: string, value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    const s = Number(value);
    if (!Number.isFinite(s) || s <= 0) throw new StepwiseError(`verifier "code": argument ${key}=${value}: expected a positive number of seconds`);
    return s;
}

export const codeVerifier: VerifierDefinition = {
    name: "code",
    description: "the program in the text passes its unit tests in the bubblewrap sandbox (code-lab questions carry their tests; other problems: --verifier-arg problems=FILE)",
    args: {
        problems: {
            value: "FILE",
            description: "problems JSONL[.gz], LeetCodeDataset shape (task_id, prompt, test, entry_point); a record's gold is its task_id (sample --answer-field task_id); default: code-lab questions only",
            file: true,
        },
        timeout: {value: "S", description: `wall-clock limit per program, seconds (default ${DEFAULT_LIMITS.wallMs / 1000})`},
        cpu: {value: "S", description: `CPU-time limit per program, whole seconds (default ${DEFAULT_LIMITS.cpuSeconds})`},
    },
    create: async (args = {}) => {
        const timeout = seconds("timeout", args.timeout);
        const cpu = seconds("cpu", args.cpu);
        if (cpu !== undefined && !Number.isInteger(cpu)) throw new StepwiseError(`verifier "code": argument cpu=${args.cpu}: expected whole seconds`);
        const limits = {...(timeout !== undefined ? {wallMs: Math.round(timeout * 1000)} : {}), ...(cpu !== undefined ? {cpuSeconds: cpu} : {})};
        return (await import("./pipeline.ts")).makeCodeVerifier({problems: args.problems, limits});
    },
};
