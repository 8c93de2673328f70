/**
 * `npm run bench -- grade [--policy=strict] [--rounds=N]`: grading throughput on the MATH500
 * gold answers against reformatted copies of themselves (thousands separators, `\dfrac`,
 * `\left( \right)`, `\text{}`, answers inside sentences and boxes). Prints one JSON line:
 * grades per second (wall clock, and per CPU-second of this process, i.e. per core under load), the share of grades that fell through to the slow symbolic path,
 * the share that sampled expressions at random points, and how many reformatted copies were
 * (wrongly) judged different; then whole MATH500 solutions graded against their answers
 * (extraction from long texts included). Also reports the per-grade time distribution (p50, p99,
 * max in ms) over the reformatted copies, and the slowest grade of an adversarial set (values far
 * beyond float64, huge factorials and binomials, towers, deep nesting) against the per-grade time
 * bound (`timeoutMs`, default 2000 ms): `within_bound` must be true.
 */
import {existsSync, readFileSync} from "node:fs";
import {grade} from "../src/grade/index.ts";
import type {Policy} from "../src/grade/policy.ts";
import {resolveOptions} from "../src/grade/policy.ts";
import {answerVariants} from "../src/grade/variants.ts";

/** Inputs built to be slow: each is graded against itself, itself + 1, 1, \sqrt{2} and x. */
const ADVERSARIAL = [
    "\\frac{1}{2004!}", "171!", "5900!", "12345678901234567890123456789!", "\\binom{100000}{50000}", "\\binom{100000}{19999}",
    "(\\frac{3}{7})^{20000}", "\\frac{1}{2004!}+\\frac{1}{2005!}", "2^{65600}+1", "10^{10^{10^{10}}}", "e^{1000}", "e^{10^{16}}",
    "\\sin(10^{10^{5}})", "\\sqrt{2}^{10^{9}}", "(1+10^{-30})^{10^{30}}", "\\gcd(2^{60000},3^{30000})", "x^{" + "2^".repeat(2000) + "2}",
    "sqrt(".repeat(3000) + "2" + ")".repeat(3000), "\\frac{".repeat(5000), "1 \\pm 2 \\pm 3 \\pm 4 \\pm 5 \\pm 6 \\pm 7", "12:00:00 p.m.",
];

function quantile(sorted: number[], q: number): number {
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

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
    const times: number[] = [];
    const cpuTimes: number[] = [];
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++)
        for (const [g, p] of pairs) {
            const ts = r === 0 ? performance.now() : 0;
            const cs = r === 0 ? process.cpuUsage() : null;
            const res = grade(g, p, {policy});
            n++;
            if (r === 0) {
                times.push(performance.now() - ts);
                const cu = process.cpuUsage(cs!);
                cpuTimes.push((cu.user + cu.system) / 1000);
                if (res.symbolic) symbolic++;
                if (res.sampled) sampled++;
                if (!res.equal) unequal++;
            }
        }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    // Whole gold solutions against their answers: extraction from long texts included.
    const solutions = records.map((r) => [r.answer, r.solution] as const);
    const t1 = performance.now();
    let solutionsEqual = 0;
    for (const [a, s] of solutions) if (grade(a, s, {policy}).equal) solutionsEqual++;
    const solutionSeconds = (performance.now() - t1) / 1000;
    // The per-grade time bound on inputs built to be slow.
    const bound = resolveOptions({policy}).timeoutMs;
    let adversarialMax = 0;
    let adversarialWorst = "";
    for (const a of ADVERSARIAL)
        for (const b of [a, `${a}+1`, "1", "\\sqrt{2}", "x"]) {
            const ts = performance.now();
            grade(a, b, {policy});
            const dt = performance.now() - ts;
            if (dt > adversarialMax) {
                adversarialMax = dt;
                adversarialWorst = `${a.slice(0, 40)} vs ${b.slice(0, 40)}`;
            }
        }
    times.sort((a, b) => a - b);
    cpuTimes.sort((a, b) => a - b);
    const ms = (x: number) => +x.toFixed(3);
    console.log(
        JSON.stringify({
            name: "grade",
            policy,
            grades_per_s: Math.round(n / seconds),
            // CPU time of this process: per core, whatever else runs on the machine
            grades_per_cpu_s: Math.round(n / cpuSeconds),
            symbolic_share: +(symbolic / pairs.length).toFixed(4),
            sampled_share: +(sampled / pairs.length).toFixed(4),
            n: pairs.length,
            rounds,
            gold_answers: golds.length,
            judged_unequal: unequal,
            solutions_per_s: Math.round(solutions.length / solutionSeconds),
            solutions_equal: solutionsEqual,
            p50_ms: ms(quantile(times, 0.5)),
            p99_ms: ms(quantile(times, 0.99)),
            max_ms: ms(times[times.length - 1]),
            cpu_p99_ms: ms(quantile(cpuTimes, 0.99)),
            cpu_max_ms: ms(cpuTimes[cpuTimes.length - 1]),
            adversarial_max_ms: ms(adversarialMax),
            adversarial_worst: adversarialWorst,
            time_bound_ms: bound,
            within_bound: adversarialMax < bound && times[times.length - 1] < bound,
        }),
    );
}
