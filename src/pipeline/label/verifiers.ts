/**
 * Rollout verifiers: does a completed solution (step prefix + rollout) reach the gold answer?
 *
 * Verifiers live in a registry so the label stage knows no domain: a domain registers its
 * verifier once ({@link registerVerifier}) and `stepwise label --verifier NAME` / `labelFile({verifier:
 * NAME})` look it up by name. Built in here: `math` (the default) — the answer grader (extraction +
 * equivalence, src/grade) against the record's `gold`, for GSM8K/MATH-style data. The lab's exact
 * check (`lab`) is registered by src/domains.ts, which the CLI and the library entry import.
 */
import {StepwiseError} from "../../engines/types.ts";
import type {StepsRecord} from "../records.ts";
import type {StepTruth} from "./truth.ts";

/** Name of a registered verifier (`math`, `lab`, or one a domain registered). */
export type VerifierName = string;

/** What a verifier reads: the question, the record's gold answer (if any) and the whole text after the prompt. */
export interface VerifierInput {
    question: string;
    gold: string | undefined;
    solution: string;
}

/** Returns true when `solution` reaches the gold answer (a promise for verifiers that run something, e.g. code tests). Throws a StepwiseError when the record cannot be checked. */
export type Verifier = (input: VerifierInput) => boolean | Promise<boolean>;

/** Exact per-step truth of a record, for domains that know it (the lab does). */
export type StepTruthFn = (record: Pick<StepsRecord, "question" | "text" | "steps">) => StepTruth;

/** One registered verifier. */
export interface VerifierDefinition {
    /** Registry key, used by `--verifier NAME`: lowercase letters, digits and dashes. */
    name: string;
    /** One line for `--help`: what counts as correct. */
    description: string;
    /** Builds the verifier (may load heavy modules lazily). */
    create: () => Verifier | Promise<Verifier>;
    /** Exact per-step truth (optional): `stepwise label --truth` attaches it and compares MC labels with it. */
    truth?: StepTruthFn;
}

/** The verifier `stepwise label` uses when none is named. */
export const DEFAULT_VERIFIER = "math";

const registry = new Map<string, VerifierDefinition>();

/**
 * Register a verifier under `definition.name`. Registering the same definition object twice is a
 * no-op; another definition under a taken name throws a StepwiseError.
 */
export function registerVerifier(definition: VerifierDefinition): void {
    if (!/^[a-z][a-z0-9-]*$/.test(definition.name)) throw new StepwiseError(`verifier name "${definition.name}": use lowercase letters, digits and dashes`);
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

/** Build the verifier registered as `name`. */
export async function makeVerifier(name: VerifierName): Promise<Verifier> {
    return getVerifier(name).create();
}

registerVerifier({
    name: "math",
    description: "answer grader (src/grade: extraction + equivalence) against the record's gold answer",
    create: async () => {
        const {grade} = await import("../../grade/grade.ts");
        return ({gold, solution}) => {
            if (gold === undefined) throw new StepwiseError("math verifier: record has no gold answer (field `gold`)");
            return grade(gold, solution).equal;
        };
    },
});
