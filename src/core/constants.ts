/**
 * Constants shared by the record schemas (./schemas.ts) and the modules above core that the CLI's
 * option help lists, in a module that imports nothing: `stepwise <command> --help` imports it
 * without loading zod or any stage. Each constant is re-exported from its old home.
 */

/** The judge's prompt templates (judge/prompt.ts describes them; verdict records name one). */
export const JUDGE_TEMPLATES = ["processbench", "compact", "verify"] as const;
