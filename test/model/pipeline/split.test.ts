import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Command} from "@commander-js/extra-typings";
import type {SampleRecord, StepsRecord} from "../../../src/core/records.ts";
import type {StepSpan} from "../../../src/steps/index.ts";
import {parseStrategy, splitFile, splitSample, strategyLabel, type SplitStrategy} from "../../../src/pipeline/split/index.ts";
import {computeThreshold} from "../../../src/pipeline/threshold.ts";
import {register as registerSplit} from "../../../src/cli/commands/split.ts";
import {register as registerThreshold} from "../../../src/cli/commands/threshold.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {tinyModel} from "../../helpers/tiny-model.ts";
import {generateProblems} from "../../../src/domains/lab/index.ts";
import {Rng} from "../../../src/util/rng.ts";
import {StepwiseError} from "../../../src/util/errors.ts";

/** A SampleRecord from (text, confidence) pieces, one piece per token. */
export function sampleFrom(id: string, pieces: Array<[string, number]>, extra: Partial<SampleRecord> = {}): SampleRecord {
    const text = pieces.map((p) => p[0]).join("");
    return {
        id, question_id: id.split("#")[0], sample_index: Number(id.split("#")[1] ?? 0), question: "Q?", prompt: "Q?\n", text,
        tokens: pieces.map(([t, c]) => ({text: t, confidence: c, top: []})), finish_reason: "stop", engine: "test", seed: 0, temperature: 1, ...extra,
    };
}

/** Tokenize a text into word/number/space/newline/punctuation pieces with made-up confidences. */
function tokenizeWithConfidences(text: string, rng: Rng): Array<[string, number]> {
    const parts = text.match(/\n|[ ]?[A-Za-z]+|[ ]?\d|[ ]+|[^\sA-Za-z\d]/g) ?? [];
    assert.equal(parts.join(""), text);
    return parts.map((p) => {
        // numbers and operators are the uncertain ones, line breaks almost certain
        const c = p === "\n" ? 0.97 + 0.03 * rng.next() : /\d|[=+\-*/]/.test(p) ? 0.05 + 0.9 * rng.next() : 0.5 + 0.5 * rng.next();
        return [p, c];
    });
}

const GSM8K_LIKE =
    "Natalia sold 48/2 = 24 clips in May.\n" +
    "Natalia sold 48+24 = 72 clips altogether in April and May.\n\n" +
    "So the answer is 72.\n#### 72\n";

/** Invariants every split must satisfy. */
function checkSteps(sample: SampleRecord, steps: StepSpan[], options: {blankSteps?: boolean} = {}): void {
    if (sample.tokens.length === 0) return assert.equal(steps.length, 0);
    assert.equal(steps.map((s) => s.text).join(""), sample.text, "step texts concatenate to the sample text");
    let tok = 0;
    let ch = 0;
    for (const s of steps) {
        assert.equal(s.token_start, tok, "token spans tile the tokens");
        assert.equal(s.start, ch, "char spans tile the text");
        assert.ok(s.token_end > s.token_start, "no empty token span");
        assert.equal(s.text, sample.text.slice(s.start, s.end));
        assert.equal(s.text, sample.tokens.slice(s.token_start, s.token_end).map((t) => t.text).join(""), "offsets match the token span");
        if (steps.length > 1 && !options.blankSteps) assert.notEqual(s.text.trim(), "", "no whitespace-only step");
        tok = s.token_end;
        ch = s.end;
    }
    assert.equal(tok, sample.tokens.length);
    assert.equal(ch, sample.text.length);
}

/** Adaptive invariants: each decision token ends its step, one step per decision token (whitespace ones too). */
function checkAdaptive(sample: SampleRecord, steps: StepSpan[], tau: number): void {
    checkSteps(sample, steps, {blankSteps: true});
    const decisions = sample.tokens.flatMap((t, i) => (t.confidence < tau ? [i] : []));
    for (const d of decisions) {
        const s = steps.find((x) => d >= x.token_start && d < x.token_end)!;
        assert.equal(d, s.token_end - 1, `decision token ${d} ends its step`);
    }
    assert.equal(steps.length, decisions.length + (decisions.includes(sample.tokens.length - 1) ? 0 : 1), "one step per decision token (+1 for the tail)");
}

test("adaptive: a step ends right after each token below τ; counts match", () => {
    const s = sampleFrom("q#0", [["First", 0.9], [",", 0.95], [" 3", 0.2], [" *", 0.9], [" 4", 0.1], [" =", 0.99], [" 12", 0.3], [".", 0.99], ["\n", 0.99], ["So", 0.4], [" 12", 0.8]]);
    const steps = splitSample(s, {kind: "adaptive", tau: 0.35});
    assert.deepEqual(steps.map((x) => x.text), ["First, 3", " * 4", " = 12", ".\nSo 12"]);
    checkAdaptive(s, steps, 0.35);
    assert.equal(steps.length, 3 + 1, "3 decision tokens, last token not one: 4 steps");
    assert.deepEqual(splitSample(s, {kind: "adaptive", tau: 0.45}).map((x) => x.text), ["First, 3", " * 4", " = 12", ".\nSo", " 12"]);
    // a decision token at the very end makes no empty step
    const t = sampleFrom("q#1", [["a", 0.9], ["b", 0.1], ["c", 0.1]]);
    assert.deepEqual(splitSample(t, {kind: "adaptive", tau: 0.5}).map((x) => x.text), ["ab", "c"]);
    // no decision token: one step
    assert.deepEqual(splitSample(t, {kind: "adaptive", tau: 0.05}).map((x) => x.text), ["abc"]);
    // whitespace-only steps are kept (ASPRM tags a lone "\n" decision token); only text-less tokens merge
    const w = sampleFrom("q#2", [["\n", 0.1], ["x", 0.1], ["\n", 0.1], [" ", 0.1], ["y", 0.9], ["\n", 0.9]]);
    const ws = splitSample(w, {kind: "adaptive", tau: 0.5});
    assert.deepEqual(ws.map((x) => x.text), ["\n", "x", "\n", " ", "y\n"]);
    checkAdaptive(w, ws, 0.5);
    assert.deepEqual(splitSample(sampleFrom("q#3", [["\n", 0.1], [" ", 0.1]]), {kind: "adaptive", tau: 0.5}).map((x) => x.text), ["\n", " "]);
    const e = sampleFrom("q#5", [["", 0.1], ["a", 0.1], ["", 0.1], ["b", 0.9]]);
    assert.deepEqual(splitSample(e, {kind: "adaptive", tau: 0.5}).map((x) => x.text), ["a", "b"], "text-less steps merge");
    // the line-break strategies still merge blank lines into the step they end
    const nlBlank = sampleFrom("q#6", [["a", 1], ["\n", 1], ["\n", 1], ["b", 1]]);
    assert.deepEqual(splitSample(nlBlank, {kind: "newline"}).map((x) => x.text), ["a\n\n", "b"]);
    assert.deepEqual(splitSample(sampleFrom("q#4", []), {kind: "adaptive", tau: 0.5}), []);
});

test("newline, double-newline, fixed and random strategies", () => {
    const rng = new Rng(1);
    const s = sampleFrom("gsm#0", tokenizeWithConfidences(GSM8K_LIKE, rng));
    const nl = splitSample(s, {kind: "newline"});
    assert.deepEqual(nl.map((x) => x.text), [
        "Natalia sold 48/2 = 24 clips in May.\n",
        "Natalia sold 48+24 = 72 clips altogether in April and May.\n\n",
        "So the answer is 72.\n",
        "#### 72\n",
    ]);
    checkSteps(s, nl);
    const dnl = splitSample(s, {kind: "double-newline"});
    assert.deepEqual(dnl.map((x) => x.text), [
        "Natalia sold 48/2 = 24 clips in May.\nNatalia sold 48+24 = 72 clips altogether in April and May.\n\n",
        "So the answer is 72.\n#### 72\n",
    ]);
    // a "\n\n" split across tokens, or inside one token, both end the step after the token completing it
    const one = sampleFrom("x#0", [["a", 1], ["\n\n", 1], ["b", 1], ["\n", 1], ["\n", 1], ["c", 1]]);
    assert.deepEqual(splitSample(one, {kind: "double-newline"}).map((x) => x.text), ["a\n\n", "b\n\n", "c"]);
    const f = splitSample(s, {kind: "fixed", tokens: 7});
    checkSteps(s, f, {blankSteps: true});
    assert.ok(f.every((x, i) => i === f.length - 1 || x.token_end - x.token_start >= 7));
    const r1 = splitSample(s, {kind: "random", positions: 5, seed: 0});
    const r2 = splitSample(s, {kind: "random", positions: 5, seed: 0});
    const r3 = splitSample({...s, id: "gsm#1"}, {kind: "random", positions: 5, seed: 0});
    checkSteps(s, r1, {blankSteps: true});
    assert.deepEqual(r1, r2, "seeded by sample id: reproducible");
    assert.notDeepEqual(r1.map((x) => x.token_end), r3.map((x) => x.token_end), "another id, other positions");
    assert.ok(r1.length <= 6 && r1.length >= 2);
    // more positions than boundaries: every boundary
    const small = sampleFrom("y#0", [["a", 1], ["b", 1], ["c", 1]]);
    assert.deepEqual(splitSample(small, {kind: "random", positions: 10, seed: 0}).map((x) => x.text), ["a", "b", "c"]);
});

test("parseStrategy reads every form and names the bad spec", () => {
    assert.deepEqual(parseStrategy("adaptive", {tau: 0.3}), {kind: "adaptive", tau: 0.3});
    assert.deepEqual(parseStrategy("adaptive:0.25"), {kind: "adaptive", tau: 0.25});
    assert.deepEqual(parseStrategy("fixed:16"), {kind: "fixed", tokens: 16});
    assert.deepEqual(parseStrategy("random:5"), {kind: "random", positions: 5, seed: 0});
    assert.deepEqual(parseStrategy("random:5:9"), {kind: "random", positions: 5, seed: 9});
    assert.deepEqual(parseStrategy("double-newline"), {kind: "double-newline"});
    for (const s of ["fixed:16", "random:5", "random:5:9", "newline", "double-newline"]) assert.equal(strategyLabel(parseStrategy(s)), s);
    for (const bad of ["adaptive", "fixed", "fixed:0", "fixed:x", "random", "lines", "adaptive:2", "newline:3"])
        assert.throws(() => parseStrategy(bad), (e: unknown) => e instanceof StepwiseError && e.message.includes(`"${bad}"`), bad);
});

test("lab solutions with made-up confidences: τ from the pooled quantile, invariants, step count = decisions (+1)", () => {
    const rng = new Rng(7);
    const samples = generateProblems(40, {seed: 5}).map((p, i) => sampleFrom(`${p.id}#0`, tokenizeWithConfidences(p.solution, rng), {question: p.question}));
    samples.push(sampleFrom("gsm#0", tokenizeWithConfidences(GSM8K_LIKE, rng)));
    const summary = computeThreshold(samples, {quantile: 0.05});
    const all = samples.flatMap((s) => s.tokens.map((t) => t.confidence));
    const below = all.filter((c) => c < summary.tau).length;
    assert.equal(summary.below_tau, below, "exact count below τ");
    assert.ok(below >= Math.ceil(0.05 * all.length));
    let decisions = 0;
    let steps = 0;
    let lastNotDecision = 0;
    for (const s of samples) {
        const st = splitSample(s, {kind: "adaptive", tau: summary.tau});
        checkAdaptive(s, st, summary.tau);
        steps += st.length;
        decisions += s.tokens.filter((t) => t.confidence < summary.tau).length;
        if (!(s.tokens[s.tokens.length - 1].confidence < summary.tau)) lastNotDecision++;
    }
    assert.equal(decisions, below);
    assert.ok(steps <= decisions + lastNotDecision);
    // newline steps of the lab: one per line
    for (const s of samples.slice(0, 5)) assert.equal(splitSample(s, {kind: "newline"}).length, s.text.replace(/\n+$/, "").split(/\n+/).length);
});

let engine: LlamaEngine;
before(async () => {
    engine = await LlamaEngine.load(tinyModel(3, 6).path, {sequences: 4, contextSize: 256});
});
after(async () => engine.close());

test("real samples from a tiny model through the llama engine: split invariants for every strategy", async () => {
    const gen = await engine.generate({prompt: "Compute 3 + 4 * 2.\n", n: 8, seed: 2, maxTokens: 60});
    const samples = gen.map((g, i) => sampleFrom(`tiny#${i}`, g.tokens.map((t) => [t.text, t.confidence])));
    samples.forEach((s, i) => assert.equal(s.text, gen[i].text));
    const {tau} = computeThreshold(samples, {quantile: 0.1});
    const strategies: SplitStrategy[] = [
        {kind: "adaptive", tau}, {kind: "newline"}, {kind: "double-newline"}, {kind: "fixed", tokens: 5}, {kind: "random", positions: 4, seed: 1},
    ];
    for (const s of samples) {
        for (const st of strategies) checkSteps(s, splitSample(s, st), {blankSteps: st.kind !== "newline" && st.kind !== "double-newline"});
        checkAdaptive(s, splitSample(s, {kind: "adaptive", tau}), tau);
    }
});

test("stepwise threshold + split CLI: files, plot, resume, refusal to mix strategies, file:line errors", async () => {
    const dir = mkdtempSync(join(tmpdir(), "split-cli-"));
    const err = console.error;
    const logs: string[] = [];
    console.error = (m: string) => logs.push(m);
    try {
        const rng = new Rng(3);
        const samples = generateProblems(30, {seed: 9}).map((p) => sampleFrom(`${p.id}#0`, tokenizeWithConfidences(p.solution, rng)));
        const file = join(dir, "samples.jsonl");
        writeFileSync(file, samples.map((s) => JSON.stringify(s)).join("\n") + "\n");
        const run = (...args: string[]): Promise<unknown> => {
            const p = new Command().exitOverride();
            registerThreshold(p);
            registerSplit(p);
            return p.parseAsync(["node", "stepwise", ...args]);
        };
        const thr = join(dir, "threshold.json");
        await run("threshold", "--samples", file, "--out", thr, "--quantile", "0.03");
        const summary = JSON.parse(readFileSync(thr, "utf8"));
        assert.equal(summary.quantile, 0.03);
        assert.ok(summary.tau > 0 && summary.tau < 1);
        assert.ok(readFileSync(join(dir, "threshold.svg"), "utf8").includes("<svg"));
        assert.ok(readFileSync(join(dir, "threshold.png")).subarray(1, 4).toString() === "PNG");
        const out = join(dir, "steps.jsonl");
        // first run on 10 samples, then resume on all
        await run("split", "--samples", file, "--threshold", thr, "--out", out, "--limit", "10");
        await run("split", "--samples", file, "--threshold", thr, "--out", out);
        const recs = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as StepsRecord & {steps: StepSpan[]});
        assert.equal(recs.length, 30);
        assert.deepEqual(recs.map((r) => r.id), samples.map((s) => s.id));
        assert.ok(recs.every((r) => r.strategy === "adaptive" && r.tau === summary.tau));
        recs.forEach((r, i) => checkAdaptive(samples[i], r.steps, summary.tau));
        assert.match(logs.at(-1)!, /20 samples split .* 10 already in/);
        await assert.rejects(run("split", "--samples", file, "--strategy", "newline", "--out", out), /other settings \(strategy: "adaptive" → "newline"; tau: [0-9.]+ → null\).*another --out/);
        // a bad record names file:line and field
        const badFile = join(dir, "bad.jsonl");
        writeFileSync(badFile, JSON.stringify(samples[0]) + "\n");
        appendFileSync(badFile, JSON.stringify({...samples[1], tokens: [{text: samples[1].text, confidence: "high"}]}) + "\n");
        await assert.rejects(run("split", "--samples", badFile, "--strategy", "newline", "--out", join(dir, "o2.jsonl")), /bad\.jsonl:2: field "tokens\[0\]\.confidence"/);
        writeFileSync(badFile, JSON.stringify({...samples[0], text: "different"}) + "\n");
        await assert.rejects(run("split", "--samples", badFile, "--strategy", "newline", "--out", join(dir, "o3.jsonl")), /bad\.jsonl:1: field "tokens": token texts do not concatenate/);
        await assert.rejects(run("split", "--samples", file, "--out", join(dir, "o4.jsonl")), /adaptive needs τ/);
    } finally {
        console.error = err;
        rmSync(dir, {recursive: true, force: true});
    }
});
