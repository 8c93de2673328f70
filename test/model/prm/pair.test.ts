/**
 * `stepwise pair-prm` (src/prm/pair.ts): an implicit PRM and a tag PRM as one file. `llama:PAIR`
 * scores steps exactly as the tag PRM and TVD's candidates exactly as the implicit PRM;
 * `?format=stepwise-lab` / `?format=implicit` read one of them; `serve --prm PAIR` serves the tag
 * PRM; inputs of the wrong kind, a pair over an input, and a pair moved away from its tag PRM are
 * errors naming the file and the metadata key.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from "node:fs";
import {spawn, spawnSync} from "node:child_process";
import {tmpdir} from "node:os";
import {join, relative} from "node:path";
import {writeLlamaGguf, readLlamaGguf} from "../../../src/gguf/llama.ts";
import {gv} from "../../../src/gguf/writer.ts";
import {randomLlamaWeights} from "../../../src/model/weights.ts";
import {makeLlamaConfig} from "../../../src/model/config.ts";
import {createScorer, HybridPrmScorer, ImplicitPrmScorer, TagPrmScorer, pairPrm} from "../../../src/prm/index.ts";
import {ContextOverflowError, StepwiseError} from "../../../src/util/errors.ts";
import {tinyModel} from "../../helpers/tiny-model.ts";
import {cliArgs, serveCli} from "../../helpers/cli.ts";

const ref = tinyModel(5, 4);
const tag = tinyModel(7, 4, "prm");

/** An implicit PRM over `ref` (random weights of another seed, so its log-ratios are not 0), β 0.5; `reference`: the metadata's path to it (default the real one). */
function implicitPrm(dir: string, reference = relative(dir, ref.path)): string {
    const path = join(dir, "implicit.gguf");
    const weights = randomLlamaWeights(ref.config, 11);
    writeLlamaGguf(path, {
        config: ref.config,
        weights,
        vocab: ref.vocab,
        kind: "prm",
        name: "implicit-test",
        extraMetadata: {"stepwise.prm.objective": "implicit", "stepwise.prm.beta": gv.f32(0.5), "stepwise.prm.reference": reference, "stepwise.prm.template": "{question}\n"},
    });
    return path;
}

const close = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) < 1e-6);

test("pair-prm: llama:PAIR reads steps as the tag PRM and TVD's candidates as the implicit PRM; each format reads one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-pair-"));
    const imp = implicitPrm(dir);
    const out = join(dir, "models", "pair.gguf");
    mkdirSync(join(dir, "models"));
    const r = await pairPrm({implicit: imp, tag: tag.path, out});
    assert.equal(r.beta, 0.5);
    assert.equal(r.tagModel, relative(join(dir, "models"), tag.path));
    const m = await readLlamaGguf(out);
    assert.equal(m.metadata["stepwise.prm.objective"], "tag+implicit");
    assert.equal(m.metadata["stepwise.prm.tag_model"], r.tagModel);
    assert.equal(m.metadata["stepwise.prm.reference"], relative(join(dir, "models"), ref.path));
    assert.equal(m.metadata["stepwise.kind"], "prm");
    const original = await readLlamaGguf(imp);
    for (const [name, w] of Object.entries(original.weights)) assert.deepEqual(m.weights[name as keyof typeof m.weights], w, name);

    const pair = await createScorer(`llama:${out}`);
    const tagOnly = await createScorer(`llama:${out}?format=stepwise-lab`);
    const impOnly = await createScorer(`llama:${out}?format=implicit`);
    const tagRef = await createScorer(`llama:${tag.path}`);
    const impRef = await createScorer(`llama:${imp}`);
    try {
        assert.ok(pair instanceof HybridPrmScorer && tagOnly instanceof TagPrmScorer && impOnly instanceof ImplicitPrmScorer && impRef instanceof ImplicitPrmScorer);
        assert.ok(pair.ownsTag);
        const question = "Compute 3 + 4 * 2.";
        const steps = ["First, 4 * 2 = 8.\n", "Then 3 + 8 = 11.\n", "The answer is 11."];
        const s = await pair.scoreSteps(question, steps);
        assert.ok(close(s, await tagRef.scoreSteps(question, steps)), `pair ${s}`);
        assert.ok(close(s, await tagOnly.scoreSteps(question, steps)));
        assert.ok(!close(s, await impRef.scoreSteps(question, steps)), "steps are not the implicit reading");
        const cands = [{text: "1"}, {text: "2"}, {text: "+"}];
        const c = await pair.scoreContinuations(question, steps.slice(0, 1), cands);
        assert.ok(close(c, await impRef.scoreContinuations(question, steps.slice(0, 1), cands)), `pair ${c}`);
        assert.ok(close(c, await impOnly.scoreContinuations(question, steps.slice(0, 1), cands)));
        assert.equal(new Set(c.map((x) => x.toFixed(6))).size, 3, "random implicit weights separate the candidates");
    } finally {
        await Promise.all([pair.close(), tagOnly.close(), impOnly.close(), tagRef.close(), impRef.close()]);
    }
});

test("pair-prm refuses inputs of the wrong kind and a pair over an input; a pair moved away from its tag PRM names the missing file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-pair-"));
    const imp = implicitPrm(dir);
    const out = join(dir, "pair.gguf");
    await assert.rejects(pairPrm({implicit: tag.path, tag: tag.path, out}), (e: Error) => e instanceof StepwiseError && /--implicit .*tiny-7\.gguf: not an implicit PRM \(GGUF metadata stepwise\.prm\.objective is absent: a tag PRM\)/.test(e.message));
    await assert.rejects(pairPrm({implicit: imp, tag: imp, out}), /--tag .*implicit\.gguf: not a tag PRM \(GGUF metadata stepwise\.prm\.objective is "implicit"\)/);
    // A policy given for either flag: the message names the flag.
    // The message suggests no example PRM (lab-prm.gguf is a pair, not what either flag wants).
    await assert.rejects(pairPrm({implicit: imp, tag: ref.path, out}), (e: Error) => /^pair-prm --tag: .*policy.*Give a PRM GGUF$/.test(e.message) && !/e\.g\./.test(e.message));
    await assert.rejects(pairPrm({implicit: ref.path, tag: tag.path, out}), (e: Error) => /^pair-prm --implicit: .*policy.*Give a PRM GGUF$/.test(e.message) && !/e\.g\./.test(e.message));
    await assert.rejects(pairPrm({implicit: imp, tag: tag.path, out: imp}), /--out .* is the --implicit file/);
    // The same file through a symlink is an input too: writing the pair would replace the tag PRM.
    const tagCopy = join(dir, "tag-copy.gguf");
    copyFileSync(tag.path, tagCopy);
    const link = join(dir, "link.gguf");
    symlinkSync(tagCopy, link);
    await assert.rejects(pairPrm({implicit: imp, tag: link, out: tagCopy}), /--out .*tag-copy\.gguf is the --tag file \(.*link\.gguf leads to it\)/);
    assert.deepEqual(readFileSync(tagCopy), readFileSync(tag.path), "the tag PRM is untouched");
    assert.ok(!existsSync(out));
    // A pair's weights are an implicit PRM's: it can be re-paired with another tag PRM (the same weights out).
    await pairPrm({implicit: imp, tag: tag.path, out});
    const again = join(dir, "p2.gguf");
    await pairPrm({implicit: out, tag: tagCopy, out: again});
    const [w1, w2] = await Promise.all([readLlamaGguf(imp), readLlamaGguf(again)]);
    for (const [name, w] of Object.entries(w1.weights)) assert.deepEqual(w2.weights[name as keyof typeof w2.weights], w, name);
    assert.equal(w2.metadata["stepwise.prm.tag_model"], "tag-copy.gguf");
    // One model trained on both objectives (no tag_model) is not: its own tags would be lost.
    const both = join(dir, "both.gguf");
    writeLlamaGguf(both, {config: ref.config, weights: ref.weights, vocab: ref.vocab, kind: "prm", extraMetadata: {"stepwise.prm.objective": "tag+implicit", "stepwise.prm.beta": 1, "stepwise.prm.reference": relative(dir, ref.path), "stepwise.prm.template": "{question}\n"}});
    await assert.rejects(pairPrm({implicit: both, tag: tag.path, out: join(dir, "p4.gguf")}), /not an implicit PRM \(GGUF metadata stepwise\.prm\.objective is "tag\+implicit" without stepwise\.prm\.tag_model: one model trained on both objectives, whose own tags would be lost\)/);
    await assert.rejects(pairPrm({implicit: imp, tag: out, out: join(dir, "p3.gguf")}), /not a tag PRM/);
    // A hand-made pair whose tag_model names itself (a cycle) is refused: a tag PRM must be a tag PRM.
    const self = join(dir, "self.gguf");
    writeLlamaGguf(self, {
        config: ref.config,
        weights: ref.weights,
        vocab: ref.vocab,
        kind: "prm",
        extraMetadata: {"stepwise.prm.objective": "tag+implicit", "stepwise.prm.beta": gv.f32(1), "stepwise.prm.reference": relative(dir, ref.path), "stepwise.prm.tag_model": "self.gguf"},
    });
    await assert.rejects(createScorer(`llama:${self}`), /self\.gguf: its tag PRM self\.gguf \(GGUF metadata stepwise\.prm\.tag_model\) is not a tag PRM \(its stepwise\.prm\.objective is "tag\+implicit"\)/);
    // Moved without its tag PRM: every reading that needs it names it; the implicit reading does not need it.
    const movedDir = join(mkdtempSync(join(tmpdir(), "stepwise-pair-moved-")), "a", "b");
    mkdirSync(movedDir, {recursive: true});
    const moved = join(movedDir, "pair.gguf");
    copyFileSync(out, moved);
    // The default reading needs both: one message names both, so a copied pair is mended in one go.
    await assert.rejects(createScorer(`llama:${moved}`), /pair\.gguf: its tag PRM .* is missing: .*; so is its reference model .*\. A pair moves with both files beside it/);
    for (const spec of [`llama:${moved}`, `llama:${moved}?format=stepwise-lab`, `llama:${moved}?format=implicit`])
        await assert.rejects(createScorer(spec), (e: Error) => e instanceof StepwiseError && /pair\.gguf: its (tag PRM|reference model) .* is missing/.test(e.message), spec);
});

test("stepwise pair-prm (CLI) writes the pair; serve --prm PAIR serves the tag PRM's step scores", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-pair-cli-"));
    const imp = implicitPrm(dir);
    const out = join(dir, "pair.gguf");
    const r = spawnSync(process.execPath, cliArgs("pair-prm", "--implicit", imp, "--tag", tag.path, "--out", out, "--json"), {encoding: "utf8"});
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(Object.keys(JSON.parse(r.stdout)).sort(), ["beta", "out", "reference", "tagModel"]);
    assert.match(r.stderr, /pair-prm: .*pair\.gguf: token values from .*implicit\.gguf \(β 0\.5, reference .*\), step scores from /);
    const bad = spawnSync(process.execPath, cliArgs("pair-prm", "--implicit", tag.path, "--tag", tag.path, "--out", join(dir, "x.gguf")), {encoding: "utf8"});
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /not an implicit PRM/);
    assert.ok(readFileSync(out).length > 0 && !existsSync(join(dir, "x.gguf")));

    // decode says which reading a strategy uses.
    const q = join(dir, "q.jsonl");
    writeFileSync(q, JSON.stringify({id: "q1", question: "Compute 2 + 3.", answer: "5"}) + "\n");
    for (const [strategy, said] of [["tvd", /decode tvd: TVD's candidates scored by the PRM's token values \(implicit reading, β 0\.5\); its step scores \(the tag PRM tiny-7\.gguf\) are not used by TVD/], ["best-of-n", /decode best-of-n: step scores from the tag PRM tiny-7\.gguf; the PRM's token values are for TVD only/]] as const) {
        const d = spawnSync(process.execPath, cliArgs("decode", "--strategy", strategy, "--n", "2", "--policy", `llama:${ref.path}`, "--prm", `llama:${out}`, "--data", q, "--max-tokens", "12", "--tau", "0.99", "--out", join(dir, `${strategy}.jsonl`)), {encoding: "utf8"});
        assert.equal(d.status, 0, d.stderr);
        assert.match(d.stderr, said);
    }
    // format=implicit is token values, which serve's routes do not give: refused before any model loads.
    const implicitServe = spawnSync(process.execPath, cliArgs("serve", "--prm", `llama:${out}?format=implicit`, "--port", "0"), {encoding: "utf8"});
    assert.equal(implicitServe.status, 1);
    assert.match(implicitServe.stderr, /serve --prm llama:.*pair\.gguf\?format=implicit: format=implicit reads token values, which \/pooling and \/get_reward do not serve/);
    assert.doesNotMatch(implicitServe.stderr, /serving the tag PRM/);
    const served = await serveCli(["--prm", out, "--steps", "newline", "--port", "0", "--context-size", "256"], /get_reward: /);
    try {
        const started = served.stderr;
        assert.match(started, /pairs token values with the tag PRM .*tiny-7\.gguf; serving the tag PRM's step scores/);
        assert.match(started, /serve: .*tiny-7\.gguf at http/);
        assert.match(started, /get_reward: stepwise-lab PRM, steps end at "\\n"/);
        // Served under the pair's name (what the user named), not the tag PRM's file name.
        const url = /serve: .* at (http:\S+)\/v1/.exec(started)![1];
        const models = (await (await fetch(`${url}/v1/models`)).json()) as {data: Array<{id: string}>};
        assert.deepEqual(models.data.map((m) => m.id), ["pair"]);
    } finally {
        await served.stop();
    }
});

test("train-prm --init PAIR (tag objective) is refused, naming the tag PRM to start from instead", async () => {
    const {trainPrm} = await import("../../../src/pipeline/train-prm.ts");
    const {labelled} = await import("../../helpers/lab-labels.ts");
    const dir = mkdtempSync(join(tmpdir(), "stepwise-pair-init-"));
    const out = join(dir, "pair.gguf");
    await pairPrm({implicit: implicitPrm(dir), tag: tag.path, out});
    const labels = join(dir, "labels.jsonl");
    writeFileSync(labels, labelled(4).map((r) => JSON.stringify(r)).join("\n") + "\n");
    await assert.rejects(
        trainPrm({data: [labels], init: out, out: join(dir, "t.gguf"), steps: 1, quiet: true}),
        (e: Error) => e instanceof StepwiseError && /--init .*pair\.gguf: a pair of PRMs \(stepwise pair-prm\) .* whose step scores are .*tiny-7\.gguf \(GGUF metadata stepwise\.prm\.tag_model, beside it\)/.test(e.message),
    );
    assert.ok(!existsSync(join(dir, "t.gguf")));
});

/** A tag PRM like `tag` whose training context is `contextLength` tokens. */
function tagPrmWithContext(dir: string, contextLength: number): string {
    const config = makeLlamaConfig({vocabSize: tag.vocab.tokens.length, dModel: 32, nLayers: 2, nHeads: 2, contextLength});
    const path = join(dir, `tag-${contextLength}.gguf`);
    writeLlamaGguf(path, {config, weights: randomLlamaWeights(config, 7), vocab: tag.vocab, kind: "prm", name: "tag-context-test"});
    return path;
}

test("a pair's step scores read the tag PRM's context, its token values the implicit PRM's; format=implicit needs no tag PRM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-pair-ctx-"));
    const out = join(dir, "pair.gguf");
    const tagPath = tagPrmWithContext(dir, 1024); // the implicit PRM's context is 512
    await pairPrm({implicit: implicitPrm(dir), tag: tagPath, out});
    const question = "Compute 3 + 4.";
    const steps = Array.from({length: 6}, (_, i) => `Step ${i}: ${"3 + 4 = 7, ".repeat(9)}\n`); // about 600 tokens
    const pair = (await createScorer(`llama:${out}`)) as HybridPrmScorer;
    const tagOnly = await createScorer(`llama:${out}?format=stepwise-lab`);
    try {
        assert.equal((await pair.scoreSteps(question, steps)).length, 6, "the tag PRM reads 600 tokens whole");
        assert.equal((await tagOnly.scoreSteps(question, steps)).length, 6);
        await assert.rejects(pair.scoreContinuations(question, steps, [{text: "1"}]), (e: Error) => e instanceof ContextOverflowError && /implicit PRM's context \(512 tokens\)/.test(e.message));
    } finally {
        await Promise.all([pair.close(), tagOnly.close()]);
    }
    // Without its tag PRM, the token values still read (they need only the reference); the step scores name the missing file.
    rmSync(tagPath);
    const implicitOnly = await createScorer(`llama:${out}?format=implicit`);
    try {
        assert.ok(implicitOnly instanceof ImplicitPrmScorer);
        assert.equal((await implicitOnly.scoreContinuations(question, steps.slice(0, 1), [{text: "1"}, {text: "2"}])).length, 2);
    } finally {
        await implicitOnly.close();
    }
    await assert.rejects(createScorer(`llama:${out}`), /pair\.gguf: its tag PRM tag-1024\.gguf \(GGUF metadata stepwise\.prm\.tag_model, relative to the PRM's folder\) is missing/);
});

test("a caller that reads step scores only (stepsOnly: score, processbench, the step-level decoders) opens only the tag PRM: same scores, and the reference need not exist; TVD still names it", async () => {
    const {prmSettings} = await import("../../../src/pipeline/score.ts");
    const dir = mkdtempSync(join(tmpdir(), "stepwise-pair-steps-"));
    const refCopy = join(dir, "ref.gguf");
    copyFileSync(ref.path, refCopy);
    const imp = implicitPrm(dir, "ref.gguf");
    const out = join(dir, "pair.gguf");
    await pairPrm({implicit: imp, tag: tag.path, out});
    const question = "Compute 3 + 4.";
    const steps = ["3 + 4 = 7.\n", "The answer is 7."];
    const both = (await createScorer(`llama:${out}`)) as HybridPrmScorer;
    const expected = await both.scoreSteps(question, steps);
    await both.close();
    const fingerprint = prmSettings(`llama:${out}`, {stepsOnly: true});
    assert.equal(fingerprint.reference, undefined, "step scores do not depend on the reference");
    // step_prm= beside a reading that is not implicit is refused with or without stepsOnly (never read quietly).
    const enc = encodeURIComponent(`llama:${tag.path}`);
    for (const stepsOnly of [false, true]) {
        await assert.rejects(createScorer(`llama:${tag.path}?step_prm=${enc}`, {stepsOnly}), /step_prm= gives step scores beside an implicit PRM's token values/);
        await assert.rejects(createScorer(`llama:${out}?step_prm=${enc}`, {stepsOnly}), /has step scores of its own/);
    }
    rmSync(refCopy);
    for (const spec of [`llama:${out}`, `llama:${imp}?step_prm=${encodeURIComponent(`llama:${out}`)}`]) {
        const s = await createScorer(spec, {stepsOnly: true});
        try {
            assert.ok(s instanceof TagPrmScorer, spec);
            assert.ok(close(await s.scoreSteps(question, steps), expected), spec);
        } finally {
            await s.close();
        }
    }
    assert.deepEqual(prmSettings(`llama:${out}`, {stepsOnly: true}), fingerprint);
    await assert.rejects(createScorer(`llama:${out}`), /pair\.gguf: its reference model ref\.gguf .* is missing/);
    // decode: best-of-n runs without the reference; tvd names it.
    const q = join(dir, "q.jsonl");
    writeFileSync(q, JSON.stringify({id: "q1", question: "Compute 2 + 3.", answer: "5"}) + "\n");
    const run = (strategy: string) => spawnSync(process.execPath, cliArgs("decode", "--strategy", strategy, "--n", "2", "--policy", `llama:${ref.path}`, "--prm", `llama:${out}`, "--data", q, "--max-tokens", "12", "--tau", "0.99", "--out", join(dir, `${strategy}.jsonl`)), {encoding: "utf8"});
    const bon = run("best-of-n");
    assert.equal(bon.status, 0, bon.stderr);
    assert.match(bon.stderr, /step scores from the tag PRM tiny-7\.gguf; the PRM's token values are for TVD only \(not loaded\)/);
    const tvd = run("tvd");
    assert.equal(tvd.status, 1);
    assert.match(tvd.stderr, /its reference model ref\.gguf .* is missing/);
});

test("a changed tag PRM beside an unchanged pair is other settings: score refuses to resume into the old output", async () => {
    const {scoreFile, prmSettings} = await import("../../../src/pipeline/score.ts");
    const dir = mkdtempSync(join(tmpdir(), "stepwise-pair-fp-"));
    const tagPath = join(dir, "tag.gguf");
    copyFileSync(tag.path, tagPath);
    const out = join(dir, "pair.gguf");
    await pairPrm({implicit: implicitPrm(dir), tag: tagPath, out});
    const input = join(dir, "steps.jsonl");
    writeFileSync(input, [0, 1].map((i) => JSON.stringify({id: `r${i}`, question: "Compute 3 + 4.", steps: ["3 + 4 = 7.\n", "The answer is 7."]})).join("\n") + "\n");
    const spec = `llama:${out}`;
    const scored = join(dir, "scored.jsonl");
    await scoreFile({scorer: () => createScorer(spec), prmSpec: spec, input, out: scored, limit: 1});
    const before = prmSettings(spec);
    const stepSpec = `llama:${join(dir, "implicit.gguf")}?step_prm=${encodeURIComponent(`llama:${tagPath}`)}`;
    const stepBefore = prmSettings(stepSpec);
    copyFileSync(tinyModel(8, 4, "prm").path, tagPath); // another tag PRM of the same name and size; the pair's bytes unchanged
    assert.notDeepEqual(prmSettings(spec), before);
    assert.notDeepEqual(prmSettings(stepSpec), stepBefore, "step_prm= fingerprints the model it names, not only its text");
    await assert.rejects(scoreFile({scorer: () => createScorer(spec), prmSpec: spec, input, out: scored}), /made with other settings \(prm: .*"tag_model":\{.*"model":"tag\.gguf".*→ /);
    // format=implicit does not read the tag PRM: its settings do not name it.
    assert.equal(prmSettings(`${spec}?format=implicit`).tag_model, undefined);
});

test("step_prm= is refused beside a reading that is not implicit (format=verifier) and inside another step_prm=, before any model loads; a pair as step_prm= is read as its tag PRM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-pair-step-prm-"));
    const implicit = implicitPrm(dir);
    const steps = encodeURIComponent(`llama:${tag.path}`);
    await assert.rejects(createScorer(`llama:${implicit}?format=verifier&step_prm=${steps}`), (e: Error) => e instanceof StepwiseError && /step_prm= gives step scores beside an implicit PRM's token values; format=verifier is not an implicit reading/.test(e.message));
    const nested = encodeURIComponent(`llama:${implicit}?step_prm=${steps}`);
    await assert.rejects(createScorer(`llama:${implicit}?step_prm=${nested}`), /step_prm=llama:.*implicit\.gguf\?step_prm=.* has a step_prm= of its own/);
    // One level reads: step scores from the tag PRM, token values from the implicit PRM.
    const ok = (await createScorer(`llama:${implicit}?step_prm=${steps}`)) as HybridPrmScorer;
    const tagRef = await createScorer(`llama:${tag.path}`);
    try {
        assert.ok(close(await ok.scoreSteps("Compute 3 + 4.", ["3 + 4 = 7.\n", "7"]), await tagRef.scoreSteps("Compute 3 + 4.", ["3 + 4 = 7.\n", "7"])));
    } finally {
        await Promise.all([ok.close(), tagRef.close()]);
    }
    // A pair as step_prm= is read for its tag PRM only: its implicit model and reference are not loaded (here the reference is not even there).
    const far = join(mkdtempSync(join(tmpdir(), "stepwise-pair-far-")), "x", "y", "z");
    mkdirSync(far, {recursive: true});
    copyFileSync(tag.path, join(far, "tag.gguf"));
    await pairPrm({implicit, tag: join(far, "tag.gguf"), out: join(far, "pair.gguf")});
    // Pair and tag PRM moved together two folders deeper: the tag PRM is found, the reference not.
    const lonely = join(far, "lonely");
    mkdirSync(join(lonely, "deeper"), {recursive: true});
    copyFileSync(join(far, "pair.gguf"), join(lonely, "deeper", "pair.gguf"));
    copyFileSync(tag.path, join(lonely, "deeper", "tag.gguf"));
    const lonelyPair = `llama:${join(lonely, "deeper", "pair.gguf")}`;
    await assert.rejects(createScorer(lonelyPair), /its reference model .* is missing/);
    const viaPairSpec = `llama:${implicit}?step_prm=${encodeURIComponent(lonelyPair)}`;
    const {prmSettings} = await import("../../../src/pipeline/score.ts");
    assert.equal((prmSettings(viaPairSpec).step_prm as {format?: string}).format, "stepwise-lab", "settings fingerprint what is read");
    const viaPair = (await createScorer(viaPairSpec)) as HybridPrmScorer;
    const tagAgain = await createScorer(`llama:${tag.path}`);
    try {
        assert.ok(viaPair.tag instanceof TagPrmScorer);
        assert.ok(close(await viaPair.scoreSteps("Compute 3 + 4.", ["3 + 4 = 7.\n", "7"]), await tagAgain.scoreSteps("Compute 3 + 4.", ["3 + 4 = 7.\n", "7"])));
    } finally {
        await Promise.all([viaPair.close(), tagAgain.close()]);
    }
});

test("a changed reference beside an unchanged implicit PRM is other settings (the token values change with it)", async () => {
    const {prmSettings} = await import("../../../src/pipeline/score.ts");
    const dir = mkdtempSync(join(tmpdir(), "stepwise-ref-fp-"));
    const refPath = join(dir, "ref.gguf");
    copyFileSync(ref.path, refPath);
    const imp = join(dir, "imp.gguf");
    writeLlamaGguf(imp, {config: ref.config, weights: randomLlamaWeights(ref.config, 12), vocab: ref.vocab, kind: "prm", extraMetadata: {"stepwise.prm.objective": "implicit", "stepwise.prm.beta": gv.f32(0.5), "stepwise.prm.reference": "ref.gguf", "stepwise.prm.template": "{question}\n"}});
    const before = prmSettings(`llama:${imp}`);
    assert.equal((before.reference as {model: string}).model, "ref.gguf");
    copyFileSync(tinyModel(9, 4).path, refPath); // another policy under the reference's name
    assert.notDeepEqual(prmSettings(`llama:${imp}`), before);
    // A served reference (ref=) is named by its spec, as before: nothing to hash here.
    assert.equal(prmSettings(`llama:${imp}?ref=${encodeURIComponent("openai:http://127.0.0.1:9/v1")}`).reference, undefined);
});

test("PRM spec values that are not URL-encoded are named, not read as fragments: a value holding =, a key given twice, a bad %", async () => {
    const {splitPrmSpec} = await import("../../../src/prm/index.ts");
    const base = "llama:models/lab-prm.gguf?format=implicit";
    assert.throws(() => splitPrmSpec(`${base}&step_prm=llama:models/lab-tag-prm.gguf?format=stepwise-lab`), /^StepwiseError: PRM spec: step_prm=: "llama:models\/lab-tag-prm\.gguf\?format=stepwise-lab" holds "="; a value that is itself a spec .* must be URL-encoded \(encodeURIComponent\), e\.g\. step_prm=llama%3Aprm\.gguf%3Fformat%3Dstepwise-lab$/);
    // Unencoded, a served spec's own &format= would replace the outer format: caught as a second format.
    assert.throws(() => splitPrmSpec(`${base}&step_prm=openai:http://127.0.0.1:8001/v1?model=prm&format=stepwise-lab`), /step_prm=: "openai:http:\/\/127\.0\.0\.1:8001\/v1\?model=prm" holds "="/);
    assert.throws(() => splitPrmSpec(`${base}&format=stepwise-lab`), /PRM spec: format=: given twice/);
    assert.throws(() => splitPrmSpec(`${base}&step_prm=%ZZ`), /^StepwiseError: PRM spec: step_prm=%ZZ: not valid URL-encoding/);
    // Encoded, it reads back whole.
    assert.equal(splitPrmSpec(`${base}&step_prm=${encodeURIComponent("llama:t.gguf?format=stepwise-lab&threads=1")}`).params.step_prm, "llama:t.gguf?format=stepwise-lab&threads=1");
});
