/** Small formatting helpers shared by the evaluation reports. */

/** A fraction (0..1) as a percentage with two decimals; null stays null. */
export function percent(x: number | null): number | null {
    return x === null || !Number.isFinite(x) ? null : Math.round(x * 10000) / 100;
}

/** A percentage for Markdown tables ("—" for null). */
export function pctCell(x: number | null): string {
    return x === null ? "—" : x.toFixed(2);
}

/** A Markdown table. */
export function markdownTable(header: string[], rows: string[][]): string {
    const line = (cells: string[]): string => `| ${cells.join(" | ")} |`;
    return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/**
 * An interval for Markdown tables: `72.50 (61.03–82.10)` (value and bounds with `digits` decimals,
 * in the interval's own unit, e.g. percent after `intervalJson(iv, 100, 2)`); "—" for null.
 */
export function intervalCell(iv: {value: number; low: number; high: number} | null, digits = 2): string {
    return iv === null ? "—" : `${iv.value.toFixed(digits)} (${iv.low.toFixed(digits)}–${iv.high.toFixed(digits)})`;
}
