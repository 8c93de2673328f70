import {test} from "node:test";
import assert from "node:assert/strict";
import {Marked} from "marked";
import {embedMarkdown, mdCode} from "../../../src/report/markdown.ts";

test("mdCode: file names with * and _ stay literal in Markdown (no emphasis); backticks get a longer fence", () => {
    assert.equal(mdCode("steps-*.jsonl"), "`steps-*.jsonl`");
    assert.equal(mdCode("a`b"), "``a`b``");
    assert.equal(mdCode("`x"), "`` `x ``");
    assert.equal(mdCode("two\nlines"), "`two lines`");
    const html = new Marked().parse(`${mdCode("steps-*.jsonl")}, ${mdCode("labels-*.jsonl")}, ${mdCode("a`b")}`, {async: false}) as string;
    assert.ok(!html.includes("<em>"), html);
    assert.match(html, /<code>steps-\*\.jsonl<\/code>, <code>labels-\*\.jsonl<\/code>, <code>a`b<\/code>/);
});

test("embedMarkdown: headings shifted, relative targets prefixed; URLs, anchors, code spans and fences untouched", () => {
    const md = ["# PRM analysis", "## (a) flagged", "![chart](false-positive.svg)", "[site](https://x.org/a.svg) [top](#a) `](kept.svg)`", "```", "# not a heading ](x.svg)", "```", "###### deep"].join("\n");
    assert.equal(
        embedMarkdown(md, "analyze", 2),
        ["### PRM analysis", "#### (a) flagged", "![chart](analyze/false-positive.svg)", "[site](https://x.org/a.svg) [top](#a) `](kept.svg)`", "```", "# not a heading ](x.svg)", "```", "###### deep"].join("\n"),
    );
});
