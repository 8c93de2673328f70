/**
 * The forms of a split strategy spec (`stepwise split --strategy`; parsed by parseStrategy in
 * ./index.ts), in a module that imports nothing so the CLI's `--help` shows them without loading
 * the split stage.
 */
export const STRATEGY_FORMS = "adaptive | newline | double-newline | fixed:N | random:K[:SEED]";
