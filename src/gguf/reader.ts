/**
 * Reading GGUF files back: metadata and tensor infos through `@huggingface/gguf`, F32 tensor data
 * straight from the file.
 */
import {gguf, type GGUFTensorInfo} from "@huggingface/gguf";
import {openSync, readSync, closeSync, existsSync} from "node:fs";
import {resolve} from "node:path";
import {StepwiseError} from "../engines/types.ts";

export interface GgufInfo {
    /** Metadata values as @huggingface/gguf parses them (numbers, strings, booleans, arrays; uint64 as bigint). */
    metadata: Record<string, unknown>;
    tensorInfos: GGUFTensorInfo[];
    /** Absolute file offset of the tensor data section. */
    tensorDataOffset: number;
}

/** Parse the header (metadata + tensor infos) of a local GGUF file. */
export async function readGgufInfo(path: string): Promise<GgufInfo> {
    if (!existsSync(path)) throw new StepwiseError(`${path}: no such file`);
    let parsed;
    try {
        parsed = await gguf(resolve(path), {allowLocalFile: true});
    } catch (e) {
        throw new StepwiseError(`${path}: not a readable GGUF file (${(e as Error).message})`);
    }
    return {
        metadata: parsed.metadata as unknown as Record<string, unknown>,
        tensorInfos: parsed.tensorInfos,
        tensorDataOffset: Number(parsed.tensorDataOffset),
    };
}

/** Read every F32 tensor of a GGUF file into Float32Arrays, by tensor name. */
export function readGgufF32Tensors(path: string, info: GgufInfo): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    const fd = openSync(path, "r");
    try {
        for (const t of info.tensorInfos) {
            if (Number(t.dtype) !== 0) throw new StepwiseError(`${path}: tensor ${t.name} is not F32 (ggml type ${t.dtype})`);
            const n = t.shape.reduce((a, b) => a * Number(b), 1);
            const buf = Buffer.alloc(n * 4);
            const got = readSync(fd, buf, 0, buf.length, info.tensorDataOffset + Number(t.offset));
            if (got !== buf.length) throw new StepwiseError(`${path}: tensor ${t.name} is truncated`);
            out[t.name] = new Float32Array(buf.buffer, buf.byteOffset, n).slice();
        }
    } finally {
        closeSync(fd);
    }
    return out;
}
