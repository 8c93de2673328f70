/**
 * `npm run bench -- code [--limit=N] [--concurrency=N] [--chunk=N]`: the code verifier on the
 * LeetCodeDataset reference solutions (v0.3.1 test split), with the bubblewrap sandbox on, side by
 * side with the same harness run by a bare `python3` (no bwrap, no namespaces; same rlimits and
 * clean environment). The two modes alternate in chunks of candidates so load changes hit both.
 * Prints one JSON line: candidates verified per second in each mode, the overhead ratio (sandboxed
 * wall time / bare wall time), the median per-candidate extra milliseconds, and the start-up cost
 * of a trivial program in each mode.
 */
import {existsSync} from "node:fs";
import {readCodeProblems} from "../src/domains/code/problems.ts";
import {referenceCandidates} from "../src/domains/code/run.ts";
import {detectSandbox} from "../src/domains/code/sandbox.ts";
import {verifyCandidates, verifyProgram, type CodeCandidate, type CodeVerdict} from "../src/domains/code/verifier.ts";

const DATA = new URL("../../shared/data/leetcode/LeetCodeDataset-v0.3.1-test.jsonl.gz", import.meta.url).pathname;
// References whose tests take minutes of CPU (see test/code/leetcode.test.ts).
const SLOW = new Set(["maximum-number-of-moves-to-kill-all-pawns", "find-the-number-of-subsequences-with-equal-gcd"]);

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

export default async function bench(flags: string[]): Promise<void> {
    const flag = (name: string) => flags.find((f) => f.startsWith(`--${name}=`))?.split("=")[1];
    if (!existsSync(DATA)) {
        console.error("[bench code] ../shared/data/leetcode is absent: skipped");
        console.log(JSON.stringify({name: "code", skipped: "../shared/data/leetcode absent"}));
        return;
    }
    const sandbox = detectSandbox();
    if (sandbox.kind !== "bwrap") {
        console.log(JSON.stringify({name: "code", skipped: `no sandbox: ${sandbox.reason}`}));
        return;
    }
    const bare = {...sandbox, kind: "none" as const, reason: "bench: bare python3"};
    const concurrency = Number(flag("concurrency") ?? 2);
    const chunk = Number(flag("chunk") ?? 20);
    const problems = readCodeProblems(DATA);
    let candidates: CodeCandidate[] = referenceCandidates(problems).filter((c) => !SLOW.has(c.task_id));
    if (flag("limit")) candidates = candidates.slice(0, Number(flag("limit")));
    const limits = {wallMs: 120_000, cpuSeconds: 60, memoryBytes: 1024 ** 3};

    // Start-up cost: a trivial passing program, alternating modes.
    const trivial = {task_id: "t", test: "def check(candidate):\n    assert candidate() == 1\n", entry_point: "f"};
    const start = {sandbox: [] as number[], bare: [] as number[]};
    for (let i = 0; i < 10; i++) {
        start.sandbox.push((await verifyProgram(trivial, "def f():\n    return 1\n", {limits})).wall_ms);
        start.bare.push((await verifyProgram(trivial, "def f():\n    return 1\n", {limits, sandbox: bare, unsafe: true})).wall_ms);
    }

    const out = {sandbox: {seconds: 0, verdicts: [] as CodeVerdict[]}, bare: {seconds: 0, verdicts: [] as CodeVerdict[]}};
    for (let i = 0; i < candidates.length; i += chunk) {
        const part = candidates.slice(i, i + chunk);
        const order = (i / chunk) % 2 === 0 ? (["sandbox", "bare"] as const) : (["bare", "sandbox"] as const);
        for (const mode of order) {
            const t0 = performance.now();
            const v = await verifyCandidates(problems, part, mode === "sandbox" ? {limits, concurrency} : {limits, concurrency, sandbox: bare, unsafe: true});
            out[mode].seconds += (performance.now() - t0) / 1000;
            out[mode].verdicts.push(...v);
        }
        console.error(`[bench code] ${Math.min(candidates.length, i + chunk)}/${candidates.length}`);
    }
    const n = candidates.length;
    const bareById = new Map(out.bare.verdicts.map((v) => [v.id, v]));
    const extra = out.sandbox.verdicts.map((v) => v.wall_ms - (bareById.get(v.id)?.wall_ms ?? NaN)).filter(Number.isFinite);
    console.log(
        JSON.stringify({
            name: "code",
            candidates: n,
            skipped_slow: [...SLOW],
            concurrency,
            sandbox_per_second: n / out.sandbox.seconds,
            bare_per_second: n / out.bare.seconds,
            overhead_ratio: out.sandbox.seconds / out.bare.seconds,
            median_extra_ms_per_candidate: median(extra),
            sandbox_pass: out.sandbox.verdicts.filter((v) => v.status === "pass").length,
            bare_pass: out.bare.verdicts.filter((v) => v.status === "pass").length,
            trivial_program_ms: {sandbox_median: median(start.sandbox), bare_median: median(start.bare)},
        }),
    );
}
