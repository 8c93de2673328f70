/**
 * `stepwise view --export DIR`: the viewer as static files that open with no server (also from
 * `file://`): `index.html`, `data/index.js` (files, list summaries, Best-of-N views of every
 * question) and `data/entries-N.js` (full entries, {@link ENTRIES_PER_CHUNK} a file, loaded on
 * demand). Data files are JavaScript (`STEPWISE_VIEW.…= JSON`) because browsers refuse `fetch`
 * from `file://`.
 *
 * The export never deletes what it did not write. It lists the files it writes in
 * `DIR/.stepwise-view-export.json` ({@link EXPORT_MARKER}) and writes only into:
 * - a new folder, or an empty one;
 * - a previous export (a folder with that marker): files the old marker lists and the new export
 *   does not write again are deleted, and nothing else.
 * It refuses, before writing anything, a non-empty folder without the marker, a folder that holds
 * one of the viewer's input files (at any depth), and a `data` entry that is not a plain folder.
 */
import {lstatSync, readdirSync, readFileSync, realpathSync, statSync, unlinkSync} from "node:fs";
import {writeFileAtomic} from "../../io/atomic.ts";
import {prepareOutput, ensureFolder} from "../../io/output.ts";
import {StepwiseError, fsError} from "../../util/errors.ts";
import {join, resolve, sep} from "node:path";
import {entryView, questionView, type QuestionView} from "./entry.ts";
import {viewerPage} from "./page.ts";
import {viewerMeta} from "./server.ts";
import type {ViewStore} from "./store.ts";

/** Entries per data file of a static export. */
export const ENTRIES_PER_CHUNK = 200;

/** The file that marks a folder as a static export and lists the files the export wrote. */
export const EXPORT_MARKER = ".stepwise-view-export.json";

/** The only names an export writes (and so the only ones it ever deletes), relative to DIR. */
const EXPORT_FILE = /^(index\.html|data\/index\.js|data\/entries-(0|[1-9][0-9]{0,8})\.js)$/;

/** JSON made safe to embed in a script: no `</script`, no U+2028/2029 surprises. */
function js(value: unknown): string {
    return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

function realOrResolved(path: string): string {
    try {
        return realpathSync(path);
    } catch {
        return resolve(path);
    }
}

/** Whether `path` lies inside `folder` (at any depth); both absolute. */
function inside(path: string, folder: string): boolean {
    const f = folder.endsWith(sep) ? folder : folder + sep;
    return path.startsWith(f);
}

/**
 * What a previous export in `dir` wrote (relative paths), after the safety checks of the module
 * docs; [] for a new or empty folder. Throws a StepwiseError naming the folder and the reason.
 */
function previousExport(dir: string, inputs: string[]): string[] {
    const where = `view --export ${dir}`;
    let st;
    try {
        st = statSync(dir);
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw fsError(e, dir);
    }
    if (!st.isDirectory()) throw new StepwiseError(`${where}: is a file, not a folder; choose a folder for the export`);
    const realDir = realOrResolved(dir);
    for (const input of inputs) {
        const st = (() => {
            try {
                return statSync(input);
            } catch {
                return undefined;
            }
        })();
        if (!st?.isFile()) continue;
        if (inside(resolve(input), resolve(dir)) || inside(realOrResolved(input), realDir))
            throw new StepwiseError(`${where}: the folder holds the input file ${input} (an export never goes where its inputs are): choose another folder`);
    }
    let names: string[];
    try {
        names = readdirSync(dir);
    } catch (e) {
        throw fsError(e, dir, "cannot list the folder");
    }
    if (names.length === 0) return [];
    if (!names.includes(EXPORT_MARKER))
        throw new StepwiseError(`${where}: the folder is not empty and is not a previous \`stepwise view --export\` (no ${EXPORT_MARKER} in it); choose a new or empty folder`);
    let marker: unknown;
    try {
        marker = JSON.parse(readFileSync(join(dir, EXPORT_MARKER), "utf8"));
    } catch (e) {
        throw new StepwiseError(`${where}: ${EXPORT_MARKER} is unreadable (${(e as Error).message.split("\n")[0]}); choose another folder`);
    }
    const files = (marker as {files?: unknown} | null)?.files;
    if (!Array.isArray(files) || !files.every((f) => typeof f === "string"))
        throw new StepwiseError(`${where}: ${EXPORT_MARKER} has no "files" list of strings; choose another folder`);
    // Only the names an export writes: a hand-edited marker cannot make the export delete anything else.
    return (files as string[]).filter((f) => EXPORT_FILE.test(f));
}

/** Remove a file a previous export wrote; a folder or a missing file is left alone. */
function removeExported(dir: string, rel: string): void {
    const path = join(dir, rel);
    let st;
    try {
        st = lstatSync(path);
    } catch {
        return;
    }
    if (st.isDirectory()) return;
    try {
        unlinkSync(path);
    } catch (e) {
        throw fsError(e, path, "cannot remove a file of the previous export");
    }
}

/**
 * Check that `dir` can take a static export of `inputs` (see the module docs), creating it when
 * missing; returns the files a previous export there wrote. The CLI calls it before indexing.
 * @throws StepwiseError naming the folder and the reason.
 */
export function prepareExport(dir: string, inputs: string[]): string[] {
    const previous = previousExport(dir, inputs);
    prepareOutput(dir, {folder: true, flag: "view --export"});
    return previous;
}

/**
 * Write the static viewer into `dir` (created when missing; see the module docs for which
 * folders are accepted and what is replaced). Returns the page's path (`DIR/index.html`).
 * @throws StepwiseError naming the folder: not empty and not a previous export, holding an input
 *   file, not writable (read-only file system, permissions), or a file.
 */
export function exportViewer(store: ViewStore, dir: string, options: {tau?: number; onProgress?: (done: number, total: number) => void} = {}): string {
    const previous = prepareExport(dir, store.files.map((f) => f.path));
    const dataDir = join(dir, "data");
    let dataSt;
    try {
        dataSt = lstatSync(dataDir);
    } catch {
        dataSt = undefined;
    }
    if (dataSt && !dataSt.isDirectory()) throw new StepwiseError(`view --export ${dir}: ${dataDir} is not a folder (a file or a link); choose another folder`);
    ensureFolder(dataDir);

    const keys = store.keys();
    const chunks = Math.ceil(keys.length / ENTRIES_PER_CHUNK);
    const planned = ["index.html", "data/index.js", ...Array.from({length: chunks}, (_, c) => `data/entries-${c}.js`)];
    // A write follows a link: a link among the export's own names would write outside DIR.
    for (const rel of [EXPORT_MARKER, ...planned]) {
        let st;
        try {
            st = lstatSync(join(dir, rel));
        } catch {
            continue;
        }
        if (!st.isFile()) throw new StepwiseError(`view --export ${dir}: ${rel} is not a regular file (a link or a folder); choose another folder`);
    }
    const writeMarker = (files: string[]) => writeFileAtomic(join(dir, EXPORT_MARKER), JSON.stringify({tool: "stepwise view --export", files}, null, 1) + "\n");
    // Everything this run may leave behind is listed before it is written, so an interrupted export
    // is still recognised (and cleaned) by the next one.
    writeMarker([...new Set([...previous, ...planned])]);

    const summaries = keys.map((k) => ({...store.summary(k)!, haystack: store.searchText(k)}));
    const chunkOf: Record<string, number> = {};
    const questions: Record<string, QuestionView> = {};
    for (let c = 0; c < chunks; c++) {
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
    writeMarker(planned);
    for (const rel of previous) if (!planned.includes(rel)) removeExported(dir, rel);
    return page;
}
