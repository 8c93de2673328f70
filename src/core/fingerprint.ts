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
import {closeSync, existsSync, readFileSync, readSync, statSync} from "node:fs";
import {homedir} from "node:os";
import {basename, join} from "node:path";
import {parseEngineSpec} from "../engines/spec.ts";
import {checkGgufHeader} from "../gguf/reader.ts";
import {writeFileAtomic} from "../io/atomic.ts";
import {ensureFolder, realPathOf} from "../io/output.ts";
import {openForReading} from "../io/text.ts";
import {StepwiseError, fsError} from "../util/errors.ts";
import {canonicalJson, diffSettings, type SettingValue, type Settings} from "../util/settings.ts";

export {canonicalJson, diffSettings, type SettingValue, type Settings};

/** Short hash of settings (first 16 hex digits of SHA-256 of their canonical JSON). */
export function fingerprintOf(settings: Settings): string {
    return createHash("sha256").update(canonicalJson(settings)).digest("hex").slice(0, 16);
}

/**
 * The folder of stepwise's machine-wide caches: `STEPWISE_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/stepwise`, else `~/.cache/stepwise`.
 */
export function cacheDir(): string {
    return process.env.STEPWISE_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "stepwise");
}

/** The model hash cache: `<cacheDir>/model-sha256.json`. */
export function modelHashCachePath(): string {
    return join(cacheDir(), "model-sha256.json");
}

interface HashCacheEntry {
    size: number;
    mtime_ms: number;
    ctime_ms: number;
    ino: number;
    dev: number;
    sha256: string;
}

function readHashCache(): Record<string, HashCacheEntry> {
    try {
        const v = JSON.parse(readFileSync(modelHashCachePath(), "utf8")) as unknown;
        return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, HashCacheEntry>) : {};
    } catch {
        return {};
    }
}

/**
 * SHA-256 (hex) of a model file's bytes: what identifies a model in settings fingerprints (a
 * retrained checkpoint of the same name and size is another model). Cached in
 * {@link modelHashCachePath} by real path, keyed by size, mtime, ctime, inode and device, so a
 * large GGUF is hashed once, not on every resume; any write to the file (or a new file in its
 * place) changes the key and it is hashed again; entries of files that no longer exist are
 * dropped when the cache is rewritten. A cache that cannot be read or written is
 * ignored (the file is then hashed each time). Read errors name the file.
 */
export function modelSha256(path: string): string {
    let st;
    try {
        st = statSync(path);
    } catch (e) {
        throw fsError(e, path);
    }
    const key = realPathOf(path);
    const stamp = {size: st.size, mtime_ms: st.mtimeMs, ctime_ms: st.ctimeMs, ino: st.ino, dev: st.dev};
    const hit = readHashCache()[key];
    if (hit && hit.size === stamp.size && hit.mtime_ms === stamp.mtime_ms && hit.ctime_ms === stamp.ctime_ms && hit.ino === stamp.ino && hit.dev === stamp.dev && /^[0-9a-f]{64}$/.test(hit.sha256))
        return hit.sha256;
    if (st.size > 1024 ** 3) process.stderr.write(`[stepwise] ${path}: hashing the model (${(st.size / 1024 ** 3).toFixed(1)} GiB) for the settings fingerprint, once (cached in ${modelHashCachePath()})\n`);
    const hash = createHash("sha256");
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    const fd = openForReading(path);
    try {
        for (;;) {
            const n = readSync(fd, buf, 0, buf.length, null);
            if (n === 0) break;
            hash.update(buf.subarray(0, n));
        }
    } catch (e) {
        throw fsError(e, path, "cannot read");
    } finally {
        closeSync(fd);
    }
    const sha256 = hash.digest("hex");
    try {
        // Entries of files that are gone (temporary models) are dropped as the cache is rewritten.
        const cache = Object.fromEntries(Object.entries(readHashCache()).filter(([k]) => existsSync(k)));
        cache[key] = {...stamp, sha256};
        ensureFolder(cacheDir());
        writeFileAtomic(modelHashCachePath(), JSON.stringify(cache, null, 1) + "\n");
    } catch {
        /* no cache: hashed again next time */
    }
    return sha256;
}

/**
 * Input files as a training checkpoint's setting: each file's name and the first 16 hex digits of
 * the SHA-256 of its bytes ({@link modelSha256}, cached), joined by ", ". A file changed in place
 * is another input; a copy elsewhere under the same name is the same one.
 */
export function inputFilesSetting(files: readonly string[]): string {
    return files.map((f) => `${basename(f)} sha256:${modelSha256(f).slice(0, 16)}`).join(", ");
}

/**
 * Settings written before models were identified by content hash have `model_bytes` but no
 * `sha256` in their engine objects. For such a `before`, returns `now` with `sha256` left out of
 * the matching objects (so the rest is compared: name, size, KV type, …) and the paths of the
 * objects it was left out of; `dropped` is empty when `before` has hashes (or no models).
 */
export function withoutNewModelHashes(before: Settings, now: Settings): {settings: Settings; dropped: string[]} {
    const dropped: string[] = [];
    const walk = (b: SettingValue | undefined, n: SettingValue, path: string): SettingValue => {
        if (!n || typeof n !== "object" || Array.isArray(n) || !b || typeof b !== "object" || Array.isArray(b)) return n;
        const out: {[k: string]: SettingValue} = {};
        for (const [k, v] of Object.entries(n)) {
            if (k === "sha256" && typeof v === "string" && "model_bytes" in b && !("sha256" in b)) {
                dropped.push(path || "(top level)");
                continue;
            }
            out[k] = walk(b[k], v, path ? `${path}.${k}` : k);
        }
        return out;
    };
    const settings = walk(before, now, "") as Settings;
    return {settings, dropped};
}

/**
 * Settings keys added after settings files existed whose values follow from the other settings
 * (`sent`: the sampling fields an engine sends for the stage's options, engines/spec.ts
 * `samplingSent`). A settings file from before such a key describes the same run without it.
 */
export const LATER_DERIVED_KEYS: readonly string[] = ["sent"];

/**
 * For a `before` written without some {@link LATER_DERIVED_KEYS}, returns `now` without them
 * (so the rest is compared) and the keys left out; `dropped` is empty when `before` has them all.
 */
export function withoutLaterDerivedKeys(before: Settings, now: Settings): {settings: Settings; dropped: string[]} {
    const dropped = LATER_DERIVED_KEYS.filter((k) => k in now && !(k in before));
    return {settings: Object.fromEntries(Object.entries(now).filter(([k]) => !dropped.includes(k))), dropped};
}

/**
 * The result-changing identity of an engine spec, read without loading the model:
 * - `llama:PATH`: the model file's name, size and SHA-256 of its bytes ({@link modelSha256},
 *   cached), its GGUF header validated on the way (a corrupt model fails here in milliseconds),
 *   and the KV cache type and context size;
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
            sha256: modelSha256(p.path),
            ...(p.options.kvCacheType ? {kv: p.options.kvCacheType} : {}),
            ...(p.options.contextSize ? {context_size: p.options.contextSize} : {}),
        };
    }
    return {kind: "openai", ...(p.options.model ? {model: p.options.model} : {servers: p.urls})};
}
