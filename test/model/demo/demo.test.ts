// stepwise-test: long (starts first: scripts/test.mjs)
/**
 * `stepwise demo` end to end on the shipped models, at a tiny size: every stage named, every
 * report file written, and each intermediate file made by the library stage its command runs
 * (sample, split, label, score, decode, judge), so the demo catches their regressions. The one
 * test that runs the whole demo (test/pack runs a short one from the installed package).
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, existsSync, rmSync} from "node:fs";
import {join} from "node:path";
import {tmpdir} from "node:os";
import {runCli} from "../../helpers/cli.ts";

const lines = (file: string) => readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

test("demo: stages named in progress, each file written by its pipeline stage, report.json with the headline figures and their intervals, paired comparisons in report.html and stdout, the static viewer", async () => {
    const out = mkdtempSync(join(tmpdir(), "stepwise-demo-"));
    try {
        const [problems, k, labelSamples, decodeProblems] = [3, 4, 2, 2];
        const r = runCli(["demo", "--out", out, "--problems", `${problems}`, "--k", `${k}`, "--label-samples", `${labelSamples}`, "--rollouts", "2", "--decode-problems", `${decodeProblems}`, "--decode-n", "2", "--code-tasks", "1"]);
        assert.equal(r.status, 0, r.stderr);
        for (const stage of ["problems", "sample", "threshold", "split", "label", "prm", "decode", "judge", "code", "report"]) assert.match(r.stderr, new RegExp(`demo \\[\\d+/\\d+\\] ${stage}: `), stage);
        // Every figure printed with its interval and n.
        assert.match(r.stdout, new RegExp(`^greedy accuracy: \\d+\\.\\d% \\(95% CI \\d+\\.\\d–\\d+\\.\\d, n ${problems}\\)$`, "m"));
        assert.match(r.stdout, new RegExp(`^TVD accuracy: \\d+\\.\\d% \\(95% CI \\d+\\.\\d–\\d+\\.\\d, n ${decodeProblems}\\)$`, "m"));

        const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
        assert.deepEqual([report.settings.problems, report.settings.k], [problems, k]);
        for (const key of ["greedy_accuracy", "maj_at_16", "bon_at_16", "tvd_accuracy", "beam_accuracy", "lab_processbench_f1", "judge_f1", "consensus_kept_share", "label_tokens_per_sample", "threshold", "code_pass_at_1"]) assert.ok(key in report, key);
        assert.ok(report.greedy_accuracy >= 0 && report.greedy_accuracy <= 1);
        assert.ok(report.threshold > 0 && report.threshold < 1);
        assert.ok(report.tvd_accuracy !== null && report.beam_accuracy !== null);
        assert.deepEqual(Object.keys(report.label_tokens_per_sample).sort(), ["adaptive", "newline"]);
        // Each headline figure with its interval {value, low, high, n, method, level}, value = the scalar.
        const ns: Record<string, number> = {greedy_accuracy: problems, tvd_accuracy: decodeProblems, beam_accuracy: decodeProblems, step_auc: problems * k, lab_processbench_f1: problems * k, judge_f1: problems * k, consensus_kept_share: labelSamples, code_pass_at_1: 1};
        for (const [key, n] of Object.entries(ns)) {
            const iv = report[`${key}_ci`];
            // Undefined on a tiny run (e.g. F1 with no erroneous sample, no sandbox for the code lab): then both are null.
            if (report[key] === null && !["greedy_accuracy", "tvd_accuracy", "beam_accuracy"].includes(key)) {
                assert.equal(iv, null, `${key}_ci`);
                continue;
            }
            assert.ok(iv && typeof iv.low === "number" && typeof iv.high === "number" && iv.low <= iv.value && iv.value <= iv.high, `${key}_ci: ${JSON.stringify(iv)}`);
            assert.equal(iv.n, n, `${key}_ci.n`);
            assert.ok(Math.abs(iv.value - report[key]) < 1e-4, `${key}_ci.value ${iv.value} vs ${report[key]}`);
            assert.match(iv.method, /^(wilson|bootstrap-percentile)$/, key);
            assert.equal(iv.level, 0.95, key);
            if (key === "step_auc") assert.match(r.stdout, /^PRM step ROC-AUC: \d\.\d{3} \(95% CI \d\.\d{3}–\d\.\d{3}, n \d+\)$/m);
        }
        // The paired comparisons: TVD vs greedy, each PRM Best-of-N vs maj@N (at N = k), PRM vs judge.
        const comparisons = report.comparisons as Array<{a: string; b: string; items: string; diff: {value: number; low: number; high: number; n: number; method: string}; sentence: string}>;
        assert.deepEqual(comparisons[0].sentence.split(":")[0], "TVD − greedy");
        assert.ok(comparisons.some((c) => c.b === "PRM BoN (min)" && c.a === "maj@N" && c.sentence.includes(`at N = ${k}`)), JSON.stringify(comparisons.map((c) => c.sentence)));
        assert.ok(comparisons.some((c) => c.b === "PRM" && c.a === "judge" && c.diff.n === problems * k));
        for (const c of comparisons) {
            assert.equal(c.diff.method, "paired-bootstrap-percentile", c.sentence);
            assert.match(c.sentence, /the difference is (not )?significant at 95%: interval /);
            assert.ok(r.stdout.includes(c.sentence), `stdout: ${c.sentence}`);
        }
        // k = 4 < 16: maj@16 and BoN@16 are not made up, and the report says why.
        assert.equal(report.maj_at_16, null);
        assert.deepEqual([report.maj_at_16_ci, report.bon_at_16_ci], [null, null]);
        assert.match(report.skipped.bon_at_16, /--k 16/);
        for (const [key, v] of Object.entries(report.skipped)) assert.ok(typeof v === "string" && v.length > 0, key);

        // Each file is the output of the library stage its command runs: the stage helper's settings file names it.
        const stageOf = (f: string) => (JSON.parse(readFileSync(join(out, `${f}.settings.json`), "utf8")) as {stage: string}).stage;
        const made: Record<string, string> = {
            "greedy.jsonl": "sample",
            "samples.jsonl": "sample",
            "steps-adaptive.jsonl": "split",
            "steps-newline.jsonl": "split",
            "labels-adaptive.jsonl": "label",
            "labels-newline.jsonl": "label",
            "scored-adaptive.jsonl": "score",
            "decode-greedy.jsonl": "decode",
            "decode-tvd.jsonl": "decode",
            "decode-best-of-n.jsonl": "decode",
            "decode-beam.jsonl": "decode",
            "verdicts.jsonl": "judge",
        };
        for (const [f, stage] of Object.entries(made)) assert.equal(stageOf(f), stage, f);

        const samples = lines(join(out, "samples.jsonl")) as Array<{id: string; sample_index: number; temperature: number; tokens: Array<Record<string, unknown>>}>;
        assert.equal(samples.length, problems * k);
        for (const s of samples) {
            assert.equal(s.temperature, 1, s.id);
            assert.ok(s.tokens.length > 0 && s.tokens.every((t) => typeof t.confidence === "number" && !("top" in t)), `${s.id}: confidences, no empty top lists`);
        }
        const greedy = lines(join(out, "greedy.jsonl"));
        assert.equal(greedy.length, problems);
        assert.ok(greedy.every((g) => g.temperature === 0));
        const truth = lines(join(out, "truth.jsonl"));
        assert.deepEqual(truth.map((t) => t.id), samples.map((s) => s.id), "the lab's verdict of every sample, for the viewer");
        assert.ok(truth.every((t) => typeof t.correct === "boolean" && typeof t.first_error_step === "number"));

        // Labels: the first sample of each of the first --label-samples problems, per split.
        for (const name of ["adaptive", "newline"]) {
            const labels = lines(join(out, `labels-${name}.jsonl`)) as Array<{id: string; sample_index: number; hard: unknown[]; steps: unknown[]; truth?: unknown}>;
            assert.equal(labels.length, labelSamples, name);
            assert.deepEqual(labels.map((l) => l.sample_index), [0, 0], name);
            assert.equal(new Set(labels.map((l) => l.id)).size, labelSamples, name);
            for (const l of labels) assert.ok(l.hard.length === l.steps.length && l.truth, `${name} ${l.id}: a label per step and the exact truth`);
        }
        const scored = lines(join(out, "scored-adaptive.jsonl")) as Array<{id: string; steps: unknown[]; step_scores: number[]; prm: string}>;
        assert.equal(scored.length, problems * k, "every adaptive sample scored");
        for (const s of scored) assert.ok(s.step_scores.length === s.steps.length && /lab-prm\.gguf$/.test(s.prm), s.id);
        for (const strategy of ["greedy", "tvd", "best-of-n", "beam"]) assert.equal(lines(join(out, `decode-${strategy}.jsonl`)).length, decodeProblems, strategy);
        // --judge-samples 160 > 3 problems × 4 samples: the judge (the lab verifier) reads every adaptive sample, with the verify template its GGUF names, one greedy answer.
        const verdicts = lines(join(out, "verdicts.jsonl")) as Array<{id: string; method: string}>;
        assert.equal(verdicts.length, problems * k);
        assert.ok(verdicts.every((v) => /lab-verifier\.gguf,template=verify,n=1,T=0,/.test(v.method)), verdicts[0]?.method);

        const html = readFileSync(join(out, "report.html"), "utf8");
        for (const section of ["Headline figures", "Token confidences", "Steps: adaptive vs newline", "Monte-Carlo labels", "The PRM", "Decoding with the PRM", "LLM-as-a-judge"]) assert.ok(html.includes(section), section);
        assert.ok(!/<script/i.test(html), "the report runs no script");
        for (const c of comparisons) assert.ok(html.includes(c.sentence), `report.html: ${c.sentence}`);
        // The Qwen analyses are in the page (their charts from analyze/), one confidence histogram (threshold.svg).
        assert.match(html, /<h4>\(d\) Rating position/);
        assert.ok(html.includes('<img src="analyze/rating-positions.svg"'));
        assert.ok(html.includes('<img src="threshold.svg"') && !html.includes("confidence-histogram"));
        assert.ok(html.includes("<code>steps-*.jsonl</code>") && !/<em>[^<]*jsonl/.test(html), "file names are code, not emphasis");
        for (const f of ["report.md", "threshold.json", "stats.json", "consensus-adaptive.jsonl", "bon/summary.json", "bon/accuracy-vs-n.svg", "analyze/summary.json", "threshold.svg", "viewer/index.html", "viewer/data/index.js"]) assert.ok(existsSync(join(out, f)), f);
    } finally {
        rmSync(out, {recursive: true, force: true});
    }
});
