/**
 * `npm run bench -- grade [--policy=strict] [--rounds=N]`: grading throughput on the MATH500
 * gold answers against reformatted copies of themselves (thousands separators, `\dfrac`,
 * `\left( \right)`, `\text{}`, answers inside sentences and boxes). Prints one JSON line:
 * grades per second on one core, the share of grades that fell through to the slow symbolic path,
 * the share that sampled expressions at random points, and how many reformatted copies were
 * (wrongly) judged different; then whole MATH500 solutions graded against their answers
 * (extraction from long texts included).
 */
import {existsSync, readFileSync} from "node:fs";
import {grade} from "../src/grade/index.ts";
import type {Policy} from "../src/grade/policy.ts";
import {answerVariants} from "../src/grade/variants.ts";

const DATA = new URL("../../shared/data/math500/test.jsonl", import.meta.url);

export default async function bench(flags: string[]): Promise<void> {
    const flag = (name: string) => flags.find((f) => f.startsWith(`--${name}=`))?.split("=")[1];
    const policy = (flag("policy") ?? "lenient") as Policy;
    const rounds = Number(flag("rounds") ?? 3);
    if (!existsSync(DATA)) {
        console.error("[bench grade] ../shared/data/math500/test.jsonl is absent: skipped");
        console.log(JSON.stringify({name: "grade", skipped: "../shared/data/math500 absent"}));
        return;
    }
    const records = readFileSync(DATA, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as {answer: string; solution: string});
    const golds = records.map((r) => r.answer);
    const pairs: Array<[string, string]> = [];
    for (const g of golds) for (const v of answerVariants(g)) pairs.push([g, v.text]);
    // warm-up (JIT, lazy compute-engine construction)
    for (const [g, p] of pairs.slice(0, 200)) grade(g, p, {policy});
    let symbolic = 0;
    let sampled = 0;
    let unequal = 0;
    let n = 0;
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++)
        for (const [g, p] of pairs) {
            const res = grade(g, p, {policy});
            n++;
            if (r === 0) {
                if (res.symbolic) symbolic++;
                if (res.sampled) sampled++;
                if (!res.equal) unequal++;
            }
        }
    const seconds = (performance.now() - t0) / 1000;
    // Whole gold solutions against their answers: extraction from long texts included.
    const solutions = records.map((r) => [r.answer, r.solution] as const);
    const t1 = performance.now();
    let solutionsEqual = 0;
    for (const [a, s] of solutions) if (grade(a, s, {policy}).equal) solutionsEqual++;
    const solutionSeconds = (performance.now() - t1) / 1000;
    console.log(
        JSON.stringify({
            name: "grade",
            policy,
            grades_per_s: Math.round(n / seconds),
            symbolic_share: +(symbolic / pairs.length).toFixed(4),
            sampled_share: +(sampled / pairs.length).toFixed(4),
            n: pairs.length,
            rounds,
            gold_answers: golds.length,
            judged_unequal: unequal,
            solutions_per_s: Math.round(solutions.length / solutionSeconds),
            solutions_equal: solutionsEqual,
        }),
    );
}
