/**
 * The export formats (`stepwise export --format`), in a module that imports nothing so the CLI's
 * `--help` can list them without loading the export stage. Described in ./index.ts.
 */
export const EXPORT_FORMATS = ["trl", "openrlhf", "asprm", "math-shepherd"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
