/**
 * `stepwise lab train-rl`: reinforcement learning of the lab policy with group-relative policy
 * gradients (src/train/grpo.ts): every iteration draws P fresh train-split problems, samples G
 * solutions of each with the llama engine from a GGUF export of the current weights (what
 * `stepwise sample` runs), rewards them, and takes `updates` clipped-ratio steps with a KL
 * penalty to the starting policy on tfjs (its log-probabilities read by llama.cpp from the
 * starting GGUF).
 *
 * Rewards ({@link RlReward}):
 * - `outcome`: 1 when the final answer is right (the lab's exact grade, checkAnswer), else 0;
 *   advantages normalised within each problem's group.
 * - `outcome+prm` with `process: "min"`: outcome + w · (the lowest PRM step score), one number per
 *   sample; with `process: "steps"`: the outcome advantage plus DeepSeekMath's process
 *   advantages from w · each step's PRM score (a token gets the normalised rewards of its own
 *   and every later step). Steps are cut by `stepRule` (src/steps) on the sampled tokens'
 *   confidences, as `stepwise split` cuts them.
 * - `outcome+implicit` (PRIME, Cui et al., arXiv 2502.01456): an implicit PRM (a language model
 *   whose token reward is β·log πφ(yₜ|y<ₜ)/πref(yₜ|y<ₜ), `stepwise train-prm --objective implicit`)
 *   gives every response token a reward and is itself updated online, one cross-entropy step per
 *   iteration on that iteration's samples and their outcome labels (σ(β·Σₜ log πφ/πref) against
 *   right/wrong). As PRIME: groups whose accuracy is outside [0.2, 0.8] are left out of both
 *   updates (they carry no outcome signal); the token rewards come from the PRM before its update
 *   (single forward); advantages are PRIME's ({@link primeAdvantages}: leave-one-out baselines,
 *   returns, whitening), not GRPO's. The PRM's reference must be the starting policy (its
 *   log-probabilities are the KL reference's, read once). `<dir>/implicit-prm.gguf` is the updated
 *   PRM after every iteration.
 * - `tokenRewards` (hook for implicit-PRM token rewards): one reward per response token, added
 *   as process rewards of one-token steps.
 *
 * Resumable: `<dir>/rl-checkpoint.bin` after every iteration (weights, Adam moments, iteration,
 * settings); a run with other settings is refused, naming them. `<dir>/rl-log.jsonl`: one line
 * per iteration (reward, accuracy, KL, loss, clip fraction, times). `out` is the GGUF of the
 * current weights after every iteration.
 */
import {diffSettings, type Settings} from "../../../util/settings.ts";
import {appendFileSync, mkdirSync, readFileSync, rmSync} from "node:fs";
import {join, relative, resolve} from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import {checkAnswer, generateProblems, policyPrompt, type LabProblem} from "../../../domains/lab/index.ts";
import {LlamaEngine} from "../../../engines/llama/engine.ts";
import {hasWrongStep} from "../eval/policy.ts";
import type {GeneratedToken} from "../../../engines/types.ts";
import {readLlamaGguf, writeLlamaGguf} from "../../../gguf/llama.ts";
import {CharTokenizer} from "../../../model/vocab.ts";
import type {StepScorer} from "../../../prm/scorer.ts";
import {splitSteps, type StepRule} from "../../../steps/index.ts";
import {Adam} from "../../../train/adam.ts";
import {initTf} from "../../../train/backend.ts";
import {readCheckpoint, writeCheckpoint} from "../../../train/checkpoint.ts";
import {groupAdvantages, pgStep, primeAdvantages, processAdvantages, sequenceLogprobs, type PgSequence} from "../../../train/grpo.ts";
import {packBatch} from "../../../train/batch.ts";
import {trainStep} from "../../../train/index.ts";
import {IMPLICIT_META} from "../../../prm/implicit.ts";
import {checkPrmFile} from "../../../prm/index.ts";
import {TfLlama} from "../../../train/tfmodel.ts";
import {StepwiseError} from "../../../util/errors.ts";
import {deriveSeed} from "../../../util/rng.ts";

/** Implicit-PRM hook: one reward per response token of a sample (same length as `tokens`). */
export type TokenRewardHook = (problem: LabProblem, sample: {text: string; tokens: readonly GeneratedToken[]}) => Promise<number[]>;

export interface RlReward {
    kind: "outcome" | "outcome+prm" | "outcome+implicit";
    /** The PRM (outcome+prm). */
    prm?: StepScorer;
    /** A name of the PRM for the settings (its spec). */
    prmName?: string;
    /** How PRM scores enter: the lowest step score added to the outcome ("min"), or every step's score as a process reward ("steps"). Default "min". */
    process?: "min" | "steps";
    /** Weight w of the process term. Default 0.5 (outcome+prm); 1 (outcome+implicit: the ratio of PRIME's process and outcome coefficients, 5 : 5 in the reference). */
    processWeight?: number;
    /** Where steps end (outcome+prm). Default newline. */
    stepRule?: StepRule;
    /** outcome+implicit: the implicit PRM's GGUF (its metadata names β and its reference, which must be the starting policy). */
    implicitPrm?: string;
    /** outcome+implicit: learning rate of the PRM's online update. Default 2 × the policy's (PRIME's 1e-6 against 5e-7). */
    implicitLr?: number;
    tokenRewards?: TokenRewardHook;
}

export interface RlOptions {
    /** Starting policy GGUF (also the KL reference). */
    init: string;
    /** Output GGUF, rewritten after every iteration. */
    out: string;
    /** Checkpoint and log folder. */
    dir: string;
    /** Iterations in all (a resumed run continues up to this). */
    iterations: number;
    /** Problems per iteration P. Default 8. */
    problems?: number;
    /** Samples per problem G. Default 8. */
    group?: number;
    /** Most tokens per sample. Default 200. */
    maxTokens?: number;
    /** Sampling temperature. Default 1. */
    temperature?: number;
    /** Learning rate (constant). Default 3e-5, the lab study's (docs/rl.md); at 1e-4 one Adam step moved single-token log-probabilities of the lab policy by over 2 nats. */
    lr?: number;
    /** Ratio clip ε. Default 0.2. */
    clip?: number;
    /** KL coefficient β. Default 0.04 (DeepSeekMath). */
    klCoef?: number;
    /** Gradient steps per iteration on its samples. Default 2. */
    updates?: number;
    /** Default 0. */
    seed?: number;
    /** Lab preset of the problems. Default "policy". */
    preset?: string;
    reward: RlReward;
    /** Continue from `<dir>/rl-checkpoint.bin`. Default true. */
    resume?: boolean;
    /** Stop after this many iterations of this call (pausing, tests). */
    stopAfter?: number;
    /** Also keep `<dir>/policy-<iteration>.gguf` every this many iterations (for curves of held-out figures). Default 0: none. */
    snapshotEvery?: number;
    quiet?: boolean;
    onIteration?: (entry: RlLogEntry) => void;
}

export interface RlLogEntry {
    iteration: number;
    iterations: number;
    /** Mean reward of the samples (outcome, plus the process term when there is one). */
    reward: number;
    /** Share of samples with the right final answer. */
    accuracy: number;
    /** Mean lowest PRM step score (outcome+prm). */
    prm_min?: number;
    /** outcome+implicit: share of groups kept by PRIME's accuracy filter [0.2, 0.8]. */
    kept_groups?: number;
    /** outcome+implicit: share of kept samples whose implicit reward β·Σ log πφ/πref has the outcome's sign (before the PRM's update). */
    implicit_accuracy?: number;
    /** outcome+implicit: the PRM's cross-entropy on the kept samples (its update's loss). */
    implicit_loss?: number;
    /** Of the samples with the right answer, the share with a wrong step (exact lab truth on line-break steps; what a process reward may teach); null when none is right. */
    right_wrong_step: number | null;
    /** Mean k3 KL to the starting policy per response token (last update). */
    kl: number;
    /** Loss of the first update. */
    loss: number;
    clip_fraction: number;
    tokens_per_sample: number;
    sample_seconds: number;
    train_seconds: number;
}

const CHECKPOINT = "rl-checkpoint.bin";

/** `lab train-rl`'s flag of each stored setting, so a refused resume names what the user typed. */
const SETTING_FLAGS: Record<string, string> = {init: "--init", problems: "--problems", group: "--group", maxTokens: "--max-tokens", temperature: "--temperature", lr: "--lr", clip: "--clip", klCoef: "--kl", updates: "--updates", seed: "--seed", reward: "--reward (with its options)"};
const byFlag = (s: Settings): Settings => Object.fromEntries(Object.entries(s).map(([k, v]) => [SETTING_FLAGS[k] ?? k, v]));
const LOG = "rl-log.jsonl";

/** Run (or resume) the RL training; returns the log entries of this call. */
export async function trainPolicyRl(o: RlOptions): Promise<RlLogEntry[]> {
    const P = o.problems ?? 8;
    const G = o.group ?? 8;
    const settings = {
        init: o.init,
        problems: P,
        group: G,
        maxTokens: o.maxTokens ?? 200,
        temperature: o.temperature ?? 1,
        lr: o.lr ?? 3e-5,
        clip: o.clip ?? 0.2,
        klCoef: o.klCoef ?? 0.04,
        updates: o.updates ?? 2,
        seed: o.seed ?? 0,
        preset: o.preset ?? "policy",
        reward: {
            kind: o.reward.kind,
            prm: o.reward.kind === "outcome+prm" ? (o.reward.prmName ?? "prm") : undefined,
            process: o.reward.kind === "outcome+prm" ? (o.reward.process ?? "min") : undefined,
            weight: o.reward.kind === "outcome+prm" ? (o.reward.processWeight ?? 0.5) : undefined,
            steps: o.reward.kind === "outcome+prm" ? (o.reward.stepRule ?? {kind: "delimiter", text: "\n"}) : undefined,
            implicit: o.reward.kind === "outcome+implicit" ? {prm: o.reward.implicitPrm, weight: o.reward.processWeight ?? 1, lr: o.reward.implicitLr ?? 2 * (o.lr ?? 3e-5)} : undefined,
            tokenRewards: o.reward.tokenRewards ? true : undefined,
        },
    };
    if (o.reward.kind === "outcome+prm" && !o.reward.prm) throw new StepwiseError("train-rl: reward outcome+prm needs a PRM");
    await initTf();
    const start = await readLlamaGguf(o.init);
    const implicitFile = settings.reward.implicit ? await implicitPrmFile(settings.reward.implicit.prm, o.init, start.vocab.tokens) : undefined;
    const tokenizer = new CharTokenizer(start.vocab);
    const config = start.config;
    mkdirSync(o.dir, {recursive: true});
    const ckptPath = join(o.dir, CHECKPOINT);
    const logPath = join(o.dir, LOG);
    const say = (line: string) => {
        if (!o.quiet) process.stderr.write(line + "\n");
    };
    // Everything that holds tfjs variables or an engine is released however the run ends (a refused resume included).
    const cleanup: Array<() => unknown> = [];
    try {
        const model = new TfLlama(config, start.weights);
        cleanup.push(() => model.dispose());
        // The reference policy's log-probabilities come from llama.cpp on the starting GGUF (exact F32,
        // read without a frozen second copy of the weights in tfjs). One sequence: parallel sequences
        // are batched by timing and differ in the last digits (src/engines/llama/engine.ts), which made
        // two runs of the same command drift apart from the second iteration.
        const ref = await LlamaEngine.load(o.init, {sequences: 1, contextSize: 512});
        cleanup.push(() => ref.close());
        const refLogprobs = (seqs: PgSequence[]) =>
            Promise.all(
                seqs.map(async (q) => {
                    const lp = await ref.promptLogprobs(q.tokens, {topK: 0});
                    return Float32Array.from(lp.slice(q.start), (e) => Math.log(Math.max(e?.prob ?? 1, 1e-30)));
                }),
            );
        const adam = new Adam(model.vars);
        cleanup.push(() => adam.dispose());
        // PRIME: the implicit PRM, trained beside the policy (its own tfjs variable names).
        const prm = implicitFile ? new TfLlama(implicitFile.config, implicitFile.weights, "implicit-prm/") : undefined;
        const prmAdam = prm ? new Adam(prm.vars) : undefined;
        cleanup.push(() => prm?.dispose(), () => prmAdam?.dispose());
        type Store = readonly [string, Map<string, tf.Variable>];
        const stores: Store[] = [["w:", model.vars], ["m:", adam.m], ["v:", adam.v]];
        if (prm && prmAdam) stores.push(["pw:", prm.vars], ["pm:", prmAdam.m], ["pv:", prmAdam.v]);
        let iteration = 0;
        const saved = o.resume !== false ? readCheckpoint(ckptPath) : null;
        if (saved) {
            const h = saved.header as {iteration: number; settings: unknown; adamT: number; prmAdamT?: number};
            // Compared key by key (src/util/settings.ts, as every refused resume): another key order is the same run.
            const diff = diffSettings(byFlag((h.settings ?? {}) as Settings), byFlag(JSON.parse(JSON.stringify(settings)) as Settings)); // as stored: JSON, unset keys dropped
            if (diff.length) throw new StepwiseError(`${ckptPath}: a training with other settings (${diff.join("; ")}); use another --checkpoint-dir, or drop --resume`);
            for (const [prefix, vars] of stores)
                for (const [name, variable] of vars) {
                    const data = saved.tensors.get(prefix + name);
                    if (!data) throw new StepwiseError(`${ckptPath}: missing tensor ${prefix}${name}`);
                    variable.assign(tf.tensor(data, variable.shape));
                }
            adam.t = h.adamT;
            if (prmAdam) prmAdam.t = h.prmAdamT ?? 0;
            iteration = h.iteration;
            say(`train-rl: resumed from ${ckptPath} at iteration ${iteration}/${o.iterations}`);
        } else {
            // A fresh start (everything above checked): an earlier run's log and checkpoint go, so a
            // later --resume can never continue the old run under the new log.
            rmSync(logPath, {force: true});
            rmSync(ckptPath, {force: true});
        }
        const entries: RlLogEntry[] = [];
        const exportGguf = (path: string) => writeLlamaGguf(path, {config, weights: model.weights(), vocab: start.vocab, name: "stepwise-lab-policy-rl", kind: "policy", extraMetadata: {"stepwise.prompt_format": "<s>{question}\\n", "stepwise.rl_iterations": iteration}});
        const samplerPath = join(o.dir, "sampler.gguf");
        const exportPrm = () => {
            if (!prm || !implicitFile) return;
            writeLlamaGguf(join(o.dir, "implicit-prm.gguf"), {
                config: implicitFile.config,
                weights: prm.weights(),
                vocab: implicitFile.vocab,
                kind: "prm",
                name: "stepwise-lab-implicit-prm-online",
                extraMetadata: {[IMPLICIT_META.objective]: "implicit", [IMPLICIT_META.beta]: implicitFile.beta, [IMPLICIT_META.reference]: relative(resolve(o.dir), resolve(o.init)), [IMPLICIT_META.template]: implicitFile.template, "stepwise.rl_iterations": iteration},
            });
        };
        let ran = 0;
        while (iteration < o.iterations && (o.stopAfter === undefined || ran < o.stopAfter)) {
            const t0 = performance.now();
            const problems = generateProblems(P, {preset: settings.preset, seed: deriveSeed("train-rl", settings.seed, iteration), split: "train"});
            exportGguf(samplerPath);
            // One sequence: parallel ones are batched by timing, which moves the last digits of the
            // probabilities, and a sampled token near a sampling boundary then goes either way (two runs
            // of one command parted at iteration 7 of the study's seed 0). Measured no slower here
            // (3.7 s of sampling per iteration of 8 × 8 samples, two runs at once on 2 cores).
            const engine = await LlamaEngine.load(samplerPath, {sequences: 1, contextSize: 512});
            const samples = [];
            try {
                for (let p = 0; p < P; p++) {
                    const got = await engine.generate({prompt: policyPrompt(problems[p].question), n: G, temperature: settings.temperature, maxTokens: settings.maxTokens, seed: deriveSeed("train-rl-sample", settings.seed, iteration, p)});
                    samples.push(...got.map((s) => ({problem: problems[p], s})));
                }
            } finally {
                await engine.close();
            }
            const t1 = performance.now();
            // Rewards and advantages, group by group.
            const outcome = samples.map(({problem, s}) => (checkAnswer(problem, s.text).correct ? 1 : 0));
            const prmMins: number[] = [];
            const stepRewards: Array<Array<[number, number]>> = samples.map(() => []);
            const w = settings.reward.weight ?? 0;
            if (o.reward.kind === "outcome+prm") {
                const rule = settings.reward.steps!;
                for (let i = 0; i < samples.length; i++) {
                    const {problem, s} = samples[i];
                    const spans = s.tokens.length ? splitSteps({text: s.text, tokens: s.tokens}, rule) : [];
                    const scores = spans.length ? await o.reward.prm!.scoreSteps(problem.question, spans.map((x) => x.text)) : [];
                    prmMins.push(scores.length ? Math.min(...scores) : 0);
                    if (settings.reward.process === "steps") spans.forEach((x, k) => stepRewards[i].push([x.token_end, w * scores[k]]));
                }
            }
            if (o.reward.tokenRewards)
                for (let i = 0; i < samples.length; i++) {
                    const r = await o.reward.tokenRewards(samples[i].problem, samples[i].s);
                    r.forEach((x, t) => stepRewards[i].push([t + 1, x]));
                }
            const rewards = outcome.map((x, i) => x + (o.reward.kind === "outcome+prm" && settings.reward.process === "min" ? w * prmMins[i] : 0));
            // One advantage estimator per run, chosen here: PRIME's for the implicit reward, GRPO's (plus process advantages) otherwise.
            const seqs: PgSequence[] = samples.map(({problem, s}) => {
                const prompt = tokenizer.encode(policyPrompt(problem.question), {addBos: true});
                const response = s.tokens.map((t) => t.id!);
                if (s.finishReason === "eos") response.push(start.vocab.eosId);
                return {tokens: [...prompt, ...response], start: prompt.length, advantages: []};
            });
            let trainable: PgSequence[];
            let implicitStats: Pick<RlLogEntry, "kept_groups" | "implicit_accuracy" | "implicit_loss"> = {};
            let refLp: Float32Array[];
            if (prm && prmAdam && implicitFile && settings.reward.implicit) {
                // PRIME: accuracy filter; token rewards from the PRM as it is (single forward); then its outcome-loss step.
                const kept: number[] = [];
                for (let g = 0; g < samples.length; g += G) {
                    const acc = outcome.slice(g, g + G).reduce<number>((a, b) => a + b, 0) / G;
                    if (acc >= 0.2 && acc <= 0.8) for (let j = 0; j < G; j++) kept.push(g + j);
                }
                const keptSeqs = kept.map((i) => seqs[i]);
                const keptOutcome = kept.map((i) => outcome[i]);
                const keptRef = await refLogprobs(keptSeqs);
                const beta = implicitFile.beta;
                const prmLp = sequenceLogprobs(prm, keptSeqs);
                const tokenRewards = keptSeqs.map((_, k) => Float32Array.from(prmLp[k], (x, t) => beta * (x - keptRef[k][t])));
                let implicitLoss = 0;
                if (keptSeqs.length) {
                    const adv = primeAdvantages(tokenRewards, keptOutcome, G, settings.reward.implicit.weight, 1);
                    keptSeqs.forEach((q, k) => (q.advantages = adv[k]));
                    const examples = keptSeqs.flatMap((q, k) => (q.tokens.length > q.start ? [{tokens: q.tokens, sequence: {from: q.start, to: q.tokens.length, refLogprob: keptRef[k].reduce((a, b) => a + b, 0), beta, label: keptOutcome[k]}}] : []));
                    if (examples.length) implicitLoss = trainStep(prm, prmAdam, packBatch(examples, implicitFile.config.vocabSize, implicitFile.config.contextLength, {groupSize: 8}), settings.reward.implicit.lr, 1).loss;
                }
                const signRight = tokenRewards.map((r, k) => (r.reduce((a, b) => a + b, 0) > 0 ? 1 : 0) === keptOutcome[k]);
                implicitStats = {kept_groups: kept.length / samples.length, implicit_accuracy: signRight.length ? signRight.filter(Boolean).length / signRight.length : 0, implicit_loss: implicitLoss};
                const pairs = keptSeqs.map((q, k) => [q, keptRef[k]] as const).filter(([q]) => q.tokens.length - q.start > 0);
                trainable = pairs.map(([q]) => q);
                refLp = pairs.map(([, r]) => r);
            } else {
                const adv = groupAdvantages(rewards, G);
                seqs.forEach((q, i) => (q.advantages = Array.from({length: q.tokens.length - q.start}, () => adv[i])));
                if (stepRewards.some((r) => r.length))
                    for (let g = 0; g < samples.length; g += G) {
                        const pa = processAdvantages(stepRewards.slice(g, g + G), seqs.slice(g, g + G).map((s) => s.tokens.length - s.start));
                        pa.forEach((a, j) => a.forEach((x, t) => (seqs[g + j].advantages[t] += x)));
                    }
                trainable = seqs.filter((s) => s.tokens.length - s.start > 0);
                refLp = await refLogprobs(trainable);
            }
            const old = sequenceLogprobs(model, trainable);
            let first: {loss: number} | undefined;
            let last = {loss: 0, kl: 0, clipFraction: 0};
            for (let u = 0; u < settings.updates && trainable.length; u++) {
                last = pgStep(model, adam, trainable, old, refLp, {lr: settings.lr, clip: settings.clip, klCoef: settings.klCoef, gradClip: 1});
                first ??= last;
                if (!Number.isFinite(last.loss)) throw new StepwiseError(`train-rl: loss became ${last.loss} at iteration ${iteration + 1}; lower --lr`);
            }
            iteration++;
            ran++;
            const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0);
            const entry: RlLogEntry = {
                iteration,
                iterations: o.iterations,
                reward: mean(rewards),
                accuracy: mean(outcome),
                right_wrong_step: outcome.some((x) => x === 1) ? mean(samples.filter((_, i) => outcome[i] === 1).map(({problem, s}) => (hasWrongStep(problem.question, s) ? 1 : 0))) : null,
                ...(o.reward.kind === "outcome+prm" ? {prm_min: mean(prmMins)} : {}),
                ...implicitStats,
                kl: last.kl,
                loss: first?.loss ?? 0,
                clip_fraction: last.clipFraction,
                tokens_per_sample: mean(seqs.map((s) => s.tokens.length - s.start)),
                sample_seconds: (t1 - t0) / 1000,
                train_seconds: (performance.now() - t1) / 1000,
            };
            const tensors = [];
            for (const [prefix, vars] of stores)
                for (const [name, variable] of vars) tensors.push({name: prefix + name, data: variable.dataSync() as Float32Array});
            writeCheckpoint(ckptPath, {version: 1, iteration, settings, adamT: adam.t, ...(prmAdam ? {prmAdamT: prmAdam.t} : {})}, tensors);
            exportGguf(o.out);
            exportPrm();
            if (o.snapshotEvery && iteration % o.snapshotEvery === 0) exportGguf(join(o.dir, `policy-${iteration}.gguf`));
            appendFileSync(logPath, JSON.stringify(entry) + "\n");
            entries.push(entry);
            o.onIteration?.(entry);
            say(
                `train-rl: iteration ${iteration}/${o.iterations}: reward ${entry.reward.toFixed(3)}, accuracy ${(100 * entry.accuracy).toFixed(1)}%` +
                    `${entry.right_wrong_step !== null ? `, right via a wrong step ${(100 * entry.right_wrong_step).toFixed(1)}%` : ""}${entry.prm_min !== undefined ? `, PRM min ${entry.prm_min.toFixed(3)}` : ""}${entry.implicit_accuracy !== undefined ? (entry.kept_groups === 0 ? ", no group kept (accuracy outside PRIME's [0.2, 0.8] in every group): the implicit PRM not updated" : `, kept ${(100 * entry.kept_groups!).toFixed(0)}% of groups, implicit PRM sign right ${(100 * entry.implicit_accuracy).toFixed(1)}% (loss ${entry.implicit_loss!.toFixed(3)})`) : ""}, KL ${entry.kl.toExponential(2)}, loss ${entry.loss.toFixed(4)}, clipped ${(100 * entry.clip_fraction).toFixed(1)}%` +
                    ` (sampling ${entry.sample_seconds.toFixed(0)} s, training ${entry.train_seconds.toFixed(0)} s)`,
            );
        }
        if (ran === 0 && iteration >= o.iterations) {
            // A resumed run already at (or past) its iterations: nothing to train, but --out is still
            // the model asked for (it was reported and never written).
            exportGguf(o.out);
            exportPrm();
            say(`train-rl: the checkpoint is at iteration ${iteration}, --iterations ${o.iterations}: nothing to run; its model written to ${o.out}`);
        }
        return entries;
    } finally {
        for (const release of cleanup.reverse()) await release();
    }
}

/**
 * The implicit PRM of a PRIME run: its weights, vocabulary, β and template from the GGUF. Refused
 * (StepwiseError naming the file) unless it is an implicit PRM whose reference is the starting
 * policy `init` (the same file or the same bytes), with the policy's vocabulary and prompt layout.
 */
async function implicitPrmFile(path: string | undefined, init: string, policyTokens: readonly string[]) {
    if (!path) throw new StepwiseError("train-rl: reward outcome+implicit needs an implicit PRM (--implicit-prm)");
    const checked = checkPrmFile(`llama:${path}`);
    const info = checked.implicit;
    if (!info) throw new StepwiseError(`${path}: not an implicit PRM (GGUF metadata ${IMPLICIT_META.objective} is not "implicit"); train one with \`stepwise train-prm --objective implicit\``);
    // A tag+implicit PRM's step scores live at its tags: PRIME's updates would move them untrained and its export (objective "implicit") would drop them.
    if (checked.tag)
        throw new StepwiseError(
            `${path}: a tag+implicit PRM (GGUF metadata ${IMPLICIT_META.objective} = "tag+implicit"${checked.tagFile ? `, paired with the tag PRM ${checked.tagFile} by \`stepwise pair-prm\`` : ""}); PRIME trains and exports an implicit PRM only: give one from \`stepwise train-prm --objective implicit\``,
        );
    if (resolve(info.reference) !== resolve(init) && !readFileSync(info.reference).equals(readFileSync(init)))
        throw new StepwiseError(`${path}: its reference model ${info.reference} is not the starting policy ${init}; PRIME reads the token rewards against the starting policy (give --init ${info.reference}, or a PRM trained against ${init})`);
    const file = await readLlamaGguf(path);
    if (JSON.stringify(file.vocab.tokens) !== JSON.stringify(policyTokens)) throw new StepwiseError(`${path}: its vocabulary differs from the policy's (${init}); an implicit PRM reads the policy's tokens`);
    if (info.template !== "{question}\n") throw new StepwiseError(`${path}: prompt template ${JSON.stringify(info.template)} is not the lab policy's ("{question}\\n"); the PRM must read the samples as the policy wrote them`);
    return {...file, beta: info.beta, template: info.template};
}
