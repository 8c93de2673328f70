/**
 * The viewer: `stepwise view FILE…` serves a local page over any stepwise JSONL (samples, steps,
 * labels, scores, decode traces, judge verdicts, ProcessBench rows) joined by id; `--export DIR`
 * writes the same page as static files. The package's `stepwise/view` subpath.
 */
export {ViewStore, recordKinds, recordKey, PIPE_LIMIT_BYTES, type ViewKind, type ViewFile, type ViewSummary} from "./store.ts";
export {entryView, questionView, type EntryView, type QuestionView, type ViewCandidate, type ViewSplit, type ViewStep, type ViewToken} from "./entry.ts";
export {createViewerApp, startViewer, viewerMeta, type RunningViewer} from "./server.ts";
export {exportViewer, prepareExport, ENTRIES_PER_CHUNK, EXPORT_MARKER} from "./export.ts";
export {viewerPage} from "./page.ts";
export {TOKENS_SHOWN, ROWS_SHOWN, RAW_CHARS} from "./client.ts";
