/**
 * The demo's report from synthetic figures (no model): every headline figure with its interval
 * and n, the paired comparisons as sentences, escaped file names, one confidence plot, the Qwen
 * analyses in the page, counts in correct plurals, and the stdout summary.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {demoHtml, demoMarkdown, demoSummary, firstErrorPairing, bonFraction, type DemoFigures, type DemoReport} from "../../../src/apps/demo/report.ts";
import {pairedDifference} from "../../../src/search/index.ts";
import {intervalJson, wilsonInterval} from "../../../src/stats/intervals.ts";

const w = (k: number, n: number) => intervalJson(wilsonInterval(k, n));

const pbAt = (threshold: number) => ({threshold, acc_error_ci: w(3, 6), acc_correct_ci: w(5, 6), f1_ci: {value: 0.61, low: 0.3, high: 0.85, n: 12, method: "bootstrap-percentile", level: 0.95}});

function fixture(): {report: DemoReport; figures: DemoFigures} {
    const greedy = Array.from({length: 40}, (_, i) => ({id: `q${i}`, correct: i < 27}));
    const tvd = Array.from({length: 40}, (_, i) => ({id: `q${i}`, correct: i < 28}));
    const tvdVsGreedy = pairedDifference(greedy, tvd, ["greedy", "TVD"]);
    const pairing = firstErrorPairing([-1, 2, 1, -1], [-1, 2, 0, 0], [-1, 1, 1, -1]);
    const report: DemoReport = {
        out: "/tmp/demo",
        policy: "/m/lab-policy.gguf",
        settings: {problems: 40, k: 16, seed: 0, quantile: 0.02, label_samples: 1, rollouts: 1, decode_problems: 40, decode_n: 4},
        stages: [{name: "problems", seconds: 0.1}],
        skipped: {},
        seconds: 1,
        greedy_accuracy: 0.675,
        greedy_accuracy_ci: w(27, 40),
        maj_at_16: 0.75,
        maj_at_16_ci: w(30, 40),
        bon_at_16: {product: 0.775},
        bon_at_16_ci: {product: bonFraction({value: 77.5, low: 62.5, high: 87.68, n: 40, method: "wilson", level: 0.95})},
        tvd_accuracy: 0.7,
        tvd_accuracy_ci: w(28, 40),
        beam_accuracy: 0.7,
        beam_accuracy_ci: w(28, 40),
        step_auc: 0.8123,
        step_auc_ci: {value: 0.8123, low: 0.77, high: 0.85, n: 640, method: "bootstrap-percentile", level: 0.95},
        lab_processbench_f1: 0.761,
        lab_processbench_f1_ci: {value: 0.761, low: 0.7, high: 0.81, n: 640, method: "bootstrap-percentile", level: 0.95},
        judge_f1: 0.208,
        judge_f1_ci: {value: 0.208, low: 0.1, high: 0.3, n: 160, method: "bootstrap-percentile", level: 0.95},
        consensus_kept_share: 0.5,
        consensus_kept_share_ci: w(20, 40),
        label_tokens_per_sample: {adaptive: 500},
        threshold: 0.1234,
        code_pass_at_1: 0.163,
        code_pass_at_1_ci: w(3.26, 20),
        comparisons: [
            {a: "greedy", b: "TVD", items: "40 problems", diff: tvdVsGreedy.interval, sentence: tvdVsGreedy.sentence, mcnemar_p: tvdVsGreedy.mcnemar_p},
            {a: "maj@N", b: "PRM BoN (product)", items: "40 questions", diff: {value: 0.025, low: -0.075, high: 0.125, n: 40, method: "paired-bootstrap-percentile", level: 0.95}, sentence: "PRM BoN (product) − maj@N at N = 16: +2.5 points; the difference is not significant at 95%: interval −7.5 to +12.5 points, n 40"},
            pairing.comparison,
        ],
    };
    const intervention = {type: "tvd", offset: 5, candidates: [{text: "3", prob: 0.4, score: 0.6}, {text: "4*", prob: 0.3, score: 0.7}], chosen: 1};
    const figures = {
        threshold: {tau: 0.1234, quantile: 0.02, tokens: 12000, samples: 640, below_tau: 240, share_below_tau: 0.02, mean: 0.9, min: 0, max: 1, quantiles: {}, histogram: []},
        labels: {adaptive: {samples: 1, rollouts_per_sample: 4, generated_tokens_per_sample: 500, truth: {samples: 1, first_negative_match: 1, false_negative_rate: 0, false_positive_rate: 0}}},
        decode: {
            summaries: {greedy: {n: 40, accuracy_ci: w(27, 40), policy_tokens_per_question: 50, prm_calls_per_question: 0, requests_per_question: 1}, tvd: {n: 40, accuracy_ci: w(28, 40), policy_tokens_per_question: 60, prm_calls_per_question: 2, requests_per_question: 3}},
            records: {tvd: [{question: "2 * 3 + 4 = ?", text: "2 * 3 = 6\n6 + 4 = 10", correct: true, answer: "10", trace: [intervention]}]},
            tvdVsGreedy,
            tvdTau: 0.55,
            tokenValues: true,
        },
        judge: {path: "/m/lab-verifier.gguf", template: "verify", n: 1, solutions: 1, too_long: 0, generated_tokens_per_solution: 90, metrics: {accError: null, accCorrect: 1, f1: null}, intervals: {acc_error: null, acc_correct: w(1, 1), f1: null}, no_verdict: 1, vsPrm: pairing},
        prm: {
            path: "/m/lab-prm.gguf",
            eval: {
                samples: 12,
                steps: 30,
                step_auc: 0.8123,
                step_auc_ci: report.step_auc_ci,
                processbench: {at_half: pbAt(0.5), best: pbAt(0.31)},
                bon: {questions: 3, candidates: {min: 4, max: 4}, sizes: [1, 2, 4], subsets: 10, seed: 0, ci: "wilson-95", ties: "random", allow_unfinished: false, methods: [], paired: []},
            },
        },
        analyzeMarkdown: "# PRM analysis\n\n## (a) Does the PRM flag an error?\n\n![falsePositive](false-positive.svg)\n\n## (c) Best-of-N by step-score aggregation\n\n![Best-of-N by aggregation](bon-aggregations.svg)\n\n## (d) Rating position\n\ntext\n",
    } as unknown as DemoFigures;
    return {report, figures};
}

test("firstErrorPairing: each predictor's exact first-error share (Wilson) and PRM − judge paired on the same solutions", () => {
    const p = firstErrorPairing([-1, 2, 1, -1], [-1, 2, 0, 0], [-1, 1, 1, -1]);
    assert.deepEqual([p.prm.value, p.prm.n, p.prm.method, p.judge.value], [0.5, 4, "wilson", 0.75]);
    assert.equal(p.comparison.diff.value, -0.25);
    assert.equal(p.comparison.diff.method, "paired-bootstrap-percentile");
    assert.match(p.comparison.sentence, /^PRM − judge, first error named exactly: −25\.0 points; the difference is not significant at 95%: interval −\d+\.\d to \+\d+\.\d points, n 4$/);
    assert.equal(p.comparison.items, "4 solutions");
    assert.throws(() => firstErrorPairing([1], [1, 2], [1]), RangeError);
});

test("demo report: headline figures with interval and n, paired sentences, one confidence plot, analyses inline, plurals, escaped file names", () => {
    const {report, figures} = fixture();
    const md = demoMarkdown(report, figures);
    // TVD's τ and how it read the candidates come from the run: token values at the released settings, or a tag PRM at 0.30.
    assert.match(md, /TVD runs at the released settings \(τ = 0\.55, k 8\), its candidates scored by the PRM's token values/);
    assert.match(md, /the PRM scored the policy's top candidates \(by its token values\)/);
    const tagMd = demoMarkdown(report, {...figures, decode: {...figures.decode!, tvdTau: 0.3, tokenValues: false}});
    assert.match(tagMd, /TVD runs at τ = 0\.3: at the released τ = 0\.55 a tag PRM/);
    assert.match(tagMd, /\(each followed by the step tag\)/);
    assert.match(md, /\| greedy accuracy \| 67\.5% \(95% CI 52\.0–79\.9, n 40\) \| problems \| Wilson \|/);
    assert.match(md, /\| PRM Best-of-16 \(product\) \| 77\.5% \(95% CI 62\.5–87\.7, n 40\) \|/);
    assert.match(md, /\| PRM step ROC-AUC \| 0\.812 \(95% CI 0\.770–0\.850, n 640\) \| samples \| bootstrap \|/);
    assert.match(md, /\| code lab pass@1 \(T=1\) \| 16\.3% \(95% CI /);
    assert.match(md, /the greedy accuracy's interval spans 27\.9 points/);
    for (const c of report.comparisons) assert.ok(md.includes(`- ${c.sentence} (the same ${c.items}`), c.sentence);
    assert.match(report.comparisons[0].sentence, /^TVD − greedy: \+2\.5 points; the difference is not significant at 95%/);
    // One confidence histogram (the threshold plot), not two.
    assert.equal((md.match(/!\[[^\]]*\]\(threshold\.svg\)/g) ?? []).length, 1);
    assert.ok(!md.includes("confidence-histogram"));
    // The in-sample calibrated threshold says so, and warns on few samples (eval processbench's warning).
    assert.match(md, /F1-best threshold, chosen on the same 12 samples \(in-sample: optimistic\): acc on erroneous 50\.0% \(95% CI 18\.8–81\.2, n 6\)/);
    assert.match(md, /\*\*Warning:\*\* threshold calibrated on only 12 samples of lab-ProcessBench \(fewer than 50\)/);
    // Counts in words: singular for 1, thousands separated.
    assert.match(md, /of the 12,000 sampled tokens/);
    assert.match(md, /1 rollout per step/);
    assert.match(md, /; 1 intervention\)/);
    assert.match(md, /The lab verifier checked each step of 1 numbered solution and named the first wrong step \(or none\), one greedy answer \(90 tokens written per solution\); 1 solution got no verdict\./);
    // The compact judge votes; solutions longer than the judge's context are left out and said so.
    const compact = demoMarkdown(report, {...figures, judge: {...figures.judge!, path: "/m/lab-judge.gguf", template: "compact", n: 5, solutions: 3, too_long: 2}});
    assert.match(compact, /The lab judge read 3 numbered solutions and named the first wrong step \(or none\), majority of 5 answers at T 1 \(90 tokens written per solution\); 1 solution got no verdict; 2 solutions left out, longer than its context\./);
    assert.ok(!/\b1 (steps|samples|interventions|solutions|rollouts)\b/.test(md), "no plural after 1");

    const html = demoHtml(md, "stepwise demo");
    // File names are code, not emphasis.
    assert.match(html, /<code>steps-\*\.jsonl<\/code>/);
    assert.match(html, /<code>label-input-\*\.jsonl<\/code>, <code>labels-\*\.jsonl<\/code>/);
    const files = html.slice(html.indexOf("<h2>Files</h2>"));
    assert.ok(files.length > 100 && !files.includes("<em>"), "no emphasis made of file names");
    // The analyses are in the page, headings one level under the report's, images from analyze/.
    assert.match(html, /<h4>\(a\) Does the PRM flag an error\?<\/h4>/);
    assert.ok(html.includes(`<img src="analyze/false-positive.svg" alt="falsePositive">`));
    assert.ok(!html.includes('href="analyze/report.md"'), "not a link to the raw markdown");
    // Its Best-of-N section is the report's own Best-of-N section: shown once.
    assert.ok(html.includes("<h4>(d) Rating position</h4>") && !html.includes("bon-aggregations.svg"), "analyses (c) left out, (d) kept");
    assert.match(html, /\(c\) Best-of-N by step-score aggregation: the Best-of-N section above\./);
    assert.ok(html.includes(`<img src="threshold.svg" alt="token confidences and τ">`));
    assert.ok(html.includes(`<a href="viewer/index.html">Open the viewer</a>`));
    // Every paired sentence is in the page.
    for (const c of report.comparisons) assert.ok(html.includes(c.sentence), c.sentence);
    // A model's candidate text is code in the page, never markup.
    assert.ok(html.includes("<strong><code>&quot;4*&quot;</code>"), "chosen TVD candidate in bold, as code");
});

test("demo report: images and links to the report's files go through imgHtml / fileLinkHtml (names encoded)", () => {
    const html = demoHtml("![a <b>](plots/x#1.svg) [runs](a%.jsonl) [site](https://example.org/x?a=1&b=2)", "t");
    assert.ok(html.includes(`<img src="plots/x%231.svg" alt="a &lt;b&gt;">`), html);
    assert.ok(html.includes(`<a href="a%25.jsonl">runs</a>`), html);
    assert.ok(html.includes(`href="https://example.org/x?a=1&amp;b=2"`), html);
});

test("demo summary: one line per figure with interval and n, the paired sentences, then not run and the report", () => {
    const {report} = fixture();
    report.skipped = {code: "no sandbox"};
    const lines = demoSummary(report);
    assert.equal(lines[0], "greedy accuracy: 67.5% (95% CI 52.0–79.9, n 40)");
    assert.ok(lines.includes("maj@16: 75.0% (95% CI 59.8–85.8, n 40)"), lines.join("\n"));
    assert.ok(lines.includes("PRM step ROC-AUC: 0.812 (95% CI 0.770–0.850, n 640)"));
    assert.ok(lines.includes("τ: 0.1234"));
    for (const c of report.comparisons) assert.ok(lines.includes(c.sentence), c.sentence);
    assert.deepEqual(lines.slice(-2), ["not run: code: no sandbox", "report: /tmp/demo/report.html (also report.md, report.json, viewer/index.html)"]);
    // A figure that did not run is left out, not printed as a number.
    report.tvd_accuracy_ci = null;
    assert.ok(!demoSummary(report).some((l) => l.startsWith("TVD accuracy")));
});
