/**
 * `stepwise label-branches`: Monte-Carlo labels of the **alternatives** at decision tokens (branch
 * rollouts), the quantity Token-level Value-guided Decoding needs a PRM to know.
 *
 * TVD (AdaptiveStep §3.3; src/search/tvd.ts) stops at every decision token (the most likely
 * token's probability p below τ, compared as the released code does), scores the top-k candidate
 * tokens as "response so far + candidate + step tag" and keeps the best. A PRM trained only on the
 * tokens the policy sampled has never seen most of those candidates, and ranks them no better than
 * chance (docs/decoding.md). This stage labels them: for every decision of a sample (recorded with
 * `stepwise sample --top-logprobs K`), each of the top-k usable candidates is rolled out from
 * "prompt + response so far + candidate" and checked against the gold answer, as `stepwise label`
 * checks a step. `train-prm --branches FILE` then trains the tag PRM at those candidates.
 *
 * - Decisions are TVD's: p = the top alternative's probability (the sampled token's confidence
 *   when the sample was greedy), `isDecision(p, τ, cutoff)` (src/steps/cutoff.ts); defaults
 *   τ 0.55 and `percent2`, the released math settings. Candidates: `top.slice(0, k)`, usable as
 *   text (src/steps/candidates.ts), with p ≥ `minProb`; the sampled token always, first.
 * - Each candidate's `steps` are the step texts TVD sends the PRM for it: the response so far cut
 *   after each earlier decision token (src/steps cutSpans, the adaptive whitespace rule) with the
 *   candidate ending the last step.
 * - Rollouts: `rollouts` per candidate (default 1) at `temperature` (default 0: the policy's greedy
 *   continuation, what TVD's decode follows), `maxTokens` each (a budget per rollout, as
 *   `stepwise label`'s; TVD's own budget is the whole response). Rollouts that hit the limit count
 *   as failed. For a greedy sample that ended within its budget, labelled greedily with one
 *   rollout, the sampled token's continuation IS the rest of the sample: it is graded without a
 *   rollout (a truncated sample's own token is rolled out like the alternatives).
 * - `labels: "truth"` (domains with exact step truth, the lab): instead of outcome rollouts, each
 *   candidate's line is completed greedily (up to the next line break, at most `maxTokens`) and
 *   the domain's step truth (VerifierDefinition.truth) says whether "response so far + candidate"
 *   is still right: no error decided at or before the candidate's last character (the lab:
 *   src/domains/lab/verify.ts `decidedAt`). A junk token that ends its line ("N" then ".") is
 *   then wrong, where a greedy rollout that starts the line again calls it right; a digit is right
 *   when some correct value still begins with the digits so far; junk inside a line is wrong at
 *   the first token no equation step can continue with (`N` then `+`). Until 2026-12-06 the lab
 *   decided a malformed line only at its end, so such junk counted as right and TVD with these
 *   labels did worse than with rollout labels (docs/decoding.md, "Branch labels"). One short
 *   completion per candidate, the sample's own token included.
 * - `labels: "truth+rollouts"`: right only when both say so: the exact truth finds no error decided
 *   at the candidate (as "truth"), and then its rollouts reach the right answer (as "rollouts"; a
 *   candidate the truth already calls wrong is not rolled out). The truth alone judges one line: a
 *   `T` for the `F` of "Finally" starts a right line ("Then 57 - 9 = 48.") after which the policy
 *   writes another step or a wrong answer; the rollout sees that, and the truth catches the junk a
 *   rollout forgives ("N" then "." restarts the line and still reaches the answer). With one
 *   greedy rollout (the defaults) the rollout goes on from the end of the line the truth completed,
 *   which a greedy rollout from the candidate would write again first: it is not written twice
 *   (the rollout's budget is `maxTokens` less the line's tokens; a line that ended the response is
 *   graded as it is). Only when the engine says the line ended at the line break (the llama
 *   engine's `stopString`; a server that does not say falls back to the full rollout), and the
 *   same as a full greedy rollout when "\n" is one token and the text re-tokenizes to the tokens
 *   written (the lab's character vocabulary; a BPE policy may merge across the break).
 * - A decision is "mixed" when some candidate's hard label is 1 (a rollout right) and another's 0.
 * - Resumable and deterministic (seeds from (seed, sample id, decision, candidate)); records in
 *   input order (src/core/stage.ts).
 *
 * Cost per sample is recorded (`cost`), as `stepwise label` records it.
 */
import {basename} from "node:path";
import {type Engine} from "../../engines/types.ts";
import {StepwiseError} from "../../util/errors.ts";
import {readJsonl} from "../../io/jsonl.ts";
import {BranchLabelRecordSchema, parseRecord, SampleRecordSchema} from "../../core/schemas.ts";
import type {BranchLabelRecord, SampleRecord} from "../../core/records.ts";
import {openStage, resolveLazy, type Lazy} from "../../core/stage.ts";
import {blankRule, cutSpans, isDecision, usableCandidate, type Cutoff} from "../../steps/index.ts";
import {deriveSeed, hashString} from "../../util/rng.ts";
import {engineSettings, sentSettings} from "../sample.ts";
import {estimateStep} from "./estimate.ts";
import {getVerifier, makeVerifier, type StepTruthFn, type Verifier, type VerifierName} from "./verifiers.ts";

/** Where a candidate's label comes from (module docs). */
export type BranchLabelSource = "rollouts" | "truth" | "truth+rollouts";

export interface BranchSettings {
    /** Decision threshold τ on the top token's probability. Default 0.55 (AdaptiveStep, math). */
    tau?: number;
    /** How p is compared with τ (src/steps/cutoff.ts). Default "percent2" (the released TVD code). */
    cutoff?: Cutoff;
    /** Candidates per decision: the top k. Default 8 (TVD's k). */
    k?: number;
    /** Leave out candidates the policy gave less than this. Default 0 (all of the top k, as TVD). */
    minProb?: number;
    /** Rollouts per candidate. Default 1. */
    rollouts?: number;
    /** Rollout temperature. Default 0 (the greedy continuation TVD follows). */
    temperature?: number;
    /** Most tokens per rollout. Default 256. */
    maxTokens?: number;
    /** Most decisions labelled per sample (the first ones). Default all. */
    maxDecisions?: number;
    /** "rollouts" (default): outcome of rollouts from each candidate; "truth": the domain's exact step truth of the candidate's completed line; "truth+rollouts": right when both are (module docs). */
    labels?: BranchLabelSource;
    seed?: number;
}

function resolved(s: BranchSettings): Required<BranchSettings> {
    return {
        tau: s.tau ?? 0.55,
        cutoff: s.cutoff ?? "percent2",
        k: s.k ?? 8,
        minProb: s.minProb ?? 0,
        rollouts: s.rollouts ?? 1,
        temperature: s.temperature ?? 0,
        maxTokens: s.maxTokens ?? 256,
        maxDecisions: s.maxDecisions ?? Infinity,
        labels: s.labels ?? "rollouts",
        seed: s.seed ?? 0,
    };
}

/** The settings that change branch labels, stored in each record (a resume must match them). */
export function branchMethodString(s: BranchSettings): string {
    const r = resolved(s);
    const rolls = [`rollouts=${r.rollouts}`, `T=${r.temperature}`];
    const labels = r.labels === "truth" ? ["labels=truth"] : r.labels === "truth+rollouts" ? ["labels=truth+rollouts", ...rolls] : rolls;
    return [`tau=${r.tau}/${r.cutoff}`, `k=${r.k}`, `min-prob=${r.minProb}`, ...labels, `max=${r.maxTokens}`, `decisions=${r.maxDecisions}`, `seed=${r.seed}`].join(",");
}

/**
 * Label the decisions of one sample. The sample's tokens must carry `top` (its alternatives).
 * @throws StepwiseError naming `where` when a token lacks `top`.
 */
export async function labelBranches(
    sample: Pick<SampleRecord, "id" | "question_id" | "question" | "prompt" | "text" | "tokens" | "gold" | "temperature" | "finish_reason">,
    o: BranchSettings & {engine: Engine; verify: Verifier; truth?: StepTruthFn; where?: string; signal?: AbortSignal},
): Promise<BranchLabelRecord> {
    const s = resolved(o);
    const byTruth = s.labels === "truth" || s.labels === "truth+rollouts";
    if (byTruth && !o.truth) throw new StepwiseError(`label-branches: labels "${s.labels}" needs a verifier with exact step truth (the lab's)`);
    const where = o.where ?? `sample ${JSON.stringify(sample.id)}`;
    const blank = blankRule({kind: "adaptive", tau: s.tau, cutoff: s.cutoff});
    const texts = sample.tokens.map((t) => t.text);
    const cost = {rollouts: 0, generated_tokens: 0, prefix_evaluations: 0};
    const base = deriveSeed(s.seed, hashString(sample.id));
    // A greedy sample that ended within its budget is its own token's greedy completion; a truncated one is rolled out like the others.
    const ownGraded = s.labels !== "truth" && s.rollouts === 1 && s.temperature === 0 && sample.temperature === 0 && sample.finish_reason !== "length";
    let ownCorrect: boolean | undefined;
    const decisions: BranchLabelRecord["decisions"] = [];
    const cuts: number[] = [];
    let offset = 0;
    for (let j = 0; j < sample.tokens.length; offset += texts[j].length, j++) {
        const t = sample.tokens[j];
        if (!t.top || t.top.length === 0) throw new StepwiseError(`${where}: tokens[${j}] has no "top" alternatives (sample with --top-logprobs ${s.k})`);
        const p = t.top[0].prob;
        if (!isDecision(p, s.tau, s.cutoff)) continue;
        if (decisions.length < s.maxDecisions) {
            const seen = new Set<string>([t.text]);
            const alts = t.top.slice(0, s.k).filter((c) => usableCandidate(c.text) && c.prob >= s.minProb && !seen.has(c.text) && seen.add(c.text));
            const candidates = [{text: t.text, prob: t.confidence}, ...alts.map((c) => ({text: c.text, prob: c.prob}))];
            const labelled: BranchLabelRecord["decisions"][number]["candidates"] = [];
            for (let c = 0; c < candidates.length; c++) {
                const cand = candidates[c];
                const withCand = [...texts.slice(0, j), cand.text];
                const steps = cutSpans(withCand, cuts, blank).map(([a, b]) => withCand.slice(a, b).join(""));
                if (byTruth) {
                    const prefix = sample.text.slice(0, offset) + cand.text;
                    const [line] = await o.engine.generate({prompt: sample.prompt + prefix, maxTokens: s.maxTokens, temperature: 0, stop: ["\n"], topLogprobs: 0, seed: deriveSeed(base, j, c), signal: o.signal});
                    cost.rollouts++;
                    cost.generated_tokens += line.tokens.length;
                    cost.prefix_evaluations++;
                    const text = prefix + line.text;
                    const at = (start: number, end: number) => ({text: text.slice(start, end), start, end, token_start: 0, token_end: 0});
                    const right = o.truth!({question: sample.question, text, steps: text.length > prefix.length ? [at(0, prefix.length), at(prefix.length, text.length)] : [at(0, prefix.length)]}).correct[0];
                    if (s.labels === "truth" || !right) {
                        labelled.push({text: cand.text, prob: cand.prob, steps, n: 1, correct: right ? 1 : 0, truncated: 0});
                        continue;
                    }
                    // One greedy rollout from the prefix would write this same line first: go on from its end
                    // instead of writing it again (at the rest of the one rollout's budget).
                    // (The sample's own token of a greedy sample is graded from the sample, below.)
                    if (s.rollouts === 1 && s.temperature === 0 && line.finishReason !== "length" && !(c === 0 && ownGraded)) {
                        if (line.finishReason === "eos") {
                            const ok = await o.verify({question: sample.question, gold: sample.gold, solution: text});
                            labelled.push({text: cand.text, prob: cand.prob, steps, n: 1, correct: ok ? 1 : 0, truncated: 0});
                            continue;
                        }
                        const left = s.maxTokens - line.tokens.length - 1; // the line break is the line's last token
                        if (line.finishReason === "stop" && line.stopString === "\n" && left > 0) {
                            const e = await estimateStep(
                                o.engine,
                                o.verify,
                                {prompt: sample.prompt, prefix: text + "\n", question: sample.question, gold: sample.gold, seed: deriveSeed(base, j, c), signal: o.signal},
                                {k: 1, minCorrect: 1, earlyStop: false, temperature: 0, maxTokens: left},
                            );
                            cost.rollouts += e.drawn;
                            cost.generated_tokens += e.generatedTokens;
                            cost.prefix_evaluations += e.requests;
                            labelled.push({text: cand.text, prob: cand.prob, steps, n: e.n, correct: e.correct, truncated: e.truncated});
                            continue;
                        }
                    }
                }
                if (c === 0 && ownGraded) {
                    ownCorrect ??= await o.verify({question: sample.question, gold: sample.gold, solution: sample.text});
                    labelled.push({text: cand.text, prob: cand.prob, steps, n: 1, correct: ownCorrect ? 1 : 0, truncated: 0});
                    continue;
                }
                const e = await estimateStep(
                    o.engine,
                    o.verify,
                    {prompt: sample.prompt, prefix: sample.text.slice(0, offset) + cand.text, question: sample.question, gold: sample.gold, seed: deriveSeed(base, j, c), signal: o.signal},
                    {k: s.rollouts, minCorrect: 1, earlyStop: false, temperature: s.temperature, maxTokens: s.maxTokens},
                );
                cost.rollouts += e.drawn;
                cost.generated_tokens += e.generatedTokens;
                cost.prefix_evaluations += e.requests;
                labelled.push({text: cand.text, prob: cand.prob, steps, n: e.n, correct: e.correct, truncated: e.truncated});
            }
            decisions.push({position: j, offset, top_prob: p, candidates: labelled});
        }
        cuts.push(j + 1);
    }
    return {
        id: sample.id,
        question_id: sample.question_id,
        question: sample.question,
        prompt: sample.prompt,
        ...(sample.gold !== undefined ? {gold: sample.gold} : {}),
        tau: s.tau,
        cutoff: s.cutoff,
        decisions,
        cost,
        method: branchMethodString(o),
    };
}

export interface BranchFileOptions extends BranchSettings {
    /** The policy that drew the samples, or a function that loads it (closed at the end). */
    engine: Lazy<Engine>;
    /** Engine spec, for the settings fingerprint. */
    engineSpec?: string;
    /** A registered verifier's name (src/pipeline/label/verifiers.ts) or a verifier function. */
    verifier: VerifierName | Verifier;
    /** SampleRecord JSONL (`stepwise sample --top-logprobs K`). */
    input: string;
    out: string;
    /** Samples labelled at once. Default 2. */
    concurrency?: number;
    limit?: number;
    /** Label only the records whose index i has i % count === index. */
    shard?: {index: number; count: number};
    onProgress?: (done: number, total: number) => void;
}

export interface BranchSummary {
    samples: number;
    written: number;
    skipped: number;
    decisions: number;
    candidates: number;
    /** Decisions whose candidates lead to different outcomes (some right, some wrong). */
    mixed_decisions: number;
    /** Of the mixed decisions, how often the sample's own token was a right one. */
    mixed_own_right: number;
    rollouts: number;
    generated_tokens: number;
    generated_tokens_per_sample: number;
}

export function summarizeBranches(records: readonly BranchLabelRecord[], written = records.length, skipped = 0): BranchSummary {
    let decisions = 0;
    let candidates = 0;
    let mixed = 0;
    let ownRight = 0;
    let rollouts = 0;
    let tokens = 0;
    for (const r of records) {
        rollouts += r.cost.rollouts;
        tokens += r.cost.generated_tokens;
        for (const d of r.decisions) {
            decisions++;
            candidates += d.candidates.length;
            const right = d.candidates.map((c) => c.correct > 0);
            if (right.some(Boolean) && !right.every(Boolean)) {
                mixed++;
                if (right[0]) ownRight++;
            }
        }
    }
    return {samples: records.length, written, skipped, decisions, candidates, mixed_decisions: mixed, mixed_own_right: ownRight, rollouts, generated_tokens: tokens, generated_tokens_per_sample: records.length ? tokens / records.length : 0};
}

/** Label the decisions of every sample of a SampleRecord JSONL file into `out`, resuming what is there. */
export async function labelBranchesFile(o: BranchFileOptions): Promise<BranchSummary> {
    const method = branchMethodString(o);
    // Before anything is opened: --labels truth (and truth+rollouts) needs the domain's step truth.
    const byTruth = o.labels === "truth" || o.labels === "truth+rollouts";
    const truth = byTruth ? (typeof o.verifier === "string" ? getVerifier(o.verifier).truth : undefined) : undefined;
    if (byTruth && !truth) throw new StepwiseError(`label-branches: --labels ${o.labels} needs a verifier with exact step truth (${typeof o.verifier === "string" ? `"${o.verifier}" has none` : "a registered one, by name"}; the lab's: --verifier lab)`);
    const verifierName = typeof o.verifier === "function" ? o.verifier.name || "custom" : o.verifier;
    const r = resolved(o);
    const stage = openStage({
        schema: BranchLabelRecordSchema,
        name: "label-branches",
        out: o.out,
        inputs: [o.input],
        settings: {
            engine: engineSettings(o.engineSpec ?? "", o.engine),
            in: basename(o.input),
            method,
            verifier: verifierName,
            labels: r.labels,
            shard: o.shard ? `${o.shard.index}/${o.shard.count}` : null,
            sent: sentSettings(o.engineSpec ?? "", o.engine, {temperature: r.temperature, maxTokens: r.maxTokens}),
        },
        checkExisting: (x) => (x.method !== method ? `${x.method}, now ${method}` : undefined),
    });
    let engine: Engine | undefined;
    let created = false;
    try {
        const verify = typeof o.verifier === "function" ? o.verifier : await makeVerifier(o.verifier);
        const inputs: Array<{record: SampleRecord; line: number}> = [];
        let index = -1;
        for await (const {record, line} of readJsonl(o.input)) {
            index++;
            if (o.shard && index % o.shard.count !== o.shard.index) continue;
            if (o.limit !== undefined && inputs.length >= o.limit) break;
            const parsed = parseRecord(SampleRecordSchema, record, `${o.input}:${line}`);
            if (parsed.tokens.length > 0 && !parsed.tokens.some((t) => t.top && t.top.length > 0))
                throw new StepwiseError(`${o.input}:${line}: field "tokens": no token has "top" alternatives (sample with --top-logprobs ${r.k})`);
            inputs.push({record: parsed, line});
        }
        const todo = inputs.filter((x) => !stage.done.has(x.record.id));
        ({value: engine, created} = await resolveLazy(o.engine));
        const eng = engine;
        const fresh: BranchLabelRecord[] = [];
        const before = inputs.length - todo.length;
        const rolloutEngine = o.engineSpec ?? `${eng.info.kind}:${eng.info.model}`;
        await stage.runOrdered(
            todo,
            async (x, _i, signal) => ({...(await labelBranches(x.record, {...o, engine: eng, verify, truth, signal, where: `${o.input}:${x.line}`})), rollout_engine: rolloutEngine}),
            {
                concurrency: o.concurrency ?? 2,
                where: (x) => `${o.input}:${x.line} id ${JSON.stringify(x.record.id)}`,
                onWritten: (x) => fresh.push(x as BranchLabelRecord),
                onProgress: (d) => o.onProgress?.(before + d, inputs.length),
            },
        );
        return summarizeBranches([...stage.existing, ...fresh], fresh.length, stage.existing.length);
    } finally {
        stage.close();
        if (created) await engine?.close();
    }
}
