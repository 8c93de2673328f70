/**
 * PRMs: formats, scorers and how to make one from a spec.
 *
 * PRM spec = an engine spec plus `format=` (and optional overrides) in its query string:
 * - `llama:models/lab-prm.gguf` — a stepwise lab PRM (format read from the file: stepwise-lab)
 * - `llama:math-shepherd.gguf?format=math-shepherd` — a tag PRM run in-process
 * - `openai:http://127.0.0.1:8001/v1?model=prm&format=math-shepherd` — served with vLLM's STEP pooling
 * - `openai:http://gpu:8000/v1?model=Qwen/Qwen2.5-Math-PRM-7B&format=qwen-prm` — classifier PRM
 * Overrides: `tag=`, `good=`, `bad=`, `positive=` (index), `endpoint=pooling|embeddings`, `task=`.
 */
import {createEngine} from "../engines/spec.ts";
import {StepwiseError} from "../engines/types.ts";
import {resolveFormat} from "./formats.ts";
import {PoolingPrmScorer, TagPrmScorer, type StepScorer} from "./scorer.ts";

export * from "./formats.ts";
export * from "./scorer.ts";

const PRM_KEYS = ["format", "tag", "good", "bad", "positive", "endpoint", "task"];

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

export async function createScorer(spec: string): Promise<StepScorer> {
    const {engineSpec, params} = splitPrmSpec(spec);
    const isLlama = engineSpec.startsWith("llama:");
    const format = resolveFormat(params.format ?? (isLlama ? "stepwise-lab" : "math-shepherd"), {
        stepTag: params.tag,
        goodToken: params.good,
        badToken: params.bad,
        positiveIndex: params.positive !== undefined ? Number(params.positive) : undefined,
    });
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
    return new TagPrmScorer(engine, format);
}
