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
