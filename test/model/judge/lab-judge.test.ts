import {test} from "node:test";
import assert from "node:assert/strict";
import {copyFileSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {dirname, join} from "node:path";
import {runCli} from "../../helpers/cli.ts";
import {writeLlamaGguf} from "../../../src/gguf/index.ts";
import {readLlamaGguf} from "../../../src/gguf/llama.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {judgeMessages} from "../../../src/judge/prompt.ts";
import {LAB_JUDGE_CHAT_TEMPLATE, critiqueText, renderLabJudgeChat} from "../../../src/apps/lab/judge/template.ts";
import {judgeItem, labJudgeExample, labJudgePrompt, readJudgeItems} from "../../../src/apps/lab/judge/data.ts";
import {trainLabJudge} from "../../../src/apps/lab/judge/train.ts";
import {CharTokenizer} from "../../../src/model/vocab.ts";
import {tinyModel} from "../../helpers/tiny-model.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "stepwise-labjudge-"));

function tinyJudge(dir: string): string {
    const m = tinyModel(5);
    const path = join(dir, "judge.gguf");
    writeLlamaGguf(path, {config: m.config, weights: m.weights, vocab: m.vocab, name: "tiny-judge", extraMetadata: {"stepwise.kind": "judge", "tokenizer.chat_template": LAB_JUDGE_CHAT_TEMPLATE}});
    return path;
}

// A lab sample: "2 * 14 = 32" is the first wrong line (line 0); steps cut mid-line as adaptive splits do.
const text = "First, 2 * 14 = 32, so 32 + 11.\nThen 32 + 11 = 43.\nThe answer is 43.";
const cuts = [17, 32, 51, text.length]; // the error is decided at the "3" of "32" (offset 16)
const record = {
    id: "lab-1#0",
    question_id: "lab-1",
    question: "Compute 2 * 14 + 11.",
    prompt: "Compute 2 * 14 + 11.\n",
    text,
    steps: cuts.map((end, i) => ({text: text.slice(i ? cuts[i - 1] : 0, end), start: i ? cuts[i - 1] : 0, end, token_start: 0, token_end: 0})),
};

test("node-llama-cpp renders the lab judge's GGUF chat template exactly as the JS renderer", async () => {
    const dir = tmp();
    const engine = await LlamaEngine.load(tinyJudge(dir), {sequences: 2, contextSize: 512});
    try {
        const chats = [
            judgeMessages("Compute 1 + 2.", ["First, 1 + 2 = 3.", "The answer is 3."]),
            judgeMessages("Compute 1 + 2.", ["a"], {system: "Be strict."}),
            [...judgeMessages("Q", ["a"]), {role: "assistant" as const, content: "0 ok\n\\boxed{-1}"}, {role: "user" as const, content: "again"}],
        ];
        for (const chat of chats) assert.equal(await engine.formatChat(chat, {addGenerationPrompt: true}), renderLabJudgeChat(chat, {addGenerationPrompt: true}));
        assert.ok(renderLabJudgeChat(chats[0]).endsWith("\nVerdict:\n"));
    } finally {
        await engine.close();
    }
});

test("lab judge data: exact first error from the lab verifier, critique with one line per step, loss on the critique only", () => {
    const item = judgeItem(record);
    assert.equal(item.first_error, 0);
    assert.equal(critiqueText(4, 2), "0 ok\n1 ok\n2 bad\n\\boxed{2}");
    assert.equal(critiqueText(2, -1), "0 ok\n1 ok\n\\boxed{-1}");
    const m = tinyModel(5);
    const tok = new CharTokenizer(m.vocab);
    const ex = labJudgeExample(item, tok);
    const prompt = tok.encode(labJudgePrompt(item.question, item.steps), {addBos: true});
    assert.deepEqual(ex.lossMask, {start: prompt.length, end: ex.tokens.length});
    assert.equal(tok.decode(ex.tokens.slice(prompt.length)), "0 bad\n\\boxed{0}");
    assert.equal(ex.tokens.at(-1), m.vocab.eosId);
    const right = judgeItem({...record, text: "First, 2 * 14 = 28, so 28 + 11.\nThen 28 + 11 = 39.\nThe answer is 39.", steps: [{...record.steps[0], text: "First, 2 * 14 = 28, so 28 + 11.\nThen 28 + 11 = 39.\nThe answer is 39.", end: 66}]});
    assert.equal(right.first_error, -1);
});

/** A steps file in `dir` with `record` (first error at step 0) and a right solution of another problem. */
function twoSolutions(dir: string): string {
    const steps = join(dir, "steps.jsonl");
    const good = {...record, id: "lab-2#0", question_id: "lab-2", text: "First, 2 * 14 = 28, so 28 + 11.\nThen 28 + 11 = 39.\nThe answer is 39."};
    good.steps = [{text: good.text, start: 0, end: good.text.length, token_start: 0, token_end: 0}];
    writeFileSync(steps, [record, good].map((r) => JSON.stringify(r)).join("\n") + "\n");
    return steps;
}

test("train-judge runs, checkpoints a GGUF with the chat template, and `stepwise judge --engine llama:` reads steps files with it", async () => {
    const dir = tmp();
    const steps = twoSolutions(dir);
    const plain = await readJudgeItems([steps]);
    assert.deepEqual(plain.map((i) => i.first_error), [0, -1]);
    // --contrast changes the wrong solution's wrong check only, and needs the verify critique.
    const contrasted = await readJudgeItems([steps], {contrast: true});
    assert.notDeepEqual(contrasted[0].checks, plain[0].checks);
    assert.match(contrasted[0].checks![0], /, not /);
    assert.deepEqual(contrasted[1].checks, plain[1].checks);
    await assert.rejects(trainLabJudge({data: [steps], out: join(dir, "c.gguf"), steps: 1, quiet: true, contrast: true, checkpointDir: join(dir, "ckpt-c")}), /--contrast needs --critique verify/);
    const out = join(dir, "judge.gguf");
    const r = await trainLabJudge({data: [steps], out, init: tinyJudge(dir), steps: 2, batchSize: 2, quiet: true, checkpointDir: join(dir, "ckpt")});
    assert.equal(r.steps, 2);
    assert.equal(r.items, 2);
    const cli = runCli(["judge", "--engine", `llama:${out}?sequences=2`, "--in", steps, "--out", join(dir, "v.jsonl"), "--n", "2", "--max-tokens", "12", "--json", "--quiet"]);
    assert.equal(cli.status, 0, cli.stderr);
    const summary = JSON.parse(cli.stdout);
    assert.equal(summary.solutions, 2);
    assert.equal(summary.answers, 4);
    const verdicts = readFileSync(join(dir, "v.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(verdicts.map((v) => [v.id, v.steps, v.raw.length]), [["lab-1#0", 4, 2], ["lab-2#0", 1, 2]]);
});

test("train-judge --grow-layers: the GGUF has the grown blocks and says so; a resume needs the same growth, and names the field when it differs", async () => {
    const dir = tmp();
    const steps = twoSolutions(dir);
    const init = tinyJudge(dir);
    const layers = (await readLlamaGguf(init)).config.nLayers;
    const out = join(dir, "grown.gguf");
    const ck = join(dir, "ckpt-grown");
    const o = {data: [steps], out, init, critique: "verify" as const, growLayers: 2, batchSize: 2, quiet: true, checkpointDir: ck, checkpointEverySteps: 1};
    await trainLabJudge({...o, steps: 1});
    const grown = await readLlamaGguf(out);
    assert.equal(grown.config.nLayers, layers + 2);
    assert.equal(grown.metadata["stepwise.judge_grown_layers"], 2);
    assert.ok(grown.weights[`blk.${layers + 1}.ffn_down.weight`].some((x) => x !== 0), "one step moved the new block's output");
    // Resumed with the same growth: goes on from step 1.
    const more = await trainLabJudge({...o, steps: 2, resume: true});
    assert.equal(more.resumedFrom, 1);
    // Resumed without it: refused, naming the field.
    await assert.rejects(trainLabJudge({...o, growLayers: undefined, steps: 3, resume: true}), new RegExp(`another run \\(shape\\.nLayers: ${layers + 2} → ${layers}\\)`));
    // Resumed with other training items (a verdict weight, --claim): refused, naming each.
    await assert.rejects(trainLabJudge({...o, verdictWeight: 8, claim: true, steps: 3, resume: true}), /checkpoint of another run \(settings\.claim: false → true; settings\.verdictWeight: 1 → 8(; schedule\.seqLen: \d+ → \d+)?\)/);
    // Resumed from another starting model of the same shape: refused, naming it.
    const otherInit = join(dirname(init), "other-init.gguf");
    copyFileSync(init, otherInit);
    // A context too short for every item: the refusal says they were left out for length, and how to change it.
    await assert.rejects(trainLabJudge({...o, growLayers: undefined, contextLength: 64, checkpointDir: join(dir, "ck-short"), steps: 1}), /needs both erroneous and correct solutions \(got \d+ and \d+; \d+ of \d+ items longer than the 64-token context left out \(--context\)\)/);
    await assert.rejects(trainLabJudge({...o, init: otherInit, steps: 3, resume: true}), /another run \(settings\.init: "[^"]+ sha256:([0-9a-f]{16})" → "other-init\.gguf sha256:\1"\)/);
});

test("`stepwise judge --skip-too-long` on a lab judge GGUF: compact template by default, a prompt longer than the context skipped and listed", () => {
    const dir = tmp();
    const steps = join(dir, "steps.jsonl");
    const rows = [
        {id: "a", question: "1+1", steps: ["2"]},
        {id: "b", question: "1+1", steps: Array(200).fill("1+1=2 ok")}, // ~3,800 tokens: more than the 512-token context
        {id: "c", question: "2+2", steps: ["4"]},
    ];
    writeFileSync(steps, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const out = join(dir, "v.jsonl");
    const cli = runCli(["judge", "--engine", `llama:${tinyJudge(dir)}?sequences=2`, "--in", steps, "--out", out, "--n", "2", "--max-tokens", "8", "--skip-too-long", "--json", "--quiet"]);
    assert.equal(cli.status, 0, cli.stderr);
    const summary = JSON.parse(cli.stdout);
    assert.deepEqual([summary.written, summary.tooLong.length, summary.protocol.template, summary.protocol.n], [2, 1, "compact", 2]);
    assert.match(cli.stderr, /judge: skipped \S*steps\.jsonl:2 id "b": .*fills the per-sequence context/);
    assert.deepEqual(readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l).id), ["a", "c"]);
    assert.equal(JSON.parse(readFileSync(`${out}.settings.json`, "utf8")).settings.template, "compact");
});
