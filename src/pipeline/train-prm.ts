/**
 * `stepwise train-prm`: fine-tune a tiny llama model (the lab policy, or a fresh one) into a tag
 * PRM on labelled steps from `stepwise label`.
 *
 * Input layout = the `stepwise-lab` PRM format: BOS + question + "\n" + step₁ + `<|step|>` + step₂ +
 * `<|step|>` …; the loss is the cross-entropy of the softmax restricted to the two label tokens
 * (`<|good|>`, `<|bad|>`) at every tag position, with hard targets (1/0) or soft ones (the MC
 * fraction). Steps after a sample's last labelled step are dropped (the Qwen recipe drops the
 * steps after the first negative). Questions are split into train and validation by a hash of
 * the question id, so no question is on both sides.
 */
import {mkdirSync} from "node:fs";
import {writeFileAtomic} from "../io/atomic.ts";
import {dirname, join} from "node:path";
import {StepwiseError} from "../util/errors.ts";
import {LabelRecordSchema, readRecordsAll} from "../core/schemas.ts";
import {writeLlamaGguf} from "../gguf/llama.ts";
import {startingModel} from "../train/start.ts";
import type {LlamaConfig} from "../model/config.ts";
import {CharTokenizer, type CharVocab} from "../model/vocab.ts";
import type {LlamaWeights} from "../model/weights.ts";
import {nextTokenProbs} from "../model/forward.ts";
import {trainLanguageModel, type TrainExample, type TrainLogEntry} from "../train/index.ts";
import {hashString} from "../util/rng.ts";
import type {LabelRecord} from "../core/records.ts";
import {renderChart} from "../report/plot.ts";
import {PRM_FORMATS} from "../prm/formats.ts";
import {rocAuc} from "../prm/metrics.ts";

export type LabelKind = "hard" | "soft";

export interface PrmExample {
    id: string;
    questionId: string;
    tokens: number[];
    /** Tag positions and their target P(good). */
    tags: Array<{pos: number; target: number}>;
}

/** Build the PRM example of one labelled sample (null when no step is labelled). */
export function prmExample(record: Pick<LabelRecord, "id" | "question_id" | "question" | "steps" | "hard" | "soft">, tokenizer: CharTokenizer, labels: LabelKind): PrmExample | null {
    const v = tokenizer.vocab;
    const tokens = tokenizer.encode(record.question + PRM_FORMATS["stepwise-lab"].questionSeparator, {addBos: true});
    const tags: PrmExample["tags"] = [];
    for (let i = 0; i < record.steps.length; i++) {
        const target = labels === "hard" ? record.hard[i] : (record.soft[i] ?? record.hard[i]);
        if (target === null || target === undefined) break;
        tokens.push(...tokenizer.encode(record.steps[i].text));
        tags.push({pos: tokens.length, target: Number(target)});
        tokens.push(v.stepTagId);
    }
    if (tags.length === 0) return null;
    return {id: record.id, questionId: record.question_id ?? record.id.split("#")[0], tokens, tags};
}

export function isValidation(questionId: string, fraction: number): boolean {
    return hashString(`prm-val:${questionId}`) / 0x100000000 < fraction;
}

export interface TrainPrmOptions {
    /** LabelRecord JSONL files (`stepwise label`). */
    data: string[];
    out: string;
    labels?: LabelKind;
    /** GGUF to start from (e.g. the lab policy); default a fresh model of the given size. */
    init?: string;
    dModel?: number;
    nLayers?: number;
    nHeads?: number;
    steps?: number;
    minutes?: number;
    lr?: number;
    batchSize?: number;
    seed?: number;
    valFraction?: number;
    checkpointDir?: string;
    /** Where the loss curve and metrics go. Default: next to the output model. */
    reportDir?: string;
    quiet?: boolean;
    onLog?: (e: TrainLogEntry) => void;
}

export interface PrmValidation {
    steps: number;
    samples: number;
    /** Step-level ROC-AUC of P(good) against the (hard) labels. */
    auc: number;
    /** Accuracy of P(good) ≥ 0.5 against hard labels. */
    accuracy: number;
    /** Mean binary cross-entropy against the targets. */
    loss: number;
}

export interface TrainPrmResult {
    out: string;
    trainExamples: number;
    valExamples: number;
    validation: PrmValidation;
    steps: number;
    losses: number[];
}

/** Score the tag positions of examples with the JS forward pass. */
export function prmScores(config: LlamaConfig, weights: LlamaWeights, vocab: CharVocab, ex: PrmExample): number[] {
    const probs = nextTokenProbs(config, weights, ex.tokens);
    return ex.tags.map(({pos}) => {
        const g = probs[pos][vocab.goodId];
        const b = probs[pos][vocab.badId];
        return g + b > 0 ? g / (g + b) : 0.5;
    });
}

export function validate(config: LlamaConfig, weights: LlamaWeights, vocab: CharVocab, examples: PrmExample[]): PrmValidation {
    const scores: number[] = [];
    const labels: number[] = [];
    let loss = 0;
    for (const ex of examples) {
        const s = prmScores(config, weights, vocab, ex);
        ex.tags.forEach((t, i) => {
            scores.push(s[i]);
            labels.push(t.target >= 0.5 ? 1 : 0);
            const p = Math.min(1 - 1e-7, Math.max(1e-7, s[i]));
            loss -= t.target * Math.log(p) + (1 - t.target) * Math.log(1 - p);
        });
    }
    const correct = scores.filter((s, i) => (s >= 0.5 ? 1 : 0) === labels[i]).length;
    return {steps: scores.length, samples: examples.length, auc: rocAuc(scores, labels), accuracy: scores.length ? correct / scores.length : NaN, loss: scores.length ? loss / scores.length : NaN};
}

export async function trainPrm(o: TrainPrmOptions): Promise<TrainPrmResult> {
    const labels = o.labels ?? "hard";
    const {config, init, vocab} = await startingModel({init: o.init, dModel: o.dModel, nLayers: o.nLayers, nHeads: o.nHeads, seed: o.seed});
    const tokenizer = new CharTokenizer(vocab);
    const examples: PrmExample[] = [];
    for (const file of o.data) {
        const records = await readRecordsAll(file, LabelRecordSchema);
        records.forEach((r) => {
            const ex = prmExample(r, tokenizer, labels);
            if (ex && ex.tokens.length <= config.contextLength) examples.push(ex);
        });
    }
    const valFraction = o.valFraction ?? 0.1;
    const train = examples.filter((e) => !isValidation(e.questionId, valFraction));
    const val = examples.filter((e) => isValidation(e.questionId, valFraction));
    if (train.length === 0) throw new StepwiseError(`no labelled steps to train on in ${o.data.join(", ")}`);
    const seqLen = Math.max(...train.map((e) => e.tokens.length));
    const toTrain = (ex: PrmExample): TrainExample => ({
        tokens: ex.tokens,
        lossMask: {start: 0, end: 0},
        targets: ex.tags.map((t) => ({pos: t.pos, tokenIds: [vocab.goodId, vocab.badId], probs: [t.target, 1 - t.target]})),
    });
    const log: TrainLogEntry[] = [];
    const result = await trainLanguageModel({
        config,
        initWeights: init,
        batchSource: (rng, n) => Array.from({length: n}, () => toTrain(train[rng.int(train.length)])),
        steps: o.steps,
        minutes: o.minutes,
        lr: o.lr ?? 1e-3,
        batchSize: o.batchSize ?? 16,
        seqLen,
        seed: o.seed ?? 0,
        checkpointDir: o.checkpointDir,
        quiet: o.quiet,
        onLog: (e) => {
            log.push(e);
            o.onLog?.(e);
        },
    });
    mkdirSync(dirname(o.out) || ".", {recursive: true});
    writeLlamaGguf(o.out, {config, weights: result.weights, vocab, kind: "prm", name: "stepwise-lab-prm"});
    const validation = validate(config, result.weights, vocab, val);
    const reportDir = o.reportDir ?? dirname(o.out);
    const base = join(reportDir, o.out.split("/").pop()!.replace(/\.gguf$/, ""));
    writeFileAtomic(`${base}.train.json`, JSON.stringify({data: o.data, labels, init: o.init ?? null, train_examples: train.length, val_examples: val.length, steps: result.steps, validation, log}, null, 2) + "\n");
    if (log.length > 1)
        await renderChart(
            {
                title: `PRM training loss (${labels} labels)`,
                width: 480,
                height: 220,
                data: {values: log.map((e) => ({step: e.step, loss: e.loss}))},
                mark: {type: "line", point: true},
                encoding: {x: {field: "step", type: "quantitative"}, y: {field: "loss", type: "quantitative", title: "cross-entropy"}},
            },
            `${base}.loss`,
        );
    return {out: o.out, trainExamples: train.length, valExamples: val.length, validation, steps: result.steps, losses: result.losses};
}
