/**
 * The `code` verifier of the label stage's registry (registered by src/domains.ts): a rollout is
 * correct when the program in its text passes the problem's unit tests in the sandbox. Code-lab
 * questions carry their tests; for other data (LeetCodeDataset shape) set STEPWISE_CODE_PROBLEMS
 * to the problems file and copy the task_id into the records' gold (`sample --answer-field task_id`).
 * Light module: the sandbox and the problems are loaded when the verifier is built.
 */
import type {VerifierDefinition} from "../pipeline/label/verifiers.ts";

export const codeVerifier: VerifierDefinition = {
    name: "code",
    description: "the program in the text passes its unit tests in the bubblewrap sandbox (code-lab questions; other problems from $STEPWISE_CODE_PROBLEMS by the record's gold = task_id)",
    create: async () => (await import("./pipeline.ts")).makeCodeVerifier({problems: process.env.STEPWISE_CODE_PROBLEMS || undefined}),
};
