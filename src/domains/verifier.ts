/**
 * What a domain provides to the label stage: a verifier of final answers and, where the domain
 * knows it, exact per-step truth. Domains (src/domains/lab, src/domains/code) implement
 * {@link VerifierDefinition}; the label stage (src/pipeline/label/verifiers.ts) keeps the registry.
 */
import type {z} from "zod";
import type {StepsRecord} from "../core/records.ts";
import type {StepTruthSchema} from "../core/schemas.ts";

/** Exact per-step truth of a sample (from a domain that knows it, e.g. src/domains/lab/verifier.ts); schema: core/schemas.ts {@link StepTruthSchema}. */
export type StepTruth = z.output<typeof StepTruthSchema>;

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

/** A setting a verifier takes (`stepwise label --verifier-arg KEY=VALUE`). */
export interface VerifierArgument {
    /** Placeholder of the value in `--help`, e.g. "FILE" or "S". */
    value: string;
    /** One line for `--help`: what it sets and its default. */
    description: string;
    /** The value names an input file: it must exist, and the label stage checks it like its other inputs. */
    file?: boolean;
}

/** Values of a verifier's arguments, by key (strings as given; the verifier parses them). */
export type VerifierArgs = Readonly<Record<string, string>>;

/** One registered verifier. */
export interface VerifierDefinition {
    /** Registry key, used by `--verifier NAME`: lowercase letters, digits and dashes. */
    name: string;
    /** One line for `--help`: what counts as correct. */
    description: string;
    /** The arguments it takes, by key (lowercase letters, digits and dashes). Default: none. */
    args?: Readonly<Record<string, VerifierArgument>>;
    /**
     * Builds the verifier (may load heavy modules lazily) from its arguments (none: `{}` or
     * undefined), checked against `args` by {@link makeVerifier}. Throws a StepwiseError naming
     * the key for a bad value.
     */
    create: (args?: VerifierArgs) => Verifier | Promise<Verifier>;
    /** Exact per-step truth (optional): `stepwise label --truth` attaches it and compares MC labels with it. */
    truth?: StepTruthFn;
    /**
     * It grades against the record's `gold` answer: the label stage then refuses (or, with
     * `skipNoGold`, skips and counts) records whose gold is missing, null or empty before any
     * rollout (io/dataset.ts `requireGold`). Default false.
     */
    gold?: boolean;
}

