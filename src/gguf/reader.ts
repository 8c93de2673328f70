/**
 * Reading GGUF files back: the header checked here ({@link checkGgufHeader}), metadata and tensor
 * infos parsed by node-llama-cpp's `readGgufFileInfo` (loaded on first use), F32 tensor data
 * straight from the file.
 */
import {readSync, closeSync, existsSync, fstatSync} from "node:fs";
import {resolve} from "node:path";
import {StepwiseError} from "../util/errors.ts";
import {openForReading} from "../io/text.ts";

/** One tensor of a GGUF file, as its header describes it. */
export interface GgufTensorInfo {
    name: string;
    /** Dimensions in file order (innermost first: a [rows, cols] matrix is [cols, rows]). */
    shape: number[];
    /** ggml type id (0 = F32, 1 = F16, … as in ggml.h). */
    dtype: number;
    /** Byte offset of its data from the start of the tensor data section. */
    offset: number;
}

export interface GgufInfo {
    /**
     * Metadata by full key ("general.architecture", "stepwise.step_tag", …): numbers, strings,
     * booleans and arrays; 64-bit integers (uint64, int64) as bigint.
     */
    metadata: Record<string, unknown>;
    tensorInfos: GgufTensorInfo[];
    /** Absolute file offset of the tensor data section. */
    tensorDataOffset: number;
}

/** Smallest encoded sizes (bytes) of GGUF metadata values, by type id (gguf.md). */
const VALUE_SIZE = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8];

/**
 * Block size (elements) and bytes per block of the ggml tensor types, by type id: ggml's
 * `type_traits` (ggml/src/ggml.c) and the block structs of ggml-common.h. Types not listed are
 * only checked to start inside the file.
 */
const GGML_BLOCKS: Record<number, readonly [number, number]> = {
    0: [1, 4], // F32
    1: [1, 2], // F16
    2: [32, 18], // Q4_0
    3: [32, 20], // Q4_1
    6: [32, 22], // Q5_0
    7: [32, 24], // Q5_1
    8: [32, 34], // Q8_0
    10: [256, 84], // Q2_K
    11: [256, 110], // Q3_K
    12: [256, 144], // Q4_K
    13: [256, 176], // Q5_K
    14: [256, 210], // Q6_K
    15: [256, 292], // Q8_K
    20: [32, 18], // IQ4_NL
    24: [1, 1], // I8
    25: [1, 2], // I16
    26: [1, 4], // I32
    27: [1, 8], // I64
    28: [1, 8], // F64
    30: [1, 2], // BF16
};

/** Default alignment of the tensor data section (gguf.md `general.alignment`). */
const GGUF_DEFAULT_ALIGNMENT = 32;

/** What {@link checkGgufHeader} found. */
export interface GgufHeaderSummary {
    version: number;
    tensors: number;
    kvs: number;
    fileBytes: number;
    /** String metadata values (e.g. general.architecture, stepwise.kind), arrays left out. */
    strings: Record<string, string>;
    /** Numeric metadata values (integers, e.g. llama.context_length, and floats), arrays left out. */
    numbers: Record<string, number>;
}

/**
 * Validate a GGUF header against the file size before any parser allocates for it: the magic,
 * the version, and every count in it (tensor count, metadata count, string and array lengths,
 * tensor dimensions) walked with bounds checks, reading at most the header's bytes. A corrupt or
 * hostile header (e.g. 2^40 tensors in a 2 MB file) is rejected in milliseconds with a one-line
 * error instead of a parser allocating gigabytes. Then every tensor's data must lie inside the
 * file (start, and for the ggml types in {@link GGML_BLOCKS} its end): a truncated copy (an
 * interrupted download) is named as such instead of failing inside llama.cpp. Layout: ggml/docs/gguf.md (versions 2 and 3:
 * u64 counts and lengths; version 1: u32).
 */
export function checkGgufHeader(path: string): GgufHeaderSummary {
    const fd = openForReading(path);
    try {
        const st = fstatSync(fd);
        if (st.isDirectory()) throw new StepwiseError(`${path}: is a folder, not a GGUF file`);
        const size = st.size;
        const bad = (why: string): never => {
            throw new StepwiseError(`${path}: not a valid GGUF file: ${why}`);
        };
        // A small buffered reader over the file.
        const CHUNK = 1 << 20;
        let buf = Buffer.alloc(0);
        let bufStart = 0;
        let pos = 0;
        const need = (n: number, what: string) => {
            if (pos + n > size) bad(`${what} at byte ${pos} runs past the end of the file (${size} bytes)`);
            if (pos >= bufStart && pos + n <= bufStart + buf.length) return;
            const len = Math.max(n, Math.min(CHUNK, size - pos));
            buf = Buffer.alloc(len);
            readSync(fd, buf, 0, len, pos);
            bufStart = pos;
        };
        const u32 = (what: string) => {
            need(4, what);
            const v = buf.readUInt32LE(pos - bufStart);
            pos += 4;
            return v;
        };
        const v1 = {on: false};
        const count = (what: string): number => {
            if (v1.on) return u32(what);
            need(8, what);
            const v = buf.readBigUInt64LE(pos - bufStart);
            pos += 8;
            if (v > BigInt(size)) bad(`${what} is ${v}, more than the file's ${size} bytes could hold`);
            return Number(v);
        };
        const skip = (n: number, what: string) => {
            if (pos + n > size) bad(`${what} at byte ${pos} (${n} bytes) runs past the end of the file (${size} bytes)`);
            pos += n;
        };
        const str = (what: string, keep = false): string | undefined => {
            const n = count(`length of ${what}`);
            if (!keep || n > 4096) {
                skip(n, what);
                return undefined;
            }
            need(n, what);
            const s = buf.toString("utf8", pos - bufStart, pos - bufStart + n);
            pos += n;
            return s;
        };
        need(4, "magic");
        if (buf.toString("latin1", 0, 4) !== "GGUF") bad(`no "GGUF" magic at the start (found ${JSON.stringify(buf.toString("latin1", 0, 4))})`);
        pos = 4;
        const version = u32("version");
        if (version < 1 || version > 3) bad(`unsupported version ${version}`);
        v1.on = version === 1;
        const tensors = count("tensor count");
        const kvs = count("metadata count");
        // Cheapest possible encodings: a KV is ≥ 13 bytes, a tensor info ≥ 29 bytes.
        if (24 + kvs * 13 + tensors * 29 > size)
            bad(`the header claims ${tensors} tensors and ${kvs} metadata entries, more than the file's ${size} bytes could hold`);
        const strings: Record<string, string> = {};
        const numbers: Record<string, number> = {};
        const INT_READERS: Record<number, (b: Buffer, at: number) => number> = {
            0: (b, at) => b.readUInt8(at),
            1: (b, at) => b.readInt8(at),
            2: (b, at) => b.readUInt16LE(at),
            3: (b, at) => b.readInt16LE(at),
            4: (b, at) => b.readUInt32LE(at),
            5: (b, at) => b.readInt32LE(at),
            6: (b, at) => b.readFloatLE(at),
            10: (b, at) => Number(b.readBigUInt64LE(at)),
            11: (b, at) => Number(b.readBigInt64LE(at)),
            12: (b, at) => b.readDoubleLE(at),
        };
        const value = (type: number, what: string, key?: string) => {
            if (type === 8) {
                const s = str(what, key !== undefined);
                if (key !== undefined && s !== undefined) strings[key] = s;
            } else if (type === 9) {
                const itemType = u32(`item type of ${what}`);
                if (itemType > 12 || itemType === 9) bad(`${what}: unsupported array item type ${itemType}`);
                const n = count(`length of ${what}`);
                if (n * VALUE_SIZE[itemType] > size - pos) bad(`${what}: an array of ${n} items cannot fit in the rest of the file`);
                if (itemType === 8) for (let i = 0; i < n; i++) str(`${what}[${i}]`);
                else skip(n * VALUE_SIZE[itemType], what);
            } else if (type <= 12) {
                const read = INT_READERS[type];
                if (read && key !== undefined) {
                    need(VALUE_SIZE[type], what);
                    numbers[key] = read(buf, pos - bufStart);
                }
                skip(VALUE_SIZE[type], what);
            }
            else bad(`${what}: unknown value type ${type}`);
        };
        for (let i = 0; i < kvs; i++) {
            const key = str(`metadata key ${i}`, true) ?? `#${i}`;
            value(u32(`type of ${key}`), `metadata "${key}"`, key);
        }
        const infos: Array<{name: string; elements: number; type: number; offset: number}> = [];
        for (let i = 0; i < tensors; i++) {
            const name = str(`name of tensor ${i}`, true) ?? `#${i}`;
            const dims = u32(`dimension count of tensor ${i}`);
            if (dims < 1 || dims > 8) bad(`tensor ${i} has ${dims} dimensions`);
            let elements = 1;
            for (let d = 0; d < dims; d++) elements *= count(`dimension ${d} of tensor ${i}`);
            const type = u32(`type of tensor ${i}`);
            const offset = v1.on ? u32("offset") : Number((need(8, `offset of tensor ${i}`), buf.readBigUInt64LE(pos - bufStart)));
            if (!v1.on) pos += 8;
            if (offset > size) bad(`tensor ${i} starts at data offset ${offset}, past the end of the file (${size} bytes)`);
            infos.push({name, elements, type, offset});
        }
        const alignment = numbers["general.alignment"] || GGUF_DEFAULT_ALIGNMENT;
        const dataStart = Math.ceil(pos / alignment) * alignment;
        for (const t of infos) {
            const block = GGML_BLOCKS[t.type];
            const bytes = block ? Math.ceil(t.elements / block[0]) * block[1] : 0;
            const end = dataStart + t.offset + bytes;
            if (end > size)
                bad(`tensor "${t.name}" needs bytes ${dataStart + t.offset}–${end} but the file ends at ${size}: the file is truncated (an interrupted copy or download?)`);
        }
        return {version, tensors, kvs, fileBytes: size, strings, numbers};
    } finally {
        closeSync(fd);
    }
}

/** node-llama-cpp's metadata tree ({general: {architecture: …}}) back to full keys ({"general.architecture": …}). */
function flattenMetadata(tree: object, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> {
    for (const [key, value] of Object.entries(tree)) {
        if (value !== null && typeof value === "object" && !Array.isArray(value)) flattenMetadata(value as object, `${prefix}${key}.`, out);
        else out[prefix + key] = value;
    }
    return out;
}

/**
 * Parse the header (metadata + tensor infos) of a local GGUF file: checked first (see
 * {@link checkGgufHeader}), then read by node-llama-cpp's `readGgufFileInfo` (always as a file
 * path, never a URL; split files are not spliced).
 * @throws StepwiseError naming the file when it is missing, not a valid GGUF file, or a GGUF version the reader does not support (1)
 */
export async function readGgufInfo(path: string): Promise<GgufInfo> {
    if (!existsSync(path)) throw new StepwiseError(`${path}: no such file`);
    checkGgufHeader(path);
    const {readGgufFileInfo} = await import("node-llama-cpp");
    let parsed;
    try {
        parsed = await readGgufFileInfo(resolve(path), {sourceType: "filesystem", spliceSplitFiles: false, logWarnings: false});
    } catch (e) {
        throw new StepwiseError(`${path}: not a readable GGUF file (${(e as Error).message})`);
    }
    if (parsed.infoEndOffset === undefined || parsed.tensorInfo === undefined) throw new StepwiseError(`${path}: not a readable GGUF file (no tensor infos)`);
    return {
        metadata: flattenMetadata(parsed.metadata),
        tensorInfos: parsed.tensorInfo.map((t) => ({name: t.name, shape: t.dimensions.map(Number), dtype: t.ggmlType, offset: Number(t.offset)})),
        tensorDataOffset: parsed.infoEndOffset,
    };
}

/** Read every F32 tensor of a GGUF file into Float32Arrays, by tensor name. */
export function readGgufF32Tensors(path: string, info: GgufInfo): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    const fd = openForReading(path);
    try {
        for (const t of info.tensorInfos) {
            if (t.dtype !== 0) throw new StepwiseError(`${path}: tensor ${t.name} is not F32 (ggml type ${t.dtype})`);
            const n = t.shape.reduce((a, b) => a * b, 1);
            const buf = Buffer.alloc(n * 4);
            const got = readSync(fd, buf, 0, buf.length, info.tensorDataOffset + t.offset);
            if (got !== buf.length) throw new StepwiseError(`${path}: tensor ${t.name} is truncated`);
            out[t.name] = new Float32Array(buf.buffer, buf.byteOffset, n).slice();
        }
    } finally {
        closeSync(fd);
    }
    return out;
}
