import {test} from "node:test";
import assert from "node:assert/strict";
import {policyExample, policyBatchSource, policyPrompt, policyConfig} from "../../../src/apps/lab/policy/train.ts";
import {buildCharVocab, CharTokenizer} from "../../../src/model/vocab.ts";
import {Sfc32Rng as Rng} from "../../../src/util/rng.ts";
import {isHeldout} from "../../../src/domains/lab/index.ts";

const vocab = buildCharVocab();
const tok = new CharTokenizer(vocab);

test("policy example: BOS + question + newline + solution + EOS, loss on solution and EOS only", () => {
    const ex = policyExample({question: "Compute 2 + 3.", solution: "So 2 + 3 = 5.\nThe answer is 5."}, tok);
    assert.equal(ex.tokens[0], vocab.bosId);
    assert.equal(ex.tokens.at(-1), vocab.eosId);
    assert.equal(tok.decode(ex.tokens), "Compute 2 + 3.\nSo 2 + 3 = 5.\nThe answer is 5.");
    const mask = ex.lossMask as {start: number; end: number};
    assert.equal(mask.start, 1 + policyPrompt("Compute 2 + 3.").length);
    assert.equal(tok.decode(ex.tokens.slice(mask.start, mask.end)), "So 2 + 3 = 5.\nThe answer is 5.");
    assert.equal(mask.end, ex.tokens.length);
});

test("policy batches: fresh train-split problems, reproducible from the RNG", () => {
    const source = policyBatchSource({tokenizer: tok});
    const a = source(new Rng(5), 24);
    const b = source(new Rng(5), 24);
    assert.deepEqual(a, b);
    const questions = a.map((ex) => tok.decode(ex.tokens).split("\n")[0]);
    assert.ok(new Set(questions).size > 20);
    for (const q of questions) {
        const expr = q.replace(/^Compute /, "").replace(/\.$/, "");
        assert.equal(isHeldout(expr), false, q);
    }
    assert.equal(policyConfig({}).vocabSize, vocab.tokens.length);
});
