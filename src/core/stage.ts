/**
 * The resumable-stage helper: the one place where a pipeline stage that appends JSONL records
 * (sample, split, label, score, ProcessBench scoring, and new resumable commands) opens its
 * output, resumes it, and writes to it. Faults fixed here are fixed for every stage.
 *
 * ```ts
 * const stage = openStage<MyRecord>({
 *     name: "score",                      // recorded in the settings file
 *     out: "scores.jsonl",                // appended to; resumed by record id
 *     inputs: [inFile],                   // must exist, must not be `out`
 *     settings: {prm: engineFingerprint(spec), format: "math-shepherd", in: basename(inFile)},
 * });                                     // ← call before loading any model
 * try {
 *     const todo = inputs.filter((r) => !stage.done.has(r.id));
 *     const r = await stage.runOrdered(todo, async (item) => score(item), {
 *         concurrency: 4, where: (item) => `${inFile}:${item.line} id "${item.id}"`, skipTooLong: opts.skipTooLong,
 *     });
 * } finally {
 *     stage.close();
 * }
 * ```
 *
 * What {@link openStage} guarantees, in this order, before any work starts:
 * 1. inputs exist and are files; the output is not an input, not a folder; its parent folders
 *    are created; read-only file systems and permissions are reported (one-line errors);
 * 2. an exclusive lock on the output (`<out>.lock` next to the real file, so a writer reaching it
 *    through a symbolic link is locked out too; see io/lock.ts): a second writer is refused,
 *    naming the running one; a lock left by a killed run is taken over at once;
 * 3. a torn last line (kill -9, full disk) is cut off and reported; duplicate ids are an error;
 * 4. the settings fingerprint: `<out>.settings.json` holds the stage name and every
 *    result-changing setting. Resuming with any of them changed is refused, naming each
 *    difference ("seed: 0 → 1"). Models are identified by the SHA-256 of their bytes
 *    (fingerprint.ts `modelSha256`), so a retrained checkpoint of the same name and size is
 *    refused. A settings file written before model hashes (engine with `model_bytes`, no
 *    `sha256`) resumes when everything else matches: the model is then checked by name and size
 *    only (said in a note) and its hash is written into the settings file, so later resumes check
 *    the content. Outputs written before settings files existed are checked record by record
 *    with the stage's `checkExisting`; when the records cannot show some settings (`unprovable`,
 *    e.g. sample's max tokens), such an output is refused, naming them, unless adopted (`adopt`).
 *
 * {@link Stage.runOrdered} runs a worker over items with bounded concurrency and writes the
 * results in input order, so an interrupted output is always a prefix of the complete one and a
 * re-run completes it into the file an uninterrupted run writes. A failing item stops the run
 * after the records before it are written; its error names the item (`file:line id "x"`).
 * Inputs too long for the model's context (see util/errors.ts) stop the run too, or, with
 * `skipTooLong`, are skipped, counted and listed.
 */
import pLimit from "p-limit";
import type {z} from "zod";
import {existsSync, readFileSync} from "node:fs";
import {writeFileAtomic} from "../io/atomic.ts";
import {acquireLock, type Lock} from "../io/lock.ts";
import {JsonlWriter, readJsonlTolerant} from "../io/jsonl.ts";
import {prepareOutput, realPathOf} from "../io/output.ts";
import {checkInputFile} from "../io/text.ts";
import {ContextOverflowError, StepwiseError, isContextOverflow, locate} from "../util/errors.ts";
import {plural} from "../util/plural.ts";
import {diffSettings, fingerprintOf, withoutLaterDerivedKeys, withoutNewModelHashes, type Settings} from "./fingerprint.ts";
import {AnyRecordSchema, checkRecord} from "./schemas.ts";

export {engineFingerprint, diffSettings, fingerprintOf, type Settings, type SettingValue} from "./fingerprint.ts";

/** A value or a function that makes it once the output checks passed (e.g. loading a model). */
export type Lazy<T> = T | (() => Promise<T>);

/** Resolve a {@link Lazy}; `created` says whether this call made it (and so must close it). */
export async function resolveLazy<T>(v: Lazy<T>): Promise<{value: T; created: boolean}> {
    return typeof v === "function" ? {value: await (v as () => Promise<T>)(), created: true} : {value: v, created: false};
}

export interface StageOptions<R> {
    /** Stage name ("sample", "label", …), stored in the settings file and checked on resume. */
    name: string;
    /** Output JSONL: appended to, resumed by record id. */
    out: string;
    /** The flag naming the output, for messages. Default "--out". */
    outFlag?: string;
    /** Input files: each must exist and be a file, and none may be the output. */
    inputs?: ReadonlyArray<string | undefined>;
    /** Every setting that changes the records (see fingerprint.ts). */
    settings: Settings;
    /**
     * The schema of the stage's records (core/schemas.ts): records already in the output are
     * checked against it on resume (a bad one is an error naming `out:line` and the field), and
     * it types them. Without it, records are plain objects.
     */
    schema?: z.ZodType<R, R>;
    /** Record id. Default: the record's `id` field, as a string. */
    idOf?: (record: R) => string;
    /**
     * For outputs without a settings file (written by an older stepwise): describe how an existing
     * record differs from the current settings, or return undefined when it matches.
     */
    checkExisting?: (record: R) => string | undefined;
    /**
     * For outputs without a settings file: the settings (keys of `settings`) that the records
     * cannot show, so `checkExisting` cannot check them (e.g. sample's max_tokens). When there is
     * any, such an output is refused, naming what the records show and what they do not, unless
     * `adopt` is set. Default: none (the records prove every setting).
     */
    unprovable?: readonly string[];
    /**
     * Resume an output without a settings file even though its records cannot show every
     * setting (the caller vouches that the current settings made them): records are still
     * checked with `checkExisting`, then the settings file is written. Default false.
     */
    adopt?: boolean;
    /** The flag that sets `adopt`, named in the refusal. Default "--adopt". */
    adoptFlag?: string;
    /** Where notes go (torn line dropped, stale lock). Default: stderr. */
    log?: (line: string) => void;
}

/** The settings file stored next to an output. */
export interface SettingsFile {
    stage: string;
    fingerprint: string;
    settings: Settings;
    created: string;
}

/** `<out>.settings.json`. */
export function settingsPath(out: string): string {
    return `${out}.settings.json`;
}

export interface RunOptions<T> {
    /** Items in flight at once. Default 4. */
    concurrency?: number;
    /** Where an item comes from (`file:line id "x"`), for error messages. */
    where?: (item: T, index: number) => string;
    /** Skip (and count) items whose input does not fit the model's context, instead of stopping. */
    skipTooLong?: boolean;
    /** The flag that turns skipping on, named in the error when it is off. Default "--skip-too-long". */
    skipFlag?: string;
    /** Called after each item, with items finished and the total. */
    onProgress?: (done: number, total: number) => void;
    /** Called for each record written, in order. */
    onWritten?: (record: unknown) => void;
}

export interface RunResult {
    /** Records written by this run. */
    written: number;
    /** Items skipped because they do not fit the context (with skipTooLong): where, and why. */
    tooLong: Array<{where: string; message: string}>;
}

export class Stage<R = Record<string, unknown>> {
    /** Records already in the output (resume), in file order. */
    readonly existing: R[];
    /** Ids of the records in the output (existing and written by this run). */
    readonly done: Set<string>;
    private writer: JsonlWriter | undefined;
    private lock: Lock | undefined;
    private readonly idOf: (r: R) => string;

    /** @internal use {@link openStage}. */
    constructor(
        readonly out: string,
        readonly name: string,
        existing: R[],
        idOf: (r: R) => string,
        lock: Lock,
    ) {
        this.existing = existing;
        this.idOf = idOf;
        this.done = new Set(existing.map(idOf));
        this.lock = lock;
        this.writer = new JsonlWriter(out);
    }

    /** Append one record now (unordered; {@link runOrdered} orders for you). */
    write(record: R): void {
        if (!this.writer) throw new StepwiseError(`${this.out}: the ${this.name} stage is closed`);
        this.writer.write(record);
        this.done.add(this.idOf(record));
    }

    /**
     * Run `work` over `items` (see the module docs) and append what it returns (a record, several
     * records, or nothing) in item order. Throws the first failure, located, after waiting for the
     * items in flight and writing every record before the failing item.
     */
    runOrdered<T>(items: readonly T[], work: (item: T, index: number, signal: AbortSignal) => Promise<R | R[] | undefined>, o: RunOptions<T> = {}): Promise<RunResult> {
        return runOrdered(items, work, (r) => this.write(r), o);
    }

    /** Close the output and release the lock (idempotent). */
    close(): void {
        try {
            this.writer?.close();
        } finally {
            this.writer = undefined;
            this.lock?.release();
            this.lock = undefined;
        }
    }
}

/**
 * Run `work` over `items` with bounded concurrency and pass what it returns (a record, several, or
 * nothing) to `emit` in item order (see the module docs: failures located, too-long inputs stopped
 * or skipped and counted). {@link Stage.runOrdered} is this with `emit` appending to the output;
 * use it directly for in-memory runs.
 */
export async function runOrdered<T, R>(
    items: readonly T[],
    work: (item: T, index: number, signal: AbortSignal) => Promise<R | R[] | undefined>,
    emit: (record: R) => void,
    o: RunOptions<T> = {},
): Promise<RunResult> {
    const limit = pLimit(o.concurrency ?? 4);
    // Each item gets its own signal, all aborted at the first failure so items in flight stop
    // promptly (engines cancel their requests). One signal per item, not one for the run: every
    // request in flight adds an abort listener to the signal it is given, and a run-wide signal
    // shared by `concurrency` items (label --concurrency 64) would collect more listeners than
    // Node's limit of 10 and print MaxListenersExceededWarning.
    const live = new Set<AbortController>();
    let stopped = false;
    const stopAll = (reason: unknown) => {
        stopped = true;
        for (const c of live) c.abort(reason);
    };
    const results: Array<R[] | undefined> = new Array(items.length);
    const result: RunResult = {written: 0, tooLong: []};
    let next = 0;
    let finished = 0;
    const state: {failure?: {index: number; error: unknown}} = {};
    const flush = () => {
        while (next < items.length && results[next] && (!state.failure || next < state.failure.index)) {
            for (const r of results[next]!) {
                emit(r);
                result.written++;
                o.onWritten?.(r);
            }
            results[next++] = undefined;
        }
    };
    o.onProgress?.(0, items.length);
    const settled = await Promise.allSettled(
        items.map((item, i) =>
            limit(async () => {
                if (state.failure) return;
                const controller = new AbortController();
                live.add(controller);
                try {
                    const r = await work(item, i, controller.signal);
                    results[i] = r === undefined ? [] : Array.isArray(r) ? r : [r];
                } catch (e) {
                    const where = o.where?.(item, i);
                    if (isContextOverflow(e) && o.skipTooLong) {
                        result.tooLong.push({where: where ?? `item ${i}`, message: e instanceof Error ? e.message : String(e)});
                        results[i] = [];
                    } else {
                        let err = where ? locate(e, where) : e;
                        if (isContextOverflow(err) && err instanceof Error)
                            err = new ContextOverflowError(`${err.message} (${o.skipFlag ?? "--skip-too-long"} skips such records and counts them)`);
                        // Aborted after another item's failure: whatever this item threw is a consequence of it.
                        if (stopped) return;
                        const prev = state.failure as {index: number} | undefined;
                        if (!prev || i < prev.index) state.failure = {index: i, error: err};
                        stopAll(e);
                        return;
                    }
                } finally {
                    live.delete(controller);
                }
                flush();
                o.onProgress?.(++finished, items.length);
            }),
        ),
    );
    for (const s of settled) if (s.status === "rejected" && !state.failure) state.failure = {index: items.length, error: s.reason};
    flush();
    if (state.failure) throw state.failure.error;
    return result;
}

function readSettingsFile(path: string): SettingsFile | undefined {
    if (!existsSync(path)) return undefined;
    try {
        const v = JSON.parse(readFileSync(path, "utf8")) as SettingsFile;
        if (typeof v.stage === "string" && v.settings && typeof v.settings === "object") return v;
    } catch {
        /* fall through */
    }
    throw new StepwiseError(`${path}: unreadable settings file (delete it only if you know which settings made ${path.replace(/\.settings\.json$/, "")})`);
}

function writeSettingsFile(path: string, s: SettingsFile): void {
    writeFileAtomic(path, JSON.stringify(s, null, 2) + "\n");
}

/** Open a stage's output: checks, lock, torn line, settings (see the module docs); with `schema`, its records are checked and typed. */
export function openStage<R>(o: StageOptions<R> & {schema: z.ZodType<R, R>}): Stage<R>;
export function openStage(o: StageOptions<Record<string, unknown>>): Stage<Record<string, unknown>>;
export function openStage<R>(o: StageOptions<R>): Stage<R> {
    const flag = o.outFlag ?? "--out";
    for (const input of o.inputs ?? []) if (input !== undefined) checkInputFile(input);
    prepareOutput(o.out, {inputs: o.inputs, flag});
    const lock = acquireLock(o.out, o.name);
    try {
        const log = o.log ?? ((line: string) => process.stderr.write(`[stepwise] ${line}\n`));
        const idOf = o.idOf ?? ((r: R) => String((r as {id?: unknown}).id));
        const read = readJsonlTolerant(o.out);
        const {lines, droppedTornLine} = read;
        if (droppedTornLine) log(`${o.out}: dropped a torn last line left by an interrupted run`);
        // Without a schema the overload makes R = Record<string, unknown>: what AnyRecordSchema checks.
        const schema = o.schema ?? (AnyRecordSchema as z.ZodType<R, R>);
        const records = read.records.map((r, i) => checkRecord(schema, r, `${o.out}:${lines[i]}`));
        const seen = new Map<string, number>();
        records.forEach((r, i) => {
            const id = idOf(r);
            const prev = seen.get(id);
            if (prev !== undefined)
                throw new StepwiseError(
                    `${o.out}:${lines[i]}: duplicate id ${JSON.stringify(id)} (also on line ${prev}): two runs wrote this file at once; keep one record per id (or start a new --out) before resuming`,
                );
            seen.set(id, lines[i]);
        });
        // Next to the real file, like the lock: an output reached through a symbolic link has one settings file.
        const sPath = settingsPath(realPathOf(o.out));
        const now: SettingsFile = {stage: o.name, fingerprint: fingerprintOf(o.settings), settings: o.settings, created: new Date().toISOString()};
        const before = readSettingsFile(sPath);
        if (records.length > 0) {
            if (before) {
                if (before.stage !== o.name)
                    throw new StepwiseError(`${flag} ${o.out}: holds the output of \`${before.stage}\`, not \`${o.name}\`; choose another ${flag}`);
                // Settings from before model hashes: compare the rest, then record the hash (see the module docs).
                const derived = withoutLaterDerivedKeys(before.settings, o.settings);
                const legacy = withoutNewModelHashes(before.settings, derived.settings);
                const diff = diffSettings(before.settings, legacy.settings);
                if (diff.length)
                    throw new StepwiseError(
                        `${flag} ${o.out}: its ${plural(records.length, "record")} ${records.length === 1 ? "was" : "were"} made with other settings (${diff.join("; ")}); resuming would mix them. Re-run with the same settings, or choose another ${flag}`,
                    );
                if (legacy.dropped.length) {
                    log(
                        `${o.out}: ${sPath} predates model content hashes: the model (${legacy.dropped.join(", ")}) was checked by file name and size only; its sha256 is recorded now, so later resumes check the content`,
                    );
                    writeSettingsFile(sPath, {...now, created: before.created});
                } else if (derived.dropped.length) {
                    // Keys that follow from the other settings (fingerprint.ts LATER_DERIVED_KEYS): recorded now.
                    log(`${o.out}: ${sPath} predates ${derived.dropped.join(", ")} (what follows from the other settings); recorded now`);
                    writeSettingsFile(sPath, {...now, created: before.created});
                }
            } else {
                if (!o.checkExisting)
                    throw new StepwiseError(`${flag} ${o.out}: has ${plural(records.length, "record")} but no ${sPath} saying how they were made; choose another ${flag}`);
                const unprovable = (o.unprovable ?? []).filter((k) => k in o.settings);
                if (unprovable.length && !o.adopt) {
                    const shown = Object.keys(o.settings).filter((k) => !unprovable.includes(k));
                    throw new StepwiseError(
                        `${flag} ${o.out}: has ${plural(records.length, "record")} but no ${sPath} saying how they were made, and the records do not show ${unprovable.join(", ")}${shown.length ? ` (they show ${shown.join(", ")})` : ""}; resuming could mix settings. Choose another ${flag}, or, if these records were made with exactly this command's settings, re-run it with ${o.adoptFlag ?? "--adopt"} to keep them and record the settings`,
                    );
                }
                records.forEach((r, i) => {
                    const why = o.checkExisting!(r);
                    if (why !== undefined)
                        throw new StepwiseError(
                            `${o.out}:${lines[i]}: this record was made with other settings (${why}); resuming would mix them. Re-run with the same settings, or choose another ${flag}`,
                        );
                });
                writeSettingsFile(sPath, now);
            }
        } else if (!before || before.fingerprint !== now.fingerprint || before.stage !== o.name) writeSettingsFile(sPath, now);
        return new Stage<R>(o.out, o.name, records, idOf, lock);
    } catch (e) {
        lock.release();
        throw e;
    }
}
