/**
 * Synthetic wrong restatements (src/domains/lab/perturb.ts) and the verifier items made from them
 * (src/apps/lab/judge/data.ts): the edit lands in a correct line's restatement, the exact verifier
 * then calls that line the first wrong one for a wrong restatement, step boundaries follow the
 * edit, and the item's check states the disagreement.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {perturbRestatement, shiftOffset, verifyProcess, RESTATEMENT_EDITS} from "../../../src/domains/lab/index.ts";
import {readJudgeItems, syntheticRestatementRecord, SYNTHETIC_RESTATEMENT_SUFFIX} from "../../../src/apps/lab/judge/data.ts";
import {labTruth} from "../../../src/domains/lab/verifier.ts";
import {Rng} from "../../../src/util/rng.ts";

const Q = "Compute (12 + 7) * 3 - 45 / 5.";
const RIGHT = "First, 12 + 7 = 19, so 19 * 3 - 45 / 5.\nThen 19 * 3 = 57, so 57 - 45 / 5.\nNext, 45 / 5 = 9, so 57 - 9.\nSo 57 - 9 = 48.\nThe answer is 48.";

test("perturbRestatement: one correct line's restatement made wrong, that line the first wrong one for a wrong restatement; every edit kind drawn", () => {
    const rng = new Rng("perturb-test");
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
        const p = perturbRestatement(Q, RIGHT, rng);
        assert.ok(p, "a solution with three restated lines always gives an edit");
        seen.add(p.kind);
        const v = verifyProcess(Q, p.text);
        assert.equal(v.firstErrorStep, p.line);
        assert.equal(v.steps[p.line].reason, "wrong-restatement");
        // only the restatement (after ", so ") of that line changed
        const before = RIGHT.split("\n");
        const after = p.text.split("\n");
        assert.deepEqual(after.filter((_, k) => k !== p.line), before.filter((_, k) => k !== p.line));
        const sep = before[p.line].indexOf(", so ") + 5;
        assert.equal(after[p.line].slice(0, sep), before[p.line].slice(0, sep));
        assert.equal(p.text, RIGHT.slice(0, p.edit.at) + p.edit.inserted + RIGHT.slice(p.edit.at + p.edit.removed));
    }
    // "parentheses" needs a restatement with a pair; this one has none after the first line
    assert.deepEqual([...seen].sort(), RESTATEMENT_EDITS.filter((k) => k !== "parentheses").sort());
    const parens = "First, 19 - 1 = 18, so 12 * (18 - 13).\nThen 18 - 13 = 5, so 12 * 5.\nSo 12 * 5 = 60.\nThe answer is 60.";
    const kinds = new Set(Array.from({length: 100}, () => perturbRestatement("Compute 12 * ((19 - 1) - 13).", parens, rng)?.kind));
    assert.ok(kinds.has("parentheses"));
});

test("perturbRestatement: null when no correct line restates (one operation, or the first line already wrong); only lines before the first error are edited", () => {
    const rng = new Rng(1);
    assert.equal(perturbRestatement("Compute 2 + 3.", "So 2 + 3 = 5.\nThe answer is 5.", rng), null);
    assert.equal(perturbRestatement(Q, "First, 12 + 7 = 18, so 18 * 3 - 45 / 5.\nThen 18 * 3 = 54, so 54 - 45 / 5.", rng), null);
    const wrongLater = "First, 12 + 7 = 19, so 19 * 3 - 45 / 5.\nThen 19 * 3 = 58, so 58 - 45 / 5.\nNext, 45 / 5 = 9, so 58 - 9.";
    for (let i = 0; i < 50; i++) assert.equal(perturbRestatement(Q, wrongLater, rng)?.line, 0);
    assert.equal(perturbRestatement(Q, "", rng), null);
    assert.equal(perturbRestatement(Q, "Hello there.", rng), null);
});

test("shiftOffset: before the edit stays, after it moves by the length change, inside it has no image", () => {
    const e = {at: 10, removed: 3, inserted: "x"};
    assert.equal(shiftOffset(4, e), 4);
    assert.equal(shiftOffset(10, e), 10);
    assert.equal(shiftOffset(11, e), null);
    assert.equal(shiftOffset(13, e), 11);
    assert.equal(shiftOffset(20, e), 18);
    assert.equal(shiftOffset(12, {at: 12, removed: 0, inserted: "1"}), 12);
    assert.equal(shiftOffset(13, {at: 12, removed: 0, inserted: "1"}), 14);
});

test("synthetic items: steps carried over the edit (texts are the new text's slices), truth and contrast check of the wrong restatement, ids suffixed, seeded", async () => {
    const cuts = [24, 40, 74, RIGHT.length]; // an adaptive-like split: one step ends inside line 0's restatement
    const steps = cuts.map((end, i) => ({text: RIGHT.slice(i ? cuts[i - 1] : 0, end), start: i ? cuts[i - 1] : 0, end, token_start: i, token_end: i + 1}));
    const record = {id: "p#0", question_id: "p", question: Q, text: RIGHT, steps};
    let made = 0;
    const rng = new Rng(7);
    for (let i = 0; i < 100; i++) {
        const r = syntheticRestatementRecord(record, rng);
        if (r === null) continue;
        made++;
        assert.equal(r.steps.length, steps.length);
        let prev = 0;
        for (const s of r.steps) {
            assert.equal(s.text, r.text.slice(s.start, s.end));
            assert.ok(s.start >= prev);
            prev = s.end;
            assert.equal("token_start" in s, false);
        }
        assert.equal(r.steps.at(-1)!.end, r.text.length);
        assert.ok(labTruth(r).first_error >= 0);
    }
    assert.ok(made > 80, `most draws give a record (${made} of 100)`);
    // A one-character step inside the restatement ("9" of "so 19"): an edit that would empty it gives no record.
    const cuts1 = [24, 25, RIGHT.length];
    const one = {...record, steps: cuts1.map((end, i) => ({text: RIGHT.slice(i ? cuts1[i - 1] : 0, end), start: i ? cuts1[i - 1] : 0, end}))};
    assert.equal(one.steps[1].text, "9");
    for (let i = 0; i < 300; i++) {
        const r = syntheticRestatementRecord(one, rng);
        if (r) assert.ok(r.steps.every((s) => s.text.length > 0), JSON.stringify(r.steps.map((s) => s.text)));
    }

    const dir = mkdtempSync(join(tmpdir(), "stepwise-synth-"));
    const file = join(dir, "steps.jsonl");
    writeFileSync(file, Array.from({length: 40}, (_, i) => JSON.stringify({...record, id: `p#${i}`})).join("\n") + "\n");
    assert.equal((await readJudgeItems([file])).length, 40);
    const items = await readJudgeItems([file], {syntheticRestatements: 0.5, contrast: true, seed: 3});
    const synth = items.filter((i) => i.id.endsWith(SYNTHETIC_RESTATEMENT_SUFFIX));
    assert.ok(synth.length > 8 && synth.length < 32, `about half of 40 (${synth.length})`);
    for (const s of synth) {
        assert.ok(s.first_error >= 0);
        const check = s.checks![s.first_error];
        assert.match(check, /, so .*, not /, `a wrong restatement's contrast check: ${check}`);
    }
    // each synthetic item follows its sample's item; the same seed gives the same items
    assert.equal(items[items.indexOf(synth[0]) - 1].id + SYNTHETIC_RESTATEMENT_SUFFIX, synth[0].id);
    assert.deepEqual(await readJudgeItems([file], {syntheticRestatements: 0.5, contrast: true, seed: 3}), items);
    await assert.rejects(readJudgeItems([file], {syntheticRestatements: 1.5}), /must be in 0\.\.1/);
});
