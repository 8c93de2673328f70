/**
 * PRMs: formats, scorers and how to make one from a spec.
 *
 * PRM spec = an engine spec plus `format=` (and optional overrides) in its query string:
 * - `llama:models/lab-prm.gguf` — a stepwise lab PRM (format read from the file: stepwise-lab);
 *   `lab:prm` is the one shipped with the package, from any folder
 * - `llama:math-shepherd.gguf?format=math-shepherd` — a tag PRM run in-process
 * - `openai:http://127.0.0.1:8001/v1?model=prm&format=math-shepherd` — served with vLLM's STEP pooling
 * - `openai:http://gpu:8000/v1?model=Qwen/Qwen2.5-Math-PRM-7B&format=qwen-prm` — classifier PRM
 * - `llama:math-shepherd.gguf?format=math-shepherd&tag_id=12902&good_id=648&bad_id=387` — explicit ids
 * - `llama:models/lab-implicit-prm.gguf` — an implicit PRM (GGUF metadata `stepwise.prm.objective` =
 *   "implicit"): its reference model, β and prompt template are read from the file; "tag+implicit":
 *   step scores from its tags, TVD's candidate values from its log-ratios (HybridPrmScorer)
 * - `openai:http://gpu:8001/v1?model=prm&format=implicit&beta=0.05&ref=URL-ENCODED-ENGINE-SPEC` — an
 *   implicit PRM and its reference over OpenAI-compatible servers with prompt logprobs (vLLM,
 *   `stepwise serve`); `template=` sets the prompt layout (default "{question}\n")
 * - `llama:models/lab-verifier.gguf?format=verifier` — a generative lab verifier read as a PRM (./verifier.ts)
 * - `openai:http://gpu:8002/v1?model=prm&format=implicit&beta=0.05&ref=ENC&step_prm=ENC2` — an implicit
 *   PRM's token values for TVD with the step scores of another PRM spec (ENC2, URL-encoded: a tag,
 *   classifier or verifier PRM, served or in-process), read as one (HybridPrmScorer): what
 *   `stepwise pair-prm` stores in one file, for any engines. Only beside an implicit reading (no
 *   `format`, or `format=implicit`), not nested; a "tag+implicit" file named there without `format`
 *   is read for its step scores only ({@link stepScoresSpec})
 * Overrides: `tag=`, `good=`, `bad=` (texts, ids resolved in context), `tag_id=`, `good_id=`,
 * `bad_id=` (token ids, used as given), `positive=` (index), `endpoint=pooling|embeddings`, `task=`;
 * implicit PRMs: `beta=`, `ref=`, `template=`, `step_prm=`.
 */
import {checkModelKind, createEngine, parseEngineSpec, sameModelSpec} from "../engines/spec.ts";
import {checkGgufHeader} from "../gguf/reader.ts";
import {shortestFloat32} from "../gguf/llama.ts";
import {StepwiseError} from "../util/errors.ts";
import {resolveFormat} from "./formats.ts";
import {PoolingPrmScorer, TagPrmScorer, type StepScorer} from "./scorer.ts";
import {HybridPrmScorer, IMPLICIT_META, ImplicitPrmScorer} from "./implicit.ts";
import {checkVerifierFile, createVerifierScorer} from "./verifier.ts";
import {dirname, resolve as resolvePath} from "node:path";
import {existsSync} from "node:fs";

export * from "./formats.ts";
export * from "./scorer.ts";
export * from "./implicit.ts";
export * from "./verifier.ts";
export * from "./pair.ts";

const PRM_KEYS = ["format", "tag", "good", "bad", "tag_id", "good_id", "bad_id", "positive", "endpoint", "task", "beta", "ref", "template", "step_prm"];

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
        if (PRM_KEYS.includes(k)) {
            // A value holding "=" (or a spec cut at its "&"): an unencoded spec or text. Say so rather than read a fragment.
            if (part.indexOf("=") !== part.lastIndexOf("=") || k in params)
                throw new StepwiseError(`PRM spec: ${k}=: ${k in params ? "given twice" : `"${part.slice(k.length + 1)}" holds "="`}; a value that is itself a spec or holds ?, & or = must be URL-encoded (encodeURIComponent), e.g. step_prm=${encodeURIComponent("llama:prm.gguf?format=stepwise-lab")}`);
            try {
                params[k] = decodeURIComponent(v);
            } catch {
                throw new StepwiseError(`PRM spec: ${k}=${v}: not valid URL-encoding (a % must start %XX)`);
            }
        } else if (part) rest.push(part);
    }
    return {engineSpec: spec.slice(0, q) + (rest.length ? "?" + rest.join("&") : ""), params};
}

/**
 * What a local PRM GGUF says about itself, read from its header without loading it: refuses a
 * stepwise policy (metadata `stepwise.kind` = "policy") given as a PRM, and returns the longest
 * input it reads whole: its context per sequence, by the llama engine's rule (the spec's
 * contextSize, else the training context capped at 4096, never above the training context).
 * With `format` "verifier": a lab verifier GGUF instead ({@link checkVerifierFile}). An implicit
 * PRM's β, reference (which must exist) and template come back as `implicit`; a "tag+implicit" file
 * also says `tag`, except with a `format` other than "implicit": then it is read as a tag PRM
 * only, which needs no reference. A "tag+implicit" file whose step scores are another file's
 * (GGUF metadata `stepwise.prm.tag_model`, written by `stepwise pair-prm`) names that tag PRM as
 * `tagFile` (absolute; it must exist and be a tag PRM) unless `format` is "implicit" (then the tag
 * PRM is not read and need not be there). Read only as a tag PRM (a `format` other than
 * "implicit"), `maxInputTokens` is the tag PRM's; read both ways (no `format`), `maxInputTokens`
 * is the implicit model's (TVD's token values) and `tagMaxInputTokens` the tag PRM's (step scores).
 */
export function checkPrmFile(
    engineSpec: string,
    format?: string,
): {maxInputTokens?: number; implicit?: {beta: number; reference: string; template: string}; tag?: boolean; tagFile?: string; tagMaxInputTokens?: number} {
    if (format === "verifier") return checkVerifierFile(engineSpec);
    const p = parseEngineSpec(engineSpec);
    if (p.kind !== "llama") return {};
    const contextOf = (h: ReturnType<typeof checkModelKind>): number | undefined => {
        const arch = h.strings["general.architecture"];
        const train = arch ? h.numbers[`${arch}.context_length`] : undefined;
        return train === undefined ? undefined : Math.min(p.options.contextSize ?? Math.min(train, 4096), train);
    };
    const h = checkModelKind(p.path, "prm");
    const maxInputTokens = contextOf(h);
    const objective = h.strings[IMPLICIT_META.objective];
    if (objective === undefined || objective === "tag") return {maxInputTokens};
    if (objective !== "implicit" && objective !== "tag+implicit") throw new StepwiseError(`${p.path}: unknown PRM objective (GGUF metadata ${IMPLICIT_META.objective} = "${objective}"; known: tag, implicit, tag+implicit)`);
    // The paired tag PRM is read (and so must exist) unless only the token values are (`format=implicit`).
    const tagRel = objective === "tag+implicit" && format !== "implicit" ? h.strings[IMPLICIT_META.tagModel] : undefined;
    let tagFile: string | undefined;
    let tagInputTokens: number | undefined;
    if (tagRel !== undefined) {
        tagFile = resolvePath(dirname(p.path), tagRel);
        if (!existsSync(tagFile)) {
            // Name every file the reading needs that is missing, so a copied pair is mended in one go.
            const ref = format === undefined ? h.strings[IMPLICIT_META.reference] : undefined;
            const refMissing = ref !== undefined && !existsSync(resolvePath(dirname(p.path), ref));
            throw new StepwiseError(
                `${p.path}: its tag PRM ${tagRel} (GGUF metadata ${IMPLICIT_META.tagModel}, relative to the PRM's folder) is missing: ${tagFile}` +
                    (refMissing ? `; so is its reference model ${ref} (${IMPLICIT_META.reference}): ${resolvePath(dirname(p.path), ref)}. A pair moves with both files beside it` : ""),
            );
        }
        const t = checkModelKind(tagFile, "prm");
        const tagObjective = t.strings[IMPLICIT_META.objective];
        if (tagObjective !== undefined && tagObjective !== "tag")
            throw new StepwiseError(`${p.path}: its tag PRM ${tagRel} (GGUF metadata ${IMPLICIT_META.tagModel}) is not a tag PRM (its ${IMPLICIT_META.objective} is "${tagObjective}")`);
        tagInputTokens = contextOf(t);
    }
    if (objective === "tag+implicit" && format !== undefined && format !== "implicit") return tagFile ? {maxInputTokens: tagInputTokens, tagFile} : {maxInputTokens};
    const beta = h.numbers[IMPLICIT_META.beta] === undefined ? undefined : shortestFloat32(h.numbers[IMPLICIT_META.beta]); // stored as float32
    const ref = h.strings[IMPLICIT_META.reference];
    if (!(typeof beta === "number" && beta > 0)) throw new StepwiseError(`${p.path}: implicit PRM without a positive ${IMPLICIT_META.beta} in its GGUF metadata`);
    if (!ref) throw new StepwiseError(`${p.path}: implicit PRM without ${IMPLICIT_META.reference} (its reference model) in its GGUF metadata`);
    const reference = resolvePath(dirname(p.path), ref);
    if (!existsSync(reference)) throw new StepwiseError(`${p.path}: its reference model ${ref} (GGUF metadata ${IMPLICIT_META.reference}, relative to the PRM's folder) is missing: ${reference}`);
    return {
        maxInputTokens,
        implicit: {beta, reference, template: h.strings[IMPLICIT_META.template] ?? "{question}\n"},
        ...(objective === "tag+implicit" ? {tag: true} : {}),
        ...(tagFile ? {tagFile, tagMaxInputTokens: tagInputTokens} : {}),
    };
}

/** `engineSpec` with its model file replaced by `file` (its query string kept): `lab:prm?x=1` → `llama:FILE?x=1`. */
export function withModelFile(engineSpec: string, file: string): string {
    const q = engineSpec.indexOf("?");
    return `llama:${file}${q >= 0 ? engineSpec.slice(q) : ""}`;
}

/**
 * A PRM spec read for its step scores only: the spec that gives the same step scores while opening
 * only the model they come from. A spec naming a "tag+implicit" file (a pair of `stepwise
 * pair-prm`, or a model trained on both objectives) without `format` gets `format=stepwise-lab`,
 * so its tags (or its paired tag PRM) are read, without loading the implicit model and its
 * reference (which then need not exist); a spec with `step_prm=SPEC` beside an implicit reading
 * (`format=implicit`, or an implicit PRM file) is that SPEC (read the same way); any other spec,
 * including a `step_prm=` that {@link createScorer} refuses (beside a reading that is not
 * implicit, or nested), is returned as given, so it is refused there. Errors:
 * {@link checkModelKind}'s (a missing file, a policy), {@link splitPrmSpec}'s.
 */
export function stepScoresSpec(spec: string): string {
    const {engineSpec, params} = splitPrmSpec(spec);
    const objective = (): string | undefined => {
        if (!/^(llama|lab):/.test(engineSpec)) return undefined; // only a GGUF says what it is
        const p = parseEngineSpec(engineSpec);
        return p.kind === "llama" ? checkModelKind(p.path, "prm").strings[IMPLICIT_META.objective] : undefined;
    };
    if (params.step_prm !== undefined) {
        const implicitReading = params.format === "implicit" || (params.format === undefined && objective() === "implicit");
        return implicitReading && splitPrmSpec(params.step_prm).params.step_prm === undefined ? stepScoresSpec(params.step_prm) : spec;
    }
    if (params.format !== undefined || objective() !== "tag+implicit") return spec;
    return `${spec}${spec.includes("?") ? "&" : "?"}format=stepwise-lab`;
}

/** A positive β from the spec (`beta=0.05`), or undefined. */
function betaParam(params: Record<string, string>): number | undefined {
    if (params.beta === undefined) return undefined;
    const b = Number(params.beta);
    if (!(params.beta !== "" && b > 0 && Number.isFinite(b))) throw new StepwiseError(`PRM spec: beta=${params.beta}: expected a positive number`);
    return b;
}

/** The implicit scorer of a PRM spec: its reference from the GGUF (or `ref=`), β and template from the GGUF or the spec. */
async function createImplicitScorer(spec: string, engineSpec: string, params: Record<string, string>, file: ReturnType<typeof checkPrmFile>, options: CreateScorerOptions): Promise<ImplicitPrmScorer> {
    const beta = betaParam(params) ?? file.implicit?.beta;
    if (beta === undefined) throw new StepwiseError(`PRM spec ${spec}: an implicit PRM needs beta= (its training β)`);
    let refSpec = params.ref;
    if (refSpec === undefined && file.implicit) refSpec = withModelFile(engineSpec, file.implicit.reference);
    if (refSpec === undefined) throw new StepwiseError(`PRM spec ${spec}: an implicit PRM needs ref=ENGINE-SPEC (its reference model, URL-encoded)`);
    const model = await createEngine(engineSpec);
    let reference;
    try {
        reference = await createEngine(refSpec);
    } catch (e) {
        await model.close();
        throw e;
    }
    try {
        const policyIsReference = options.policySpec !== undefined && sameModelSpec(options.policySpec, refSpec);
        return new ImplicitPrmScorer(model, reference, {beta, template: params.template ?? file.implicit?.template, maxInputTokens: file.maxInputTokens, policyIsReference});
    } catch (e) {
        await Promise.all([model.close(), reference.close()]);
        throw e;
    }
}

/** Options of {@link createScorer}. */
export interface CreateScorerOptions {
    /**
     * The engine spec of the policy that will decode with this PRM. When an implicit PRM's reference
     * is that same model ({@link sameModelSpec}), TVD uses the policy's own probabilities as πref
     * (ImplicitPrmOptions.policyIsReference). Default: none.
     */
    policySpec?: string;
    /**
     * The caller reads step scores only (`scoreSteps`: score, eval processbench / prmbench / bon,
     * lab eval-prm, the step-level decoders; not TVD). A spec that pairs token values with step
     * scores (a pair file, `step_prm=`) then opens only the step scores' model
     * ({@link stepScoresSpec}): the same step scores, and an implicit PRM's reference need not
     * exist. Default false.
     */
    stepsOnly?: boolean;
}

/**
 * The step scorer of a PRM spec (`ENGINE-SPEC[?format=…&…]`, README "PRM specs"): a tag PRM (in-process
 * probes, or a served pooling model), an implicit PRM (GGUF metadata or `format=implicit`), or the
 * lab verifier (`format=verifier`). Errors: StepwiseError for a bad spec or file.
 */
export async function createScorer(spec: string, options: CreateScorerOptions = {}): Promise<StepScorer> {
    const {engineSpec, params} = splitPrmSpec(spec);
    if (params.step_prm !== undefined) {
        // Before any file is read or engine opened: step_prm= pairs token values (format=implicit, or an implicit PRM file) with step scores.
        if (params.format !== undefined && params.format !== "implicit")
            throw new StepwiseError(`PRM spec ${spec}: step_prm= gives step scores beside an implicit PRM's token values; format=${params.format} is not an implicit reading (use format=implicit, or leave step_prm= out)`);
        if (splitPrmSpec(params.step_prm).params.step_prm !== undefined)
            throw new StepwiseError(`PRM spec ${spec}: step_prm=${params.step_prm} has a step_prm= of its own, whose step scores it would pass on; give that innermost PRM spec as step_prm= directly`);
    }
    if (options.stepsOnly) {
        const steps = stepScoresSpec(spec);
        if (steps !== spec) return createScorer(steps);
    }
    if (params.format === "verifier") return createVerifierScorer(engineSpec);
    const isLlama = parseEngineSpec(engineSpec).kind === "llama"; // llama: and lab: specs
    const file = checkPrmFile(engineSpec, params.format);
    // A tag+implicit file is read both ways; `format=implicit` reads only its token values, another format only its tags.
    // step_prm=SPEC: any PRM's step scores beside an implicit PRM's token values (the pair of `stepwise pair-prm`, for any engines).
    if (params.step_prm !== undefined) {
        if (!file.implicit && params.format !== "implicit")
            throw new StepwiseError(`PRM spec ${spec}: step_prm= gives step scores beside an implicit PRM's token values; add format=implicit (a served implicit PRM) or name an implicit PRM file`);
        if (file.tag && params.format === undefined)
            throw new StepwiseError(`PRM spec ${spec}: this file has step scores of its own (GGUF metadata ${IMPLICIT_META.objective} = "tag+implicit"); add format=implicit to take them from step_prm= instead`);
        const implicit = await createImplicitScorer(spec, engineSpec, params, file, options);
        let steps;
        try {
            steps = await createScorer(stepScoresSpec(params.step_prm));
            return new HybridPrmScorer(steps, implicit, true);
        } catch (e) {
            await Promise.all([implicit.close(), steps?.close()]);
            throw e instanceof StepwiseError && !e.message.includes("step_prm") ? new StepwiseError(`PRM spec ${spec}: step_prm=${params.step_prm}: ${e.message}`) : e;
        }
    }
    // A paired file (`stepwise pair-prm`) takes its step scores from its tag PRM's own engine.
    if (file.implicit && file.tag && params.format === undefined) {
        const implicit = await createImplicitScorer(spec, engineSpec, params, file, options);
        let tagEngine;
        try {
            tagEngine = file.tagFile ? await createEngine(withModelFile(engineSpec, file.tagFile)) : implicit.model;
            return new HybridPrmScorer(new TagPrmScorer(tagEngine, resolveFormat("stepwise-lab", {}), file.tagFile ? file.tagMaxInputTokens : file.maxInputTokens), implicit, file.tagFile !== undefined);
        } catch (e) {
            await Promise.all([implicit.close(), tagEngine && tagEngine !== implicit.model ? tagEngine.close() : Promise.resolve()]);
            throw e;
        }
    }
    if (params.format === "implicit" || (file.implicit && !file.tag)) return createImplicitScorer(spec, engineSpec, params, file, options);
    const format = resolveFormat(params.format ?? (isLlama ? "stepwise-lab" : "math-shepherd"), {
        stepTag: params.tag,
        goodToken: params.good,
        badToken: params.bad,
        positiveIndex: params.positive !== undefined ? Number(params.positive) : undefined,
    });
    const ids = {tag: idParam(params, "tag_id"), good: idParam(params, "good_id"), bad: idParam(params, "bad_id")};
    if (Object.values(ids).some((v) => v !== undefined)) format.ids = {...format.ids, ...ids};
    const engine = await createEngine(file.tagFile ? withModelFile(engineSpec, file.tagFile) : engineSpec);
    // Exact probes (in-process) read the label tokens at the tags; otherwise the server pools.
    if (!engine.capabilities.exactProbes && engine.pool)
        return new PoolingPrmScorer(engine, format, {endpoint: params.endpoint as "pooling" | "embeddings" | undefined, task: params.task});
    if (!format.goodToken || !engine.probeTokens || !engine.capabilities.exactProbes) {
        await engine.close();
        throw new StepwiseError(
            !format.goodToken
                ? `PRM format ${format.name} is a classifier: serve it with vLLM and use an openai: spec`
                : `PRM spec ${spec}: this engine neither pools nor reads exact token probabilities; serve the PRM with vLLM's pooling API (dialect=vllm)`,
        );
    }
    return new TagPrmScorer(engine, format, file.maxInputTokens);
}
