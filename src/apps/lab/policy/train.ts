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
import type {LlamaConfig} from "../../../model/config.ts";
import {countParameters} from "../../../model/weights.ts";
import {trainLanguageModel, type BatchSource, type TrainExample, type TrainResult} from "../../../train/index.ts";
import {freshModelConfig, ggufAtCheckpoints, trainRunOptions, type ModelShape, type TrainRunOptions} from "../../../train/start.ts";
import {resolveKnobs, type LabKnobs} from "../../../domains/lab/presets.ts";

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

export interface PolicyTrainOptions extends ModelShape, TrainRunOptions {
    /** Output GGUF path (written at every checkpoint and at the end). */
    out: string;
    /** Default 32. */
    batchSize?: number;
    /** Default 2e-3. */
    lr?: number;
    /** Lab preset. Default "policy". */
    preset?: string;
    knobs?: Partial<LabKnobs>;
    /** Checkpoint (and GGUF export) every N steps. Default 200. */
    checkpointEverySteps?: number;
}

/** The model shape of a policy (character vocabulary, 512-token context): {@link freshModelConfig}. */
export function policyConfig(options: ModelShape, vocab: CharVocab = buildCharVocab()): LlamaConfig {
    return freshModelConfig(options, vocab);
}

/** Train a lab policy and write it as GGUF. */
export async function trainPolicy(options: PolicyTrainOptions): Promise<TrainResult & {config: LlamaConfig}> {
    const vocab = buildCharVocab();
    const tokenizer = new CharTokenizer(vocab);
    const config = policyConfig(options, vocab);
    const preset = options.preset ?? "policy";
    const seed = options.seed ?? 0;
    resolveKnobs(preset, options.knobs); // an unknown preset or impossible knobs fail here, not at the first batch
    if (!options.quiet) process.stderr.write(`lab policy: d=${config.dModel} layers=${config.nLayers} heads=${config.nHeads} ff=${config.dFF} (${countParameters(config).toLocaleString("en-US")} parameters), preset ${preset}\n`);
    const result = await trainLanguageModel({
        ...trainRunOptions(options),
        config,
        batchSource: policyBatchSource({preset, knobs: options.knobs, tokenizer}),
        // What the problems are drawn from: a resume with another preset or knobs is refused, naming them.
        settings: {preset, knobs: JSON.stringify(options.knobs ?? {})},
        lr: options.lr ?? 2e-3,
        batchSize: options.batchSize ?? 32,
        seqLen: 256,
        groupSize: 4,
        checkpointEverySteps: options.checkpointEverySteps ?? 200,
        onCheckpoint: ggufAtCheckpoints(options.out, {
            config,
            vocab,
            name: "stepwise-lab-policy",
            kind: "policy",
            seed,
            metadata: {"stepwise.prompt_format": "<s>{question}\\n", "stepwise.lab_preset": preset},
        }),
    });
    return {...result, config};
}
