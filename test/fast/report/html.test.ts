import {test} from "node:test";
import assert from "node:assert/strict";
import {escapeHtml, fileHref, fileLinkHtml, imgHtml} from "../../../src/report/html.ts";

test("file names in HTML: encoded per path segment, then escaped; text escaped", () => {
    assert.equal(fileHref("plots/a b#1?.png"), "plots/a%20b%231%3F.png");
    assert.equal(fileHref(`x"><script>.svg`), "x%22%3E%3Cscript%3E.svg");
    assert.equal(imgHtml(`run "1"/hist.png`, `<τ>`), `<img src="run%20%221%22/hist.png" alt="&lt;τ&gt;">`);
    assert.equal(fileLinkHtml("o'k.jsonl"), `<a href="o&#39;k.jsonl">o&#39;k.jsonl</a>`);
    assert.equal(escapeHtml(`<&>"'`), "&lt;&amp;&gt;&quot;&#39;");
});
