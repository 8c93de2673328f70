/**
 * Markdown helpers for reports: text that is data (file names, model output) goes into Markdown
 * as a code span, so `*`, `_`, `[` or backticks in it never turn into emphasis or links.
 */

/**
 * `s` as one Markdown code span: fenced by more backticks than the longest run inside it, padded
 * with a space when it starts or ends with a backtick; line breaks become spaces (a code span is
 * inline). `steps-*.jsonl` → "`steps-*.jsonl`", `` a`b `` → "``a`b``".
 */
export function mdCode(s: string): string {
    const text = s.replace(/\r?\n/g, " ");
    const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
    const fence = "`".repeat(longest + 1);
    const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
    return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * A Markdown report written in folder `dir`, made part of a report one folder up: every heading
 * `shift` levels deeper (at most ######), and every relative link or image target (`](x.svg)`)
 * prefixed with `dir/`. Absolute URLs, `#anchors` and targets in code are left alone.
 */
export function embedMarkdown(markdown: string, dir: string, shift: number): string {
    let inFence = false;
    return markdown
        .split("\n")
        .map((line) => {
            if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
            if (inFence || /^\s*(```|~~~)/.test(line)) return line;
            const heading = /^(#{1,6})(\s)/.exec(line);
            const shifted = heading ? "#".repeat(Math.min(6, heading[1].length + shift)) + line.slice(heading[1].length) : line;
            // Outside code spans only: split on code spans and rewrite the other parts.
            return shifted
                .split(/(`+[^`]*`+)/)
                .map((part, i) => (i % 2 === 1 ? part : part.replace(/\]\((?![a-z][a-z0-9+.-]*:|\/|#)([^)\s]+)\)/gi, (_, target: string) => `](${dir}/${target})`)))
                .join("");
        })
        .join("\n");
}
