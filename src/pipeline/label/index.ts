/**
 * `stepwise label`: Monte-Carlo step labels (Math-Shepherd / Qwen recipe, AdaptiveStep's labels)
 * with the cost savers, each recorded in the output:
 * - stop after the first negative step (Qwen recipe);
 * - early stop for hard labels (stop sampling a step once `minCorrect` rollouts succeeded);
 * - binary search for the first negative step (OmegaPRM);
 * - prefix reuse: the llama engine evaluates a step prefix once for its K rollouts (and reuses
 *   the previous step's prefix); the OpenAI engine sends the K rollouts as one request with n = K.
 *
 * Resumable and deterministic: every step's rollouts are seeded from (seed, sample id, step);
 * records are written in input order, so an interrupted file is always a prefix of the full
 * output and re-running the same command completes it into the file an uninterrupted run
 * writes.
 */
import {existsSync} from "node:fs";
import {basename} from "node:path";
import {type Engine} from "../../engines/types.ts";
import {StepwiseError} from "../../util/errors.ts";
import {readJsonl} from "../../io/jsonl.ts";
import {goldProblem, requireGold} from "../../io/dataset.ts";
import {LabelRecordSchema, parseRecord, StepsInputSchema} from "../../core/schemas.ts";
import {engineSettings, sentSettings} from "../sample.ts";
import {openStage, resolveLazy, type Lazy} from "../../core/stage.ts";
import {deriveSeed, hashString} from "../../util/rng.ts";
import type {LabelRecord, StepsInput} from "../../core/records.ts";
import {estimateStep, type RolloutSettings, type StepEstimate, type TruncatedPolicy} from "./estimate.ts";
import {binarySearch, hybridSearch, linearSearch, type SearchMode} from "./strategies.ts";
import {checkVerifierArgs, getVerifier, makeVerifier, type StepTruthFn, type Verifier, type VerifierArgs, type VerifierName} from "./verifiers.ts";
import {compareWithTruth, type TruthAgreement} from "./truth.ts";

export {compareWithTruth, type StepTruth, type TruthAgreement} from "./truth.ts";
export {DEFAULT_VERIFIER, checkVerifierArgs, getVerifier, makeVerifier, parseVerifierArgs, registerVerifier, verifierArgsHelp, verifierNames, type StepTruthFn, type Verifier, type VerifierArgs, type VerifierArgument, type VerifierDefinition, type VerifierInput, type VerifierName} from "./verifiers.ts";

export interface LabelSettings {
    /** Rollouts per step (K). Default 8. */
    k?: number;
    /** Hard label positive when ≥ minCorrect of K rollouts succeed. Default 1. */
    minCorrect?: number;
    /** Qwen recipe: stop labelling a sample after its first negative step. Default true. */
    stopAfterNegative?: boolean;
    /** Stop sampling a step once minCorrect rollouts succeeded (hard labels). Default false. */
    earlyStop?: boolean;
    /** Rollouts per request when early stopping. Default 2. */
    chunk?: number;
    search?: SearchMode;
    temperature?: number;
    maxTokens?: number;
    seed?: number;
    /**
     * How rollouts that hit maxTokens before an answer count: "fail" (default, as in the
     * Math-Shepherd / Qwen recipes) or "skip" (left out of the estimate). See estimate.ts.
     */
    truncated?: TruncatedPolicy;
}

/** A label record as `stepwise label` writes it (with `truth` when asked for). */
export type LabelledRecord = LabelRecord;

export interface LabelOptions extends LabelSettings {
    engine: Engine;
    /** A registered verifier's name (src/pipeline/label/verifiers.ts) or a verifier function. */
    verifier: VerifierName | Verifier;
    /** Attach this exact step truth to each record (e.g. the lab's, `getVerifier("lab").truth`) and compare MC labels with it in the summary. */
    truth?: StepTruthFn;
}

function resolved(s: LabelSettings): Required<Omit<LabelSettings, "chunk">> & {chunk: number} {
    return {
        k: s.k ?? 8,
        minCorrect: s.minCorrect ?? 1,
        stopAfterNegative: s.stopAfterNegative ?? true,
        earlyStop: s.earlyStop ?? false,
        chunk: s.chunk ?? 2,
        search: s.search ?? "linear",
        temperature: s.temperature ?? 1,
        maxTokens: s.maxTokens ?? 256,
        seed: s.seed ?? 0,
        truncated: s.truncated ?? "fail",
    };
}

/** A short description of the settings that change labels; stored in each record. */
export function methodString(s: LabelSettings): string {
    const r = resolved(s);
    return [
        `K=${r.k}`,
        `k=${r.minCorrect}`,
        `T=${r.temperature}`,
        `max=${r.maxTokens}`,
        `seed=${r.seed}`,
        r.search,
        ...(r.search === "linear" && r.stopAfterNegative ? ["stop-after-negative"] : []),
        ...(r.earlyStop ? [`early-stop/${r.chunk}`] : []),
        ...(r.truncated === "skip" ? ["truncated=skip"] : []),
    ].join(",");
}

/** Label one split sample. */
export async function labelSample(record: StepsInput, o: LabelOptions & {verify: Verifier; signal?: AbortSignal}): Promise<LabelledRecord> {
    const s = resolved(o);
    const settings: RolloutSettings = {k: s.k, minCorrect: s.minCorrect, earlyStop: s.earlyStop, chunk: s.chunk, temperature: s.temperature, maxTokens: s.maxTokens, truncated: s.truncated};
    const base = deriveSeed(s.seed, hashString(record.id));
    // A numeric gold is graded as its text; null (refused before, when the verifier needs gold) as none.
    const gold = typeof record.gold === "number" ? String(record.gold) : (record.gold ?? undefined);
    const cost = {rollouts: 0, generated_tokens: 0, prefix_evaluations: 0};
    const cache = new Map<number, StepEstimate>();
    const estimate = async (i: number) => {
        const hit = cache.get(i);
        if (hit) return hit;
        const e = await estimateStep(
            o.engine,
            o.verify,
            {prompt: record.prompt, prefix: record.text.slice(0, record.steps[i].end), question: record.question, gold, seed: deriveSeed(base, i), signal: o.signal},
            settings,
        );
        cost.rollouts += e.drawn;
        cost.generated_tokens += e.generatedTokens;
        cost.prefix_evaluations += e.requests;
        cache.set(i, e);
        return e;
    };
    const ctx = {
        steps: record.steps.length,
        k: s.k,
        minCorrect: s.minCorrect,
        estimate,
        sampleCorrect: () => o.verify({question: record.question, gold, solution: record.text}),
    };
    const labels = s.search === "binary" ? await binarySearch(ctx) : s.search === "hybrid" ? await hybridSearch(ctx) : await linearSearch(ctx, s.stopAfterNegative);
    const out: LabelledRecord = {
        ...record,
        hard: labels.hard,
        soft: labels.soft,
        rollouts: labels.rollouts,
        first_negative: labels.firstNegative,
        cost,
        method: methodString(o),
    };
    if (o.truth) out.truth = o.truth(record);
    return out;
}

export interface LabelFileOptions extends Omit<LabelOptions, "engine"> {
    /** The policy, or a function that loads it (called after the output checks; closed at the end). */
    engine: Lazy<Engine>;
    /** Engine spec, for the settings fingerprint (default: the engine's kind and model). */
    engineSpec?: string;
    /**
     * Arguments of the named verifier (its `args`, e.g. `{problems: "problems.jsonl"}` for `code`);
     * checked before any work; file arguments are checked like the input, and all are part of the
     * settings a resume must match. Ignored with a verifier function.
     */
    verifierArgs?: VerifierArgs;
    input: string;
    out: string;
    /** Samples labelled at once. Default 2. */
    concurrency?: number;
    limit?: number;
    /** Label only the records whose index i has i % count === index (run shards in parallel processes). */
    shard?: {index: number; count: number};
    /** Skip (and count) samples whose rollout prompts do not fit the context, instead of stopping. */
    skipTooLong?: boolean;
    /**
     * With a verifier that grades against `gold` (math): skip (and count, in `no_gold`) records
     * whose gold is missing, null or empty, instead of stopping with an error naming the first
     * one (file:line, field). Default false.
     */
    skipNoGold?: boolean;
    onProgress?: (done: number, total: number) => void;
}

export interface LabelSummary {
    samples: number;
    written: number;
    skipped: number;
    steps: number;
    rollouts: number;
    generated_tokens: number;
    prefix_evaluations: number;
    rollouts_per_sample: number;
    generated_tokens_per_sample: number;
    positive_steps: number;
    negative_steps: number;
    unlabelled_steps: number;
    /** Rollouts that hit max tokens before an answer, and their share of all rollouts drawn. */
    truncated_rollouts: number;
    truncated_share: number;
    truth?: TruthAgreement;
    /** Samples skipped because a prompt did not fit the context (with skipTooLong). */
    too_long?: Array<{where: string; message: string}>;
    /** Records skipped because their gold answer is missing, null or empty (with skipNoGold): where (`file:line`), and why. */
    no_gold?: Array<{where: string; message: string}>;
}

/** Share of truncated rollouts above which `stepwise label` warns. */
export const TRUNCATED_WARN_SHARE = 0.02;

export function summarizeLabels(records: LabelledRecord[], written = records.length, skipped = 0): LabelSummary {
    const sum = (f: (r: LabelledRecord) => number) => records.reduce((a, r) => a + f(r), 0);
    const n = records.length || 1;
    const summary: LabelSummary = {
        samples: records.length,
        written,
        skipped,
        steps: sum((r) => r.steps.length),
        rollouts: sum((r) => r.cost.rollouts),
        generated_tokens: sum((r) => r.cost.generated_tokens),
        prefix_evaluations: sum((r) => r.cost.prefix_evaluations),
        rollouts_per_sample: sum((r) => r.cost.rollouts) / n,
        generated_tokens_per_sample: sum((r) => r.cost.generated_tokens) / n,
        positive_steps: sum((r) => r.hard.filter((h) => h === 1).length),
        negative_steps: sum((r) => r.hard.filter((h) => h === 0).length),
        unlabelled_steps: sum((r) => r.hard.filter((h) => h === null).length),
        truncated_rollouts: sum((r) => r.rollouts.reduce((a, x) => a + (x.truncated ?? 0), 0)),
        truncated_share: 0,
    };
    summary.truncated_share = summary.rollouts > 0 ? summary.truncated_rollouts / summary.rollouts : 0;
    if (records.some((r) => r.truth)) summary.truth = compareWithTruth(records);
    return summary;
}

/** Label every record of a StepsRecord JSONL file into `out`, resuming what is already there (stage.ts). */
export async function labelFile(o: LabelFileOptions): Promise<LabelSummary> {
    const method = methodString(o);
    const verifierName = typeof o.verifier === "function" ? o.verifier.name || "custom" : o.verifier;
    const args = typeof o.verifier === "function" ? {} : (o.verifierArgs ?? {});
    const declared = typeof o.verifier === "function" ? {} : (getVerifier(o.verifier).args ?? {});
    if (typeof o.verifier !== "function") checkVerifierArgs(o.verifier, args);
    const argFiles = Object.entries(args).filter(([k]) => declared[k]?.file);
    for (const [key, f] of argFiles) if (!existsSync(f)) throw new StepwiseError(`verifier "${verifierName}": argument ${key}=${f}: no such file`);
    const stage = openStage({
        schema: LabelRecordSchema,
        name: "label",
        out: o.out,
        inputs: [o.input, ...argFiles.map(([, file]) => file)],
        settings: {
            engine: engineSettings(o.engineSpec ?? "", o.engine),
            in: basename(o.input),
            method,
            verifier: verifierName,
            // only when given, so outputs of verifiers without arguments resume as before
            ...(Object.keys(args).length ? {verifier_args: Object.fromEntries(Object.entries(args).map(([k, v]) => [k, declared[k]?.file ? basename(v) : v]))} : {}),
            truth: o.truth !== undefined,
            shard: o.shard ? `${o.shard.index}/${o.shard.count}` : null,
            // What the rollouts send (or apply in-process), penalties and seed rule included.
            sent: sentSettings(o.engineSpec ?? "", o.engine, {temperature: resolved(o).temperature, maxTokens: resolved(o).maxTokens}),
        },
        checkExisting: (r) => (r.method !== method ? `${r.method}, now ${method}` : undefined),
    });
    let engine: Engine | undefined;
    let created = false;
    try {
        const verify = typeof o.verifier === "function" ? o.verifier : await makeVerifier(o.verifier, args);
        const inputs: Array<{record: StepsInput; line: number}> = [];
        const needsGold = typeof o.verifier !== "function" && getVerifier(o.verifier).gold === true;
        const noGold: Array<{where: string; message: string}> = [];
        let index = -1;
        for await (const {record, line} of readJsonl(o.input)) {
            index++;
            if (o.shard && index % o.shard.count !== o.shard.index) continue;
            if (o.limit !== undefined && inputs.length >= o.limit) break;
            const where = `${o.input}:${line}`;
            const parsed = parseRecord(StepsInputSchema, record, where);
            // Checked before any rollout: an empty gold would label every step negative.
            if (needsGold && goldProblem(parsed.gold) !== undefined) {
                if (!o.skipNoGold) requireGold(parsed.gold, where, "gold", "--skip-no-gold");
                noGold.push({where, message: goldProblem(parsed.gold)!});
                continue;
            }
            inputs.push({record: parsed, line});
        }
        const todo = inputs.filter((r) => !stage.done.has(r.record.id));
        ({value: engine, created} = await resolveLazy(o.engine));
        const eng = engine;
        const fresh: LabelledRecord[] = [];
        const before = inputs.length - todo.length;
        const rolloutEngine = o.engineSpec ?? `${eng.info.kind}:${eng.info.model}`;
        const run = await stage.runOrdered(todo, async (r, _i, signal) => ({...(await labelSample(r.record, {...o, engine: eng, verify, signal})), rollout_engine: rolloutEngine}), {
            concurrency: o.concurrency ?? 2,
            where: (r) => `${o.input}:${r.line} id ${JSON.stringify(r.record.id)}`,
            skipTooLong: o.skipTooLong,
            onWritten: (r) => fresh.push(r as LabelledRecord),
            onProgress: (d) => o.onProgress?.(before + d, inputs.length),
        });
        const summary = summarizeLabels([...stage.existing, ...fresh], fresh.length, stage.existing.length);
        if (run.tooLong.length) summary.too_long = run.tooLong;
        if (noGold.length) summary.no_gold = noGold;
        return summary;
    } finally {
        stage.close();
        if (created) await engine?.close();
    }
}
