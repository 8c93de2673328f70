/**
 * PRMs: formats, scorers and how to make one from a spec.
 *
 * PRM spec = an engine spec plus `format=` (and optional overrides) in its query string:
 * - `llama:models/lab-prm.gguf` — a stepwise lab PRM (format read from the file: stepwise-lab)
 * - `llama:math-shepherd.gguf?format=math-shepherd` — a tag PRM run in-process
 * - `openai:http://127.0.0.1:8001/v1?model=prm&format=math-shepherd` — served with vLLM's STEP pooling
 * - `openai:http://gpu:8000/v1?model=Qwen/Qwen2.5-Math-PRM-7B&format=qwen-prm` — classifier PRM
 * - `llama:math-shepherd.gguf?format=math-shepherd&tag_id=12902&good_id=648&bad_id=387` — explicit ids
 * - `llama:models/lab-verifier.gguf?format=verifier` — a generative lab verifier read as a PRM (./verifier.ts)
 * Overrides: `tag=`, `good=`, `bad=` (texts, ids resolved in context), `tag_id=`, `good_id=`,
 * `bad_id=` (token ids, used as given), `positive=` (index), `endpoint=pooling|embeddings`, `task=`.
 */
import {createEngine, parseEngineSpec} from "../engines/spec.ts";
import {checkGgufHeader} from "../gguf/reader.ts";
import {StepwiseError} from "../util/errors.ts";
import {resolveFormat} from "./formats.ts";
import {PoolingPrmScorer, TagPrmScorer, type StepScorer} from "./scorer.ts";
import {checkVerifierFile, createVerifierScorer} from "./verifier.ts";

export * from "./formats.ts";
export * from "./scorer.ts";
export * from "./verifier.ts";

const PRM_KEYS = ["format", "tag", "good", "bad", "tag_id", "good_id", "bad_id", "positive", "endpoint", "task"];

/** A token id from the spec (`tag_id=12902`), or undefined; anything else than a non-negative integer is an error. */
function idParam(params: Record<string, string>, key: string): number | undefined {
    const v = params[key];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v === "" || !Number.isInteger(n) || n < 0) throw new StepwiseError(`PRM spec: ${key}=${v}: expected a token id (a non-negative integer)`);
    return n;
}

/** Split PRM-only parameters off an engine spec. */
export function splitPrmSpec(spec: string): {engineSpec: string; params: Record<string, string>} {
    const q = spec.indexOf("?");
    if (q < 0) return {engineSpec: spec, params: {}};
    const params: Record<string, string> = {};
    const rest: string[] = [];
    for (const part of spec.slice(q + 1).split("&")) {
        const [k, v = ""] = part.split("=");
        if (PRM_KEYS.includes(k)) params[k] = decodeURIComponent(v);
        else if (part) rest.push(part);
    }
    return {engineSpec: spec.slice(0, q) + (rest.length ? "?" + rest.join("&") : ""), params};
}

/**
 * What a local PRM GGUF says about itself, read from its header without loading it: refuses a
 * stepwise policy (metadata `stepwise.kind` = "policy") given as a PRM, and returns the longest
 * input it reads whole: its context per sequence, by the llama engine's rule (the spec's
 * contextSize, else the training context capped at 4096, never above the training context).
 * With `format` "verifier": a lab verifier GGUF instead ({@link checkVerifierFile}).
 */
export function checkPrmFile(engineSpec: string, format?: string): {maxInputTokens?: number} {
    if (format === "verifier") return checkVerifierFile(engineSpec);
    const p = parseEngineSpec(engineSpec);
    if (p.kind !== "llama") return {};
    const h = checkGgufHeader(p.path);
    const kind = h.strings["stepwise.kind"];
    if (kind !== undefined && kind !== "prm")
        throw new StepwiseError(`${p.path}: is a stepwise ${kind} model (GGUF metadata stepwise.kind = "${kind}"), not a PRM; its scores would mean nothing. Give a PRM GGUF (e.g. models/lab-prm.gguf)`);
    const arch = h.strings["general.architecture"];
    const train = arch ? h.numbers[`${arch}.context_length`] : undefined;
    if (train === undefined) return {};
    return {maxInputTokens: Math.min(p.options.contextSize ?? Math.min(train, 4096), train)};
}

export async function createScorer(spec: string): Promise<StepScorer> {
    const {engineSpec, params} = splitPrmSpec(spec);
    if (params.format === "verifier") return createVerifierScorer(engineSpec);
    const isLlama = engineSpec.startsWith("llama:");
    const file = checkPrmFile(engineSpec);
    const format = resolveFormat(params.format ?? (isLlama ? "stepwise-lab" : "math-shepherd"), {
        stepTag: params.tag,
        goodToken: params.good,
        badToken: params.bad,
        positiveIndex: params.positive !== undefined ? Number(params.positive) : undefined,
    });
    const ids = {tag: idParam(params, "tag_id"), good: idParam(params, "good_id"), bad: idParam(params, "bad_id")};
    if (Object.values(ids).some((v) => v !== undefined)) format.ids = {...format.ids, ...ids};
    const engine = await createEngine(engineSpec);
    // Exact probes (in-process) read the label tokens at the tags; otherwise the server pools.
    if (!engine.capabilities.exactProbes && engine.capabilities.pooling)
        return new PoolingPrmScorer(engine, format, {endpoint: params.endpoint as "pooling" | "embeddings" | undefined, task: params.task});
    if (!format.goodToken || !engine.capabilities.exactProbes) {
        await engine.close();
        throw new StepwiseError(
            !format.goodToken
                ? `PRM format ${format.name} is a classifier: serve it with vLLM and use an openai: spec`
                : `PRM spec ${spec}: this engine neither pools nor reads exact token probabilities; serve the PRM with vLLM's pooling API (dialect=vllm)`,
        );
    }
    return new TagPrmScorer(engine, format, file.maxInputTokens);
}
