/**
 * Training the lab policy: a tiny character-level llama model that writes step-by-step solutions
 * of lab arithmetic problems, trained from scratch on fresh problems of the train split (never
 * the held-out split) and exported as GGUF for node-llama-cpp.
 *
 * Example format (the prompt every consumer must use): BOS + question + "\n", then the model
 * writes the solution and EOS. The loss covers the solution and EOS only, not the question.
 */
import {generateProblems, policyPrompt, type LabProblem} from "../../../domains/lab/index.ts";
import {buildCharVocab, CharTokenizer, type CharVocab} from "../../../model/vocab.ts";
import {makeLlamaConfig, type LlamaConfig} from "../../../model/config.ts";
import {countParameters} from "../../../model/weights.ts";
import {writeLlamaGguf} from "../../../gguf/llama.ts";
import {trainLanguageModel, type BatchSource, type TrainExample, type TrainResult, type TrainLogEntry} from "../../../train/index.ts";
import type {LabKnobs} from "../../../domains/lab/presets.ts";

export {policyPrompt} from "../../../domains/lab/format.ts";

/** A training example: BOS + prompt + solution + EOS, loss on solution + EOS. */
export function policyExample(problem: Pick<LabProblem, "question" | "solution">, tokenizer: CharTokenizer): TrainExample {
    const prompt = tokenizer.encode(policyPrompt(problem.question), {addBos: true});
    const tokens = [...prompt, ...tokenizer.encode(problem.solution), tokenizer.vocab.eosId];
    return {tokens, lossMask: {start: prompt.length, end: tokens.length}};
}

/**
 * Batches of fresh train-split problems: each example is the first problem of a lab stream whose
 * seed is drawn from the trainer's RNG (so batches are reproducible and resumable).
 */
export function policyBatchSource(options: {preset?: string; knobs?: Partial<LabKnobs>; tokenizer: CharTokenizer}): BatchSource {
    return (rng, batchSize) =>
        Array.from({length: batchSize}, () => {
            const [problem] = generateProblems(1, {preset: options.preset ?? "policy", knobs: options.knobs, seed: rng.nextUint32(), split: "train"});
            return policyExample(problem, options.tokenizer);
        });
}

export interface PolicyTrainOptions {
    /** Output GGUF path (written at every checkpoint and at the end). */
    out: string;
    /** Wall-clock budget; with `steps` too, the schedule has `steps` steps and training stops early when time is up. */
    minutes?: number;
    steps?: number;
    /** Default 96. */
    dModel?: number;
    /** Default 3. */
    nLayers?: number;
    /** Default 3. */
    nHeads?: number;
    /** Default 32. */
    batchSize?: number;
    /** Default 2e-3. */
    lr?: number;
    /** Default 0. */
    seed?: number;
    /** Lab preset. Default "policy". */
    preset?: string;
    knobs?: Partial<LabKnobs>;
    /** Checkpoints and train.log. */
    checkpointDir?: string;
    /** Resume from checkpointDir. Default true. */
    resume?: boolean;
    /** Checkpoint (and GGUF export) every N steps. Default 200. */
    checkpointEverySteps?: number;
    quiet?: boolean;
    onLog?: (entry: TrainLogEntry) => void;
}

/** The model shape of a policy (character vocabulary, 512-token context). */
export function policyConfig(options: Pick<PolicyTrainOptions, "dModel" | "nLayers" | "nHeads">, vocab: CharVocab = buildCharVocab()): LlamaConfig {
    return makeLlamaConfig({vocabSize: vocab.tokens.length, dModel: options.dModel ?? 96, nLayers: options.nLayers ?? 3, nHeads: options.nHeads ?? 3, contextLength: 512});
}

/** Train a lab policy and write it as GGUF. */
export async function trainPolicy(options: PolicyTrainOptions): Promise<TrainResult & {config: LlamaConfig}> {
    const vocab = buildCharVocab();
    const tokenizer = new CharTokenizer(vocab);
    const config = policyConfig(options, vocab);
    const preset = options.preset ?? "policy";
    const seed = options.seed ?? 0;
    if (!options.quiet) process.stderr.write(`lab policy: d=${config.dModel} layers=${config.nLayers} heads=${config.nHeads} ff=${config.dFF} (${countParameters(config).toLocaleString("en-US")} parameters), preset ${preset}\n`);
    const exportGguf = (weights: Record<string, Float32Array>, step: number, totalSteps: number, final: boolean): void =>
        writeLlamaGguf(options.out, {
            config,
            weights,
            vocab,
            name: "stepwise-lab-policy",
            kind: "policy",
            extraMetadata: {
                "stepwise.prompt_format": "<s>{question}\\n",
                "stepwise.lab_preset": preset,
                "stepwise.train_steps": step,
                "stepwise.train_total_steps": totalSteps,
                "stepwise.train_complete": final,
                "stepwise.train_seed": seed,
            },
        });
    const result = await trainLanguageModel({
        config,
        batchSource: policyBatchSource({preset, knobs: options.knobs, tokenizer}),
        steps: options.steps,
        minutes: options.minutes,
        lr: options.lr ?? 2e-3,
        batchSize: options.batchSize ?? 32,
        seqLen: 256,
        groupSize: 4,
        seed,
        checkpointDir: options.checkpointDir,
        resume: options.resume,
        checkpointEverySteps: options.checkpointEverySteps ?? 200,
        quiet: options.quiet,
        onLog: options.onLog,
        onCheckpoint: ({step, totalSteps, weights, final}) => exportGguf(weights, step, totalSteps, final),
    });
    return {...result, config};
}
