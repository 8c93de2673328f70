/**
 * Training checkpoints: one binary file holding a JSON header (step, RNG state, config, options,
 * elapsed time) and the float32 tensors (weights and optimizer moments). It is written to a
 * temporary file, fsynced and renamed, so a run killed at any moment leaves the previous
 * checkpoint or the new one, never a torn file.
 *
 * Format: "SWCK" | u32 header byte length | header JSON | zero padding to 4 bytes | tensor data.
 */
import {existsSync, mkdirSync, readFileSync} from "node:fs";
import {dirname} from "node:path";
import {StepwiseError} from "../util/errors.ts";
import {AtomicFile} from "../io/atomic.ts";

export interface CheckpointTensor {
    name: string;
    data: Float32Array;
}

/** Write a checkpoint atomically. `header` must be JSON-serializable. */
export function writeCheckpoint(path: string, header: Record<string, unknown>, tensors: CheckpointTensor[]): void {
    const index: Array<{name: string; offset: number; length: number}> = [];
    let offset = 0;
    for (const t of tensors) {
        index.push({name: t.name, offset, length: t.data.length});
        offset += t.data.length;
    }
    let json = Buffer.from(JSON.stringify({...header, tensors: index}), "utf8");
    const pad = (4 - ((8 + json.length) % 4)) % 4;
    json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
    const pre = Buffer.alloc(8);
    pre.write("SWCK", 0, "ascii");
    pre.writeUInt32LE(json.length, 4);
    mkdirSync(dirname(path), {recursive: true});
    const f = new AtomicFile(path);
    try {
        f.write(pre);
        f.write(json);
        for (const t of tensors) f.write(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
        f.commit();
    } finally {
        f.close();
    }
}

/** Read a checkpoint: its header and tensors by name; null if the file does not exist. */
export function readCheckpoint(path: string): {header: Record<string, unknown>; tensors: Map<string, Float32Array>} | null {
    if (!existsSync(path)) return null;
    const buf = readFileSync(path);
    if (buf.length < 8 || buf.toString("ascii", 0, 4) !== "SWCK") throw new StepwiseError(`${path}: not a stepwise checkpoint`);
    const len = buf.readUInt32LE(4);
    const header = JSON.parse(buf.toString("utf8", 8, 8 + len)) as Record<string, unknown>;
    const base = 8 + len;
    const tensors = new Map<string, Float32Array>();
    for (const t of header.tensors as Array<{name: string; offset: number; length: number}>) {
        const start = base + t.offset * 4;
        if (start + t.length * 4 > buf.length) throw new StepwiseError(`${path}: truncated checkpoint (tensor ${t.name})`);
        tensors.set(t.name, new Float32Array(buf.buffer.slice(buf.byteOffset + start, buf.byteOffset + start + t.length * 4)));
    }
    delete header.tensors;
    return {header, tensors};
}
