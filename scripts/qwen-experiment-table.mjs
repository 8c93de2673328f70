// Prints the Qwen experiment's table (markdown) from the files scripts/qwen-experiment.sh writes:
// label quality against exact truth (consensus.json, judge-labels.json) and, per PRM,
// eval-<name>/summary.json from `stepwise lab eval-prm` (step ROC-AUC, lab-ProcessBench F1,
// Best-of-N with 95% intervals beside maj@N).
//   node scripts/qwen-experiment-table.mjs WORKDIR
import {existsSync, readFileSync} from "node:fs";
import {join} from "node:path";

const work = process.argv[2] ?? ".stepwise-cache/qwen-experiment";
const read = (f) => (existsSync(join(work, f)) ? JSON.parse(readFileSync(join(work, f), "utf8")) : null);
const pct = (x) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : `${(100 * x).toFixed(1)}%`);

const consensus = read("consensus.json");
const judge = read("judge-labels.json");
if (consensus) {
    console.log(`## Labels against exact truth\n`);
    console.log(`| labels | samples | first error = truth | truly wrong steps labelled positive | truly correct steps labelled negative |`);
    console.log(`|---|---|---|---|---|`);
    // Rates with their 95% Wilson interval and counts when the filter wrote them (stepwise after 2026-12).
    const rate = (x, ci, k, n) => `${pct(x)}${ci ? ` (${pct(ci.low)}–${pct(ci.high)}; ${k} of ${n})` : ""}`;
    const row = (name, t) =>
        t &&
        console.log(
            `| ${name} | ${t.samples} | ${rate(t.first_negative_match, t.first_negative_match_ci, t.counts?.first_negative_match, t.samples)} | ${rate(t.false_positive_rate, t.false_positive_rate_ci, t.counts?.false_positives, t.counts?.truly_wrong)} | ${rate(t.false_negative_rate, t.false_negative_rate_ci, t.counts?.false_negatives, t.counts?.truly_correct)} |`,
        );
    row("MC (all samples)", consensus.truth?.all);
    row("MC, consensus-kept", consensus.truth?.kept);
    row("judge only", judge?.truth);
    console.log(`\nconsensus kept ${consensus.kept} of ${consensus.total} (${pct(consensus.kept_share)}); dropped: ${Object.entries(consensus.disagreements_by_kind).map(([k, v]) => `${k} ${v}`).join(", ")}\n`);
}
const runs = ["mc-hard", "mc-soft", "consensus-hard", "consensus-soft", "judge-only", "gold", "shipped"]; // shipped: models/lab-prm.gguf on the same candidates, for reference
const rows = runs.map((name) => [name, read(`eval-${name}/summary.json`), read(`prm-${name}.train.json`)]).filter(([, s]) => s);
if (rows.length) {
    console.log(`## PRMs trained with the same budget\n`);
    const n = rows[0][1].bon_at_max_n.n;
    console.log(`| PRM labels | train samples | step ROC-AUC | lab-PB F1 @0.5 | lab-PB F1 (best threshold) | BoN@${n} (min) | BoN@${n} (product) | BoN@${n} (last) | maj@${n} |`);
    console.log(`|---|---|---|---|---|---|---|---|---|`);
    const bon = (s, id) => {
        const p = s.bon_at_max_n[id];
        return p ? `${p.accuracy.toFixed(1)}${p.ci_low !== null ? ` [${p.ci_low.toFixed(1)}, ${p.ci_high.toFixed(1)}]` : ""}` : "–";
    };
    for (const [name, s, t] of rows) {
        const ids = Object.keys(s.bon_at_max_n);
        const find = (re) => ids.find((i) => re.test(i)) ?? "";
        console.log(`| ${name} | ${t?.train_examples ?? "?"} | ${s.step_auc.toFixed(3)} | ${pct(s.processbench.at_half?.f1)} | ${pct(s.processbench.best?.f1)} | ${bon(s, 'bon-min')} | ${bon(s, 'bon-product')} | ${bon(s, 'bon-last')} | ${bon(s, find(/^maj/))} |`);
    }
    console.log(`\nBest-of-N intervals: 95% over questions (Wilson since src/stats; summaries written earlier used the normal approximation); greedy accuracy ${pct(rows[0][1].greedy_accuracy)}.`);
}

// Paired comparison on the shared candidates (eval-<name>/scores.jsonl): per question, does the
// candidate with the highest minimum step score have the right answer? The difference to MC-hard
// with a 95% percentile bootstrap over questions (2,000 resamples, fixed seed); ties of the
// minimum go to the earlier candidate.
const readScores = (name) => {
    const f = join(work, `eval-${name}`, "scores.jsonl");
    if (!existsSync(f)) return null;
    const byQuestion = new Map();
    for (const line of readFileSync(f, "utf8").split("\n")) {
        if (!line.trim()) continue;
        const r = JSON.parse(line);
        const min = r.step_scores.length ? Math.min(...r.step_scores) : -Infinity;
        const best = byQuestion.get(r.question_id);
        if (!best || min > best.min) byQuestion.set(r.question_id, {min, correct: r.correct ? 1 : 0});
    }
    return byQuestion;
};
const base = readScores("mc-hard");
if (base) {
    let state = 12345;
    const rand = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const questions = [...base.keys()];
    console.log(`\n## Best-of-N (min) paired against MC-hard, same candidates\n`);
    console.log(`| PRM labels | BoN (min) | minus MC-hard | 95% bootstrap interval | questions won / lost |`);
    console.log(`|---|---|---|---|---|`);
    for (const name of runs) {
        const other = readScores(name);
        if (!other) continue;
        const d = questions.map((q) => (other.get(q)?.correct ?? 0) - base.get(q).correct);
        const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
        const boot = Array.from({length: 2000}, () => mean(Array.from({length: d.length}, () => d[Math.floor(rand() * d.length)]))).sort((a, b) => a - b);
        const acc = mean(questions.map((q) => other.get(q)?.correct ?? 0));
        const f = (x) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`;
        console.log(`| ${name} | ${(100 * acc).toFixed(1)} | ${f(mean(d))} | [${f(boot[49])}, ${f(boot[1949])}] | ${d.filter((x) => x > 0).length} / ${d.filter((x) => x < 0).length} |`);
    }
}
