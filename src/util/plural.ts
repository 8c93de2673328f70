/**
 * Counts in prose: `plural(1, "step")` → "1 step", `plural(3, "step")` → "3 steps",
 * `plural(2, "process", "processes")`, `plural(12000, "token")` → "12,000 tokens" (thousands
 * separated). The one helper for every count the CLI and reports print.
 */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
    return `${n.toLocaleString("en-US")} ${n === 1 ? word : pluralWord}`;
}
