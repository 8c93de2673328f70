/**
 * `stepwise view --export DIR`: the viewer as static files that open with no server (also from
 * `file://`): `index.html`, `data/index.js` (files, list summaries, Best-of-N views of every
 * question) and `data/entries-N.js` (full entries, {@link ENTRIES_PER_CHUNK} a file, loaded on
 * demand). Data files are JavaScript (`STEPWISE_VIEW.…= JSON`) because browsers refuse `fetch`
 * from `file://`.
 */
import {mkdirSync, rmSync, existsSync} from "node:fs";
import {writeFileAtomic} from "../io/atomic.ts";
import {join} from "node:path";
import {entryView, questionView, type QuestionView} from "./entry.ts";
import {viewerPage} from "./page.ts";
import {viewerMeta} from "./server.ts";
import type {ViewStore} from "./store.ts";

/** Entries per data file of a static export. */
export const ENTRIES_PER_CHUNK = 200;

/** JSON made safe to embed in a script: no `</script`, no U+2028/2029 surprises. */
function js(value: unknown): string {
    return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** Write the static viewer into `dir` (created; its `data/` is replaced). Returns the page's path. */
export function exportViewer(store: ViewStore, dir: string, options: {tau?: number; onProgress?: (done: number, total: number) => void} = {}): string {
    mkdirSync(dir, {recursive: true});
    const dataDir = join(dir, "data");
    if (existsSync(dataDir)) rmSync(dataDir, {recursive: true, force: true});
    mkdirSync(dataDir, {recursive: true});
    const keys = store.keys();
    const summaries = keys.map((k) => ({...store.summary(k)!, haystack: store.searchText(k)}));
    const chunkOf: Record<string, number> = {};
    const questions: Record<string, QuestionView> = {};
    for (let c = 0; c * ENTRIES_PER_CHUNK < keys.length; c++) {
        const part: Record<string, unknown> = {};
        for (const key of keys.slice(c * ENTRIES_PER_CHUNK, (c + 1) * ENTRIES_PER_CHUNK)) {
            part[key] = entryView(store, key);
            chunkOf[key] = c;
            const qid = store.summary(key)?.question_id;
            if (qid && !questions[qid] && store.questionKeys(qid).length > 1) questions[qid] = questionView(store, qid);
        }
        writeFileAtomic(join(dataDir, `entries-${c}.js`), `STEPWISE_VIEW.chunks[${c}] = ${js(part)};\n`);
        options.onProgress?.(Math.min(keys.length, (c + 1) * ENTRIES_PER_CHUNK), keys.length);
    }
    const index = {meta: viewerMeta(store, options.tau), summaries, chunkOf, questions, chunks: {}};
    writeFileAtomic(join(dataDir, "index.js"), `window.STEPWISE_VIEW = ${js(index)};\n`);
    const page = join(dir, "index.html");
    writeFileAtomic(page, viewerPage("static"));
    return page;
}
