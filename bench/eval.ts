/**
 * `npm run bench -- eval`: Best-of-N evaluation speed and memory on synthetic data with
 * precomputed step scores and answer classes (the grader is not involved: classes are computed
 * once per question before any subset is drawn, so this measures the subset loop).
 *
 * Prints one JSON line per subset count, `name: "eval"`, with the wall time of the evaluation,
 * the peak heap sampled after every question, and the process's max RSS so far. Both subset
 * counts run in one process, each after a full garbage collection; memory use must not grow with
 * the number of subsets (the peak heap includes garbage not yet collected, whose amount depends on
 * questions × sizes × methods, not on subsets).
 *
 * Flags: --questions=N (default 1000), --candidates=K (default 64), --subsets=A,B (default 200,1000),
 * --steps=S (mean steps per candidate, default 8).
 */
import {setFlagsFromString} from "node:v8";
import {runInNewContext} from "node:vm";
import {Rng} from "../src/util/rng.ts";
import {type BonQuestion, evaluateBon, prepareQuestion} from "../src/eval/bon/evaluate.ts";

function flag(flags: string[], name: string, fallback: string): string {
    return flags.find((x) => x.startsWith(`--${name}=`))?.split("=")[1] ?? fallback;
}

/** Synthetic questions: a few answer classes per question, one of them correct, PRM scores that favour it. */
function synthesize(questions: number, candidates: number, meanSteps: number): BonQuestion[] {
    const rng = new Rng(12345);
    const out: BonQuestion[] = [];
    for (let q = 0; q < questions; q++) {
        const nClasses = rng.int(1, 12);
        const correctClass = rng.bool(0.8) ? 0 : -2; // some questions have no correct answer at all
        const classOf = new Int32Array(candidates);
        const correct = new Uint8Array(candidates);
        const stepScores: Float64Array[] = [];
        for (let i = 0; i < candidates; i++) {
            // Class 0 is the most popular; −1 (no answer) sometimes.
            const c = rng.bool(0.05) ? -1 : Math.min(nClasses - 1, Math.floor(-Math.log(1 - rng.next()) * 1.5));
            classOf[i] = c;
            correct[i] = c === correctClass ? 1 : 0;
            const steps = rng.int(1, 2 * meanSteps - 1);
            const s = new Float64Array(steps);
            for (let k = 0; k < steps; k++) s[k] = Math.min(1, Math.max(0, (correct[i] ? 0.75 : 0.55) + 0.3 * (rng.next() - 0.5)));
            stepScores.push(s);
        }
        const classCorrect = new Uint8Array(nClasses);
        if (correctClass >= 0) classCorrect[correctClass] = 1;
        out.push(prepareQuestion({id: `q${q}`, correct, classes: {classOf, classCorrect, count: nClasses}, stepScores}));
    }
    return out;
}

/** A full garbage collection, so that each run starts from the same heap. */
function collectGarbage(): void {
    setFlagsFromString("--expose-gc");
    (runInNewContext("gc") as () => void)();
}

export default async function run(flags: string[]): Promise<void> {
    const Q = Number(flag(flags, "questions", "1000"));
    const K = Number(flag(flags, "candidates", "64"));
    const counts = flag(flags, "subsets", "200,1000").split(",").map(Number);
    const meanSteps = Number(flag(flags, "steps", "8"));
    const t0 = performance.now();
    const questions = synthesize(Q, K, meanSteps);
    const prepareSeconds = (performance.now() - t0) / 1000;
    console.error(`[eval] ${Q} questions × ${K} candidates prepared in ${prepareSeconds.toFixed(2)} s`);
    for (const subsets of counts) {
        collectGarbage();
        let heapPeak = process.memoryUsage().heapUsed;
        const heapBefore = heapPeak;
        const t1 = performance.now();
        const result = evaluateBon(questions, {
            subsets,
            seed: 1,
            onProgress: () => {
                const h = process.memoryUsage().heapUsed;
                if (h > heapPeak) heapPeak = h;
            },
        });
        const seconds = (performance.now() - t1) / 1000;
        const last = result.sizes.length - 1;
        const acc = Object.fromEntries(result.methods.map((m) => [m.id, Number((100 * m.points[last].accuracy).toFixed(2))]));
        console.log(
            JSON.stringify({
                name: "eval",
                questions: Q,
                candidates: K,
                subsets,
                sizes: result.sizes,
                methods: result.methods.length,
                seconds: Number(seconds.toFixed(3)),
                subset_draws_per_second: Math.round((Q * result.sizes.length * subsets) / seconds),
                heap_before_mb: Number((heapBefore / 2 ** 20).toFixed(1)),
                heap_peak_mb: Number((heapPeak / 2 ** 20).toFixed(1)),
                max_rss_mb: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
                prepare_seconds: Number(prepareSeconds.toFixed(3)),
                [`accuracy_at_${result.sizes[last]}`]: acc,
            }),
        );
    }
}
