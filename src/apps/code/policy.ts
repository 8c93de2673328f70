/**
 * Training the code-lab policy: a tiny character-level llama model (the same model, vocabulary and
 * trainer as the math lab policy, src/apps/lab/policy/train.ts) that writes step-by-step Python
 * solutions of code-lab tasks, trained on fresh train-split tasks and exported as GGUF. It starts
 * from fresh weights or, with `init`, from a stepwise GGUF of the same vocabulary: the math lab
 * policy already evaluates nested expressions in the right order, which is most of what a code-lab
 * program is (a 2-layer model trained from scratch wrote the same program for every question).
 *
 * Prompt format (every consumer must use it): BOS + question + "\n"; the model writes the program
 * (`def f(...):` and its commented steps, no markdown fence) and EOS. The loss covers the program and EOS.
 */
import {existsSync} from "node:fs";
import {join} from "node:path";
import {inputFilesSetting} from "../../core/fingerprint.ts";
import {CharTokenizer} from "../../model/vocab.ts";
import type {LlamaConfig} from "../../model/config.ts";
import {ggufAtCheckpoints, startingModel, trainRunOptions, type ModelShape, type TrainRunOptions} from "../../train/start.ts";
import {countParameters} from "../../model/weights.ts";
import {trainLanguageModel, type BatchSource, type TrainExample, type TrainResult} from "../../train/index.ts";
import {generateCodeProblems, type CodeLabOptions, type CodeProblem} from "../../domains/code/lab/tasks.ts";

import {codePolicyPrompt} from "../../domains/code/lab/policy-prompt.ts";
export {codePolicyPrompt};

/** A training example: BOS + prompt + program + EOS, loss on program + EOS. */
export function codePolicyExample(problem: Pick<CodeProblem, "question" | "completion">, tokenizer: CharTokenizer): TrainExample {
    const prompt = tokenizer.encode(codePolicyPrompt(problem.question), {addBos: true});
    const tokens = [...prompt, ...tokenizer.encode(problem.completion), tokenizer.vocab.eosId];
    return {tokens, lossMask: {start: prompt.length, end: tokens.length}};
}

/** Batches of fresh train-split tasks, each drawn from a stream seeded by the trainer's RNG (reproducible, resumable). */
export function codePolicyBatchSource(tokenizer: CharTokenizer, lab: CodeLabOptions = {}): BatchSource {
    return (rng, batchSize) =>
        Array.from({length: batchSize}, () => codePolicyExample(generateCodeProblems(1, {...lab, seed: rng.nextUint32(), split: "train"})[0], tokenizer));
}

export interface CodePolicyTrainOptions extends ModelShape, TrainRunOptions {
    /** Output GGUF (written at every checkpoint and at the end). */
    out: string;
    /** A stepwise GGUF to start from (its shape wins over dModel/nLayers/nHeads); default: fresh weights. */
    init?: string;
    /** Default 16. */
    batchSize?: number;
    /** Default 2e-3. */
    lr?: number;
    /** Default 100. */
    checkpointEverySteps?: number;
}

/** Train a code-lab policy and write it as GGUF. */
export async function trainCodePolicy(options: CodePolicyTrainOptions): Promise<TrainResult & {config: LlamaConfig}> {
    const seed = options.seed ?? 0;
    const {config, init, vocab} = await startingModel({init: options.init, dModel: options.dModel, nLayers: options.nLayers, nHeads: options.nHeads, seed});
    const tokenizer = new CharTokenizer(vocab);
    const resuming = options.checkpointDir !== undefined && options.resume !== false && existsSync(join(options.checkpointDir, "checkpoint.bin"));
    if (!options.quiet) process.stderr.write(`code policy: d=${config.dModel} layers=${config.nLayers} heads=${config.nHeads} (${countParameters(config).toLocaleString("en-US")} parameters)${options.init ? `, from ${options.init}` : ", fresh weights"}${resuming ? " (resuming its checkpoint)" : ""}\n`);
    const result = await trainLanguageModel({
        ...trainRunOptions(options),
        config,
        initWeights: init,
        batchSource: codePolicyBatchSource(tokenizer),
        // A resume from another starting model is refused (its weights would be ignored unseen).
        settings: {init: options.init ? inputFilesSetting([options.init]) : null},
        lr: options.lr ?? 2e-3,
        batchSize: options.batchSize ?? 16,
        seqLen: 300,
        groupSize: 4,
        checkpointEverySteps: options.checkpointEverySteps ?? 100,
        onCheckpoint: ggufAtCheckpoints(options.out, {
            config,
            vocab,
            name: "stepwise-lab-code-policy",
            kind: "policy",
            seed,
            init: options.init,
            metadata: {"stepwise.prompt_format": "<s>{question}\\n", "stepwise.domain": "code"},
        }),
    });
    return {...result, config};
}
