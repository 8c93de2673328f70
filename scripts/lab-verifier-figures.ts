// The figures of docs/judge.md's verifier section, with intervals, from files the CLI writes.
//
//   npx tsx scripts/lab-verifier-figures.ts pb  NAME=DIR ...   # `eval processbench --out DIR` folders (predictions.jsonl)
//   npx tsx scripts/lab-verifier-figures.ts bon DIR NAME=SCORES ...
//       DIR: a `lab eval-prm --out DIR` folder (candidates.jsonl, summary.json with τ); SCORES: its
//       scores.jsonl, or `stepwise score` output on the candidates' adaptive steps at the same τ;
//       SCORES may be `A*B`: two such files multiplied step by step (two critics' P(step right) as one score)
//
// pb: per critic acc_error and acc_correct with 95% Wilson intervals, F1, and F1 − F1(first critic)
//     with a paired percentile bootstrap over solutions (2,000 resamples, seed 0).
// bon: per PRM lab-ProcessBench on the candidates (first adaptive step scored < 0.5 vs the exact
//     first wrong step; acc with Wilson intervals, F1) and Best-of-N at the largest N with the min
//     aggregation (highest min step score, first on ties, among all candidates of a question),
//     each minus the first PRM's with a paired bootstrap over problems (F1) or pairedBootstrap (BoN);
//     then Best-of-N (product) and the weighted vote (product) against maj@N (pairedBootstrap, McNemar).
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {bootstrapInterval, mcnemarExact, pairedBootstrap, wilsonInterval} from "../src/stats/intervals.ts";
import {splitSample} from "../src/pipeline/split/index.ts";
import {labTruth} from "../src/domains/lab/verifier.ts";
import {checkAnswer} from "../src/domains/lab/index.ts";
import {rocAuc} from "../src/prm/metrics.ts";
import {answerClasses} from "../src/select/index.ts";
import {evaluateBon, prepareQuestion} from "../src/eval/index.ts";
import {labGrader} from "../src/apps/lab/eval/prm.ts";

const [mode, ...args] = process.argv.slice(2);
const runs = args.map((a) => {
    const at = a.indexOf("=");
    return {name: a.slice(0, at), dir: a.slice(at + 1)};
});
const jsonl = (f: string) => readFileSync(f, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const pct = (x: number) => (100 * x).toFixed(1);
const iv = (i: {value: number; low: number; high: number}, scale = 100) => `${(scale * i.value).toFixed(1)} [${(scale * i.low).toFixed(1)}, ${(scale * i.high).toFixed(1)}]`;

/** ProcessBench metrics of (label, prediction) pairs over the items `idx`. */
function metrics(rows: Array<{label: number; prediction: number}>, idx: ArrayLike<number> = rows.map((_, i) => i)) {
    let e = 0, eRight = 0, c = 0, cRight = 0;
    for (let k = 0; k < idx.length; k++) {
        const r = rows[idx[k]];
        if (r.label >= 0) {
            e++;
            if (r.prediction === r.label) eRight++;
        } else {
            c++;
            if (r.prediction === -1) cRight++;
        }
    }
    const ae = e ? eRight / e : 0, ac = c ? cRight / c : 0;
    return {e, eRight, c, cRight, accError: ae, accCorrect: ac, f1: ae + ac > 0 ? (2 * ae * ac) / (ae + ac) : 0};
}

function table(named: Array<{name: string; rows: Array<{label: number; prediction: number}>; groups?: number[][]}>) {
    const base = named[0];
    console.log(`| critic | n | acc_error | acc_correct | F1 | F1 − ${base.name} (paired bootstrap) |`);
    console.log(`|---|---|---|---|---|---|`);
    for (const r of named) {
        const m = metrics(r.rows);
        let diff = "–";
        if (r !== base) {
            // Resample groups (problems) when given, else rows; pairs kept together.
            const groups = r.groups ?? r.rows.map((_, i) => [i]);
            const stat = (idx: Int32Array) => {
                const items = Array.from(idx).flatMap((g) => groups[g]);
                return metrics(r.rows, items).f1 - metrics(base.rows, items).f1;
            };
            diff = iv(bootstrapInterval(groups.length, stat, {resamples: 2000, seed: 0}));
        }
        console.log(`| ${r.name} | ${r.rows.length} (${m.e} wrong, ${m.c} right) | ${iv(wilsonInterval(m.eRight, m.e))} | ${iv(wilsonInterval(m.cRight, m.c))} | ${pct(m.f1)} | ${diff} |`);
    }
}

if (mode === "pb") {
    // Solutions every critic predicted (a scorer run with --skip-too-long leaves some out), in one order.
    const all = runs.map(({name, dir}) => ({name, rows: jsonl(join(dir, "predictions.jsonl"))}));
    const common = all.map((r) => new Set(r.rows.map((x) => String(x.id)))).reduce((a, b) => new Set([...a].filter((id) => b.has(id))));
    const named = all.map(({name, rows}) => ({name, rows: rows.filter((x) => common.has(String(x.id))).sort((a, b) => String(a.id).localeCompare(String(b.id)))}));
    for (const r of all) if (r.rows.length !== common.size) console.log(`${r.name}: ${r.rows.length - common.size} of its ${r.rows.length} solutions left out (not predicted by every critic)`);
    table(named);
} else if (mode === "bon") {
    const first = args[0];
    const summary = JSON.parse(readFileSync(join(first, "summary.json"), "utf8"));
    const cands = jsonl(join(first, "candidates.jsonl"));
    // Each candidate split and judged once: its adaptive steps' count, step truth and first wrong step.
    const judged = new Map(
        cands.map((s) => {
            const steps = splitSample(s, {kind: "adaptive", tau: summary.tau});
            return [s.id, {steps: steps.length, ...labTruth({question: s.question, text: s.text, steps})}];
        }),
    );
    const truthsOf = new Map([...judged].map(([id, j]) => [id, j.correct]));
    const truthOf = new Map([...judged].map(([id, j]) => [id, j.first_error]));
    const correctOf = new Map(cands.map((s) => [s.id, checkAnswer(s.question, s.text).correct]));
    const textOf = new Map(cands.map((s) => [s.id, s.text as string]));
    const stepsOf = new Map([...judged].map(([id, j]) => [id, j.steps]));
    const questions = [...new Set(cands.map((s) => s.question_id as string))];
    const named = runs.slice(1).map(({name, dir: file}) => {
        // Candidates a scorer left out (`score --skip-too-long`) count as score 0: never picked.
        // `A*B`: a candidate both files scored gets the step-by-step product; one either left out is missing.
        const files = file.split("*").map((f) => new Map(jsonl(f).map((x) => [x.id, x])));
        const got = new Map(
            [...files[0]].filter(([id]) => files.every((m) => m.has(id))).map(([id, x]) => {
                const parts = files.map((m) => m.get(id).step_scores as number[]);
                if (parts.some((p) => p.length !== parts[0].length)) throw new Error(`${file}: ${id} has ${parts.map((p) => p.length).join(" and ")} step scores`);
                return [id, {...x, step_scores: parts[0].map((_, i) => parts.reduce((a, p) => a * p[i], 1))}];
            }),
        );
        const missing = cands.filter((c) => !got.has(c.id));
        if (missing.length) console.log(`${name}: ${missing.length} of ${cands.length} candidates not scored (too long), counted as score 0`);
        const scores = cands.map((c) => got.get(c.id) ?? {id: c.id, question_id: c.question_id, step_scores: new Array(stepsOf.get(c.id)).fill(0)});
        for (const x of scores) if (x.step_scores.length !== stepsOf.get(x.id)) throw new Error(`${file}: ${x.id} has ${x.step_scores.length} scores for ${stepsOf.get(x.id)} adaptive steps at τ ${summary.tau}`);
        const byQ = new Map<string, typeof scores>();
        for (const x of scores) byQ.set(x.question_id, [...(byQ.get(x.question_id) ?? []), x]);
        // Whole set, ties to the first candidate: the library's Best-of-N evaluation with one subset of all N.
        const prepared = questions.map((q) => {
            const rs = byQ.get(q) ?? [];
            const correct = rs.map((x) => correctOf.get(x.id)!);
            return prepareQuestion({id: q, correct, classes: answerClasses(rs.map((x) => labGrader.extract(textOf.get(x.id)!)), correct, labGrader.equal), stepScores: rs.map((x) => x.step_scores), aggregations: ["min", "product"]});
        });
        const result = evaluateBon(prepared, {sizes: [Math.min(...prepared.map((q) => q.n))], subsets: 1, ties: "first", bonAggregations: ["min", "product"], voteAggregations: ["product"]});
        const per = (id: string) => Array.from(result.methods.find((m) => m.id === id)!.points[0].perQuestion);
        const bon = per("bon-min");
        const sel = {maj: per("maj"), product: per("bon-product"), vote: per("vote-product")};
        const rows = scores.map((x) => ({label: truthOf.get(x.id)!, prediction: x.step_scores.findIndex((v: number) => v < 0.5)}));
        const index = new Map(scores.map((x, i) => [x.id, i]));
        const groups = questions.map((q) => (byQ.get(q) ?? []).map((x) => index.get(x.id)!));
        const t: number[] = [], sc: number[] = [];
        for (const x of scores)
            truthsOf.get(x.id)!.forEach((c, i) => {
                if (c === null) return;
                t.push(c ? 1 : 0);
                sc.push(x.step_scores[i]);
            });
        return {name, rows, groups, bon, sel, k: summary.k as number, auc: rocAuc(sc, t)};
    });
    table(named);
    console.log(`\n| PRM | step ROC-AUC | BoN@${named[0].k} (min) | − ${named[0].name} (paired bootstrap over ${questions.length} problems) |`);
    console.log(`|---|---|---|---|`);
    for (const r of named) {
        const acc = r.bon.reduce((a, b) => a + b, 0) / r.bon.length;
        console.log(`| ${r.name} | ${r.auc.toFixed(3)} | ${pct(acc)} | ${r === named[0] ? "–" : iv(pairedBootstrap(named[0].bon, r.bon, {resamples: 2000, seed: 0}))} |`);
    }
    const k = named[0].k;
    const cell = (maj: number[], xs: number[]) => {
        const d = pairedBootstrap(maj, xs, {resamples: 2000, seed: 0});
        return `${pct(xs.reduce((a, b) => a + b, 0) / xs.length)} (${d.value >= 0 ? "+" : ""}${pct(d.value)}; ${pct(d.low)} to ${pct(d.high)}; p ${mcnemarExact(maj, xs).value.toFixed(3)})`;
    };
    console.log(`\n| PRM | maj@${k} | BoN@${k} (product) − maj@${k} | weighted vote@${k} (product) − maj@${k} |`);
    console.log(`|---|---|---|---|`);
    for (const r of named) console.log(`| ${r.name} | ${pct(r.sel.maj.reduce((a, b) => a + b, 0) / questions.length)} | ${cell(r.sel.maj, r.sel.product)} | ${cell(r.sel.maj, r.sel.vote)} |`);
} else {
    console.error("usage: lab-verifier-figures.ts pb|bon NAME=DIR ...");
    process.exit(2);
}
