/**
 * Training stepwise's tiny llama models in TypeScript.
 *
 * Why TensorFlow.js on the WebAssembly backend: it is the one autodiff stack measured to install
 * and run here (`@tensorflow/tfjs-node` does not install), it is deterministic on one thread
 * (same seed → bit-identical weights, which makes checkpoints resume exactly; see the tests), and
 * its XNNPACK 2-D matmuls are fast (~6 GMAC/s on one core). Its weak spots, and the workarounds:
 * no `gather` gradient (the embedding gradient is a custom one-hot matmul), slow transposed
 * matmuls in built-in gradients (custom gradients transpose explicitly), and slow batched matmuls
 * (~1 GMAC/s), which makes attention dominate at long sequences, so batches are split into
 * length-sorted groups each padded only to its own longest example (`groupSize`).
 * Measured on one core: d=64, 2 layers, batch 32 × 96 tokens ≈ 0.37 s/step; the lab policy
 * (d=96, 3 layers, batch 16 lab problems of ~150 tokens, groups of 4) ≈ 1.0 s/step.
 * The model math is checked against a plain JS forward pass and llama.cpp
 * (test/model/model/parity.test.ts).
 *
 * Entry point: {@link trainLanguageModel}.
 */
import * as tf from "@tensorflow/tfjs-core";
import {appendFileSync, mkdirSync} from "node:fs";
import {dirname, join} from "node:path";
import {initTf} from "./backend.ts";
import {TfLlama} from "./tfmodel.ts";
import {Adam} from "./adam.ts";
import {packBatch, type BatchSource, type PackedBatch} from "./batch.ts";
import {readCheckpoint, writeCheckpoint} from "./checkpoint.ts";
import {Sfc32Rng as Rng, type RngState} from "../util/rng.ts";
import {validateLlamaConfig, type LlamaConfig} from "../model/config.ts";
import {randomLlamaWeights, type LlamaWeights} from "../model/weights.ts";
import {diffSettings, type Settings} from "../util/settings.ts";
import {onProcessEnd} from "../io/process-end.ts";
import {StepwiseError} from "../util/errors.ts";

export {packBatch, type BatchSource, type TrainExample, type PositionTarget, type PackedBatch, type PackOptions, type RowGroup} from "./batch.ts";
export {TfLlama} from "./tfmodel.ts";
export {initTf} from "./backend.ts";

export interface TrainLogEntry {
    step: number;
    totalSteps: number;
    /** Mean loss over the steps since the previous log entry. */
    loss: number;
    lr: number;
    /** Global gradient norm of the last step (before clipping). */
    gradNorm: number;
    /** Input tokens per second over the steps since the previous log entry. */
    tokensPerSecond: number;
    /** Training time so far, including earlier runs of a resumed training. */
    elapsedSeconds: number;
    etaSeconds: number;
}

export interface TrainOptions {
    config: LlamaConfig;
    /** Produces each batch from the trainer's RNG (see {@link BatchSource}). */
    batchSource: BatchSource;
    /** Length of the learning-rate schedule in steps. Without it, `minutes` must be set and the step count is estimated from the speed of the first 10 steps. */
    steps?: number;
    /** Wall-clock budget in minutes (counting earlier runs of a resumed training); training stops, with a checkpoint, when it is spent. */
    minutes?: number;
    /** Peak learning rate. Default 2e-3. */
    lr?: number;
    /** Final learning rate as a fraction of the peak (cosine decay). Default 0.1. */
    minLrRatio?: number;
    /** Linear warmup steps. Default min(50, steps/10), or 50 with a minutes budget. */
    warmupSteps?: number;
    /** Default 32. */
    batchSize?: number;
    /** Maximum number of input positions per example; longer examples are cut. */
    seqLen: number;
    /** Examples per attention group, after sorting by length (see {@link packBatch}); default: the whole batch. */
    groupSize?: number;
    /** Clip the global gradient norm to this value (0 = off). Default 1. */
    gradClip?: number;
    /** Decoupled weight decay on matrices. Default 0. */
    weightDecay?: number;
    /** Seed of the initialization and of the batch RNG. Default 0. */
    seed?: number;
    /** Starting weights (fine-tuning); default: {@link randomLlamaWeights}(config, seed). */
    initWeights?: LlamaWeights;
    /** Directory of `checkpoint.bin` (and `train.log` unless logFile is given). No checkpoints without it. */
    checkpointDir?: string;
    /** Resume from the checkpoint in checkpointDir if there is one. Default true. */
    resume?: boolean;
    /**
     * What the examples are made of, as the caller names it (data files, loss options such as a
     * verdict weight): stored in the checkpoint; a resume whose settings differ is refused, naming
     * each key that differs (a checkpoint written without settings is not checked). Default none.
     */
    settings?: Record<string, string | number | boolean | null>;
    /** Checkpoint every N steps. Default 200. */
    checkpointEverySteps?: number;
    /** ... and at least every M minutes. Default 5. */
    checkpointEveryMinutes?: number;
    /** Log every N steps. Default 10. */
    logEverySteps?: number;
    /** Progress log file (appended). Default <checkpointDir>/train.log. */
    logFile?: string;
    /** Don't print progress to stderr. */
    quiet?: boolean;
    onLog?: (entry: TrainLogEntry) => void;
    /** Called after every checkpoint and at the end with the current weights (e.g. to export GGUF). */
    onCheckpoint?: (info: {step: number; totalSteps: number; weights: LlamaWeights; final: boolean}) => void;
    /** Stop (with a checkpoint) once this step is reached even if the schedule is longer: pausing, tests. */
    stopAtStep?: number;
}

export interface TrainResult {
    weights: LlamaWeights;
    /** Steps done in total (including earlier runs). */
    steps: number;
    totalSteps: number;
    /** Whether the whole schedule was run. */
    completed: boolean;
    /** Loss of every step run in this call. */
    losses: number[];
    /** Step the run resumed from (0 for a fresh start). */
    resumedFrom: number;
    elapsedSeconds: number;
}

/** Learning rate at `step` (0-based): linear warmup, then cosine decay to minLrRatio·lr. */
export function learningRate(step: number, totalSteps: number, lr: number, warmupSteps: number, minLrRatio: number): number {
    if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
    const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
    return lr * (minLrRatio + (1 - minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
    return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

function formatDuration(s: number): string {
    if (!Number.isFinite(s)) return "?";
    const m = Math.floor(s / 60);
    return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${s.toFixed(0)}s`;
}

/**
 * One optimization step on a packed batch (LM loss, target distributions and implicit-PRM sequence
 * targets, see batch.ts): returns the loss and the gradient norm. Used by {@link trainLanguageModel}
 * and by PRIME's online implicit-PRM update in `lab train-rl`.
 */
export function trainStep(model: TfLlama, adam: Adam, batch: PackedBatch, lr: number, gradClip: number): {loss: number; gradNorm: number} {
    const {value, grads} = tf.variableGrads(() =>
        tf.tidy(() => {
            const logits = model.logits(batch.inputs, batch.groups);
            const v = model.config.vocabSize;
            const n = batch.inputs.length;
            const z = batch.supportBias ? tf.add(logits, tf.tensor2d(batch.supportBias, [n, v])) : logits;
            const logp = tf.logSoftmax(z);
            const targets = tf.tensor2d(batch.targets, [n, v]);
            const tokenLoss = tf.div(tf.neg(tf.sum(tf.mul(targets, logp))), Math.max(1, batch.count)) as tf.Scalar;
            const q = batch.sequences;
            if (!q) return tokenLoss;
            // Implicit-PRM outcome loss: r = β·(Σ log πθ − Σ log πref), BCE of σ(r) against the label.
            const tokenLogp = tf.sum(tf.mul(tf.tensor2d(q.select, [n, v]), logp), -1, true) as tf.Tensor2D; // [N, 1]
            const seqLogp = tf.reshape(tf.matMul(tf.tensor2d(q.segment, [q.count, n]), tokenLogp), [q.count]);
            const r = tf.mul(tf.tensor1d(q.beta), tf.sub(seqLogp, tf.tensor1d(q.refLogprob)));
            const label = tf.tensor1d(q.label);
            const bce = tf.add(tf.mul(label, tf.softplus(tf.neg(r))), tf.mul(tf.sub(1, label), tf.softplus(r)));
            return tf.add(batch.count > 0 ? tokenLoss : tf.scalar(0), tf.mean(bce)) as tf.Scalar;
        }),
    );
    const normT = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))));
    const [loss] = value.dataSync();
    const [gradNorm] = normT.dataSync();
    const scale = gradClip > 0 && gradNorm > gradClip ? gradClip / gradNorm : 1;
    adam.apply(grads, lr, scale);
    tf.dispose([value, normT, ...Object.values(grads)]);
    return {loss, gradNorm};
}

/**
 * Train a llama model on examples from `batchSource` with Adam, warmup + cosine learning rate
 * and gradient clipping, checkpointing so that a killed run resumes exactly (same weights as an
 * uninterrupted run). Single-threaded (one core).
 */
export async function trainLanguageModel(options: TrainOptions): Promise<TrainResult> {
    const config = options.config;
    validateLlamaConfig(config);
    if (options.steps === undefined && options.minutes === undefined) throw new StepwiseError("train: give steps or minutes");
    if (options.steps !== undefined && !(Number.isInteger(options.steps) && options.steps > 0)) throw new StepwiseError(`train: steps must be a positive integer, got ${options.steps}`);
    await initTf();
    const seed = options.seed ?? 0;
    const lr = options.lr ?? 2e-3;
    const minLrRatio = options.minLrRatio ?? 0.1;
    const batchSize = options.batchSize ?? 32;
    const gradClip = options.gradClip ?? 1;
    const warmupSteps = options.warmupSteps ?? (options.steps !== undefined ? Math.min(50, Math.ceil(options.steps / 10)) : 50);
    const ckptPath = options.checkpointDir ? join(options.checkpointDir, "checkpoint.bin") : undefined;
    // What a resume must share with the run it continues (the warmup is left out: its default follows
    // `steps`, which a resume may extend).
    const schedule = {seed, lr, minLrRatio, batchSize, seqLen: options.seqLen, groupSize: options.groupSize ?? batchSize, gradClip, weightDecay: options.weightDecay ?? 0};
    const logFile = options.logFile ?? (options.checkpointDir ? join(options.checkpointDir, "train.log") : undefined);
    if (logFile) mkdirSync(dirname(logFile), {recursive: true});
    const log = (line: string): void => {
        if (!options.quiet) process.stderr.write(line + "\n");
        if (logFile) appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
    };

    let step = 0;
    let totalSteps = options.steps ?? 0; // 0 = not yet estimated
    let elapsedBefore = 0;
    let rng = new Rng((seed ^ 0x5eed5eed) >>> 0);
    const saved = ckptPath && options.resume !== false ? readCheckpoint(ckptPath) : null;
    let model: TfLlama;
    let adam: Adam;
    if (saved) {
        const h = saved.header as {step: number; totalSteps: number; rng: RngState; elapsedSeconds: number; adamT: number; config: LlamaConfig};
        // Everything a resume must share with the run it continues, named field by field in one
        // message (src/util/settings.ts, as a stage's refused resume): the model shape (e.g. nLayers
        // after `lab train-judge --grow-layers`), the caller's settings (what the examples are made
        // of; checkpoints written before settings were stored carry none and are not checked), and the
        // schedule (another seed, learning rate, batch, sequence length, group size, clipping or decay
        // would no longer give an uninterrupted run's weights; checkpoints written before `schedule`
        // was stored carry seed, lr, batchSize, seqLen and groupSize only).
        const was = saved.header.settings as Settings | undefined;
        const wasSchedule = (saved.header.schedule as Settings | undefined) ?? (pick(saved.header, ["seed", "lr", "batchSize", "seqLen", "groupSize"]) as Settings);
        const nowSchedule = pick(schedule, Object.keys(wasSchedule)) as Settings;
        const parts = [
            ["shape", diffSettings(Object.fromEntries(Object.entries(h.config ?? {})), Object.fromEntries(Object.entries(config)))],
            ["settings", was === undefined ? [] : diffSettings(was, options.settings ?? {})],
            ["schedule", diffSettings(wasSchedule, nowSchedule)],
        ] as const;
        const differ = parts.flatMap(([what, d]) => d.map((x) => `${what}.${x}`));
        if (differ.length)
            throw new StepwiseError(`${ckptPath}: checkpoint of another run (${differ.join("; ")}); give the options it was started with, or start over (another checkpoint directory, or --fresh where the command has it; resume: false in the library)`);
        step = h.step;
        totalSteps = options.steps ?? h.totalSteps;
        rng = new Rng(h.rng);
        elapsedBefore = h.elapsedSeconds;
        model = new TfLlama(config, randomLlamaWeights(config, seed));
        adam = new Adam(model.vars, {weightDecay: options.weightDecay});
        adam.t = h.adamT;
        const restore = (prefix: string, vars: Map<string, tf.Variable>): void => {
            for (const [name, variable] of vars) {
                const data = saved.tensors.get(prefix + name);
                if (!data) throw new StepwiseError(`${ckptPath}: missing tensor ${prefix}${name}`);
                variable.assign(tf.tensor(data, variable.shape));
            }
        };
        restore("w:", model.vars);
        restore("m:", adam.m);
        restore("v:", adam.v);
        log(`resumed from ${ckptPath} at step ${step}${totalSteps ? `/${totalSteps}` : ""}`);
        if (h.totalSteps && totalSteps !== h.totalSteps)
            log(`schedule: ${h.totalSteps} → ${totalSteps} steps; the learning rate decays over the new length from step ${step} on (not the same weights as one run of ${totalSteps} steps)`);
    } else {
        model = new TfLlama(config, options.initWeights ?? randomLlamaWeights(config, seed));
        adam = new Adam(model.vars, {weightDecay: options.weightDecay});
        // Said in the log too, so a folder's train.log shows where each run began (after --fresh, or a resume that found nothing).
        if (ckptPath) log(`started at step 0 (${options.resume === false ? "a fresh run" : `no checkpoint at ${ckptPath} to resume`})`);
    }
    const resumedFrom = step;
    const t0 = Date.now();
    const elapsed = (): number => elapsedBefore + (Date.now() - t0) / 1000;
    const budget = options.minutes !== undefined ? options.minutes * 60 : Infinity;

    // Stopped by a signal mid-run (the process-end hook runs this, then the process ends): say where
    // a resume would continue from. A run that returned or threw has `running` false: nothing said.
    let running = true;
    let checkpointed: number | undefined = saved ? resumedFrom : undefined;
    const offProcessEnd = !ckptPath
        ? undefined
        : onProcessEnd(() => {
            if (!running) return;
            running = false;
            const line =
                checkpointed === undefined
                    ? `stopped at step ${step}, before its first checkpoint (every ${ckptEverySteps} steps): nothing to resume`
                    : `stopped at step ${step}; the checkpoint at step ${checkpointed} in ${ckptPath} is kept (--resume continues from it)`;
            if (!options.quiet) process.stderr.write(`train: ${line}\n`);
            if (logFile) appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
        });
    const checkpoint = (final: boolean): void => {
        if (ckptPath) {
            const tensors = [];
            for (const [prefix, vars] of [["w:", model.vars], ["m:", adam.m], ["v:", adam.v]] as const)
                for (const [name, variable] of vars) tensors.push({name: prefix + name, data: variable.dataSync() as Float32Array});
            writeCheckpoint(ckptPath, {version: 1, step, totalSteps, rng: rng.state(), elapsedSeconds: elapsed(), adamT: adam.t, config, schedule, ...(options.settings ? {settings: options.settings} : {})}, tensors);
            checkpointed = step;
        }
        options.onCheckpoint?.({step, totalSteps, weights: model.weights(), final});
    };

    const losses: number[] = [];
    let lastCkptTime = Date.now();
    let windowLoss = 0;
    let windowSteps = 0;
    let windowTokens = 0;
    let windowStart = Date.now();
    let estimateFrom: {step: number; time: number} | undefined;
    const logEvery = options.logEverySteps ?? 10;
    const ckptEverySteps = options.checkpointEverySteps ?? 200;
    const ckptEveryMs = (options.checkpointEveryMinutes ?? 5) * 60_000;
    try {
        while ((totalSteps === 0 || step < totalSteps) && elapsed() < budget && (options.stopAtStep === undefined || step < options.stopAtStep)) {
            // Each step yields to the event loop: a step is synchronous work, and without this the
            // SIGINT/SIGTERM hook (src/io/process-end.ts) never ran, so a stopped training trained on
            // to its last step.
            await new Promise<void>((done) => setImmediate(done));
            const examples = options.batchSource(rng, batchSize);
            const batch = packBatch(examples, config.vocabSize, options.seqLen, {groupSize: options.groupSize});
            // Before the step count is known (minutes budget), the schedule is computed as if it were long.
            const rate = learningRate(step, totalSteps || Number.MAX_SAFE_INTEGER, lr, warmupSteps, minLrRatio);
            const {loss, gradNorm} = trainStep(model, adam, batch, rate, gradClip);
            if (!Number.isFinite(loss)) throw new StepwiseError(`train: loss became ${loss} at step ${step}; lower the learning rate`);
            step++;
            losses.push(loss);
            windowLoss += loss;
            windowSteps++;
            windowTokens += batch.realTokens;
            if (totalSteps === 0) {
                // Estimate the schedule length from steps 3..13 of this run (the first steps are slower).
                if (step - resumedFrom === 3) estimateFrom = {step, time: Date.now()};
                if (estimateFrom && step - estimateFrom.step === 10) {
                    const perStep = (Date.now() - estimateFrom.time) / 1000 / 10;
                    totalSteps = Math.max(step + 1, step + Math.floor((budget - elapsed()) / perStep));
                    log(`schedule: ${totalSteps} steps (${perStep.toFixed(3)} s/step, ${options.minutes} min budget)`);
                }
            }
            if (step % logEvery === 0 || step === totalSteps) {
                const now = Date.now();
                const secs = (now - windowStart) / 1000;
                const perStep = secs / windowSteps;
                const entry: TrainLogEntry = {
                    step,
                    totalSteps,
                    loss: windowLoss / windowSteps,
                    lr: rate,
                    gradNorm,
                    tokensPerSecond: windowTokens / secs,
                    elapsedSeconds: elapsed(),
                    etaSeconds: totalSteps ? Math.min((totalSteps - step) * perStep, budget - elapsed()) : budget - elapsed(),
                };
                log(`step ${step}/${totalSteps || "?"} loss ${entry.loss.toFixed(4)} lr ${rate.toExponential(2)} gnorm ${gradNorm.toFixed(2)} ${Math.round(entry.tokensPerSecond)} tok/s ${perStep.toFixed(3)} s/step elapsed ${formatDuration(entry.elapsedSeconds)} eta ${formatDuration(entry.etaSeconds)}`);
                options.onLog?.(entry);
                windowLoss = windowSteps = windowTokens = 0;
                windowStart = now;
            }
            if (step % ckptEverySteps === 0 || Date.now() - lastCkptTime >= ckptEveryMs) {
                checkpoint(false);
                lastCkptTime = Date.now();
            }
        }
        const completed = totalSteps > 0 && step >= totalSteps;
        checkpoint(completed);
        log(`${completed ? "finished" : "stopped"} at step ${step}/${totalSteps || "?"} after ${formatDuration(elapsed())}`);
        return {weights: model.weights(), steps: step, totalSteps, completed, losses, resumedFrom, elapsedSeconds: elapsed()};
    } finally {
        running = false;
        offProcessEnd?.(); // the callback holds this run's options (its data, its starting weights)
        adam.dispose();
        model.dispose();
    }
}
