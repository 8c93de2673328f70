/** HTML helpers for reports. Model outputs are untrusted text: everything shown goes through escapeHtml. */

export function escapeHtml(s: string): string {
    return s.replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]!);
}

/** Render tokens with their confidences; tokens below `threshold` are highlighted. */
export function tokensHtml(tokens: Array<{text: string; confidence: number}>, threshold: number): string {
    return tokens
        .map((t) => {
            const text = escapeHtml(t.text).replace(/\n/g, "↵<br>");
            const title = `p=${t.confidence.toFixed(3)}`;
            return t.confidence < threshold ? `<mark title="${title}">${text}</mark>` : `<span title="${title}">${text}</span>`;
        })
        .join("");
}

export function htmlPage(title: string, body: string): string {
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
.sample{font-family:ui-monospace,monospace;background:#f7f7f7;padding:.6em;margin:.5em 0;white-space:normal}
mark{background:#ffb3a7}
img{max-width:100%}
</style></head><body>
${body}
</body></html>
`;
}

/**
 * A relative file reference for an HTML attribute: each path segment percent-encoded (so `#`, `?`,
 * spaces and quotes in a file name stay part of it), then HTML-escaped. `a b/x#1.png` → `a%20b/x%231.png`.
 */
export function fileHref(path: string): string {
    return escapeHtml(path.split("/").map(encodeURIComponent).join("/"));
}

/** `<img>` of a relative file, name encoded ({@link fileHref}) and alt text escaped. */
export function imgHtml(path: string, alt: string): string {
    return `<img src="${fileHref(path)}" alt="${escapeHtml(alt)}">`;
}

/** `<a>` to a relative file, name encoded ({@link fileHref}) and text escaped (default: the file name). */
export function fileLinkHtml(path: string, text = path): string {
    return `<a href="${fileHref(path)}">${escapeHtml(text)}</a>`;
}
