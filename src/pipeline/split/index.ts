/**
 * Split stage: cut sampled solutions into steps.
 *
 * Strategies (see {@link parseStrategy}):
 * - `adaptive` (AdaptiveStep): a step ends right after each token with confidence < τ;
 * - `newline`: after each token holding a "\n"; `double-newline`: after each "\n\n";
 * - `fixed:N`: every N tokens; `random:K[:SEED]`: K random boundaries, seeded by the sample id.
 * The cutting itself is src/steps (the one splitter the decoders and the viewer use too): every
 * strategy cuts on token boundaries; steps are never empty and their texts concatenate to the
 * sample text. Whitespace-only steps (a lone "\n" decision token) are kept for the
 * token-position strategies (adaptive, fixed, random) and merged for the line-break ones.
 *
 * {@link splitFile} reads SampleRecords and appends StepsRecords, resumable by id like the
 * sample stage: ids already in the output are skipped, and an output written with another
 * strategy or τ is refused rather than mixed.
 */
import {basename} from "node:path";
import {StepwiseError} from "../../util/errors.ts";
import {openStage} from "../../core/stage.ts";
import {StepsRecordSchema} from "../../core/schemas.ts";
import type {SampleInput, Step, StepsRecord} from "../../core/records.ts";
import {splitSteps, type StepRule, type StepSpan} from "../../steps/index.ts";
import {readSamples} from "./io.ts";
import {STRATEGY_FORMS} from "./forms.ts";

export {readSamples} from "./io.ts";
export {stepsFromCuts, tokenOffsets} from "../../steps/index.ts";

export type SplitStrategy =
    | {kind: "adaptive"; tau: number}
    | {kind: "newline"}
    | {kind: "double-newline"}
    | {kind: "fixed"; tokens: number}
    | {kind: "random"; positions: number; seed: number};

export {STRATEGY_FORMS};

/**
 * Parse a strategy spec: `adaptive` (τ from options.tau, or inline `adaptive:0.31`), `newline`,
 * `double-newline`, `fixed:N` (N ≥ 1 tokens), `random:K` or `random:K:SEED`.
 * Throws a StepwiseError naming the spec when it cannot be read.
 */
export function parseStrategy(spec: string, options: {tau?: number} = {}): SplitStrategy {
    const [name, ...args] = spec.trim().split(":");
    const bad = (why: string): never => {
        throw new StepwiseError(`split strategy "${spec}": ${why} (expected ${STRATEGY_FORMS})`);
    };
    const int = (s: string | undefined, what: string, min: number): number => {
        const n = Number(s);
        if (s === undefined || s === "" || !Number.isInteger(n) || n < min) bad(`${what} must be an integer ≥ ${min}`);
        return n;
    };
    switch (name) {
        case "adaptive": {
            if (args.length > 1) bad("too many parts");
            const tau = args.length === 1 ? Number(args[0]) : options.tau;
            if (tau === undefined) bad("adaptive needs τ (--tau, --threshold FILE, or adaptive:TAU)");
            // τ may exceed 1 by one sketch bucket (`stepwise threshold` at a very high quantile).
            if (!Number.isFinite(tau) || tau! < 0 || tau! > 1.001) bad(`τ must be a number in [0, 1], got ${args[0] ?? tau}`);
            return {kind: "adaptive", tau: tau!};
        }
        case "newline":
        case "double-newline":
            if (args.length) bad("takes no parameter");
            return {kind: name};
        case "fixed":
            if (args.length !== 1) bad("fixed needs a token count, e.g. fixed:16");
            return {kind: "fixed", tokens: int(args[0], "N", 1)};
        case "random":
            if (args.length < 1 || args.length > 2) bad("random needs a position count, e.g. random:5");
            return {kind: "random", positions: int(args[0], "K", 0), seed: args.length === 2 ? int(args[1], "SEED", 0) : 0};
        default:
            return bad("unknown strategy");
    }
}

/** The name recorded in StepsRecord.strategy: "adaptive", "newline", "fixed:16", "random:5" ("random:5:7" with a seed). */
export function strategyLabel(s: SplitStrategy): string {
    switch (s.kind) {
        case "fixed":
            return `fixed:${s.tokens}`;
        case "random":
            return s.seed ? `random:${s.positions}:${s.seed}` : `random:${s.positions}`;
        default:
            return s.kind;
    }
}

/** The src/steps rule of a split strategy: newline and double-newline are the delimiters "\n" and "\n\n". */
export function stepRule(strategy: SplitStrategy): StepRule {
    switch (strategy.kind) {
        case "newline":
            return {kind: "delimiter", text: "\n"};
        case "double-newline":
            return {kind: "delimiter", text: "\n\n"};
        default:
            return strategy;
    }
}

/** Cut one sample into steps (see the module docs and src/steps). Pure; the sample's tokens must concatenate to its text. */
export function splitSample(sample: Pick<SampleInput, "id" | "text" | "tokens">, strategy: SplitStrategy): StepSpan[] {
    return splitSteps(sample, stepRule(strategy));
}

/** A StepsRecord for a sample (same id and question fields). */
export function toStepsRecord(sample: SampleInput, strategy: SplitStrategy, steps: Step[] = splitSample(sample, strategy)): StepsRecord {
    return {
        id: sample.id,
        question_id: sample.question_id ?? sample.id.split("#")[0],
        sample_index: sample.sample_index ?? 0,
        question: sample.question ?? "",
        prompt: sample.prompt ?? "",
        text: sample.text,
        ...(sample.gold !== undefined ? {gold: sample.gold} : {}),
        strategy: strategyLabel(strategy),
        ...(strategy.kind === "adaptive" ? {tau: strategy.tau} : {}),
        steps,
    };
}

export interface SplitOptions {
    /** SampleRecord JSONL (`stepwise sample`). */
    input: string;
    /** StepsRecord JSONL; appended to, resuming by id. */
    out: string;
    strategy: SplitStrategy;
    /** Only the first `limit` samples of the input. */
    limit?: number;
    /** Called every 1000 samples and at the end, with samples read so far. */
    onProgress?: (read: number) => void;
}

export interface SplitSummary {
    /** Samples read from the input. */
    samples: number;
    written: number;
    /** Already in the output (resume). */
    skipped: number;
    /** Steps and tokens of the records written by this run. */
    steps: number;
    tokens: number;
    /** Written records with no steps (empty texts). */
    empty: number;
}

/** Split every sample of a file (streaming; memory holds only the ids already written). Output through stage.ts. */
export async function splitFile(o: SplitOptions): Promise<SplitSummary> {
    const label = strategyLabel(o.strategy);
    const tau = o.strategy.kind === "adaptive" ? o.strategy.tau : undefined;
    const stage = openStage({
        schema: StepsRecordSchema,
        name: "split",
        out: o.out,
        inputs: [o.input],
        settings: {strategy: label, tau: tau ?? null, samples: basename(o.input)},
        checkExisting: (r) =>
            r.strategy !== label || r.tau !== tau
                ? `strategy "${r.strategy}"${r.tau !== undefined ? ` (τ = ${r.tau})` : ""}, now "${label}"${tau !== undefined ? ` (τ = ${tau})` : ""}`
                : undefined,
    });
    const summary: SplitSummary = {samples: 0, written: 0, skipped: 0, steps: 0, tokens: 0, empty: 0};
    const seen = new Set<string>();
    try {
        for await (const {record, line} of readSamples(o.input)) {
            if (o.limit !== undefined && summary.samples >= o.limit) break;
            summary.samples++;
            if (seen.has(record.id)) throw new StepwiseError(`${o.input}:${line}: field "id": duplicate sample id "${record.id}"`);
            seen.add(record.id);
            if (stage.done.has(record.id)) {
                summary.skipped++;
            } else {
                const rec = toStepsRecord(record, o.strategy);
                stage.write(rec);
                summary.written++;
                summary.steps += rec.steps.length;
                summary.tokens += record.tokens.length;
                if (rec.steps.length === 0) summary.empty++;
            }
            if (summary.samples % 1000 === 0) o.onProgress?.(summary.samples);
        }
    } finally {
        stage.close();
    }
    o.onProgress?.(summary.samples);
    return summary;
}
