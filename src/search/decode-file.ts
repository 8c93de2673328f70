/**
 * The `stepwise decode` stage: run one strategy on every question of a data set and write one
 * {@link DecodeRecord} per question, in input order, resuming what the output already holds.
 *
 * Built on the resumable-stage helper (src/core/stage.ts): the output is locked while a run
 * writes it, a torn last line is cut, and `<out>.settings.json` fingerprints every setting that
 * changes the result (the strategy `method`, the policy and PRM models, the data file, template,
 * fields), so resuming with any of them changed is refused, naming the difference. Records also
 * carry `method`. A question whose decoding failed (e.g. a PRM server that kept failing after the
 * engine's retries) stops the run naming its file:line and id; everything before it stays written.
 * A solution that reaches the policy's or the PRM's context end is not a failure: it ends there,
 * unfinished (see each strategy and `context_end`). A question whose prompt alone fills the
 * policy's context is one; with `skipTooLong` it is skipped, listed in `tooLong` and written no
 * record (a re-run tries it again).
 */
import {basename} from "node:path";
import type {z} from "zod";
import {type Engine} from "../engines/types.ts";
import {StepwiseError} from "../util/errors.ts";
import {readQuestions, requireGold, type DatasetFields} from "../io/dataset.ts";
import {existsSync} from "node:fs";
import {engineFingerprint, openStage} from "../core/stage.ts";
import {DecodeRecordSchema, readRecordsAll} from "../core/schemas.ts";
import {prmSettings} from "../pipeline/score.ts";
import {checkTemplate, questionPrompt, renderPrompt, sentSettings} from "../pipeline/sample.ts";
import {defaultGrader, type AnswerGrader} from "../grade/grader.ts";
import type {SearchPrm} from "./prm.ts";
import {STRATEGY_FUNCTIONS} from "./strategies.ts";
import {differenceSentence, intervalJson, type IntervalJson, mcnemarExact, pairedBootstrap, wilsonInterval} from "../stats/intervals.ts";
import {resolveConfig, STRATEGIES, type DecodeResult, type SearchConfig, type SearchProblem, type StrategyName, type Strategy} from "./types.ts";

/** One line of a `stepwise decode` output file (schema: core/schemas.ts {@link DecodeRecordSchema}). */
export type DecodeRecord = z.output<typeof DecodeRecordSchema>;

/** The settings that change a strategy's result, as one string. */
export function methodOf(strategy: StrategyName, c: SearchConfig): string {
    const step = c.stepEnd.kind === "adaptive" ? "adaptive" : JSON.stringify(c.stepEnd.text);
    // τ and how p is compared with it ("percent2": the released TVD code's two-decimal percents).
    const tau = `tau=${c.tau}${c.cutoff === "percent2" ? " (percent2)" : ""}`;
    const common = `max_tokens=${c.maxTokens}${c.stop.length ? ` stop=${JSON.stringify(c.stop)}` : ""}`;
    switch (strategy) {
        case "greedy":
            return `greedy ${common}`;
        case "tvd":
            return `tvd ${tau} k=${c.topK}${c.minCandidateProb ? ` min_prob=${c.minCandidateProb}` : ""}${c.scoreMargin ? ` margin=${c.scoreMargin}` : ""}${c.priorWeight ? ` prior_weight=${c.priorWeight}` : ""}${c.codeBlocksOnly ? " code-blocks-only" : ""} ${common}`;
        case "best-of-n":
        case "weighted-vote":
            return `${strategy} n=${c.n} T=${c.temperature} top_p=${c.topP} agg=${strategy === "best-of-n" ? c.aggregation : c.voteAggregation} steps=${step} ${tau}${c.allowUnfinished ? " allow-unfinished" : ""} seed=${c.seed} ${common}`;
        case "beam":
        case "dvts":
            return `${strategy} n=${c.n} M=${c.beamWidth} T=${c.temperature} top_p=${c.topP} steps=${step} ${tau} max_steps=${c.maxSteps} agg=${c.beamAggregation}${strategy === "beam" ? ` beam_stop=${c.beamStop}${c.sortCompleted ? " sort-completed" : ""}` : ` pool=${c.dvtsPool}`}${c.allowUnfinished ? " allow-unfinished" : ""} seed=${c.seed} ${common}`;
    }
}

export interface DecodeFileOptions {
    strategy: StrategyName;
    /** The strategy function (default: the one named; tests and viewers may pass their own). */
    run?: Strategy;
    policy: Engine;
    prm?: SearchPrm;
    config?: Partial<SearchConfig>;
    grader?: AnswerGrader;
    data: string;
    out: string;
    /** Engine specs, fingerprinted into the output's settings file (resuming with another model is refused). */
    policySpec?: string;
    prmSpec?: string;
    fields?: DatasetFields;
    /** Prompt template; `{question}` is replaced. Default "{question}\n" (the lab policy's prompt). */
    template?: string;
    /** Wrap the templated question as a user message in the policy's chat template. */
    chat?: boolean;
    system?: string;
    limit?: number;
    /**
     * Another decode output on the same questions (e.g. greedy's, when this run is TVD): the
     * summary then carries `paired`, this run − that file, paired by question id ({@link pairedDifference}).
     */
    pairedWith?: string;
    /** Questions in flight at once. Default 2. */
    concurrency?: number;
    /** Skip (and list in the summary's `tooLong`) questions whose prompt alone fills the policy's context, instead of stopping. */
    skipTooLong?: boolean;
    onProgress?: (done: number, total: number) => void;
}

export interface DecodeSummary {
    strategy: string;
    /** Records in the output file. */
    n: number;
    /** Share correct among records with a known gold answer (null when none has one). */
    accuracy: number | null;
    /** 95% Wilson interval of the accuracy (src/stats), null when no record has a gold answer. */
    ci95: [number, number] | null;
    /** The accuracy as `{value, low, high, n, method: "wilson", level}` (fractions; n = records with gold), null with it. */
    accuracy_ci: IntervalJson | null;
    /** With {@link DecodeFileOptions.pairedWith}: this run − that file, paired by question. */
    paired?: PairedDifference & {against: string};
    policy_tokens_per_question: number;
    prm_calls_per_question: number;
    requests_per_question: number;
    /** Wall time of this run (resumed records are not timed again), seconds. */
    wall_s: number;
    /** Records written by this run and found already written. */
    decoded: number;
    skipped: number;
    /** With skipTooLong: questions skipped because their prompt fills the policy's context (no record written). */
    tooLong?: Array<{where: string; message: string}>;
}

/** The paired comparison of two decode record files ({@link pairedDifference}). */
export interface PairedDifference {
    /** Questions both files answered with a known gold answer. */
    n: number;
    /** Accuracy of A and of B on those questions (0..1). */
    a: number;
    b: number;
    /** B − A (accuracy points as a fraction, may be negative). */
    diff: number;
    /** 95% paired percentile bootstrap interval of `diff` (src/stats; 2,000 resamples of the questions, seed 0). */
    ci95: [number, number];
    ci_method: "paired-bootstrap-percentile";
    /** Questions only B / only A got right. */
    b_only: number;
    a_only: number;
    /** Exact two-sided McNemar p-value of the two files' outcomes. */
    mcnemar_p: number;
    /** `diff` as `{value, low, high, n, method, level}` (fractions). */
    interval: IntervalJson;
    /** "B − A: +5.0 points; the difference is (not) significant at 95%: interval … points, n …" ({@link differenceSentence}). */
    sentence: string;
}

/**
 * Paired difference of accuracy, B − A, over the questions both files answered with a known gold
 * answer (matched by id), with src/stats' paired bootstrap interval and exact McNemar test.
 * Errors: StepwiseError when the files share no such question.
 */
export function pairedDifference(a: ReadonlyArray<Pick<DecodeRecord, "id" | "correct">>, b: ReadonlyArray<Pick<DecodeRecord, "id" | "correct">>, names: [string, string] = ["A", "B"]): PairedDifference {
    const byId = new Map(a.filter((r) => r.correct !== undefined).map((r) => [r.id, r.correct ? 1 : 0]));
    const xs: number[] = [];
    const ys: number[] = [];
    for (const r of b) {
        const x = byId.get(r.id);
        if (x === undefined || r.correct === undefined) continue;
        xs.push(x);
        ys.push(r.correct ? 1 : 0);
    }
    const n = xs.length;
    if (n === 0) throw new StepwiseError("pairedDifference: the two files share no question with a gold answer");
    const d = pairedBootstrap(xs, ys);
    const t = mcnemarExact(xs, ys);
    const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / n;
    return {
        n,
        a: mean(xs),
        b: mean(ys),
        diff: d.value,
        ci95: [d.low, d.high],
        ci_method: "paired-bootstrap-percentile",
        b_only: t.b_only,
        a_only: t.a_only,
        mcnemar_p: t.value,
        interval: intervalJson(d),
        sentence: differenceSentence(`${names[1]} − ${names[0]}`, d),
    };
}

/**
 * The paired difference of `records` (B) against the decode output `file` (A), named by their
 * strategies. Errors: StepwiseError naming the file when it is missing, a line is not JSON, or
 * it shares no graded question with `records`.
 */
export async function pairedWithFile(file: string, records: ReadonlyArray<DecodeRecord>): Promise<PairedDifference & {against: string}> {
    if (!existsSync(file)) throw new StepwiseError(`--paired-with ${file}: no such file`);
    const other = await readRecordsAll(file, DecodeRecordSchema);
    const nameOf = (rs: ReadonlyArray<DecodeRecord>, fallback: string) => (typeof rs[0]?.strategy === "string" ? rs[0].strategy : fallback);
    try {
        return {...pairedDifference(other, records, [nameOf(other, basename(file)), nameOf(records, "this run")]), against: file};
    } catch (e) {
        throw e instanceof StepwiseError ? new StepwiseError(`--paired-with ${file}: shares no question with a gold answer with this run's output`) : e;
    }
}

/** Summary of decode records (the `--json` object). */
export function summarizeDecode(strategy: string, records: ReadonlyArray<DecodeRecord>, wallS: number, decoded = records.length): DecodeSummary {
    const n = records.length;
    const graded = records.filter((r) => r.correct !== undefined);
    const acc = graded.length ? wilsonInterval(graded.filter((r) => r.correct).length, graded.length) : null;
    const per = (f: (r: DecodeRecord) => number) => (n ? records.reduce((s, r) => s + f(r), 0) / n : 0);
    return {
        strategy,
        n,
        accuracy: acc ? acc.value : null,
        ci95: acc ? [acc.low, acc.high] : null,
        accuracy_ci: acc ? intervalJson(acc) : null,
        policy_tokens_per_question: per((r) => r.tokens),
        prm_calls_per_question: per((r) => r.prm_calls),
        requests_per_question: per((r) => r.requests),
        wall_s: wallS,
        decoded,
        skipped: n - decoded,
    };
}

/** The policy's sampling of a strategy: greedy and TVD decode at temperature 0, the others sample at the config's temperature and top-p. */
function policySampling(strategy: StrategyName, config: SearchConfig): {temperature: number; topP?: number; maxTokens: number; stop: string[]} {
    const greedy = strategy === "greedy" || strategy === "tvd";
    return {temperature: greedy ? 0 : config.temperature, ...(greedy ? {} : {topP: config.topP}), maxTokens: config.maxTokens, stop: config.stop};
}

/** Decode every question of `data` into `out` (see the module docs). */
export async function decodeFile(o: DecodeFileOptions): Promise<DecodeSummary> {
    if (!STRATEGIES.includes(o.strategy)) throw new StepwiseError(`unknown strategy "${o.strategy}" (known: ${STRATEGIES.join(", ")})`);
    const run = o.run ?? STRATEGY_FUNCTIONS[o.strategy];
    if (o.pairedWith !== undefined && !existsSync(o.pairedWith)) throw new StepwiseError(`--paired-with ${o.pairedWith}: no such file`);
    const config = resolveConfig(o.config);
    const method = methodOf(o.strategy, config);
    const grader = o.grader ?? defaultGrader();
    const t0 = Date.now();
    const template = checkTemplate(o.template);
    const stage = openStage({
        schema: DecodeRecordSchema,
        name: "decode",
        out: o.out,
        inputs: [o.data],
        settings: {
            method,
            policy: o.policySpec ? engineFingerprint(o.policySpec) : null,
            prm: o.strategy !== "greedy" && o.prmSpec ? prmSettings(o.prmSpec, {stepsOnly: o.strategy !== "tvd"}) : null,
            in: basename(o.data),
            template,
            chat: o.chat ? (o.system ?? "") : null,
            fields: {question: o.fields?.question ?? null, id: o.fields?.id ?? null, answer: o.fields?.answer ?? null},
            // What the policy is sent (or applies in-process); max_tokens is the solution's budget, which requests share.
            sent: sentSettings(o.policySpec ?? "", o.policy, policySampling(o.strategy, config)),
        },
        checkExisting: (r) => (r.method !== method ? `decoded as "${r.method}", now "${method}"` : undefined),
    });
    try {
        const problems: Array<SearchProblem & {where: string; text: string}> = [];
        for await (const row of readQuestions(o.data, o.fields, o.limit)) {
            // An answer field that is present but null or empty is a data fault, not "no gold" (which is the field's absence).
            if (row.answerField !== undefined) requireGold(row.row[row.answerField], row.where, row.answerField);
            problems.push({id: row.id, question: row.question, prompt: "", text: renderPrompt(template, row.question), gold: row.answer, where: row.where});
        }
        const todo = problems.filter((p) => !stage.done.has(p.id));
        const before = problems.length - todo.length;
        o.onProgress?.(before, problems.length);
        const ran = await stage.runOrdered(
            todo,
            async (p) => {
                const start = Date.now();
                const prompt = await questionPrompt(o.policy, p.text, o);
                const r = await run({id: p.id, question: p.question, prompt, gold: p.gold}, {policy: o.policy, prm: o.prm, config, grader});
                const goldAnswer = p.gold !== undefined ? grader.extract(p.gold) : null;
                return {
                    id: p.id,
                    question: p.question,
                    ...r,
                    ...(goldAnswer !== null ? {gold: goldAnswer, correct: r.answer !== null && grader.equal(goldAnswer, r.answer)} : {}),
                    method,
                    wall_s: (Date.now() - start) / 1000,
                };
            },
            {
                concurrency: o.concurrency ?? 2,
                where: (p) => `${p.where} id ${JSON.stringify(p.id)}`,
                skipTooLong: o.skipTooLong,
                onProgress: (d) => o.onProgress?.(before + d, problems.length),
            },
        );
        const byId = new Map((await readRecordsAll(o.out, DecodeRecordSchema)).map((r) => [r.id, r]));
        const records = problems.map((p) => byId.get(p.id)).filter((r): r is DecodeRecord => r !== undefined);
        const summary = summarizeDecode(o.strategy, records, (Date.now() - t0) / 1000, todo.length - ran.tooLong.length);
        const withPaired = o.pairedWith ? {...summary, paired: await pairedWithFile(o.pairedWith, records)} : summary;
        return ran.tooLong.length ? {...withPaired, tooLong: ran.tooLong} : withPaired;
    } finally {
        stage.close();
    }
}
