/**
 * The per-category table of the lab PRMBench (docs/judge.md): for each scorer, from the step scores
 * `stepwise eval prmbench --prm SPEC --scores-out FILE` kept, PRMBench's PRMScore at threshold 0.5
 * (the reference metric, src/eval/prmbench/metrics.ts, with its 95% bootstrap interval over items)
 * and the threshold-free step ROC-AUC of wrong against right steps (95% percentile bootstrap over
 * items, 2,000 resamples, seed 0). Items a scorer left out count as missing for it.
 *
 *   node --import tsx scripts/lab-prmbench-table.ts DATA.jsonl NAME=SCORES.jsonl [NAME=SCORES.jsonl ...]
 */
import {readJsonlAll} from "../src/io/jsonl.ts";
import {readPrmBench} from "../src/eval/prmbench/load.ts";
import {aggregatePrmBench, validFromScores} from "../src/eval/prmbench/metrics.ts";
import {rocAuc} from "../src/prm/metrics.ts";
import {bootstrapInterval} from "../src/stats/intervals.ts";

const [data, ...runs] = process.argv.slice(2);
if (!data || !runs.length) throw new Error("usage: lab-prmbench-table.ts DATA.jsonl NAME=SCORES.jsonl ...");
const bench = readPrmBench([data]);
const cats = [...new Set(bench.items.map((i) => i.classification))];
const pct = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : (100 * x).toFixed(1));
const cells = new Map<string, string[]>();
const totals: string[] = [];
for (const run of runs) {
    const [name, file] = run.split("=");
    const rows = await readJsonlAll<{id: string; step_scores: number[]}>(file);
    const byId = new Map(rows.map((r) => [r.id, r.step_scores]));
    const scores = bench.items.map((i) => byId.get(i.id) ?? null);
    const result = aggregatePrmBench(bench.items, scores.map((s) => (s ? validFromScores(s, 0.5) : null)));
    // Step AUC over the items of one category (or all): wrong steps are the positives of "error".
    const auc = (items: number[]) => {
        const stat = (idx: ArrayLike<number>) => {
            const s: number[] = [];
            const y: number[] = [];
            for (let k = 0; k < idx.length; k++) {
                const it = bench.items[items[idx[k]]];
                const sc = scores[items[idx[k]]];
                if (!sc) continue;
                sc.forEach((x, j) => {
                    s.push(1 - x);
                    y.push(it.errorSteps.includes(j + 1) ? 1 : 0);
                });
            }
            return y.some((v) => v === 1) && y.some((v) => v === 0) ? rocAuc(s, y) : NaN;
        };
        const point = stat(Int32Array.from(items.keys()));
        const ci = bootstrapInterval(items.length, (idx) => stat(idx), {resamples: 2000, seed: 0});
        return `${pct(point)} (${pct(ci.low)}–${pct(ci.high)})`;
    };
    for (const c of cats) {
        const m = result.categories.find((x) => x.name === c)!;
        const items = bench.items.flatMap((it, i) => (it.classification === c ? [i] : []));
        const hasWrong = items.some((i) => bench.items[i].errorSteps.length);
        const text = `${pct(m.prmscore)} (${pct(m.prmscoreInterval?.low)}–${pct(m.prmscoreInterval?.high)})${hasWrong ? `; AUC ${auc(items)}` : `; right steps called right ${pct(m.correctStepAcc)}`}`;
        cells.set(c, [...(cells.get(c) ?? []), text]);
    }
    const all = bench.items.map((_, i) => i);
    totals.push(`${pct(result.total.prmscore)} (${pct(result.total.prmscoreInterval?.low)}–${pct(result.total.prmscoreInterval?.high)}); AUC ${auc(all)}`);
}
const names = runs.map((r) => r.split("=")[0]);
console.log(`| category (items) | ${names.join(" | ")} |`);
console.log(`|---|${names.map(() => "---").join("|")}|`);
for (const c of cats) console.log(`| ${c} (${bench.items.filter((i) => i.classification === c).length}) | ${cells.get(c)!.join(" | ")} |`);
console.log(`| all (${bench.items.length}) | ${totals.join(" | ")} |`);
