/**
 * Paired differences of two lab policies pooled over several held-out sets (docs/rl.md, "both (n
 * 400)"), from the decoded folders `stepwise lab eval-policy` keeps (`<out>/decoded/<model>-<hash>/`
 * with greedy.jsonl and samples.jsonl): greedy accuracy and maj@N (the one vote of src/select, as
 * eval-policy), A − B with the paired percentile bootstrap over problems (2,000 resamples, seed 0)
 * and the exact McNemar test; and each policy's share of right greedy answers reached through a
 * wrong step (exact lab truth).
 *
 *   node --import tsx scripts/rl-pooled.ts A_DECODED[,A_DECODED...] B_DECODED[,B_DECODED...]
 * (one folder per held-out set, in the same order for A and B)
 */
import {join} from "node:path";
import {readJsonlAll} from "../src/io/jsonl.ts";
import {checkAnswer} from "../src/domains/lab/index.ts";
import {hasWrongStep, majorityCorrect} from "../src/apps/lab/eval/policy.ts";
import {mcnemarExact, pairedBootstrap} from "../src/stats/intervals.ts";

type Rec = {question_id: string; question: string; text: string; tokens: Array<{text: string; confidence: number}>};
async function outcomes(dirs: string[]) {
    const greedy: number[] = [];
    const maj: number[] = [];
    let right = 0;
    let wrongStep = 0;
    const ids: string[] = [];
    for (const dir of dirs) {
        const g = await readJsonlAll<Rec>(join(dir, "greedy.jsonl"));
        const s = await readJsonlAll<Rec>(join(dir, "samples.jsonl"));
        const byQ = new Map<string, Rec[]>();
        for (const r of s) byQ.set(r.question_id, [...(byQ.get(r.question_id) ?? []), r]);
        for (const r of g) {
            const ok = checkAnswer(r.question, r.text).correct;
            greedy.push(ok ? 1 : 0);
            if (ok) {
                right++;
                if (hasWrongStep(r.question, r)) wrongStep++;
            }
            const ss = byQ.get(r.question_id) ?? [];
            maj.push(majorityCorrect(ss.map((x) => x.text), ss.map((x) => checkAnswer(r.question, x.text).correct)) ? 1 : 0);
            ids.push(`${dir.split("/").at(-3)}:${r.question_id}`);
        }
    }
    return {greedy, maj, right, wrongStep, ids};
}
const [a, b] = process.argv.slice(2).map((x) => x.split(","));
if (!a || !b || a.length !== b.length) throw new Error("usage: rl-pooled.ts A_DECODED[,...] B_DECODED[,...] (same number of sets)");
const A = await outcomes(a);
const B = await outcomes(b);
if (A.greedy.length !== B.greedy.length) throw new Error(`A has ${A.greedy.length} problems, B ${B.greedy.length}`);
const pct = (x: number) => (100 * x).toFixed(2);
for (const k of ["greedy", "maj"] as const) {
    const d = pairedBootstrap(B[k], A[k], {resamples: 2000, seed: 0}); // (b, a) gives a − b
    const m = mcnemarExact(A[k], B[k]);
    const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
    console.log(`${k}: A ${pct(mean(A[k]))} B ${pct(mean(B[k]))}; A − B ${pct(d.value)} (${pct(d.low)} to ${pct(d.high)}), n ${A[k].length}; McNemar p ${m.value.toFixed(3)} (${m.a_only} / ${m.b_only})`);
}
console.log(`right greedy answers through a wrong step: A ${A.wrongStep}/${A.right}, B ${B.wrongStep}/${B.right}`);
