import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Command} from "@commander-js/extra-typings";
import type {SampleRecord} from "../../../src/core/records.ts";
import {CODE_C_LIKE_SCHEME, CODE_SCHEME, MATH_SCHEME, categoryScheme, classifyTokens, codeContext, computeStats, distribution, registerCategoryScheme, statsMarkdown, type CategoryScheme} from "../../../src/pipeline/stats/index.ts";
import {parseStrategy, toStepsRecord, tokenOffsets} from "../../../src/pipeline/split/index.ts";
import {computeThreshold} from "../../../src/pipeline/threshold.ts";
import {register} from "../../../src/cli/commands/stats.ts";
import {generateProblems} from "../../../src/domains/lab/index.ts";
import {Rng} from "../../../src/util/rng.ts";

function sampleFrom(id: string, pieces: Array<[string, number]>): SampleRecord {
    return {
        id, question_id: id.split("#")[0], sample_index: 0, question: "Q", prompt: "Q\n", text: pieces.map((p) => p[0]).join(""),
        tokens: pieces.map(([text, confidence]) => ({text, confidence, top: []})), finish_reason: "stop", engine: "test", seed: 0, temperature: 1,
    };
}

/** Word/number/space/newline/symbol pieces with made-up confidences: digits and operators uncertain, line breaks certain. */
function pieces(text: string, rng: Rng): Array<[string, number]> {
    return (text.match(/\n|[ ]?[A-Za-z]+|[ ]?\d|[ ]+|[^\sA-Za-z\d]/g) ?? []).map((p) => [
        p,
        p === "\n" ? 0.97 + 0.03 * rng.next() : /\d|[=+\-*/<>]/.test(p) ? 0.05 + 0.9 * rng.next() : /^ ?(so|then|first|next|now)$/i.test(p) ? 0.2 + 0.7 * rng.next() : 0.5 + 0.5 * rng.next(),
    ]);
}

/** Categories of the pieces of a text cut into the given tokens. */
function cats(scheme: CategoryScheme, toks: string[]): string[] {
    return classifyTokens(scheme, toks.join(""), tokenOffsets(toks.map((text) => ({text}))));
}

test("math categories come from the containing span: words, formulas, split words (sub-word and character tokens)", () => {
    // a BPE-like cut of a GSM8K step
    const toks = ["Natalia", " sold", " 48", "/", "2", " =", " 24", " clips", " in", " May", ".", "\n", "Then", " she", " sold", " half", " as", " many", ".", "\n\n",
        "So", " the", " answer", " is", " $", "\\frac", "{1}{2}", "$", " <<48+24=72>>", "72", " Th", "en", " calcul", "ate", " the", " total", " of", " 5", " apples"];
    assert.deepEqual(cats(MATH_SCHEME, toks), [
        "noun", "verb", "math formula", "math formula", "math formula", "math formula", "math formula", "noun", "preposition", "noun", "punctuation", "line break",
        "conjunction", "pronoun", "verb", "noun", "conjunction", "adjective", "punctuation", "line break",
        "conjunction", "determiner", "noun", "verb", "math formula", "math formula", "math formula", "math formula", "math formula", "number", "conjunction", "split word", "verb", "split word", "determiner", "adjective", "preposition", "number", "noun",
    ]);
    // character tokens: the word's first letter takes the word's category, the rest are split words
    const chars = cats(MATH_SCHEME, "Then 3 + 4 = 7.\nNext, we".split(""));
    assert.deepEqual(chars, [
        "conjunction", "split word", "split word", "split word", "whitespace", ...Array(9).fill("math formula"), "punctuation", "line break",
        "conjunction", "split word", "split word", "split word", "punctuation", "whitespace", "pronoun", "split word",
    ]);
    for (const c of chars) assert.ok(MATH_SCHEME.categories.includes(c), c);
});

test("a domain plugs in its own category table", async () => {
    const shouty: CategoryScheme = {
        name: "test-shouty", categories: ["loud", "quiet", "split word", "other"],
        spans: (text) => [...text.matchAll(/[A-Za-z]+/g)].map((m) => ({start: m.index!, end: m.index! + m[0].length, category: m[0] === m[0].toUpperCase() ? "loud" : "quiet", word: true})),
    };
    registerCategoryScheme(shouty);
    assert.equal(categoryScheme("test-shouty"), shouty);
    assert.deepEqual(cats(shouty, ["HEL", "LO", " there", "!"]), ["loud", "split word", "quiet", "other"]);
    assert.throws(() => registerCategoryScheme({...shouty, name: "bad", categories: ["loud"]}), /must include "split word"/);
    assert.throws(() => categoryScheme("nope"), /unknown category table "nope" \(known: math, code, code-c-like, test-shouty\)/);
});

test("code token categories: comments, strings, keywords, identifiers", () => {
    const py = "def f(x):\n    # add one\n    s = 'a # b'\n    return x + 1  # done\n";
    const ctx = codeContext(py, "python");
    assert.equal(ctx[py.indexOf("add")], 1);
    assert.equal(ctx[py.indexOf("a # b") + 2], 2, "a # inside a string is not a comment");
    assert.equal(ctx[py.indexOf("return")], 0);
    const toks = ["def", " f", "(", "x", "):", "\n", "   ", " #", " add", " one", "\n", "   ", " s", " =", " 'a", " #", " b'", "\n", "   ", " return", " x", " +", " 1", "  ", "#", " done", "\n"];
    assert.equal(toks.join(""), py);
    assert.deepEqual(cats(CODE_SCHEME, toks), [
        "keyword", "identifier", "punctuation", "identifier", "punctuation", "line break", "whitespace", "comment", "comment", "comment", "line break",
        "whitespace", "identifier", "punctuation", "string", "string", "string", "line break", "whitespace", "keyword", "identifier", "punctuation", "number",
        "whitespace", "comment", "comment", "line break",
    ]);
    assert.deepEqual(cats(CODE_SCHEME, ["re", "turn", " my", "_var"]), ["keyword", "split word", "identifier", "split word"]);
    const c = "int x = 1; // one\n/* two\nlines */ return x;";
    const cc = codeContext(c, "c-like");
    assert.equal(cc[c.indexOf("one")], 1);
    assert.equal(cc[c.indexOf("lines")], 1);
    assert.equal(cc[c.indexOf("return")], 0);
    assert.deepEqual(cats(CODE_C_LIKE_SCHEME, ["int", " x", " =", " 1", ";", " // one"]), ["keyword", "identifier", "punctuation", "number", "punctuation", "comment"]);
});

test("distribution summary", () => {
    assert.deepEqual(distribution([3, 1, 2, 4]), {count: 4, mean: 2.5, median: 2, p10: 1, p90: 4, min: 1, max: 4});
    assert.equal(distribution([]).count, 0);
});

/** Samples: lab solutions and (when ../shared/data has it) real GSM8K solutions, with made-up confidences. */
function buildSamples(): {samples: SampleRecord[]; gsm8k: number} {
    const rng = new Rng(11);
    const samples = generateProblems(40, {seed: 2}).map((p) => sampleFrom(`${p.id}#0`, pieces(p.solution, rng)));
    const gsmFile = new URL("../../../../shared/data/gsm8k/test.jsonl", import.meta.url).pathname;
    let gsm8k = 0;
    if (existsSync(gsmFile)) {
        const rows = readFileSync(gsmFile, "utf8").trim().split("\n").slice(0, 200).map((l) => JSON.parse(l) as {answer: string});
        rows.forEach((r, i) => samples.push(sampleFrom(`gsm8k-${i}#0`, pieces(r.answer + "\n", rng))));
        gsm8k = rows.length;
    } else {
        console.log("# stats test: ../shared/data/gsm8k absent, using the built-in GSM8K-like sample only");
        samples.push(sampleFrom("gsm-like#0", pieces("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72\n", rng)));
    }
    return {samples, gsm8k};
}

test("adaptive vs newline on lab + GSM8K solutions: lengths, categories, CLI files and plots", async (t) => {
    const {samples, gsm8k} = buildSamples();
    const dir = mkdtempSync(join(tmpdir(), "stats-"));
    const err = console.error;
    const write = process.stdout.write.bind(process.stdout);
    let printed = "";
    try {
        const {tau} = computeThreshold(samples, {quantile: 0.02});
        const files: Record<string, string> = {};
        for (const spec of ["adaptive", "newline"]) {
            const strategy = parseStrategy(spec, {tau});
            files[spec] = join(dir, `steps-${spec}.jsonl`);
            writeFileSync(files[spec], samples.map((s) => JSON.stringify(toStepsRecord(s, strategy))).join("\n") + "\n");
        }
        const samplesFile = join(dir, "samples.jsonl");
        writeFileSync(samplesFile, samples.map((s) => JSON.stringify(s)).join("\n") + "\n");
        const {report} = await computeStats({steps: [files.adaptive, files.newline], samples: samplesFile});
        const [ad, nl] = report.strategies;
        assert.equal(ad.label, "adaptive");
        assert.equal(ad.tau, tau);
        assert.equal(ad.samples, samples.length);
        assert.equal(ad.tokens, samples.reduce((a, s) => a + s.tokens.length, 0));
        assert.equal(ad.tokens_per_sample.mean, nl.tokens_per_sample.mean, "same samples, same lengths");
        // each mean with its bootstrap interval over samples (n = samples)
        for (const d of [ad.steps_per_sample, ad.tokens_per_step, ad.tokens_per_sample]) {
            const ci = d.mean_ci!;
            assert.deepEqual([ci.n, ci.method, ci.level], [samples.length, "bootstrap-percentile", 0.95]);
            assert.equal(ci.value, Math.round(d.mean * 1e4) / 1e4);
            assert.ok(ci.low <= ci.value && ci.value <= ci.high && ci.high > ci.low, JSON.stringify(ci));
        }
        const below = samples.reduce((a, s) => a + s.tokens.filter((x) => x.confidence < tau).length, 0);
        assert.equal(ad.categories!.decision, below, "adaptive decision tokens are the tokens below τ");
        assert.equal(ad.categories!.tokens, ad.tokens);
        const share = (s: typeof ad, c: string): number => s.categories!.rows.find((r) => r.category === c)!.decision_share;
        const base = (s: typeof ad, c: string): number => s.categories!.rows.find((r) => r.category === c)!.token_share;
        assert.equal(share(ad, "line break"), 0, "line breaks are near-certain: never decision tokens here");
        assert.ok(share(nl, "line break") > 0.99, "newline steps end at line breaks");
        assert.ok(share(ad, "number") + share(ad, "math formula") > base(ad, "number") + base(ad, "math formula"), "numbers and formulas over-represented among decision tokens");
        assert.ok(Math.abs(ad.categories!.rows.reduce((a, r) => a + r.decision_share, 0) - 1) < 1e-9);
        const md = statsMarkdown(report);
        assert.match(md, /\| category \| all tokens \| adaptive \| newline \|/);
        assert.match(md, /\| steps per sample: mean \[95% CI\] \(median; p10–p90\) \| [\d.]+ \[[\d.]+–[\d.]+\] \(/);
        t.diagnostic(`${samples.length} samples (${gsm8k} GSM8K answers), τ=${tau.toPrecision(4)}\n${md}`);

        // CLI: files and plots
        console.error = () => {};
        process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
        const p = new Command().exitOverride();
        register(p);
        const out = join(dir, "stats");
        await p.parseAsync(["node", "stepwise", "stats", "--steps", files.adaptive, "--steps", files.newline, "--samples", samplesFile, "--out", out]);
        process.stdout.write = write;
        assert.equal(printed, md);
        assert.deepEqual(JSON.parse(readFileSync(join(out, "stats.json"), "utf8")), JSON.parse(JSON.stringify(report)));
        for (const name of ["steps-per-sample", "tokens-per-step", "tokens-per-sample", "categories"]) {
            assert.ok(readFileSync(join(out, `${name}.svg`), "utf8").includes("<svg"), name);
            assert.equal(readFileSync(join(out, `${name}.png`)).subarray(1, 4).toString(), "PNG");
        }
        // a steps file that does not match the samples names the record
        const wrong = join(dir, "wrong.jsonl");
        const rec = toStepsRecord(samples[0], parseStrategy("fixed:3"));
        rec.steps = rec.steps.slice(0, 1);
        writeFileSync(wrong, JSON.stringify(rec) + "\n");
        await assert.rejects(computeStats({steps: [wrong], samples: samplesFile}), /wrong\.jsonl:1: record .* covers 3 tokens/);
        // without samples: lengths only; same strategy twice gets file names in labels
        const {report: r2} = await computeStats({steps: [files.newline, files.newline]});
        assert.equal(r2.strategies[0].categories, undefined);
        assert.match(r2.strategies[0].label, /newline \(steps-newline\.jsonl\)/);
    } finally {
        console.error = err;
        process.stdout.write = write;
        rmSync(dir, {recursive: true, force: true});
    }
});
