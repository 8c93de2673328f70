/**
 * The viewer's HTML page: a fixed shell (search, filters, list, detail) and the page script of
 * src/apps/view/client.ts. It holds no data: the script fetches it from the server or from the static
 * export's data files, and inserts every model output as text.
 */
import {viewerClient, type ViewerMode} from "./client.ts";
import {cutSpans} from "../../steps/spans.ts";

const CSS = `
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header{padding:.5em 1em;background:#1d2b3a;color:#fff}
header h1{font-size:1.1em;margin:0 0 .2em}
header #files{font-size:.8em;opacity:.85}
main{display:grid;grid-template-columns:minmax(260px,28%) 1fr;height:calc(100vh - 3.6em)}
aside{border-right:1px solid #ddd;display:flex;flex-direction:column;min-height:0;background:#fff}
.filters{padding:.5em;border-bottom:1px solid #eee;display:flex;flex-wrap:wrap;gap:.3em;align-items:center;font-size:.85em}
.filters input[type=search]{flex:1 1 100%;padding:.3em}
#list{list-style:none;margin:0;padding:0;overflow:auto;flex:1}
#list li{padding:.35em .6em;border-bottom:1px solid #f0f0f0;cursor:pointer;font-size:.85em}
#list li:hover{background:#f3f7fb}#list li.selected{background:#e2edf8}
#list .key{font-family:ui-monospace,monospace;font-size:.9em}
#list .q{color:#555;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#detail{overflow:auto;padding:0 1.2em 2em}
.badge{display:inline-block;font-size:.75em;padding:0 .35em;border-radius:.6em;margin-left:.2em;border:1px solid #ccc;background:#f4f4f4}
.badge.ok{background:#d9f2dc;border-color:#8ccf95}.badge.bad{background:#fbdcd8;border-color:#e59a91}
.gold-solution{white-space:pre-wrap;font-size:.9em;background:#fff;border:1px solid #e3e3e3;padding:.4em .5em;border-radius:4px;margin:.3em 0}
.calc{color:#a0a0a0;font-size:.85em}.gold-answer{font-weight:bold;font-size:1.05em}
.question{white-space:pre-wrap;background:#fff;border:1px solid #e3e3e3;padding:.5em;border-radius:4px}
.tokens{font-family:ui-monospace,monospace;white-space:pre-wrap;line-height:1.8;background:#fff;border:1px solid #e3e3e3;padding:.5em;border-radius:4px}
.tok{border-radius:2px}.tok.decision{outline:2px solid #c0392b;outline-offset:-1px}.tok.intervened{outline:2px solid #1f5fbf;outline-offset:0}
.boundary{color:#c0392b;font-weight:bold;margin:0 .1em}
.controls{margin:.3em 0;font-size:.9em;display:flex;gap:.4em;align-items:center;flex-wrap:wrap}
.controls input[type=range]{width:260px}
.sw{display:inline-block;width:1em;height:1em;vertical-align:middle;border:1px solid #ccc}
.legend{font-size:.8em;color:#555}
table{border-collapse:collapse;margin:.3em 0;font-size:.88em;background:#fff}
td,th{border:1px solid #ddd;padding:.2em .5em;text-align:right;vertical-align:top}
.left{text-align:left}.steptext{font-family:ui-monospace,monospace;white-space:pre-wrap;max-width:48em}
tr.step-row{cursor:pointer}tr.step-detail td{text-align:left;background:#f8fafc}tr.step-row:hover{background:#f3f7fb}
td.pos{background:#e3f5e5}td.neg{background:#fbe3e0}
td.picked{font-weight:bold;background:#fff5c2}tr.current td{border-top:2px solid #1d2b3a;border-bottom:2px solid #1d2b3a}
tr.chosen{background:#fff5c2}
.dot{font-size:.9em;margin-right:1px}.dot.pos{color:#2e8b3d}.dot.neg{color:#c0392b}
pre{white-space:pre-wrap;background:#fff;border:1px solid #eee;padding:.4em;font-size:.85em}
.small{font-size:.8em;color:#555}.error{color:#b00020}
button.more{margin:.3em 0;font-size:.85em}
h2{font-size:1.1em;font-family:ui-monospace,monospace}h3{font-size:1em;margin-top:1.4em}
`;

const SHELL = `
<header><h1>stepwise view</h1><div id="files"></div></header>
<main>
<aside>
  <div class="filters">
    <input id="q" type="search" placeholder="search id, question, text" aria-label="search">
    <select id="filter" aria-label="filter">
      <option value="all">all</option>
      <option value="wrong">wrong answers</option>
      <option value="low">low PRM score</option>
      <option value="disagree">MC vs judge disagree</option>
      <option value="intervened">TVD interventions</option>
    </select>
    <label>low &lt; <input id="low" type="number" min="0" max="1" step="0.05" value="0.5" style="width:4em"></label>
    <button id="prev" type="button">◀</button><span id="page"></span><button id="next" type="button">▶</button>
    <span id="count"></span>
  </div>
  <ul id="list"></ul>
</aside>
<section id="detail"></section>
</main>`;

/**
 * The whole page. In `static` mode the data comes from `data/index.js` (loaded before the
 * script) and `data/entries-N.js` (loaded on demand), which work from `file://`.
 */
export function viewerPage(mode: ViewerMode): string {
    // `__name` is a helper some TypeScript transpilers insert into functions; the page defines it
    // as the identity so the serialised script runs however it was compiled.
    // The step splitter goes in as an argument: live re-splitting uses src/steps' own rule.
    const script = `var __name = function (f) { return f; };\n(${viewerClient.toString()})(${JSON.stringify(mode)}, ${cutSpans.toString()});`;
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>stepwise view</title>
<style>${CSS}</style>
${mode === "static" ? '<script src="data/index.js"></script>' : ""}
</head><body>
${SHELL}
<script>${script.replace(/<\/script/gi, "<\\/script")}</script>
</body></html>
`;
}
