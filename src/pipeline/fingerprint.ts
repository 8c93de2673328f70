/**
 * Settings fingerprints: what made a stage's output. A stage lists every setting that changes
 * its records (the engine or PRM and its model, sampling parameters, seeds, formats, input file
 * names) as a flat JSON object; the stage helper stores it next to the output and refuses to
 * resume into a file made with different settings, naming each difference.
 *
 * Settings that do not change results (concurrency, --limit, timeouts, retries, server URLs when
 * the model is named) are left out so that a run can be resumed with them changed.
 */
import {createHash} from "node:crypto";
import {statSync} from "node:fs";
import {basename} from "node:path";
import {parseEngineSpec} from "../engines/spec.ts";
import {checkGgufHeader} from "../gguf/reader.ts";
import {StepwiseError} from "../util/errors.ts";

/** A settings value: JSON scalars and arrays of them. */
export type SettingValue = string | number | boolean | null | SettingValue[] | {[k: string]: SettingValue};
export type Settings = Record<string, SettingValue>;

/** Stable JSON (sorted keys) of a settings object. */
export function canonicalJson(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
    if (v && typeof v === "object")
        return `{${Object.keys(v)
            .sort()
            .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
            .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
            .join(",")}}`;
    return JSON.stringify(v ?? null);
}

/** Short hash of settings (first 16 hex digits of SHA-256 of their canonical JSON). */
export function fingerprintOf(settings: Settings): string {
    return createHash("sha256").update(canonicalJson(settings)).digest("hex").slice(0, 16);
}

/** The settings that differ between `before` and `now`, as "key: before → now" strings. */
export function diffSettings(before: Settings, now: Settings): string[] {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(now)])].sort();
    const show = (v: SettingValue | undefined) => (v === undefined ? "(not set)" : typeof v === "string" ? JSON.stringify(v) : canonicalJson(v));
    return keys.filter((k) => canonicalJson(before[k]) !== canonicalJson(now[k])).map((k) => `${k}: ${show(before[k])} → ${show(now[k])}`);
}

/**
 * The result-changing identity of an engine spec, read without loading the model:
 * - `llama:PATH`: the model file's name and size (its GGUF header is validated on the way, so
 *   a corrupt model fails here in milliseconds), and the KV cache type and context size;
 * - `openai:URL`: the model name when the spec gives one (servers are interchangeable), else the
 *   server URLs.
 * Throws the spec parser's one-line errors for a bad spec.
 */
export function engineFingerprint(spec: string): Settings {
    const p = parseEngineSpec(spec);
    if (p.kind === "llama") {
        let bytes: number;
        try {
            const st = statSync(p.path);
            if (st.isDirectory()) throw new StepwiseError(`${p.path}: is a folder, not a GGUF model file`);
            bytes = st.size;
        } catch (e) {
            if (e instanceof StepwiseError) throw e;
            throw new StepwiseError(`${p.path}: model file not found`);
        }
        checkGgufHeader(p.path);
        return {
            kind: "llama",
            model: basename(p.path),
            model_bytes: bytes,
            ...(p.options.kvCacheType ? {kv: p.options.kvCacheType} : {}),
            ...(p.options.contextSize ? {context_size: p.options.contextSize} : {}),
        };
    }
    return {kind: "openai", ...(p.options.model ? {model: p.options.model} : {servers: p.urls})};
}
