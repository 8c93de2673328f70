/**
 * ProcessBench evaluation of first-error predictions: from PRM step scores (first step below a
 * threshold, fixed or calibrated on one split) or from direct predictions (a first-error index
 * or −1, e.g. from an LLM judge).
 *
 * Scores and predictions are matched to samples by id. When ids repeat across splits, records may
 * carry a `split` field (the split name = file stem); a split-qualified entry wins over a plain one.
 */
import {StepwiseError} from "../../util/errors.ts";
import {readJsonl} from "../../io/jsonl.ts";
import {parseStepScores} from "../bon/load.ts";
import type {ProcessSplit} from "./load.ts";
import {type ProcessIntervals, type ProcessMetrics, averageF1, averageF1Interval, processIntervals, processMetrics} from "./metrics.ts";
import type {Interval} from "../../stats/intervals.ts";
import {plural} from "../../util/plural.ts";
import {calibrateThreshold, firstBelow} from "./threshold.ts";
import {DEFAULT_THRESHOLD} from "../defaults.ts";

/** A value read from a file, with where it came from. */
export interface Located<T> {
    value: T;
    where: string;
}

/** Per-sample inputs keyed by id or by `split\u0000id`. */
export type SampleInputs<T> = Map<string, Located<T>>;

/** The key of a sample's entry in {@link SampleInputs}: its id, or split and id. */
export function sampleKey(split: string | null, id: string): string {
    return split === null ? id : `${split}\u0000${id}`;
}

async function readKeyed<T>(file: string, parse: (record: Record<string, unknown>, where: string) => T): Promise<SampleInputs<T>> {
    const out: SampleInputs<T> = new Map();
    for await (const {record, line} of readJsonl(file)) {
        const where = `${file}:${line}`;
        const id = record.id;
        if (typeof id !== "string" && typeof id !== "number") throw new StepwiseError(`${where}: missing "id"`);
        const split = record.split;
        if (split !== undefined && typeof split !== "string") throw new StepwiseError(`${where}: "split" must be a string`);
        const k = sampleKey(typeof split === "string" ? split : null, String(id));
        const prev = out.get(k);
        if (prev) throw new StepwiseError(`${where}: duplicate id ${JSON.stringify(String(id))}${typeof split === "string" ? ` in split ${split}` : ""} (also at ${prev.where})`);
        out.set(k, {value: parse(record, where), where});
    }
    return out;
}

/** Read `--scores`: JSONL `{id, step_scores: number[], split?}`. */
export function readScoresFile(file: string): Promise<SampleInputs<number[]>> {
    return readKeyed(file, (r, where) => parseStepScores(r.step_scores, where, "step_scores"));
}

/** Read `--predictions`: JSONL `{id, prediction: integer ≥ −1, split?}`. */
export function readPredictionsFile(file: string): Promise<SampleInputs<number>> {
    return readKeyed(file, (r, where) => {
        const p = r.prediction;
        if (typeof p !== "number" || !Number.isInteger(p) || p < -1) throw new StepwiseError(`${where}: "prediction" must be −1 or a step index, got ${JSON.stringify(p)}`);
        return p;
    });
}

/** A sample's entry: by split and id, else by bare id (how every ProcessBench input is matched). */
export function lookup<T>(inputs: SampleInputs<T>, split: string, id: string): Located<T> | undefined {
    return inputs.get(sampleKey(split, id)) ?? inputs.get(id);
}

export type ProcessBenchSource = {kind: "scores"; scores: SampleInputs<number[]>; threshold?: number; calibrate?: string} | {kind: "predictions"; predictions: SampleInputs<number>};

export interface SplitResult extends ProcessMetrics {
    name: string;
    file: string;
    /** Predicted first-error index per sample, in sample order. */
    predictions: Int32Array;
    /** 95% intervals of accError, accCorrect (Wilson) and f1 (bootstrap over the split's samples). */
    intervals: ProcessIntervals;
    /** F1 against the threshold (scores only), for plots. */
    curve?: Array<{threshold: number; f1: number | null; accError: number | null; accCorrect: number | null}>;
}

export interface ProcessBenchResult {
    splits: SplitResult[];
    averageF1: number | null;
    /** 95% interval of averageF1 (bootstrap within each split), null with averageF1. */
    averageF1Interval: Interval | null;
    /** The threshold used (scores only). */
    threshold?: number;
    /** The split the threshold was calibrated on, if any. */
    calibratedOn?: string;
    /** Samples of the calibration split. */
    calibrationRows?: number;
    /** Set when the calibration split has fewer than {@link MIN_CALIBRATION_ROWS} samples: the threshold is then mostly noise. */
    calibrationWarning?: string;
}

/** Fewer calibration samples than this get a warning (stdout, report and `calibration_warning` in --json). */
export const MIN_CALIBRATION_ROWS = 50;

/**
 * The warning of a threshold calibrated on `rows` samples of `split`: "threshold calibrated on only
 * 12 samples of gsm8k (fewer than 50): it is mostly noise, and the figures on gsm8k itself are
 * in-sample". Undefined from {@link MIN_CALIBRATION_ROWS} rows on.
 */
export function calibrationWarning(rows: number, split: string): string | undefined {
    if (rows >= MIN_CALIBRATION_ROWS) return undefined;
    return `threshold calibrated on only ${plural(rows, "sample")} of ${split} (fewer than ${MIN_CALIBRATION_ROWS}): it is mostly noise, and the figures on ${split} itself are in-sample`;
}

/** The result's splits with intervals, and the average F1's interval. */
function finish(splits: ReadonlyArray<Omit<SplitResult, "intervals">>, labels: ReadonlyArray<ArrayLike<number>>): {splits: SplitResult[]; averageF1: number | null; averageF1Interval: Interval | null} {
    const withIntervals = splits.map((s, i) => ({...s, intervals: processIntervals(labels[i], s.predictions)}));
    return {
        splits: withIntervals,
        averageF1: averageF1(splits.map((r) => r.f1)),
        averageF1Interval: averageF1Interval(splits.map((s, i) => ({labels: labels[i], predictions: s.predictions}))),
    };
}

/** Default threshold on step scores (probabilities that a step is correct): 0.5 (defined in ../defaults.ts). */
export {DEFAULT_THRESHOLD};

/** Evaluate first-error predictions on every split (see the module docs). */
export function evaluateProcessBench(splits: readonly ProcessSplit[], source: ProcessBenchSource, options: {curves?: boolean} = {}): ProcessBenchResult {
    if (splits.length === 0) throw new StepwiseError("ProcessBench: no splits");
    if (source.kind === "predictions") {
        const results = splits.map((split) => {
            const predictions = Int32Array.from(split.samples, (s) => {
                const p = lookup(source.predictions, split.name, s.id);
                if (!p) throw new StepwiseError(`${s.where}: no prediction for id ${JSON.stringify(s.id)} (split ${split.name})`);
                if (p.value >= s.steps.length) throw new StepwiseError(`${p.where}: prediction ${p.value} is past the last step of ${s.id} (${s.steps.length} steps)`);
                return p.value;
            });
            return {name: split.name, file: split.file, predictions, ...processMetrics(split.samples.map((s) => s.label), predictions)};
        });
        return finish(results, splits.map((s) => s.samples.map((x) => x.label)));
    }
    // Scores: attach and check them, then pick the threshold.
    const scored = splits.map((split) => ({
        split,
        samples: split.samples.map((s) => {
            const sc = lookup(source.scores, split.name, s.id);
            if (!sc) throw new StepwiseError(`${s.where}: no step scores for id ${JSON.stringify(s.id)} (split ${split.name})`);
            if (sc.value.length !== s.steps.length) throw new StepwiseError(`${sc.where}: ${sc.value.length} step scores for ${s.id}, which has ${s.steps.length} steps`);
            return {scores: sc.value, label: s.label};
        }),
    }));
    let threshold = source.threshold ?? DEFAULT_THRESHOLD;
    let calibration: Pick<ProcessBenchResult, "calibratedOn" | "calibrationRows" | "calibrationWarning"> = {};
    if (source.calibrate !== undefined) {
        const on = scored.find((x) => x.split.name === source.calibrate);
        if (!on) throw new StepwiseError(`--calibrate ${source.calibrate}: no split named "${source.calibrate}" (splits: ${splits.map((s) => s.name).join(", ")})`);
        try {
            threshold = calibrateThreshold(on.samples).threshold;
        } catch (e) {
            throw new StepwiseError(`--calibrate ${source.calibrate}: ${(e as Error).message}`);
        }
        const rows = on.samples.length;
        calibration = {
            calibratedOn: source.calibrate,
            calibrationRows: rows,
            ...(rows < MIN_CALIBRATION_ROWS ? {calibrationWarning: calibrationWarning(rows, source.calibrate)} : {}),
        };
    }
    const results = scored.map(({split, samples}) => {
        const predictions = Int32Array.from(samples, (s) => firstBelow(s.scores, threshold));
        const metrics = processMetrics(samples.map((s) => s.label), predictions);
        const curve = options.curves && metrics.nError > 0 && metrics.nCorrect > 0 ? calibrateThreshold(samples, {curve: true}).curve : undefined;
        return {name: split.name, file: split.file, predictions, ...metrics, ...(curve ? {curve} : {})};
    });
    return {...finish(results, scored.map((x) => x.samples.map((s) => s.label))), threshold, ...calibration};
}
