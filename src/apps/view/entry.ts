/**
 * What the viewer page shows for one entry and for one question, built on the server (or at
 * static export) from the records of every file that share the entry's id, so the page itself
 * only draws.
 */
import {extractAnswer} from "../../grade/index.ts";
import {isFinished} from "../../grade/finished.ts";
import {AGGREGATIONS, aggregate, type Aggregation} from "../../select/aggregate.ts";
import {selectBestOfN} from "../../select/best-of-n.ts";
import {majorityVote} from "../../select/vote.ts";
import type {ViewKind, ViewStore, ViewSummary} from "./store.ts";

/** One token: text, confidence, and the top alternatives as [text, probability] pairs. */
export interface ViewToken {
    t: string;
    p: number;
    top?: Array<[string, number]>;
}

/** One step of one split, with whatever labels and scores the files give for it. */
export interface ViewStep {
    text: string;
    start?: number;
    end?: number;
    token_start?: number;
    token_end?: number;
    hard?: 0 | 1 | null;
    soft?: number | null;
    rollouts?: {n: number; correct: number};
    score?: number;
    /** Exact truth of the step where known (lab labels with --lab-truth). */
    truth?: boolean;
}

/** One split strategy's steps (from steps, labels or scores files sharing the strategy name). */
export interface ViewSplit {
    strategy: string;
    files: string[];
    tau?: number;
    steps: ViewStep[];
    first_negative?: number;
    method?: string;
    cost?: unknown;
    /** The exact truth's first wrong step in this split's own index, from a labels record of this split (−1: none). */
    truth_first_error?: number;
    /**
     * Every first-error marker in this split's index (see {@link splitMarkers}): the true first wrong
     * step and each judge's, taken from the split they were made in and mapped by character offsets
     * when that is another split. Set by {@link entryView}.
     */
    markers?: {truth?: SplitMarker; judges: Array<SplitMarker & {file: string}>};
}

/** A first-error marker placed in one split: `index` in that split (−1: no error), and where it came from when mapped. */
export interface SplitMarker {
    index: number;
    /** Set when mapped: the split and step index it was made in. */
    from?: {split: string; index: number};
}

export interface ViewJudge {
    file: string;
    first_error: number | null;
    /** Number of steps the judge read (its record's `steps`), which tells the split it read. */
    steps?: number;
    votes: unknown;
    raw: string[];
}

export interface ViewDecode {
    file: string;
    strategy: string;
    text: string;
    answer?: unknown;
    correct?: unknown;
    tokens?: unknown;
    prm_calls?: unknown;
    requests?: unknown;
    trace: unknown[];
    response_tokens?: unknown;
}

/**
 * A gold answer as the page shows it: the final answer, and the worked solution it ends, when the
 * gold is a solution (GSM8K's `… <<16-3-4=9>>9 … #### 18`: answer "18", solution the text before
 * `####`, calculator marks `<<…>>` left in for the page to grey).
 */
export interface ViewGold {
    answer: string;
    solution?: string;
}

/** Split a gold text into its final answer and solution (see {@link ViewGold}); any other gold is the answer as given. */
export function goldView(gold: string): ViewGold {
    const x = extractAnswer(gold);
    if (x?.extractor !== "gsm8k") return {answer: gold};
    const solution = gold.slice(0, gold.lastIndexOf("####")).trimEnd();
    return solution ? {answer: x.answer, solution} : {answer: x.answer};
}

export interface EntryView {
    key: string;
    summary: Omit<ViewSummary, "haystack">;
    question?: string;
    /** The gold answer field as given (`gold`, else `answer`). */
    gold?: string;
    /** The same for the page: final answer and solution ({@link goldView}). */
    gold_view?: ViewGold;
    text?: string;
    tokens?: ViewToken[];
    /** τ recorded by an adaptive split of this entry, if any (the slider's start value). */
    tau?: number;
    splits: ViewSplit[];
    judges: ViewJudge[];
    decodes: ViewDecode[];
    gold_first_error?: number;
    /** The split whose index gold_first_error is in (absent: not known, e.g. a verifier's line index). */
    gold_first_error_split?: string;
    /** The records as read, `tokens` replaced by their count. */
    parts: Array<{file: string; kinds: ViewKind[]; record: Record<string, unknown>}>;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** Steps of a record: stepwise Step objects, or plain strings (ProcessBench, scored files). */
function readSteps(value: unknown): ViewStep[] {
    if (!Array.isArray(value)) return [];
    return value.map((s) => {
        if (typeof s === "string") return {text: s};
        const o = (s ?? {}) as Record<string, unknown>;
        return {text: str(o.text) ?? "", start: num(o.start), end: num(o.end), token_start: num(o.token_start), token_end: num(o.token_end)};
    });
}

/** Build the entry view of `key`, or undefined when no file has it. */
export function entryView(store: ViewStore, key: string): EntryView | undefined {
    const parts = store.parts(key);
    const summary = store.summary(key);
    if (!parts || !summary) return undefined;
    const view: EntryView = {key, summary, splits: [], judges: [], decodes: [], parts: []};
    const splitOf = (strategy: string, file: string): ViewSplit => {
        let sp = view.splits.find((s) => s.strategy === strategy);
        if (!sp) {
            sp = {strategy, files: [], steps: []};
            view.splits.push(sp);
        }
        if (!sp.files.includes(file)) sp.files.push(file);
        return sp;
    };
    for (const {file, kinds, record: r} of parts) {
        view.question ??= str(r.question) ?? str(r.problem);
        view.gold ??= str(r.gold) ?? str(r.answer);
        if (kinds.includes("sample") && Array.isArray(r.tokens)) {
            view.text = str(r.text);
            view.tokens = (r.tokens as Array<Record<string, unknown>>).map((t) => {
                const tok: ViewToken = {t: str(t.text) ?? "", p: num(t.confidence) ?? NaN};
                if (Array.isArray(t.top) && t.top.length)
                    tok.top = (t.top as Array<Record<string, unknown>>).map((a) => [str(a.text) ?? "", num(a.prob) ?? NaN] as [string, number]);
                return tok;
            });
        }
        view.text ??= str(r.text);
        const hasSteps = kinds.includes("steps") || kinds.includes("labels") || kinds.includes("scores") || kinds.includes("gold");
        if (hasSteps && Array.isArray(r.steps)) {
            const strategy = str(r.strategy) ?? (kinds.includes("gold") ? "annotated" : "steps");
            const sp = splitOf(strategy, file);
            const steps = readSteps(r.steps);
            if (sp.steps.length === 0) sp.steps = steps;
            if (num(r.tau) !== undefined) {
                sp.tau = num(r.tau);
                if (strategy === "adaptive") view.tau ??= sp.tau;
            }
            if (sp.steps.length === steps.length) {
                if (kinds.includes("labels")) {
                    const hard = r.hard as unknown[];
                    const soft = (r.soft ?? []) as unknown[];
                    const rollouts = (r.rollouts ?? []) as Array<{n?: unknown; correct?: unknown}>;
                    sp.steps.forEach((s, i) => {
                        s.hard = hard[i] === 0 || hard[i] === 1 ? hard[i] : null;
                        s.soft = num(soft[i]) ?? null;
                        const ro = rollouts[i];
                        if (ro) s.rollouts = {n: num(ro.n) ?? 0, correct: num(ro.correct) ?? 0};
                    });
                    sp.first_negative = num(r.first_negative);
                    sp.method = str(r.method);
                    sp.cost = r.cost;
                    const truth = r.truth as {correct?: unknown; first_error?: unknown} | undefined;
                    if (truth && Array.isArray(truth.correct))
                        sp.steps.forEach((s, i) => {
                            const t = (truth.correct as unknown[])[i];
                            if (typeof t === "boolean") s.truth = t;
                        });
                    if (truth && num(truth.first_error) !== undefined) {
                        sp.truth_first_error = num(truth.first_error);
                        if (view.gold_first_error === undefined) {
                            view.gold_first_error = sp.truth_first_error;
                            view.gold_first_error_split = strategy;
                        }
                    }
                }
                if (kinds.includes("scores")) (r.step_scores as unknown[]).forEach((v, i) => (sp.steps[i].score = num(v)));
            }
            if (kinds.includes("gold") && num(r.label) !== undefined) {
                sp.truth_first_error ??= num(r.label);
                if (view.gold_first_error === undefined) {
                    view.gold_first_error = num(r.label);
                    view.gold_first_error_split = strategy;
                }
            }
        }
        if (num(r.first_error_step) !== undefined) view.gold_first_error ??= num(r.first_error_step);
        if (kinds.includes("judge")) {
            const raw = Array.isArray(r.raw) ? r.raw.map(String) : r.raw === undefined ? [] : [String(r.raw)];
            view.judges.push({file, first_error: num(r.first_error) ?? null, votes: r.votes, raw, ...(num(r.steps) !== undefined ? {steps: num(r.steps)} : {})});
        }
        if (kinds.includes("decode"))
            view.decodes.push({
                file,
                strategy: String(r.strategy),
                text: str(r.text) ?? "",
                answer: r.answer,
                correct: r.correct,
                tokens: r.tokens,
                prm_calls: r.prm_calls,
                requests: r.requests,
                trace: Array.isArray(r.trace) ? r.trace : [],
                response_tokens: r.response_tokens,
            });
        const shown = {...r};
        if (Array.isArray(shown.tokens) && kinds.includes("sample")) shown.tokens = `(${(r.tokens as unknown[]).length} tokens, shown above)`;
        view.parts.push({file, kinds, record: shown});
    }
    splitMarkers(view);
    if (view.gold !== undefined) view.gold_view = goldView(view.gold);
    return view;
}

/**
 * The step of `to` where step `index` of `from` begins: the first step of `to` that overlaps the
 * characters of that step (the earliest step the error can be in). −1 stays −1; undefined when
 * either split lacks character offsets or nothing overlaps.
 */
export function mapStepIndex(from: ViewSplit, index: number, to: ViewSplit): number | undefined {
    if (index < 0) return index;
    const src = from.steps[index];
    if (!src || src.start === undefined || src.end === undefined) return undefined;
    const start = src.start;
    const end = Math.max(src.end, start + 1);
    const k = to.steps.findIndex((t) => t.start !== undefined && t.end !== undefined && t.start < end && t.end > start);
    return k < 0 ? undefined : k;
}

/** `marker` made in split `from` (by name), placed in `to`: as is in its own split, else mapped by offsets (undefined when it cannot be). */
function place(view: EntryView, fromName: string | undefined, index: number, to: ViewSplit): SplitMarker | undefined {
    if (fromName === to.strategy) return {index};
    const from = view.splits.find((s) => s.strategy === fromName);
    if (!from) return undefined;
    const mapped = mapStepIndex(from, index, to);
    return mapped === undefined ? undefined : {index: mapped, ...(index >= 0 ? {from: {split: from.strategy, index}} : {})};
}

/**
 * Place every first-error marker on every split's table in that split's own index: the truth from
 * the split's own labels record when it has one, else mapped from the split the truth was given
 * in; each judge verdict from the split the judge read (the split with as many steps as its
 * record's `steps`, the first such), mapped to the others by character offsets.
 */
function splitMarkers(view: EntryView): void {
    for (const sp of view.splits) {
        const truth = sp.truth_first_error !== undefined ? {index: sp.truth_first_error} : view.gold_first_error !== undefined ? place(view, view.gold_first_error_split, view.gold_first_error, sp) : undefined;
        const judges: Array<SplitMarker & {file: string}> = [];
        for (const j of view.judges) {
            if (j.first_error === null) continue;
            const read = j.steps !== undefined ? view.splits.find((s) => s.steps.length === j.steps) : view.splits.length === 1 ? view.splits[0] : undefined;
            const m = read ? place(view, read.strategy, j.first_error, sp) : undefined;
            if (m) judges.push({...m, file: j.file});
        }
        sp.markers = {...(truth ? {truth} : {}), judges};
    }
}

/** One Best-of-N candidate of a question. */
export interface ViewCandidate {
    key: string;
    answer: string | null;
    correct?: boolean;
    /** Aggregated PRM score per rule; absent when the candidate has no step scores. */
    scores?: Record<Aggregation, number>;
    steps: number;
}

export interface QuestionView {
    question_id: string;
    candidates: ViewCandidate[];
    /** Key of the candidate each aggregation picks (highest score; unfinished candidates never picked). */
    picks: Partial<Record<Aggregation, string>>;
    /** The most frequent final answer and how many candidates gave it. */
    majority?: {answer: string; votes: number; correct?: boolean};
}

/**
 * The Best-of-N view of a question: its candidates' aggregated step scores (the aggregation rules
 * of `eval bon`, src/select/aggregate.ts) and what each rule picks. A candidate without a final
 * answer is never picked, as in PRM800K's evaluation.
 */
export function questionView(store: ViewStore, questionId: string): QuestionView {
    const candidates: ViewCandidate[] = [];
    for (const key of store.questionKeys(questionId)) {
        const parts = store.parts(key) ?? [];
        let text: string | undefined;
        let correct: boolean | undefined;
        let stepScores: number[] | undefined;
        let finishReason: string | undefined;
        for (const {kinds, record: r} of parts) {
            text ??= str(r.text);
            finishReason ??= str(r.finish_reason);
            if (typeof r.correct === "boolean") correct = r.correct;
            if (kinds.includes("scores")) stepScores = (r.step_scores as unknown[]).map((v) => num(v) ?? 0);
        }
        // Unfinished candidates (no final answer, or cut off before declaring one) count as having none,
        // as in Best-of-N evaluation and the decoders (src/grade/finished.ts).
        const answer = text === undefined || !isFinished({text, finishReason}) ? null : (extractAnswer(text)?.answer ?? null);
        const c: ViewCandidate = {key, answer, correct, steps: stepScores?.length ?? 0};
        if (stepScores) c.scores = Object.fromEntries(AGGREGATIONS.map((a) => [a, aggregate(stepScores!, a)])) as Record<Aggregation, number>;
        candidates.push(c);
    }
    const picks: Partial<Record<Aggregation, string>> = {};
    const scored = candidates.filter((c) => c.scores);
    for (const a of AGGREGATIONS) {
        // eval bon's selector and rule: never an unfinished (answerless) candidate; ties to the first
        const best = selectBestOfN(
            scored.map((c) => c.scores![a]),
            {ties: "first", finished: scored.map((c) => c.answer !== null), unfinished: "never"},
        );
        if (best >= 0) picks[a] = scored[best].key;
    }
    // one vote per candidate over identical answer strings, ties to the answer seen first
    const ids = new Map<string, number>();
    const classOf = candidates.map((c) => (c.answer === null ? -1 : (ids.get(c.answer) ?? ids.set(c.answer, ids.size).get(c.answer)!)));
    const win = majorityVote(classOf, {ties: "first-seen"});
    let majority: QuestionView["majority"];
    if (win >= 0) {
        const first = candidates[classOf.indexOf(win)];
        majority = {answer: first.answer!, votes: classOf.filter((c) => c === win).length, correct: first.correct};
    }
    return {question_id: questionId, candidates, picks, majority};
}
