import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {readPrmBench, limitPerClassification, type PrmBenchItem} from "../../../src/eval/prmbench/load.ts";
import {aggregatePrmBench, evaluateItem, validFromFirstError, validFromScores, type PrmBenchMetrics} from "../../../src/eval/prmbench/metrics.ts";
import {evaluatePrmBenchFiles} from "../../../src/eval/prmbench/run.ts";
import {prmBenchJson} from "../../../src/eval/prmbench/report.ts";
import {FastRng} from "../../../src/util/rng.ts";
import {ScriptedJudge} from "../../helpers/scripted-judge.ts";

const SUBSET = new URL("../../../../shared/data/prmbench/subset400.jsonl", import.meta.url).pathname;
const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

// ---------------------------------------------------------------------------------------------
// An independent, literal transcription of the reference's arithmetic (ssmisya/PRMBench,
// mr_eval/tasks/prmtest_classified_subset400/task.py: load_data_function, evaluate_function,
// eval_on_hallucination_step; PRMScore: draw_tabs/form_latex_strs.ipynb). Lists, −1 for
// undefined, Python truthiness, exactly as written there. It works on raw rows, not on our items.
// ---------------------------------------------------------------------------------------------
type Row = Record<string, any>;
interface RefMeta {
    idx: string;
    question: string;
    steps: string[];
    error_steps: number[];
    classification: string;
}
function refLoad(rows: Row[]): RefMeta[] {
    const meta: RefMeta[] = [];
    const filter: Record<string, 1> = {};
    for (const item of rows) {
        if (item.classification === "redundency") {
            const cidx = `correct_${item.idx}`;
            if (filter[cidx] === undefined) {
                meta.push({idx: cidx, question: item.original_question, steps: item.original_process, error_steps: [], classification: "correct"});
                filter[cidx] = 1;
            }
        }
        const k = `${item.classification}_${item.idx}`;
        if (filter[k] === undefined) {
            meta.push({idx: k, question: item.modified_question, steps: item.modified_process, error_steps: item.error_steps, classification: item.classification});
            filter[k] = 1;
        }
    }
    return meta;
}
const pyMean = (l: number[]): number => (l.length > 0 ? l.reduce((a, b) => a + b, 0) / l.length : -1);
function refStep(hallucinationSteps: number[], labels: boolean[]) {
    const h = hallucinationSteps.map((i) => i - 1);
    const POS = 1;
    const NEG = 0;
    const correct: number[] = [];
    const wrong: number[] = [];
    const totalL: number[] = [];
    let TP = 0, FP = 0, TN = 0, FN = 0; // prettier-ignore
    const first = h.length > 0 ? Math.min(...h) : -1;
    let firstAcc: number | null = null;
    for (let idx = 0; idx < labels.length; idx++) {
        const lab = labels[idx] ? 1 : 0;
        if (idx === first) firstAcc = lab === NEG ? 1 : 0;
        if (h.includes(idx)) {
            if (lab === POS) {
                wrong.push(0);
                totalL.push(0);
                FP += 1;
            } else {
                wrong.push(1);
                totalL.push(1);
                TN += 1;
            }
        } else if (lab === POS) {
            correct.push(1);
            totalL.push(1);
            TP += 1;
        } else {
            correct.push(0);
            totalL.push(0);
            FN += 1;
        }
    }
    const responseAcc = labels.length > 0 ? labels.reduce((a, b) => a + (b ? 1 : 0), 0) / labels.length : -1;
    return {correct, wrong, totalL, first: firstAcc === null ? [] : [firstAcc], responseAcc, m: {TP, FP, TN, FN}};
}
type RefResult = {idx: string; validity?: boolean; labels?: boolean[]};
const METRICS = ["correct_step_acc", "wrong_step_acc", "total_step_acc", "first_error_acc", "similarity"] as const;
function refEvaluate(results: RefResult[], meta: RefMeta[]) {
    const metaDict = new Map(meta.map((m) => [m.idx, m]));
    const classes = [...new Set(meta.map((m) => m.classification))];
    const spec: Record<string, Record<string, number[]>> = {};
    const tot: Record<string, number[]> = {};
    for (const metric of METRICS) {
        spec[metric] = Object.fromEntries(classes.map((c) => [c, [] as number[]]));
        tot[metric] = [];
    }
    const specF1: Record<string, {TP: number; FP: number; TN: number; FN: number}> = Object.fromEntries(classes.map((c) => [c, {TP: 0, FP: 0, TN: 0, FN: 0}]));
    const totF1 = {TP: 0, FP: 0, TN: 0, FN: 0};
    let validNum = 0;
    const filtered: RefResult[] = [];
    const seen = new Set<string>();
    for (const r of results)
        if (!seen.has(r.idx) && metaDict.has(r.idx)) {
            seen.add(r.idx);
            filtered.push(r);
        }
    const correctIds = new Set(meta.filter((m) => m.classification === "correct").map((m) => m.idx));
    const correctAcc: Record<string, number> = {};
    const add = (res: ReturnType<typeof refStep>, c: string, toTotal: boolean) => {
        const lists: Record<string, number[]> = {correct_step_acc: res.correct, wrong_step_acc: res.wrong, total_step_acc: res.totalL, first_error_acc: res.first};
        for (const metric of ["correct_step_acc", "wrong_step_acc", "total_step_acc", "first_error_acc"]) {
            if (toTotal) tot[metric].push(...lists[metric]);
            spec[metric][c].push(...lists[metric]);
        }
        for (const k of ["TP", "FP", "TN", "FN"] as const) {
            specF1[c][k] += res.m[k];
            if (toTotal) totF1[k] += res.m[k];
        }
    };
    for (const p of filtered.filter((r) => correctIds.has(r.idx))) {
        if (p.validity === false) continue;
        const ref = metaDict.get(p.idx)!;
        const res = refStep(ref.error_steps, p.labels!);
        add(res, ref.classification, false);
        correctAcc[p.idx] = res.responseAcc;
    }
    for (const p of filtered.filter((r) => !correctIds.has(r.idx))) {
        if (p.validity === false) continue;
        validNum += 1;
        const ref = metaDict.get(p.idx)!;
        const c = ref.classification;
        const res = refStep(ref.error_steps, p.labels!);
        add(res, c, true);
        const cidx = "correct_" + p.idx.slice(`${c}_`.length);
        const cacc = correctAcc[cidx];
        // Python: `if correct_item_acc and item_acc != -1` (None and 0 are falsy).
        if (cacc !== undefined && cacc !== 0 && res.responseAcc !== -1) {
            const s = Math.abs(res.responseAcc - cacc);
            tot.similarity.push(s);
            spec.similarity[c].push(s);
        }
    }
    const f1Block = (m: {TP: number; FP: number; TN: number; FN: number}) => {
        const precision = m.TP + m.FP !== 0 ? m.TP / (m.TP + m.FP) : -1;
        const recall = m.TP + m.FN !== 0 ? m.TP / (m.TP + m.FN) : -1;
        const f1 = precision + recall !== 0 ? (2 * precision * recall) / (precision + recall) : -1;
        const np = m.TN + m.FN !== 0 ? m.TN / (m.TN + m.FN) : -1;
        const nr = m.TN + m.FP !== 0 ? m.TN / (m.TN + m.FP) : -1;
        const nf1 = np + nr !== 0 ? (2 * np * nr) / (np + nr) : -1;
        return {precision, recall, f1, negative_precision: np, negative_recall: nr, negative_f1: nf1};
    };
    const total: Record<string, number> = {...Object.fromEntries(METRICS.map((m) => [m, pyMean(tot[m])])), ...f1Block(totF1)};
    const perClass: Record<string, Record<string, number>> = Object.fromEntries(classes.map((c) => [c, {...Object.fromEntries(METRICS.map((m) => [m, pyMean(spec[m][c])])), ...f1Block(specF1[c])}]));
    const clamp = (s: number) => (s > 0 ? s : 0);
    const prmscore = clamp(total.f1 * 0.5 + total.negative_f1 * 0.5);
    const classScore = (c: string) => clamp(c === "multi_solutions" ? perClass[c].f1 : perClass[c].f1 * 0.5 + perClass[c].negative_f1 * 0.5);
    return {total, perClass, prmscore, classScore, validity: validNum / meta.length};
}
// ---------------------------------------------------------------------------------------------

const SNAKE: Record<string, keyof PrmBenchMetrics> = {
    correct_step_acc: "correctStepAcc",
    wrong_step_acc: "wrongStepAcc",
    total_step_acc: "totalStepAcc",
    first_error_acc: "firstErrorAcc",
    similarity: "similarity",
    precision: "precision",
    recall: "recall",
    f1: "f1",
    negative_precision: "negativePrecision",
    negative_recall: "negativeRecall",
    negative_f1: "negativeF1",
};

function close(ref: number, ours: number | null, what: string): void {
    if (ref === -1) assert.equal(ours, null, `${what}: the reference's −1 is null`);
    else {
        assert.notEqual(ours, null, `${what}: reference ${ref}, ours null`);
        assert.ok(Math.abs(ref - ours!) <= 1e-9, `${what}: reference ${ref}, ours ${ours}`);
    }
}

/** Seeded predictions: per item, maybe none (validity false), else scores; `pValid` varies per item so that degenerate categories occur. */
function seededPredictions(items: readonly PrmBenchItem[], seed: number, pNone: number): Array<{idx: string; scores: number[] | null}> {
    const rng = new FastRng("prmbench-test", seed);
    return items.map((it) => {
        if (rng.next() < pNone) return {idx: it.id, scores: null};
        const bias = [0, 1, rng.next()][rng.below(3)];
        return {idx: it.id, scores: it.steps.map(() => (rng.next() < bias ? 0.5 + rng.next() / 2 : rng.next() / 2))};
    });
}

function compareWithReference(rows: Row[], items: PrmBenchItem[], preds: Array<{idx: string; scores: number[] | null}>, threshold = 0.5): void {
    const valid = preds.map((p) => (p.scores ? validFromScores(p.scores, threshold) : null));
    const ours = aggregatePrmBench(items, valid, {bootstrap: {resamples: 20}});
    const meta = refLoad(rows);
    assert.deepEqual(items.map((i) => i.id), meta.map((m) => m.idx), "same items in the same order");
    const ref = refEvaluate(preds.map((p, i) => (p.scores ? {idx: p.idx, labels: valid[i]!} : {idx: p.idx, validity: false})), meta);
    for (const [k, ok] of Object.entries(SNAKE)) close(ref.total[k], ours.total[ok] as number | null, `total.${k}`);
    close(ref.prmscore, ours.total.prmscore, "total.prmscore");
    assert.deepEqual(ours.categories.map((c) => c.name).sort(), Object.keys(ref.perClass).sort());
    for (const c of ours.categories) {
        for (const [k, ok] of Object.entries(SNAKE)) close(ref.perClass[c.name][k], c[ok] as number | null, `${c.name}.${k}`);
        if (c.name === "correct") assert.equal(c.prmscore, null);
        else close(ref.classScore(c.name), c.prmscore, `${c.name}.prmscore`);
    }
    close(ref.validity, ours.validityRate, "validity rate");
}

/** A small synthetic PRMBench file exercising every rule (see the comments). */
function syntheticRows(): Row[] {
    const q = (s: string) => ({original_question: `orig ${s}`, modified_question: `mod ${s}`, question: `q ${s}`});
    return [
        // redundency gives correct_a first; circular_a and confidence_a share idx a (similarity).
        {idx: "a", classification: "redundency", ...q("a"), original_process: ["o1", "o2", "o3"], modified_process: ["o1", "r", "o2", "o3"], error_steps: [2]},
        {idx: "a", classification: "circular", ...q("a"), original_process: ["o1", "o2", "o3"], modified_process: ["o1", "c", "c", "o3"], error_steps: [3, 2]},
        {idx: "a", classification: "confidence", ...q("a"), original_process: ["o1", "o2", "o3"], modified_process: ["o1", "x", "y"], error_steps: [2, 3, 5]},
        // error steps past the end only: no first-error entry, those steps count nowhere.
        {idx: "b", classification: "confidence", ...q("b"), modified_process: ["s1", "s2"], error_steps: [4]},
        {idx: "b", classification: "redundency", ...q("b"), original_process: ["p1"], modified_process: ["p1", "p1 again"], error_steps: [2]},
        // the same row again: the reference keeps the first.
        {idx: "b", classification: "redundency", ...q("b"), original_process: ["p1"], modified_process: ["p1", "p1 again"], error_steps: [2]},
        {idx: "c", classification: "multi_solutions", ...q("c"), modified_process: ["m1", "m2", "m3"], error_steps: []},
        {idx: "d", classification: "deception", ...q("d"), modified_process: ["d1", "d2", "d3", "d4", "d5"], error_steps: [1, 5]},
        {idx: "e", classification: "not_in_the_paper", ...q("e"), modified_process: ["n1", "n2"], error_steps: [2]},
        {idx: "b", classification: "step_contradiction", ...q("b"), modified_process: ["t1", "t2", "t3"], error_steps: [3]},
    ];
}

test("loader: items expanded as the reference does (correct_<idx> from redundency rows, modified_/original_question, repeats dropped)", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-prmbench-"));
    const file = join(dir, "syn.jsonl");
    writeFileSync(file, jsonl(syntheticRows()));
    const data = readPrmBench([file]);
    assert.deepEqual(
        data.items.map((i) => i.id),
        ["correct_a", "redundency_a", "circular_a", "confidence_a", "confidence_b", "correct_b", "redundency_b", "multi_solutions_c", "deception_d", "not_in_the_paper_e", "step_contradiction_b"],
    );
    const [correctA, redA] = data.items;
    assert.deepEqual([correctA.classification, correctA.question, correctA.steps, correctA.errorSteps], ["correct", "orig a", ["o1", "o2", "o3"], []]);
    assert.deepEqual([redA.question, redA.errorSteps, redA.where], ["mod a", [2], `${file}:1`]);
    assert.equal(data.rows, 10);
    assert.deepEqual(data.duplicates.map((d) => [d.id, d.where, d.first]), [
        ["correct_b", `${file}:6`, `${file}:5`],
        ["redundency_b", `${file}:6`, `${file}:5`],
    ]);
    // What the reference accepts silently is listed: wrong steps past the last step, classifications outside the paper's nine.
    assert.deepEqual(data.pastLastStep, [
        {id: "confidence_a", where: `${file}:3`, errorStep: 5, steps: 3},
        {id: "confidence_b", where: `${file}:4`, errorStep: 4, steps: 2},
    ]);
    assert.deepEqual(data.unknownClassifications, [{name: "not_in_the_paper", where: `${file}:9`}]);
    // Without modified_question/original_question, `question` is used.
    writeFileSync(file, jsonl([{idx: 1, classification: "redundency", question: "Q", original_process: ["a"], modified_process: ["a", "b"], error_steps: [2]}]));
    assert.deepEqual(readPrmBench([file]).items.map((i) => [i.id, i.question]), [["correct_1", "Q"], ["redundency_1", "Q"]]);
    // --limit: first N of each classification.
    assert.deepEqual(limitPerClassification(data.items, 1).map((i) => i.id), ["correct_a", "redundency_a", "circular_a", "confidence_a", "multi_solutions_c", "deception_d", "not_in_the_paper_e", "step_contradiction_b"]);
});

test("loader: bad rows are one-line errors naming file:line and field; a differing repeat is refused", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-prmbench-"));
    const file = join(dir, "bad.jsonl");
    const ok = {idx: "x", classification: "confidence", question: "Q", modified_process: ["a", "b"], error_steps: [2]};
    const cases: Array<[Row | string, RegExp]> = [
        [{...ok, error_steps: [0]}, /bad\.jsonl:2: field "error_steps"\[0\] must be a step number ≥ 1 \(1-based\), got 0/],
        [{...ok, error_steps: undefined}, /bad\.jsonl:2: field "error_steps" must be an array/],
        [{...ok, modified_process: []}, /bad\.jsonl:2: field "modified_process" has no steps/],
        [{...ok, modified_process: ["a", 3]}, /bad\.jsonl:2: field "modified_process"\[1\] must be a string, got 3/],
        [{...ok, idx: undefined}, /bad\.jsonl:2: field "idx" must be a non-empty string or a number, got nothing/],
        [{...ok, question: undefined}, /bad\.jsonl:2: missing "modified_question" or "question"/],
        [{...ok, classification: "redundency"}, /bad\.jsonl:2: field "original_process" must be an array of strings, got nothing/],
        [{...ok, idx: "y"}, /^$/],
        [{...ok, error_steps: [1]}, /bad\.jsonl:2: item "confidence_x" is also made by .*bad\.jsonl:1, with a different question, process or error steps/],
        ["{not json", /bad\.jsonl:2: malformed JSON/],
    ];
    for (const [row, re] of cases) {
        writeFileSync(file, JSON.stringify(ok) + "\n" + (typeof row === "string" ? row : JSON.stringify(row)) + "\n");
        if (re.source === "^$") assert.equal(readPrmBench([file]).items.length, 2);
        else assert.throws(() => readPrmBench([file]), re);
    }
    writeFileSync(file, "\n");
    assert.throws(() => readPrmBench([file]), /no PRMBench rows/);
    assert.throws(() => readPrmBench([join(dir, "nope.jsonl")]), /nope\.jsonl: no such file or folder/);
});

test("one item, by hand: TP/FP/TN/FN, first-error hit, error steps past the labelled steps count nowhere", () => {
    // Steps 1..5; wrong steps 2 and 4 (and 9, past the end). Predicted valid: T F T T F.
    const o = evaluateItem([4, 2, 9], [true, false, true, true, false]);
    // step0 right+valid TP; step1 wrong+invalid TN (first error, hit); step2 right+valid TP; step3 wrong+valid FP; step4 right+invalid FN.
    assert.deepEqual(o, {tp: 2, fp: 1, tn: 1, fn: 1, firstError: 1, responseAcc: 3 / 5});
    // First error past the labelled steps: no first-error entry.
    assert.equal(evaluateItem([3], [false, false]).firstError, null);
    assert.deepEqual(evaluateItem([], []), {tp: 0, fp: 0, tn: 0, fn: 0, firstError: null, responseAcc: null});
    // score > threshold, strictly (the reference's PRM wrappers).
    assert.deepEqual(validFromScores([0.5, 0.51, 0.2], 0.5), [false, true, false]);
    // A judge's first wrong step: before it valid, from it on invalid; −1: all valid.
    assert.deepEqual(validFromFirstError(1, 4), [true, false, false, false]);
    assert.deepEqual(validFromFirstError(-1, 3), [true, true, true]);
});

test("metric = the reference's arithmetic (transcribed in this file) on a synthetic file, many seeds, to 1e-9", () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-prmbench-"));
    const file = join(dir, "syn.jsonl");
    const rows = syntheticRows();
    writeFileSync(file, jsonl(rows));
    const items = readPrmBench([file]).items;
    for (let seed = 0; seed < 200; seed++) compareWithReference(rows, items, seededPredictions(items, seed, seed % 3 === 0 ? 0.3 : 0));
    // Degenerate: everything valid, everything invalid (the reference's −1 arithmetic and the clamp).
    compareWithReference(rows, items, items.map((it) => ({idx: it.id, scores: it.steps.map(() => 1)})));
    compareWithReference(rows, items, items.map((it) => ({idx: it.id, scores: it.steps.map(() => 0)})));
    // A correct_ item predicted all invalid has response accuracy 0, which the reference treats as "no similarity".
    const zero = items.map((it) => ({idx: it.id, scores: it.steps.map(() => (it.classification === "correct" ? 0 : 0.9))}));
    compareWithReference(rows, items, zero);
    const r = aggregatePrmBench(items, zero.map((p) => validFromScores(p.scores, 0.5)), {bootstrap: {resamples: 10}});
    assert.equal(r.total.similarity, null);
});

test("metric = the reference's arithmetic on the shared PRMBench subset, seeded predictions, to 1e-9", (t) => {
    if (!existsSync(SUBSET)) {
        t.skip(`${SUBSET} is absent (the shared data folder is not on this machine)`);
        return;
    }
    const rows = readFileSync(SUBSET, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
    const items = readPrmBench([SUBSET]).items;
    assert.equal(items.length, 442, "394 rows + 48 correct_ items from the redundency rows");
    for (const [seed, pNone] of [[1, 0], [2, 0.05], [3, 0]] as const) compareWithReference(rows, items, seededPredictions(items, seed, pNone));
});

test("evaluatePrmBenchFiles --predictions: joined by the reference's ids; missing, unknown, repeated ids and wrong lengths are errors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-prmbench-"));
    const data = join(dir, "syn.jsonl");
    const rows = syntheticRows();
    writeFileSync(data, jsonl(rows));
    const items = readPrmBench([data]).items;
    const preds = seededPredictions(items, 5, 0).map((p, i) => (i === 3 ? {idx: p.idx, validity: false} : {idx: p.idx, step_scores: p.scores}));
    const pf = join(dir, "preds.jsonl");
    writeFileSync(pf, jsonl(preds));
    const run = await evaluatePrmBenchFiles({data: [data], predictions: pf});
    assert.equal(run.result.nInvalid, 1);
    assert.equal(run.threshold, 0.5);
    const json = prmBenchJson(run.result, run.threshold);
    assert.equal(typeof json.total.prmscore, "number");
    assert.ok(json.categories.multi_solutions && json.categories.correct);
    assert.equal(json.categories.correct.prmscore, null);
    // Intervals: the {value, low, high, n, method, level} objects of every command (fractions, 4 decimals).
    const t = run.result.total;
    const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
    assert.deepEqual(json.total.prmscore_ci, {value: r4(t.prmscore!), low: r4(t.prmscoreInterval!.low), high: r4(t.prmscoreInterval!.high), n: t.items, method: "bootstrap-percentile", level: 0.95});
    assert.deepEqual(json.total.first_error_acc_ci, {value: r4(t.firstErrorAcc!), low: r4(t.firstErrorInterval!.low), high: r4(t.firstErrorInterval!.high), n: t.firstErrorInterval!.n, method: "wilson", level: 0.95});
    assert.equal(json.categories.correct.prmscore_ci, null);
    const bad = async (p: unknown[], re: RegExp) => {
        writeFileSync(pf, jsonl(p));
        await assert.rejects(evaluatePrmBenchFiles({data: [data], predictions: pf}), re);
    };
    const good = preds as Array<Record<string, unknown>>;
    await bad(good.slice(1), /preds\.jsonl: no prediction for 1 item, first "correct_a" \(.*syn\.jsonl:1\)/);
    await bad([...good, {idx: "a", step_scores: [1]}], /preds\.jsonl:12: idx "a" is not an item of the data \(ids are "<classification>_<idx>" or "correct_<idx>", e\.g\. "correct_a"\)/);
    await bad([...good, good[0]], /preds\.jsonl:12: duplicate idx "correct_a" \(also at .*preds\.jsonl:1\)/);
    await bad([{idx: "correct_a", step_scores: [1, 1]}, ...good.slice(1)], /preds\.jsonl:1: 2 step scores for correct_a, which has 3 steps/);
    await bad([{idx: "correct_a", step_scores: [1, "x", 1]}, ...good.slice(1)], /preds\.jsonl:1: field "step_scores"\[1\] must be a finite number/);
    await assert.rejects(evaluatePrmBenchFiles({data: [data], predictions: pf, prm: "llama:x.gguf"}), /give exactly one of --prm SPEC, --judge SPEC or --predictions FILE/);
    await assert.rejects(evaluatePrmBenchFiles({data: [data], judge: "x", threshold: 0.3}), /--threshold needs --prm or --predictions/);
});

test("evaluatePrmBenchFiles --judge: the voted first wrong step becomes step verdicts; no verdict leaves the item out", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-prmbench-"));
    const data = join(dir, "syn.jsonl");
    writeFileSync(data, jsonl(syntheticRows()));
    // Judge: the 2nd step (index 1) is the first wrong one when there are 3 steps, none with 2, rambles otherwise.
    const judge = new ScriptedJudge((steps) => (steps === 3 ? "\\boxed{1}" : steps === 2 ? "\\boxed{-1}" : "hmm"));
    const run = await evaluatePrmBenchFiles({data: [data], judge: "scripted", judgeEngine: judge, judgeN: 1, judgeTemperature: 0});
    const byId = new Map(run.items.map((it, i) => [it.id, run.result.outcomes[i]]));
    // correct_a: 3 steps, all right; verdict 1 → T F F: TP 1, FN 2.
    assert.deepEqual(byId.get("correct_a"), {tp: 1, fp: 0, tn: 0, fn: 2, firstError: null, responseAcc: 1 / 3});
    // confidence_b: 2 steps, wrong step 4 past the end; verdict −1 → T T: TP 2.
    assert.deepEqual(byId.get("confidence_b"), {tp: 2, fp: 0, tn: 0, fn: 0, firstError: null, responseAcc: 1});
    // redundency_a: 4 steps → no verdict → left out.
    assert.equal(byId.get("redundency_a"), null);
    assert.equal(run.threshold, undefined);
    // Same as giving the conversion by hand to the metric.
    const again = aggregatePrmBench(run.items, run.items.map((it) => (it.steps.length === 3 ? validFromFirstError(1, 3) : it.steps.length === 2 ? validFromFirstError(-1, 2) : null)), {});
    assert.equal(again.total.prmscore, run.result.total.prmscore);
    assert.equal(again.total.f1, run.result.total.f1);
});
