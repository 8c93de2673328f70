/**
 * A minimal GGUF v3 writer: typed metadata key/values, tensor infos, 32-byte aligned F32 tensor
 * data. Written from the GGUF specification (ggml/docs/gguf.md); little-endian only.
 *
 * Layout: magic "GGUF", version u32, tensor count u64, kv count u64, the KVs, the tensor infos,
 * padding to the alignment, then the tensor data, each tensor starting at an aligned offset
 * (offsets in the tensor infos are relative to the start of the data section).
 */
import {mkdirSync} from "node:fs";
import {dirname} from "node:path";
import {StepwiseError} from "../util/errors.ts";
import {AtomicFile} from "../io/atomic.ts";

/** GGUF metadata value types. */
export const GgufType = {
    UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12,
} as const;

export type GgufScalarKind = "uint32" | "int32" | "float32" | "bool" | "string" | "uint64";

/** One typed metadata value. Arrays hold scalars of one kind. */
export type GgufValue =
    | {type: "uint32" | "int32" | "float32" | "uint64"; value: number}
    | {type: "bool"; value: boolean}
    | {type: "string"; value: string}
    | {type: "array"; itemType: GgufScalarKind; value: Array<number | boolean | string>};

/** One tensor to write: `dims[0]` is the innermost (contiguous) dimension, as in ggml's ne[]. */
export interface GgufTensor {
    name: string;
    dims: number[];
    data: Float32Array;
}

export const GGUF_ALIGNMENT = 32;
const GGML_TYPE_F32 = 0;

/** Shorthands for typed metadata values. */
export const gv = {
    u32: (value: number): GgufValue => ({type: "uint32", value}),
    i32: (value: number): GgufValue => ({type: "int32", value}),
    f32: (value: number): GgufValue => ({type: "float32", value}),
    bool: (value: boolean): GgufValue => ({type: "bool", value}),
    str: (value: string): GgufValue => ({type: "string", value}),
    arr: (itemType: GgufScalarKind, value: Array<number | boolean | string>): GgufValue => ({type: "array", itemType, value}),
};

/** Growable little-endian byte buffer. */
class ByteSink {
    private buf = Buffer.alloc(1 << 16);
    length = 0;
    private ensure(n: number): void {
        if (this.length + n <= this.buf.length) return;
        const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
        this.buf.copy(next, 0, 0, this.length);
        this.buf = next;
    }
    u32(v: number): void { this.ensure(4); this.buf.writeUInt32LE(v >>> 0, this.length); this.length += 4; }
    i32(v: number): void { this.ensure(4); this.buf.writeInt32LE(v, this.length); this.length += 4; }
    f32(v: number): void { this.ensure(4); this.buf.writeFloatLE(v, this.length); this.length += 4; }
    u64(v: number | bigint): void { this.ensure(8); this.buf.writeBigUInt64LE(BigInt(v), this.length); this.length += 8; }
    u8(v: number): void { this.ensure(1); this.buf[this.length++] = v; }
    str(s: string): void {
        const bytes = Buffer.from(s, "utf8");
        this.u64(bytes.length);
        this.ensure(bytes.length);
        bytes.copy(this.buf, this.length);
        this.length += bytes.length;
    }
    pad(alignment: number): void { while (this.length % alignment !== 0) this.u8(0); }
    bytes(): Buffer { return this.buf.subarray(0, this.length); }
}

const SCALAR_CODE: Record<GgufScalarKind, number> = {
    uint32: GgufType.UINT32, int32: GgufType.INT32, float32: GgufType.FLOAT32, bool: GgufType.BOOL, string: GgufType.STRING, uint64: GgufType.UINT64,
};

function writeScalar(sink: ByteSink, kind: GgufScalarKind, v: number | boolean | string, key: string): void {
    const bad = (): never => { throw new StepwiseError(`gguf: metadata ${key}: ${JSON.stringify(v)} is not a valid ${kind}`); };
    switch (kind) {
        case "string": if (typeof v !== "string") bad(); sink.str(v as string); break;
        case "bool": if (typeof v !== "boolean") bad(); sink.u8(v ? 1 : 0); break;
        case "float32": if (typeof v !== "number") bad(); sink.f32(v as number); break;
        case "uint32": if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xffffffff) bad(); sink.u32(v as number); break;
        case "int32": if (!Number.isInteger(v) || Math.abs(v as number) > 0x7fffffff) bad(); sink.i32(v as number); break;
        case "uint64": if (!Number.isInteger(v) || (v as number) < 0) bad(); sink.u64(v as number); break;
    }
}

/**
 * Write a GGUF v3 file with F32 tensors. The file is written to a temporary file next to `path`
 * and renamed (io/atomic.ts), so a reader never sees a half-written model.
 */
export function writeGguf(path: string, metadata: Record<string, GgufValue>, tensors: GgufTensor[]): void {
    const head = new ByteSink();
    head.u32(0x46554747); // "GGUF"
    head.u32(3);
    head.u64(tensors.length);
    const entries = Object.entries(metadata);
    head.u64(entries.length);
    for (const [key, val] of entries) {
        head.str(key);
        if (val.type === "array") {
            head.u32(GgufType.ARRAY);
            head.u32(SCALAR_CODE[val.itemType]);
            head.u64(val.value.length);
            for (const item of val.value) writeScalar(head, val.itemType, item, key);
        } else {
            head.u32(SCALAR_CODE[val.type]);
            writeScalar(head, val.type, val.value, key);
        }
    }
    let offset = 0;
    const offsets: number[] = [];
    const names = new Set<string>();
    for (const t of tensors) {
        if (names.has(t.name)) throw new StepwiseError(`gguf: duplicate tensor ${t.name}`);
        names.add(t.name);
        const n = t.dims.reduce((a, b) => a * b, 1);
        if (n !== t.data.length) throw new StepwiseError(`gguf: tensor ${t.name} has ${t.data.length} values but dims [${t.dims}] need ${n}`);
        head.str(t.name);
        head.u32(t.dims.length);
        for (const d of t.dims) head.u64(d);
        head.u32(GGML_TYPE_F32);
        head.u64(offset);
        offsets.push(offset);
        offset += Math.ceil((n * 4) / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
    }
    head.pad(GGUF_ALIGNMENT);

    mkdirSync(dirname(path), {recursive: true});
    // Atomic (io/atomic.ts): a model being rewritten (a checkpoint export) is never read half-written.
    const f = new AtomicFile(path);
    try {
        f.write(head.bytes());
        const zeros = Buffer.alloc(GGUF_ALIGNMENT);
        tensors.forEach((t) => {
            const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
            f.write(bytes);
            const padding = (GGUF_ALIGNMENT - (bytes.length % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;
            if (padding) f.write(zeros.subarray(0, padding));
        });
        f.commit();
    } finally {
        f.close();
    }
}
