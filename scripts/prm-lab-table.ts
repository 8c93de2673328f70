/**
 * The PRM comparison table of docs/lab-results.md from `stepwise lab eval-prm` outputs on the SAME
 * candidates (one folder per PRM, each with summary.json and scores.jsonl; candidates.jsonl in the
 * first): step ROC-AUC, lab-ProcessBench F1, and on the whole set of N candidates per question
 * Best-of-N (min, product, last), the PRM-weighted vote (product) and maj@N, each with its paired
 * difference to maj@N (95% paired percentile bootstrap over questions, 2,000 resamples, seed 0;
 * exact McNemar p). Ties go to the first candidate (the first-seen answer for votes).
 *
 * With `--against NAME`, a second table: each other PRM's Best-of-N and weighted vote minus NAME's,
 * paired over the same questions (same bootstrap, McNemar).
 *
 * Then, per PRM, why its vote does or does not beat maj@N: the mean within-question ROC-AUC of the
 * product weight (right against wrong candidates of the same question, over the questions that
 * have both), and of the questions where maj@N is wrong but a candidate is right, how many the
 * weighted vote (product) gets right, against the questions maj@N gets right that the vote loses.
 *
 * (The weighted vote with other aggregations as the weight, against maj@N with paired intervals:
 * `stepwise eval bon --data DIR/candidates.jsonl --scores DIR/scores.jsonl --vote-agg min,mean,last,product`.)
 *
 *   node --import tsx scripts/prm-lab-table.ts [--against NAME] NAME=DIR [NAME=DIR ...]
 */
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {readJsonlAll} from "../src/io/jsonl.ts";
import type {SampleRecord} from "../src/core/records.ts";
import {answerClasses, type Aggregation} from "../src/select/index.ts";
import {evaluateBon, prepareQuestion} from "../src/eval/index.ts";
import {mcnemarExact, pairedBootstrap, wilsonInterval} from "../src/stats/intervals.ts";
import {labGrader} from "../src/apps/lab/eval/prm.ts";
import {rocAuc} from "../src/prm/metrics.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--against");
const against = at >= 0 ? args.splice(at, 2)[1] : undefined;
const runs = args.map((a) => a.split("=") as [string, string]);
if (!runs.length) throw new Error("usage: prm-lab-table.ts [--against NAME] NAME=DIR ...");
if (against !== undefined && !runs.some(([name]) => name === against)) throw new Error(`--against ${against}: no run of that name`);
const outcomes = new Map<string, Record<string, number[]>>();
const candidates = await readJsonlAll<SampleRecord>(join(runs[0][1], "candidates.jsonl"));
const answers = new Map(candidates.map((c) => [c.id, labGrader.extract(c.text)]));
const pct = (x: number) => (100 * x).toFixed(1);

type Row = {id: string; question_id: string; correct: boolean; step_scores: number[]};
const table: string[] = [];
let n = 0;
for (const [name, dir] of runs) {
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    const rows = await readJsonlAll<Row>(join(dir, "scores.jsonl"));
    const byQ = new Map<string, Row[]>();
    for (const r of rows) byQ.set(r.question_id, [...(byQ.get(r.question_id) ?? []), r]);
    // Whole set, ties to the first candidate: the library's Best-of-N evaluation with one subset of all N.
    const groups = [...byQ.entries()];
    n = Math.min(...groups.map(([, rs]) => rs.length));
    const aggs: Aggregation[] = ["min", "product", "last"];
    const questions = groups.map(([qid, rs]) =>
        prepareQuestion({id: qid, correct: rs.map((r) => r.correct), classes: answerClasses(rs.map((r) => answers.get(r.id) ?? null), rs.map((r) => r.correct), labGrader.equal), stepScores: rs.map((r) => r.step_scores), aggregations: aggs}),
    );
    const bon = evaluateBon(questions, {sizes: [n], subsets: 1, ties: "first", bonAggregations: aggs, voteAggregations: ["product"]});
    const per = (id: string) => Array.from(bon.methods.find((m) => m.id === id)!.points[0].perQuestion);
    const outcome: Record<string, number[]> = {maj: per("maj"), pass: per("pass"), vote: per("vote-product"), min: per("bon-min"), product: per("bon-product"), last: per("bon-last"), auc: []};
    for (const q of questions) {
        const weights = q.scores.product!;
        if (q.correct.includes(1) && q.correct.includes(0)) outcome.auc.push(rocAuc(Array.from(weights), Array.from(q.correct)));
    }
    outcomes.set(name, outcome);
    const q = outcome.maj.length;
    const cell = (xs: number[]) => {
        const acc = xs.reduce((a, b) => a + b, 0) / q;
        const d = pairedBootstrap(outcome.maj, xs);
        const m = mcnemarExact(outcome.maj, xs);
        return `${pct(acc)} (${d.value >= 0 ? "+" : ""}${pct(d.value)}; ${pct(d.low)} to ${pct(d.high)}; p ${m.value.toFixed(3)})`;
    };
    const majAcc = outcome.maj.reduce((a, b) => a + b, 0);
    const w = wilsonInterval(majAcc, q);
    const pass = outcome.pass.reduce((a, b) => a + b, 0) / q;
    table.push(
        `| ${name} | ${summary.step_auc.toFixed(3)} | ${pct(summary.processbench.at_half.f1)} / ${summary.processbench.best ? pct(summary.processbench.best.f1) : "–"} | ${cell(outcome.min)} | ${cell(outcome.product)} | ${cell(outcome.last)} | ${cell(outcome.vote)} | ${pct(majAcc / q)} (${pct(w.low)}–${pct(w.high)}) | ${pct(pass)} | ${summary.greedy_accuracy !== undefined ? pct(summary.greedy_accuracy) : "–"} |`,
    );
}
console.log(`Best-of-${n} cells: accuracy (− maj@${n}, paired 95% CI; McNemar p)\n`);
console.log(`| PRM | step ROC-AUC | lab-PB F1 @0.5 / best | BoN@${n} min | BoN@${n} product | BoN@${n} last | weighted vote@${n} (product) | maj@${n} (95% CI) | pass@${n} | greedy |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|`);
for (const t of table) console.log(t);
console.log(`\n| PRM | within-question ROC-AUC (product weight; questions) | maj@${n} wrong, pass@${n} right: won by the vote | maj@${n} right: lost by the vote |`);
console.log(`|---|---|---|---|`);
for (const [name] of runs) {
    const o = outcomes.get(name)!;
    const room = o.maj.flatMap((m, i) => (m === 0 && o.pass[i] === 1 ? [i] : []));
    const held = o.maj.flatMap((m, i) => (m === 1 ? [i] : []));
    const mean = o.auc.reduce((a, b) => a + b, 0) / o.auc.length;
    console.log(`| ${name} | ${mean.toFixed(3)} (${o.auc.length}) | ${room.filter((i) => o.vote[i] === 1).length} of ${room.length} | ${held.filter((i) => o.vote[i] === 0).length} of ${held.length} |`);
}
if (against !== undefined) {
    const base = outcomes.get(against)!;
    const diff = (a: number[], b: number[]) => {
        const d = pairedBootstrap(b, a);
        const m = mcnemarExact(b, a);
        return `${d.value >= 0 ? "+" : ""}${pct(d.value)} (${pct(d.low)} to ${pct(d.high)}; p ${m.value.toFixed(3)})`;
    };
    console.log(`\nPaired against ${against} (same questions; 95% CI; McNemar p)\n`);
    console.log(`| PRM − ${against} | BoN@${n} min | BoN@${n} product | BoN@${n} last | weighted vote@${n} |`);
    console.log(`|---|---|---|---|---|`);
    for (const [name] of runs) {
        if (name === against) continue;
        const o = outcomes.get(name)!;
        console.log(`| ${name} | ${diff(o.min, base.min)} | ${diff(o.product, base.product)} | ${diff(o.last, base.last)} | ${diff(o.vote, base.vote)} |`);
    }
}
