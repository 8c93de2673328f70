/**
 * Training the lab judge: the lab policy (or a fresh tiny llama) fine-tuned to read a lab
 * problem and its numbered steps (the judge prompt of src/judge/prompt.ts) and write the first
 * wrong step's index in `\boxed{}` (a generative critic trained on exact labels, the lab's
 * stand-in for a judge trained on human annotations). Imperfect by design: it is as good as a
 * tiny model gets in its budget, and `stepwise eval processbench --judge` measures it.
 *
 * Batches draw items with replacement, an erroneous one with probability `errorShare` (default
 * 0.5), so the judge sees both verdicts equally often whatever the policy's accuracy. Items whose
 * example exceeds the model's context are left out (counted in the result).
 */
import {inputFilesSetting} from "../../../core/fingerprint.ts";
import {StepwiseError} from "../../../util/errors.ts";
import {writeLlamaGguf} from "../../../gguf/llama.ts";
import {startingModel} from "../../../train/start.ts";
import {CharTokenizer} from "../../../model/vocab.ts";
import {growLlamaLayers, type LlamaWeights} from "../../../model/weights.ts";
import {trainLanguageModel, type TrainExample, type TrainLogEntry, type TrainResult} from "../../../train/index.ts";
import {CRITIQUES, readJudgeItems, labJudgeExample, SYNTHETIC_RESTATEMENT_SUFFIX, type Critique} from "./data.ts";
import {LAB_JUDGE_CHAT_TEMPLATE} from "./template.ts";
import {plural} from "../../../util/plural.ts";

export interface LabJudgeTrainOptions {
    /** Steps files (split/label output) of lab samples. */
    data: string[];
    out: string;
    /** GGUF to start from (e.g. models/lab-policy.gguf); default a fresh model. */
    init?: string;
    minutes?: number;
    steps?: number;
    lr?: number;
    /** Default 16. */
    batchSize?: number;
    /** Share of erroneous items per batch. Default 0.5. */
    errorShare?: number;
    seed?: number;
    checkpointDir?: string;
    resume?: boolean;
    checkpointEverySteps?: number;
    /** What the judge writes: "compact" (default; `i ok` lines, then the box) or "verify" (under each quoted step its check and verdict, then the box: a verifier). */
    critique?: Critique;
    /** Critique "verify" only: the wrong line's check states the comparison (`19 * 3 = 57, not 58`; src/apps/lab/judge/verification.ts). Default false. */
    contrast?: boolean;
    /** Critique "verify" only: every line's check copies the step's value beside the exact one (`19 * 3 = 57 (step: 58)`; src/apps/lab/judge/verification.ts). Default false. */
    claim?: boolean;
    /**
     * Critique "verify" only: loss weight of each verdict's deciding token (the first after ` | `),
     * every other written token weighing 1: pushes training toward the comparison the verdict makes
     * rather than the checks it copies or recomputes. Default 1.
     */
    verdictWeight?: number;
    /** Equation checks rebuilt from the expression before each step (LabCheckOptions.rebuild). Default false. */
    rebuild?: boolean;
    /**
     * Critique "verify" only: for this share (0–1) of the samples, up to one more item with one correct
     * line's restatement made wrong (src/domains/lab/perturb.ts; drawn with the batch seed), so the
     * verifier cannot pass by copying the step's restatement. Default 0.
     */
    syntheticRestatements?: number;
    /** Context length in tokens (default: the starting model's, 512 for the lab models); raising it lets longer solutions and verifications in (RoPE: no new weights). */
    contextLength?: number;
    /**
     * Blocks added on top of the starting model before training, each starting as a no-op
     * (src/model/weights.ts `growLlamaLayers`, seeded by `seed`): a deeper verifier that starts
     * from what `init` knows. Default 0. A resumed run grows the same way, then loads its checkpoint.
     */
    growLayers?: number;
    quiet?: boolean;
    onLog?: (e: TrainLogEntry) => void;
}

export interface LabJudgeTrainResult extends TrainResult {
    items: number;
    erroneous: number;
    /** Synthetic wrong-restatement items among the erroneous ones (LabJudgeTrainOptions.syntheticRestatements). */
    synthetic: number;
    tooLong: number;
}

export async function trainLabJudge(o: LabJudgeTrainOptions): Promise<LabJudgeTrainResult> {
    const start = await startingModel({init: o.init, seed: o.seed});
    const {init, vocab} = start;
    const critique = o.critique ?? "compact";
    if (!(CRITIQUES as readonly string[]).includes(critique)) throw new StepwiseError(`lab judge: unknown critique "${critique}" (known: ${CRITIQUES.join(", ")})`);
    if (o.contextLength !== undefined && !(Number.isInteger(o.contextLength) && o.contextLength >= 64)) throw new StepwiseError(`lab judge: context length must be an integer ≥ 64, got ${o.contextLength}`);
    const grown = o.growLayers ? growLlamaLayers(start.config, init, o.growLayers, o.seed ?? 0) : {config: start.config, weights: init};
    const config = o.contextLength !== undefined ? {...grown.config, contextLength: o.contextLength} : grown.config;
    const tokenizer = new CharTokenizer(vocab);
    // Options of the verify critique's checks: the compact critique has none.
    const verdictWeight = o.verdictWeight ?? 1;
    for (const [flag, on] of [["--contrast", o.contrast], ["--claim", o.claim], ["--rebuild", o.rebuild], ["--synthetic-restatements", o.syntheticRestatements], ["--verdict-weight", verdictWeight !== 1]] as const)
        if (on && critique !== "verify") throw new StepwiseError(`lab judge: ${flag} needs --critique verify (the compact critique has no checks)`);
    const items = await readJudgeItems(o.data, {contrast: o.contrast, claim: o.claim, rebuild: o.rebuild, syntheticRestatements: o.syntheticRestatements, seed: o.seed});
    const examples: Array<{ex: TrainExample; error: boolean}> = [];
    let tooLong = 0;
    let synthetic = 0; // synthetic items trained on (those that fit the context)
    for (const item of items) {
        const ex = labJudgeExample(item, tokenizer, critique, verdictWeight);
        if (ex.tokens.length > config.contextLength) tooLong++;
        else {
            examples.push({ex, error: item.first_error >= 0});
            if (item.id.endsWith(SYNTHETIC_RESTATEMENT_SUFFIX)) synthetic++;
        }
    }
    const wrong = examples.filter((e) => e.error).map((e) => e.ex);
    const right = examples.filter((e) => !e.error).map((e) => e.ex);
    if (wrong.length === 0 || right.length === 0) throw new StepwiseError(`lab judge: needs both erroneous and correct solutions (got ${wrong.length} and ${right.length}${tooLong ? `; ${tooLong} of ${items.length} items longer than the ${config.contextLength}-token context left out (--context)` : ""}) in ${o.data.join(", ")}`);
    const errorShare = o.errorShare ?? 0.5;
    const seqLen = Math.max(...examples.map((e) => e.ex.tokens.length));
    if (!o.quiet) process.stderr.write(`lab judge: ${plural(examples.length, "item")} (${wrong.length} erroneous${synthetic ? `, ${synthetic} of them synthetic wrong restatements` : ""}, ${right.length} correct; ${tooLong} longer than the context left out), longest ${plural(seqLen, "token")}\n`);
    const seed = o.seed ?? 0;
    const exportGguf = (weights: LlamaWeights, step: number, totalSteps: number, final: boolean): void =>
        writeLlamaGguf(o.out, {
            config,
            weights,
            vocab,
            name: "stepwise-lab-judge",
            extraMetadata: {
                "stepwise.kind": "judge",
                "stepwise.judge_template": critique,
                ...(o.contrast ? {"stepwise.judge_contrast": true} : {}),
                ...(o.claim ? {"stepwise.judge_claim": true} : {}),
                ...(o.rebuild ? {"stepwise.judge_rebuild": true} : {}),
                ...(o.syntheticRestatements ? {"stepwise.judge_synthetic_restatements": o.syntheticRestatements} : {}),
                ...(o.growLayers ? {"stepwise.judge_grown_layers": o.growLayers} : {}),
                ...(verdictWeight !== 1 ? {"stepwise.judge_verdict_weight": verdictWeight} : {}),
                "tokenizer.chat_template": LAB_JUDGE_CHAT_TEMPLATE,
                "stepwise.prompt_format":
                    critique === "verify"
                        ? "chat template (tokenizer.chat_template) over the verify judge prompt of src/judge/prompt.ts; writes `i: <check> | right|wrong` per step up to the first wrong one, then \\boxed{index} (src/prm/verifier.ts)"
                        : "chat template (tokenizer.chat_template) over the compact judge prompt of src/judge/prompt.ts; writes one line per step then \\boxed{index}",
                "stepwise.train_steps": step,
                "stepwise.train_total_steps": totalSteps,
                "stepwise.train_complete": final,
                "stepwise.train_seed": seed,
            },
        });
    const result = await trainLanguageModel({
        config,
        initWeights: grown.weights,
        batchSource: (rng, n) => Array.from({length: n}, () => (rng.next() < errorShare ? wrong[rng.int(wrong.length)] : right[rng.int(right.length)])),
        steps: o.steps,
        minutes: o.minutes,
        lr: o.lr ?? 1e-3,
        batchSize: o.batchSize ?? 16,
        seqLen,
        groupSize: 4,
        seed,
        checkpointDir: o.checkpointDir,
        resume: o.resume,
        // What the items are made of: a resume with other checks, verdict weight or data is refused, naming them.
        settings: {
            data: inputFilesSetting(o.data),
            init: o.init ? inputFilesSetting([o.init]) : null,
            critique,
            contrast: o.contrast ?? false,
            claim: o.claim ?? false,
            rebuild: o.rebuild ?? false,
            syntheticRestatements: o.syntheticRestatements ?? 0,
            verdictWeight,
            errorShare,
        },
        checkpointEverySteps: o.checkpointEverySteps ?? 100,
        quiet: o.quiet,
        onLog: o.onLog,
        onCheckpoint: ({step, totalSteps, weights, final}) => exportGguf(weights, step, totalSteps, final),
    });
    return {...result, items: examples.length, erroneous: wrong.length, synthetic, tooLong};
}
