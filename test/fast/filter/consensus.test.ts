import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {runCli} from "../../helpers/cli.ts";
import {consensusDecision, consensusFilter} from "../../../src/filter/consensus.ts";
import {judgeLabels, labTruthLabels} from "../../../src/filter/labels.ts";
import {prmExample} from "../../../src/pipeline/train-prm.ts";
import {buildCharVocab, CharTokenizer} from "../../../src/model/vocab.ts";
import type {LabelRecord} from "../../../src/core/records.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "stepwise-filter-"));

/** A label record of a lab sample whose line 1 is wrong (3 + 4 = 8); MC first negative as given. */
function labelRecord(id: string, firstNegative: number, steps = 3): LabelRecord {
    const lines = ["First, 2 * 3 = 6, so 6 + 4.", "Then 6 + 4 = 11.", "The answer is 11."].slice(0, steps);
    const text = lines.join("\n");
    let at = 0;
    const st = lines.map((l, i) => {
        const t = i < lines.length - 1 ? l + "\n" : l;
        const s = {text: t, start: at, end: at + t.length, token_start: 0, token_end: 0};
        at += t.length;
        return s;
    });
    const hard = st.map((_, i) => (firstNegative < 0 || i < firstNegative ? 1 : i === firstNegative ? 0 : null)) as Array<0 | 1 | null>;
    return {
        id,
        question_id: id.split("#")[0],
        sample_index: 0,
        question: "Compute 2 * 3 + 4.",
        prompt: "Compute 2 * 3 + 4.\n",
        text,
        strategy: "newline",
        steps: st,
        hard,
        soft: hard.map((h) => (h === null ? null : h === 1 ? 0.75 : 0)),
        rollouts: st.map(() => ({n: 8, correct: 6})),
        first_negative: firstNegative,
        cost: {rollouts: 24, generated_tokens: 100, prefix_evaluations: 3},
        method: "K=8",
    };
}

const verdict = (id: string, first_error: number | null, steps = 3) => ({id, steps, first_error, votes: [first_error], raw: ["x"], parse_failures: [null], agreement: 1, generated_tokens: 1, method: "m"});

test("consensus keeps equal first errors (−1 = −1 included) and names every kind of disagreement", () => {
    assert.deepEqual(consensusDecision({first_negative: 1}, {first_error: 1}), {keep: true});
    assert.deepEqual(consensusDecision({first_negative: -1}, {first_error: -1}), {keep: true});
    assert.deepEqual(consensusDecision({first_negative: 2}, {first_error: 0}), {keep: false, kind: "judge_earlier"});
    assert.deepEqual(consensusDecision({first_negative: 0}, {first_error: 2}), {keep: false, kind: "judge_later"});
    assert.deepEqual(consensusDecision({first_negative: 1}, {first_error: -1}), {keep: false, kind: "judge_says_correct"});
    assert.deepEqual(consensusDecision({first_negative: -1}, {first_error: 0}), {keep: false, kind: "mc_says_correct"});
    assert.deepEqual(consensusDecision({first_negative: 0}, {first_error: null}), {keep: false, kind: "no_verdict"});
    assert.deepEqual(consensusDecision({first_negative: 0}, undefined), {keep: false, kind: "missing_verdict"});
});

test("consensusFilter joins by id, writes the kept label records unchanged (+ judge_first_error), and they train", async () => {
    const dir = tmp();
    const labels = [labelRecord("a#0", 1), labelRecord("b#0", -1), labelRecord("c#0", 2), labelRecord("d#0", 1), labelRecord("e#0", 0)];
    const verdicts = [verdict("e#0", null), verdict("d#0", -1), verdict("c#0", 1), verdict("a#0", 1), verdict("b#0", -1)];
    writeFileSync(join(dir, "l.jsonl"), labels.map((r) => JSON.stringify(r)).join("\n") + "\n");
    writeFileSync(join(dir, "v.jsonl"), verdicts.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const s = await consensusFilter({labels: [join(dir, "l.jsonl")], verdicts: [join(dir, "v.jsonl")], out: join(dir, "out.jsonl")});
    assert.equal(s.total, 5);
    assert.equal(s.kept, 2);
    assert.equal(s.kept_share, 0.4);
    assert.deepEqual(s.disagreements_by_kind, {missing_verdict: 0, no_verdict: 1, judge_earlier: 1, judge_later: 0, judge_says_correct: 1, mc_says_correct: 0});
    const kept = readFileSync(join(dir, "out.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(kept.map((r) => r.id), ["a#0", "b#0"]);
    assert.deepEqual({...kept[0], judge_first_error: undefined}, {...labels[0], judge_first_error: undefined});
    assert.equal(kept[0].judge_first_error, 1);
    const ex = prmExample(kept[0], new CharTokenizer(buildCharVocab()), "soft");
    assert.deepEqual(ex?.tags.map((t) => t.target), [0.75, 0]);
});

test("with lab truth on the records, the summary compares the MC labels of all and of the kept samples with it", async () => {
    const dir = tmp();
    // Line 1 (6 + 4 = 11) is truly the first wrong line: MC agrees on a and c, not on b.
    const truth = {first_error: 1, correct: [true, false, null]};
    const labels = [{...labelRecord("a#0", 1), truth}, {...labelRecord("b#0", -1), truth}, {...labelRecord("c#0", 1), truth}];
    writeFileSync(join(dir, "l.jsonl"), labels.map((r) => JSON.stringify(r)).join("\n") + "\n");
    writeFileSync(join(dir, "v.jsonl"), [verdict("a#0", 1), verdict("b#0", -1), verdict("c#0", 0)].map((r) => JSON.stringify(r)).join("\n") + "\n");
    const s = await consensusFilter({labels: [join(dir, "l.jsonl")], verdicts: [join(dir, "v.jsonl")], out: join(dir, "o.jsonl")});
    assert.equal(s.kept, 2);
    assert.equal(s.truth?.all.samples, 3);
    assert.equal(s.truth?.all.first_negative_match, 2 / 3);
    assert.equal(s.truth?.kept.first_negative_match, 0.5);
    assert.equal(s.truth?.kept.false_positive_rate, 0.5);
});

test("a verdict on another split of the sample is an error, not a silent mismatch", async () => {
    const dir = tmp();
    writeFileSync(join(dir, "l.jsonl"), JSON.stringify(labelRecord("a#0", 1)) + "\n");
    writeFileSync(join(dir, "v.jsonl"), JSON.stringify(verdict("a#0", 1, 5)) + "\n");
    await assert.rejects(consensusFilter({labels: [join(dir, "l.jsonl")], verdicts: [join(dir, "v.jsonl")], out: join(dir, "o.jsonl")}), /l\.jsonl:1: sample "a#0" has 3 steps but its verdict judged 5/);
});

test("judge labels and lab-truth labels have the label-record shape", () => {
    const r = labelRecord("a#0", 2);
    const j = judgeLabels(r, {first_error: 0, method: "m"})!;
    assert.deepEqual(j.hard, [0, null, null]);
    assert.deepEqual(j.soft, [0, null, null]);
    assert.equal(j.first_negative, 0);
    assert.deepEqual(judgeLabels(r, {first_error: -1})!.hard, [1, 1, 1]);
    assert.equal(judgeLabels(r, {first_error: null}), null);
    const gold = labTruthLabels(r);
    assert.deepEqual(gold.hard, [1, 0, null]); // 6 + 4 = 11 is the first wrong line
    assert.equal(gold.method, "lab-truth");
});

test("stepwise filter --consensus --json prints {total, kept, kept_share, disagreements_by_kind}; bad input names file and line", () => {
    const dir = tmp();
    writeFileSync(join(dir, "l.jsonl"), [labelRecord("a#0", 1), labelRecord("b#0", 0)].map((r) => JSON.stringify(r)).join("\n") + "\n");
    writeFileSync(join(dir, "v.jsonl"), JSON.stringify(verdict("a#0", 1)) + "\n");
    const run = (...args: string[]) => runCli(["filter", ...args]);
    const r = run("--consensus", "--labels", join(dir, "l.jsonl"), "--verdicts", join(dir, "v.jsonl"), "--out", join(dir, "o.jsonl"), "--json");
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(s), ["total", "kept", "kept_share", "disagreements_by_kind"]);
    assert.equal(s.kept, 1);
    assert.equal(s.disagreements_by_kind.missing_verdict, 1);
    writeFileSync(join(dir, "bad.jsonl"), JSON.stringify({id: "x", steps: []}) + "\n");
    const bad = run("--consensus", "--labels", join(dir, "bad.jsonl"), "--verdicts", join(dir, "v.jsonl"), "--out", join(dir, "o2.jsonl"));
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /bad\.jsonl:1: field "question": missing/);
    const none = run("--labels", join(dir, "l.jsonl"), "--out", join(dir, "o3.jsonl"));
    assert.match(none.stderr, /exactly one of --consensus, --judge-only, --lab-truth/);
});

test("a filter or export that keeps 0 rows exits 1 naming why and leaves no empty output; --allow-empty accepts it", () => {
    const dir = tmp();
    // MC says step 1, the judge says step 0 for both: consensus keeps nothing
    writeFileSync(join(dir, "l.jsonl"), [labelRecord("a#0", 1), labelRecord("b#0", 1)].map((r) => JSON.stringify(r)).join("\n") + "\n");
    writeFileSync(join(dir, "v.jsonl"), [verdict("a#0", 0), verdict("b#0", 0)].map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(dir, "c.jsonl");
    const r = runCli(["filter", "--consensus", "--labels", join(dir, "l.jsonl"), "--verdicts", join(dir, "v.jsonl"), "--out", out]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^stepwise: filter: no row kept \(0 of 2 samples; dropped: .*judge_earlier 2.*\); nothing written to .*c\.jsonl \(--allow-empty/m);
    assert.equal(existsSync(out), false);
    const ok = runCli(["filter", "--consensus", "--labels", join(dir, "l.jsonl"), "--verdicts", join(dir, "v.jsonl"), "--out", out, "--allow-empty"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(readFileSync(out, "utf8"), "");
    // export of an empty file: 0 of 0
    const e = runCli(["export", "--format", "openrlhf", "--in", out, "--out", join(dir, "e.jsonl")]);
    assert.equal(e.status, 1);
    assert.match(e.stderr, /export: no row kept \(0 of 0 samples in .*c\.jsonl\)/);
    // soft labels of early-stopped (--savers) records are null: nothing to export, and the message says why
    const savers = {...labelRecord("a#0", 1), soft: [null, null, null]};
    writeFileSync(join(dir, "s.jsonl"), JSON.stringify(savers) + "\n");
    const soft = runCli(["export", "--format", "openrlhf", "--labels", "soft", "--in", join(dir, "s.jsonl"), "--out", join(dir, "e2.jsonl")]);
    assert.equal(soft.status, 1);
    assert.match(soft.stderr, /0 of 1 sample .*no-labelled-step.*soft labels need `label` without --savers/);
});
