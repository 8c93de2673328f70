/**
 * The viewer's index over stepwise files: every record of every file, found by kind, joined by
 * its stable `id`, summarised for the list and read back in full on demand.
 *
 * Files are read once, streaming, line by line; only a small summary and the record's byte range
 * are kept in memory, so 100k records of `samples.jsonl` (tens of kB each, with every token) stay
 * cheap. A full record is re-read from its byte ranges when the page asks for it.
 *
 * Files that change under the viewer: {@link ViewStore.refresh} (the server calls it before each
 * API request) re-indexes every file when one changed (size, mtime, ctime, inode or device), and
 * a read checks, on the open file, that it is still the file indexed and that the bytes at the
 * offset are the record of the key asked for; otherwise it is an error naming the file, never
 * another record.
 *
 * Pipes and other files that cannot be read at an offset (`<(cat x.jsonl)`, `/dev/stdin` fed by a
 * pipe) are read whole into memory, up to {@link PIPE_LIMIT_BYTES} (a larger one is refused,
 * naming it: save it to a file).
 *
 * Kinds (recognised by their fields, several per record where the fields overlap, e.g. a scored
 * labels file gives both `labels` and `scores`):
 * - `sample`   `stepwise sample` / demo samples: `text` and `tokens[]` (confidence per token)
 * - `steps`    `stepwise split`: `steps[]` with offsets and `strategy`
 * - `labels`   `stepwise label`: `hard[]`, `soft[]`, `rollouts[]`, `first_negative`
 * - `scores`   `stepwise score`: `step_scores[]`
 * - `judge`    `stepwise judge`: `first_error` and `votes`
 * - `decode`   `stepwise decode`: `strategy` and `trace`
 * - `gold`     ProcessBench-shaped rows: `steps[]` and an integer `label` (first wrong step, −1)
 * - `record`   anything else with an `id`, shown as JSON
 */
import {readSync, closeSync, statSync, fstatSync, readFileSync, createReadStream, type Stats} from "node:fs";
import {readLines, parseJsonlLine} from "../../io/jsonl.ts";
import {basename} from "node:path";
import {StepwiseError, fsError} from "../../util/errors.ts";
import {openForReading} from "../../io/text.ts";

/** Largest pipe (or other unseekable input) read into memory: 512 MiB. */
export const PIPE_LIMIT_BYTES = 512 * 1024 * 1024;

export type ViewKind = "sample" | "steps" | "labels" | "scores" | "judge" | "decode" | "gold" | "record";

/** One file given to the viewer. */
export interface ViewFile {
    /** Index in the order given (the page names files by index, never by path). */
    index: number;
    /** File name as shown on the page (base name; the full path stays on the server). */
    name: string;
    path: string;
    records: number;
    kinds: Partial<Record<ViewKind, number>>;
}

/** What the list shows for one entry (one joined id). */
export interface ViewSummary {
    /** Join key: the record id (decode records: `<id>@<strategy>`). */
    key: string;
    question_id?: string;
    /** Question, cut to 200 characters. */
    question: string;
    kinds: ViewKind[];
    /** Whether the final answer is right, where a file says so. */
    correct?: boolean;
    /** Lowest PRM step score, where scored. */
    min_score?: number;
    /** First MC-negative step (−1: none). */
    mc_first_negative?: number;
    /** The judge's first wrong step (−1: none; null: unparsable). */
    judge_first_error?: number | null;
    /** The exact / annotated first wrong step (−1: none). */
    gold_first_error?: number;
    /** The split whose index gold_first_error is in (a labels record's strategy; "annotated" for ProcessBench rows); absent when not known. */
    gold_first_error_split?: string;
    /** Decode interventions (TVD) recorded in the trace. */
    interventions?: number;
    /** Lower-cased text searched by `q`. */
    haystack: string;
}

interface Location {
    file: number;
    /** Byte offset of the line (JSONL), or index in the array (`.json`, with `length` −1). */
    offset: number;
    length: number;
    /** 1-based line (element) number: the key of a record without an id. */
    line: number;
    kinds: ViewKind[];
}

/** What identifies a file's content on disk: any change means it must be indexed again. */
interface Signature {
    dev: number;
    ino: number;
    size: number;
    mtimeMs: number;
    ctimeMs: number;
}

const signature = (st: Stats): Signature => ({dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs});
const sameSignature = (a: Signature, b: Signature) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/** A file as indexed: its signature (files on disk) or its bytes (pipes, read whole). */
interface Source {
    path: string;
    signature?: Signature;
    data?: Buffer;
}

const STDIN = new Set(["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"]);

/**
 * Read a pipe (or any unseekable file) to its end, refusing more than `limit` bytes. Standard
 * input that is a socket (as Node's child processes get it), which cannot be opened by name, is
 * read from the process's stdin.
 */
async function readWhole(path: string, st: Stats, limit: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
        const stream = st.isSocket() && STDIN.has(path) ? process.stdin : createReadStream(path);
        for await (const chunk of stream as AsyncIterable<Buffer>) {
            size += chunk.length;
            if (size > limit)
                throw new StepwiseError(`${path}: a pipe (not a regular file) is read into memory, and this one holds more than ${limit >= 1 << 20 ? `${Math.round(limit / (1 << 20))} MiB` : `${limit} bytes`}; save it to a file and view the file`);
            chunks.push(chunk);
        }
    } catch (e) {
        throw fsError(e, path);
    }
    return Buffer.concat(chunks);
}

function changed(path: string): StepwiseError {
    return new StepwiseError(`${path}: changed on disk since the viewer indexed it (reload the page to index it again)`);
}

/** Kinds of one record, by its fields (see the module docs). */
export function recordKinds(r: Record<string, unknown>): ViewKind[] {
    const kinds: ViewKind[] = [];
    const arr = (k: string) => Array.isArray(r[k]);
    if (typeof r.text === "string" && arr("tokens")) kinds.push("sample");
    if ("trace" in r && typeof r.strategy === "string") kinds.push("decode");
    if (arr("hard") && arr("rollouts")) kinds.push("labels");
    if (arr("step_scores")) kinds.push("scores");
    if ("first_error" in r && "votes" in r) kinds.push("judge");
    if (arr("steps") && typeof r.label === "number") kinds.push("gold");
    if (arr("steps") && typeof r.strategy === "string" && !kinds.includes("labels") && !kinds.includes("decode")) kinds.push("steps");
    if (kinds.length === 0) kinds.push("record");
    return kinds;
}

/** The id a record joins on. */
export function recordKey(r: Record<string, unknown>, kinds: ViewKind[]): string | undefined {
    const id = r.id;
    if (typeof id !== "string" && typeof id !== "number") return undefined;
    return kinds.includes("decode") ? `${id}@${String(r.strategy)}` : String(id);
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/**
 * The index over the viewer's files. Build it with {@link ViewStore.open}; every lookup is by
 * join key or list position, so nothing but the given files can ever be read.
 */
export class ViewStore {
    readonly files: ViewFile[] = [];
    private summaries = new Map<string, ViewSummary>();
    private locations = new Map<string, Location[]>();
    private questions = new Map<string, string[]>();
    private order: string[] = [];
    private sources: Source[] = [];
    private refreshing: Promise<boolean> | undefined;

    /**
     * Index files (JSONL, or a JSON array such as ProcessBench's split files; pipes are read whole,
     * up to `pipeLimit` bytes, default {@link PIPE_LIMIT_BYTES}).
     * @throws StepwiseError naming the file and line of a malformed record, a missing file, or a
     *   pipe over the limit.
     */
    static async open(paths: string[], options: {onProgress?: (file: string, records: number) => void; pipeLimit?: number} = {}): Promise<ViewStore> {
        if (paths.length === 0) throw new StepwiseError("view: name at least one file");
        const store = new ViewStore();
        for (const path of paths) await store.add(path, options.onProgress, undefined, options.pipeLimit ?? PIPE_LIMIT_BYTES);
        store.order = [...store.summaries.keys()];
        return store;
    }

    /**
     * Index the files again when one changed on disk since it was indexed (see the module docs);
     * concurrent calls share one re-indexing. Resolves true when it re-indexed. On an error (a file
     * removed, now malformed) the old index stays, its reads refuse the changed file, and the next
     * call tries again.
     * @throws StepwiseError naming the file.
     */
    refresh(): Promise<boolean> {
        this.refreshing ??= this.reindexIfChanged().finally(() => (this.refreshing = undefined));
        return this.refreshing;
    }

    private async reindexIfChanged(): Promise<boolean> {
        const stale = this.sources.some((src) => {
            if (!src.signature) return false;
            try {
                return !sameSignature(src.signature, signature(statSync(src.path)));
            } catch (e) {
                throw fsError(e, src.path);
            }
        });
        if (!stale) return false;
        const fresh = new ViewStore();
        for (const src of this.sources) await fresh.add(src.path, undefined, src.data, Infinity);
        fresh.order = [...fresh.summaries.keys()];
        this.files.splice(0, this.files.length, ...fresh.files);
        this.summaries = fresh.summaries;
        this.locations = fresh.locations;
        this.questions = fresh.questions;
        this.order = fresh.order;
        this.sources = fresh.sources;
        this.jsonCache = new Map();
        return true;
    }

    private async add(path: string, onProgress: ((file: string, records: number) => void) | undefined, data: Buffer | undefined, pipeLimit: number): Promise<void> {
        let st: Stats | undefined;
        if (!data) {
            try {
                st = statSync(path);
            } catch (e) {
                throw (e as NodeJS.ErrnoException).code === "ENOENT" ? new StepwiseError(`${path}: no such file`) : fsError(e, path);
            }
            if (st.isDirectory()) throw new StepwiseError(`${path}: is a folder; name the JSONL files in it`);
            // The signature is taken before reading: a change during the indexing shows at the next refresh.
            if (!st.isFile()) data = await readWhole(path, st, pipeLimit);
        }
        this.sources.push({path, data, signature: data ? undefined : signature(st!)});
        const file: ViewFile = {index: this.files.length, name: basename(path), path, records: 0, kinds: {}};
        this.files.push(file);
        const take = (record: Record<string, unknown>, offset: number, length: number, line: number) => {
            const kinds = recordKinds(record);
            const key = recordKey(record, kinds) ?? `${file.name}:${line}`;
            for (const k of kinds) file.kinds[k] = (file.kinds[k] ?? 0) + 1;
            file.records++;
            const locs = this.locations.get(key) ?? [];
            locs.push({file: file.index, offset, length, line, kinds});
            this.locations.set(key, locs);
            this.summarize(key, record, kinds);
            if (file.records % 5000 === 0) onProgress?.(file.name, file.records);
        };
        if (path.endsWith(".json")) {
            let rows: unknown;
            try {
                rows = JSON.parse((data ?? readFileSync(path)).toString("utf8"));
            } catch (e) {
                if (!(e instanceof SyntaxError)) throw fsError(e, path);
                throw new StepwiseError(`${path}: malformed JSON (${(e as Error).message.split("\n")[0]})`);
            }
            if (!Array.isArray(rows)) throw new StepwiseError(`${path}: expected a JSON array of records`);
            rows.forEach((r, i) => {
                if (r && typeof r === "object" && !Array.isArray(r)) take(r as Record<string, unknown>, i, -1, i + 1);
                else throw new StepwiseError(`${path}: element ${i} is not a JSON object`);
            });
        } else {
            for await (const {text, line, offset, bytes} of readLines(path, {from: data && [data]})) {
                if (text.trim() === "") continue;
                const trimmed = text.endsWith("\r") ? bytes - 1 : bytes;
                take(parseJsonlLine(text, path, line), offset, trimmed, line);
            }
        }
        onProgress?.(file.name, file.records);
    }

    private summarize(key: string, r: Record<string, unknown>, kinds: ViewKind[]): void {
        let s = this.summaries.get(key);
        if (!s) {
            s = {key, question: "", kinds: [], haystack: key.toLowerCase()};
            this.summaries.set(key, s);
        }
        for (const k of kinds) if (!s.kinds.includes(k)) s.kinds.push(k);
        const question = typeof r.question === "string" ? r.question : typeof r.problem === "string" ? r.problem : undefined;
        if (question && !s.question) {
            s.question = question.slice(0, 200);
            s.haystack += "\n" + question.toLowerCase();
        }
        if (typeof r.text === "string") s.haystack += "\n" + r.text.slice(0, 2000).toLowerCase();
        if (typeof r.question_id === "string" && !s.question_id) {
            s.question_id = r.question_id;
            const list = this.questions.get(r.question_id) ?? [];
            list.push(key);
            this.questions.set(r.question_id, list);
        }
        if (typeof r.correct === "boolean") s.correct = r.correct;
        if (kinds.includes("gold") && typeof r.final_answer_correct === "boolean") s.correct ??= r.final_answer_correct;
        if (kinds.includes("scores")) {
            const scores = (r.step_scores as unknown[]).map(num).filter((x): x is number => x !== undefined);
            if (scores.length) s.min_score = Math.min(...scores);
        }
        if (kinds.includes("labels") && num(r.first_negative) !== undefined) s.mc_first_negative = num(r.first_negative);
        if (kinds.includes("judge")) s.judge_first_error = num(r.first_error) ?? null;
        // The split of the index, named as entryView names it (src/apps/view/entry.ts).
        const setGold = (index: number | undefined, split: string | undefined) => {
            s!.gold_first_error = index;
            if (split === undefined) delete s!.gold_first_error_split;
            else s!.gold_first_error_split = split;
        };
        if (kinds.includes("gold")) setGold(num(r.label), typeof r.strategy === "string" ? r.strategy : "annotated");
        const truth = r.truth as {first_error?: unknown} | undefined;
        if (truth && num(truth.first_error) !== undefined) setGold(num(truth.first_error), typeof r.strategy === "string" ? r.strategy : undefined);
        if (num(r.first_error_step) !== undefined && s.gold_first_error === undefined) setGold(num(r.first_error_step), undefined);
        if (kinds.includes("decode")) {
            if (Array.isArray(r.trace)) s.interventions = (r.trace as Array<{type?: unknown; candidates?: unknown}>).filter((t) => t && (t.type === "tvd" || (t.type === undefined && Array.isArray(t.candidates)))).length;
            if (!s.question_id && typeof r.id === "string") s.question_id = r.id;
        }
    }

    /** Number of joined entries. */
    get size(): number {
        return this.order.length;
    }

    /**
     * One page of the list, after search and filters.
     * @param q       case-insensitive substring of id, question or text
     * @param filter  `wrong` (final answer wrong), `low` (a step score below `low`, default 0.5),
     *                `disagree` (MC first negative ≠ judge first error), `intervened` (TVD traces)
     */
    list(o: {offset?: number; limit?: number; q?: string; filter?: string; low?: number} = {}): {total: number; rows: Array<Omit<ViewSummary, "haystack">>} {
        const q = (o.q ?? "").trim().toLowerCase();
        const low = o.low ?? 0.5;
        const keep = (s: ViewSummary): boolean => {
            if (q && !s.haystack.includes(q)) return false;
            switch (o.filter ?? "") {
                case "":
                case "all":
                    return true;
                case "wrong":
                    return s.correct === false;
                case "low":
                    return s.min_score !== undefined && s.min_score < low;
                case "disagree":
                    return s.mc_first_negative !== undefined && s.judge_first_error !== undefined && s.mc_first_negative !== s.judge_first_error;
                case "intervened":
                    return (s.interventions ?? 0) > 0;
                default:
                    throw new StepwiseError(`view: unknown filter "${o.filter}" (all, wrong, low, disagree, intervened)`);
            }
        };
        const matched = q || (o.filter && o.filter !== "all") ? this.order.filter((k) => keep(this.summaries.get(k)!)) : this.order;
        const offset = Math.max(0, o.offset ?? 0);
        const limit = Math.min(500, Math.max(1, o.limit ?? 50));
        return {total: matched.length, rows: matched.slice(offset, offset + limit).map((k) => publicSummary(this.summaries.get(k)!))};
    }

    /** Every key, in list order (for the static export). */
    keys(): string[] {
        return [...this.order];
    }

    summary(key: string): Omit<ViewSummary, "haystack"> | undefined {
        const s = this.summaries.get(key);
        return s && publicSummary(s);
    }

    /** The lower-cased text `list({q})` searches for one entry (id, question, start of each text). */
    searchText(key: string): string {
        return this.summaries.get(key)?.haystack ?? "";
    }

    /** Keys of the entries of one question (Best-of-N candidates), in file order. */
    questionKeys(questionId: string): string[] {
        return this.questions.get(questionId) ?? [];
    }

    /**
     * The full parts of one entry: each file's record for this key with the kinds it gave.
     * Unknown keys give undefined (the server answers 404).
     */
    parts(key: string): Array<{file: string; kinds: ViewKind[]; record: Record<string, unknown>}> | undefined {
        const locs = this.locations.get(key);
        if (!locs) return undefined;
        return locs.map((loc) => ({file: this.files[loc.file].name, kinds: loc.kinds, record: this.readAt(loc, key)}));
    }

    private jsonCache = new Map<number, unknown[]>();

    /**
     * The record at `loc`, checked to be the record of `key` in the file as indexed.
     * @throws StepwiseError naming the file when it changed since it was indexed.
     */
    private readAt(loc: Location, key: string): Record<string, unknown> {
        const src = this.sources[loc.file];
        const file = this.files[loc.file];
        let record: unknown;
        if (loc.length < 0) {
            let rows = this.jsonCache.get(loc.file);
            if (!rows) {
                if (src.signature) this.checkUnchanged(src, () => statSync(src.path));
                rows = JSON.parse((src.data ?? readFileSync(src.path)).toString("utf8")) as unknown[];
                this.jsonCache.set(loc.file, rows);
            }
            record = rows[loc.offset];
        } else if (src.data) {
            record = JSON.parse(src.data.subarray(loc.offset, loc.offset + loc.length).toString("utf8"));
        } else {
            const fd = openForReading(src.path);
            try {
                this.checkUnchanged(src, () => fstatSync(fd));
                const buf = Buffer.alloc(loc.length);
                const n = readSync(fd, buf, 0, loc.length, loc.offset);
                if (n !== loc.length) throw changed(src.path);
                try {
                    record = JSON.parse(buf.toString("utf8"));
                } catch {
                    throw changed(src.path);
                }
            } finally {
                closeSync(fd);
            }
        }
        // The bytes must still be the record of this key (a rewrite keeping size and times).
        const r = record as Record<string, unknown>;
        const ok = r !== null && typeof r === "object" && !Array.isArray(r) && (recordKey(r, recordKinds(r)) ?? `${file.name}:${loc.line}`) === key;
        if (!ok) throw changed(src.path);
        return r;
    }

    private checkUnchanged(src: Source, stat: () => Stats): void {
        let now: Stats;
        try {
            now = stat();
        } catch (e) {
            throw fsError(e, src.path);
        }
        if (!sameSignature(src.signature!, signature(now))) throw changed(src.path);
    }
}

function publicSummary(s: ViewSummary): Omit<ViewSummary, "haystack"> {
    const {haystack: _, ...rest} = s;
    return rest;
}
