/**
 * The model a training starts from and the GGUF it writes: an existing stepwise GGUF (`init`), or
 * fresh random weights in the lab models' shape (character vocabulary, 512-token context; d=96,
 * 3 layers, 3 heads unless given); and the stepwise GGUF written at every checkpoint with the
 * training's progress in its metadata. Shared by PRM, lab policy, code-lab policy and lab-judge training.
 */
import {existsSync} from "node:fs";
import {StepwiseError} from "../util/errors.ts";
import {readLlamaGguf, writeLlamaGguf, type StepwiseModelKind} from "../gguf/llama.ts";
import {makeLlamaConfig, type LlamaConfig} from "../model/config.ts";
import {buildCharVocab, type CharVocab} from "../model/vocab.ts";
import {randomLlamaWeights, type LlamaWeights} from "../model/weights.ts";
import type {TrainOptions} from "./index.ts";

/** The shape of a fresh model (a model started from a GGUF keeps that file's shape). */
export interface ModelShape {
    /** Width. Default 96. */
    dModel?: number;
    /** Default 3. */
    nLayers?: number;
    /** Default 3. */
    nHeads?: number;
}

/** The options every stepwise model training passes to {@link TrainOptions} as they are (same meaning and defaults). */
export type TrainRunOptions = Pick<TrainOptions, "minutes" | "steps" | "seed" | "checkpointDir" | "resume" | "quiet" | "onLog">;

/** The {@link TrainRunOptions} of a trainer's options (its other options left out), to spread into {@link TrainOptions}. */
export function trainRunOptions(o: TrainRunOptions): TrainRunOptions {
    return {minutes: o.minutes, steps: o.steps, seed: o.seed, checkpointDir: o.checkpointDir, resume: o.resume, quiet: o.quiet, onLog: o.onLog};
}

/** The config of a fresh lab model: the character vocabulary, a 512-token context and `shape` (d=96, 3 layers, 3 heads unless given). */
export function freshModelConfig(shape: ModelShape = {}, vocab: CharVocab = buildCharVocab()): LlamaConfig {
    return makeLlamaConfig({vocabSize: vocab.tokens.length, dModel: shape.dModel ?? 96, nLayers: shape.nLayers ?? 3, nHeads: shape.nHeads ?? 3, contextLength: 512});
}

/** @throws StepwiseError when `init` names a missing file. */
export async function startingModel(o: ModelShape & {init?: string; seed?: number}): Promise<{config: LlamaConfig; init: LlamaWeights; vocab: CharVocab}> {
    if (o.init) {
        if (!existsSync(o.init)) throw new StepwiseError(`${o.init}: init model not found`);
        const m = await readLlamaGguf(o.init);
        return {config: m.config, init: m.weights, vocab: m.vocab};
    }
    const vocab = buildCharVocab();
    const config = freshModelConfig(o, vocab);
    return {config, init: randomLlamaWeights(config, o.seed ?? 0), vocab};
}

/**
 * The `onCheckpoint` of a training that writes its model as a stepwise GGUF at `out` (atomically,
 * at every checkpoint and at the end). Metadata: `metadata`, then `stepwise.train_steps`,
 * `stepwise.train_total_steps`, `stepwise.train_complete` (the whole schedule ran) and
 * `stepwise.train_seed`, then `stepwise.train_init` when `init` (the GGUF it started from) is given.
 */
export function ggufAtCheckpoints(
    out: string,
    o: {config: LlamaConfig; vocab: CharVocab; name: string; kind?: StepwiseModelKind; seed: number; init?: string; metadata: Record<string, string | number | boolean>},
): NonNullable<TrainOptions["onCheckpoint"]> {
    return ({step, totalSteps, weights, final}) =>
        writeLlamaGguf(out, {
            config: o.config,
            weights,
            vocab: o.vocab,
            name: o.name,
            kind: o.kind,
            extraMetadata: {
                ...o.metadata,
                "stepwise.train_steps": step,
                "stepwise.train_total_steps": totalSteps,
                "stepwise.train_complete": final,
                "stepwise.train_seed": o.seed,
                ...(o.init ? {"stepwise.train_init": o.init} : {}),
            },
        });
}
