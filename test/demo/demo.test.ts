/** `stepwise demo` end to end on the shipped models, at a tiny size: every stage named, every report file written. */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, existsSync, rmSync} from "node:fs";
import {join} from "node:path";
import {tmpdir} from "node:os";
import {runCli} from "../helpers/cli.ts";

test("demo: stages named in progress, report.json with the headline figures, report.html with every section, the static viewer", async () => {
    const out = mkdtempSync(join(tmpdir(), "stepwise-demo-"));
    try {
        const r = runCli(["demo", "--out", out, "--problems", "3", "--k", "4", "--label-samples", "2", "--rollouts", "2", "--decode-problems", "2", "--decode-n", "2"]);
        assert.equal(r.status, 0, r.stderr);
        for (const stage of ["problems", "sample", "threshold", "split", "label", "prm", "decode", "judge", "code", "report"]) assert.match(r.stderr, new RegExp(`demo \\[\\d+/\\d+\\] ${stage}: `), stage);
        const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
        for (const key of ["greedy_accuracy", "maj_at_16", "bon_at_16", "tvd_accuracy", "beam_accuracy", "lab_processbench_f1", "judge_f1", "consensus_kept_share", "label_tokens_per_sample", "threshold", "code_pass_at_1"]) assert.ok(key in report, key);
        assert.ok(report.greedy_accuracy >= 0 && report.greedy_accuracy <= 1);
        assert.ok(report.threshold > 0 && report.threshold < 1);
        assert.ok(report.tvd_accuracy !== null && report.beam_accuracy !== null);
        assert.deepEqual(Object.keys(report.label_tokens_per_sample).sort(), ["adaptive", "newline"]);
        // k = 4 < 16: maj@16 and BoN@16 are not made up, and the report says why.
        assert.equal(report.maj_at_16, null);
        assert.match(report.skipped.bon_at_16, /--k 16/);
        for (const [k, v] of Object.entries(report.skipped)) assert.ok(typeof v === "string" && v.length > 0, k);
        const html = readFileSync(join(out, "report.html"), "utf8");
        for (const section of ["Headline figures", "Token confidences", "Steps: adaptive vs newline", "Monte-Carlo labels", "The PRM", "Decoding with the PRM"]) assert.ok(html.includes(section), section);
        assert.ok(!/<script/i.test(html), "the report runs no script");
        for (const f of ["report.md", "samples.jsonl", "steps-adaptive.jsonl", "labels-adaptive.jsonl", "scored-adaptive.jsonl", "decode-tvd.jsonl", "bon/accuracy-vs-n.svg", "viewer/index.html", "viewer/data/index.js"]) assert.ok(existsSync(join(out, f)), f);
    } finally {
        rmSync(out, {recursive: true, force: true});
    }
});
