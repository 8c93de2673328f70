/**
 * Rollout verifiers: does a completed solution (step prefix + rollout) reach the gold answer?
 *
 * Verifiers live in a registry so the label stage knows no domain: a domain registers its
 * verifier once ({@link registerVerifier}) and `stepwise label --verifier NAME` / `labelFile({verifier:
 * NAME})` look it up by name. A verifier may declare arguments (`--verifier-arg KEY=VALUE`,
 * `labelFile({verifierArgs})`), e.g. the code verifier's problems file. Built in here: `math`
 * (the default) — the answer grader (extraction + equivalence, src/grade) against the record's
 * `gold`, for GSM8K/MATH-style data. The lab's exact
 * check (`lab`) is registered by src/apps/domains.ts, which the CLI and the library entry import.
 */
import {StepwiseError} from "../../util/errors.ts";
import {goldProblem, NoGoldError} from "../../io/dataset.ts";

export type {VerifierName, VerifierInput, Verifier, StepTruthFn, VerifierArgument, VerifierArgs, VerifierDefinition} from "../../domains/verifier.ts";
import type {VerifierName, Verifier, VerifierArgs, VerifierDefinition} from "../../domains/verifier.ts";

/** The verifier `stepwise label` uses when none is named. */
export const DEFAULT_VERIFIER = "math";

const registry = new Map<string, VerifierDefinition>();

/**
 * Register a verifier under `definition.name`. Registering the same definition object twice is a
 * no-op; another definition under a taken name throws a StepwiseError.
 */
export function registerVerifier(definition: VerifierDefinition): void {
    if (!/^[a-z][a-z0-9-]*$/.test(definition.name)) throw new StepwiseError(`verifier name "${definition.name}": use lowercase letters, digits and dashes`);
    for (const key of Object.keys(definition.args ?? {}))
        if (!/^[a-z][a-z0-9-]*$/.test(key)) throw new StepwiseError(`verifier "${definition.name}": argument name "${key}": use lowercase letters, digits and dashes`);
    const known = registry.get(definition.name);
    if (known && known !== definition) throw new StepwiseError(`verifier "${definition.name}" is already registered`);
    registry.set(definition.name, definition);
}

/** Names of the registered verifiers, in registration order. */
export function verifierNames(): string[] {
    return [...registry.keys()];
}

/** The registered definition of `name`; a StepwiseError naming the known verifiers when there is none. */
export function getVerifier(name: VerifierName): VerifierDefinition {
    const d = registry.get(name);
    if (!d) throw new StepwiseError(`unknown verifier "${name}" (registered: ${verifierNames().join(", ") || "none"})`);
    return d;
}

/**
 * Check `args` against the arguments verifier `name` declares: a StepwiseError names an unknown
 * key and lists the known ones (or says the verifier takes none), and an empty value.
 */
export function checkVerifierArgs(name: VerifierName, args: VerifierArgs = {}): void {
    const known = getVerifier(name).args ?? {};
    for (const [key, value] of Object.entries(args)) {
        if (!Object.hasOwn(known, key)) {
            const keys = Object.keys(known);
            throw new StepwiseError(`verifier "${name}" takes ${keys.length ? `no argument "${key}" (its arguments: ${keys.join(", ")})` : `no arguments (got "${key}")`}`);
        }
        if (value === "") throw new StepwiseError(`verifier "${name}": argument "${key}" needs a value (${key}=${known[key].value})`);
    }
}

/**
 * Parse `KEY=VALUE` strings (the CLI's repeated `--verifier-arg`) into verifier arguments. A
 * string without "=" or a key given twice is a StepwiseError naming it.
 */
export function parseVerifierArgs(items: readonly string[]): Record<string, string> {
    const args: Record<string, string> = {};
    for (const item of items) {
        const eq = item.indexOf("=");
        if (eq <= 0) throw new StepwiseError(`--verifier-arg: expected KEY=VALUE, got "${item}"`);
        const key = item.slice(0, eq).trim();
        if (Object.hasOwn(args, key)) throw new StepwiseError(`--verifier-arg: "${key}" given twice`);
        args[key] = item.slice(eq + 1);
    }
    return args;
}

/**
 * The registered verifiers' arguments as `--help` lines, one per argument:
 * "  code  problems=FILE  what it sets", or [] when no verifier takes any.
 */
export function verifierArgsHelp(): string[] {
    const rows = [...registry.values()].flatMap((d) => Object.entries(d.args ?? {}).map(([k, a], i) => [i === 0 ? d.name : "", `${k}=${a.value}`, a.description]));
    const width = (c: number) => Math.max(...rows.map((r) => r[c].length));
    return rows.map((r) => `  ${r[0].padEnd(width(0))}  ${r[1].padEnd(width(1))}  ${r[2]}`);
}

/** Build the verifier registered as `name` with its arguments (checked by {@link checkVerifierArgs}). */
export async function makeVerifier(name: VerifierName, args: VerifierArgs = {}): Promise<Verifier> {
    checkVerifierArgs(name, args);
    return getVerifier(name).create(args);
}

registerVerifier({
    name: "math",
    description: "answer grader (src/grade: extraction + equivalence) against the record's gold answer",
    gold: true,
    create: async () => {
        const {grade} = await import("../../grade/grade.ts");
        return ({gold, solution}) => {
            const why = goldProblem(gold);
            if (why !== undefined) throw new NoGoldError(`math verifier: record has no gold answer (field \`gold\`: ${why})`);
            return grade(String(gold), solution).equal;
        };
    },
});
