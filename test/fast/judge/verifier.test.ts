/**
 * The generative lab verifier: the checks the lab verifier writes (verify.ts `check`), the
 * verification text made from the exact step truth (one line per step, verdicts equal to
 * `labTruth` on any split), the `verify` judge template (chosen by GGUF metadata, last box),
 * and the verifier read as a PRM (`format=verifier`: P(r)/(P(r)+P(w)) after each check,
 * "right" forced), on a scripted engine.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {verifyProcess} from "../../../src/domains/lab/index.ts";
import {labTruth} from "../../../src/domains/lab/verifier.ts";
import {labStepChecks, labVerificationText} from "../../../src/apps/lab/judge/verification.ts";
import {judgeItem, labJudgeExample} from "../../../src/apps/lab/judge/data.ts";
import {defaultJudgeTemplate, judgeSolution} from "../../../src/judge/judge.ts";
import {judgeUserMessage} from "../../../src/judge/prompt.ts";
import {checkPrmFile, createScorer, VerifierScorer, verifyUserMessage, VERIFY_INSTRUCTION} from "../../../src/prm/index.ts";
import {verificationText} from "../../../src/prm/verifier.ts";
import {writeLlamaGguf} from "../../../src/gguf/index.ts";
import {CharTokenizer} from "../../../src/model/vocab.ts";
import {tinyModel} from "../../helpers/tiny-model.ts";
import {ScriptedEngineBase} from "../../helpers/scripted-engine.ts";
import type {ChatMessage, GenerateRequest, Sample, TokenProbeRequest} from "../../../src/engines/types.ts";

const Q = "Compute (12 + 7) * 3 - 45 / 5.";
const lines = (...l: string[]) => l.join("\n");
const ends = (text: string, cuts: number[]) => [...cuts, text.length];

test("verifyProcess: each judged step's check redoes it exactly (value, remaining expression, or why not)", () => {
    const v = verifyProcess(Q, lines("First, 12 + 7 = 19, so 19 * 3 - 45 / 5.", "Then 19 * 3 = 58, so 58 - 45 / 5.", "The answer is 13."));
    assert.deepEqual(v.steps.map((s) => s.check), ["12 + 7 = 19, so 19 * 3 - 45 / 5", "19 * 3 = 57, so 57 - 45 / 5", undefined]);
    const restate = verifyProcess(Q, "First, 12 + 7 = 19, so 19 * 3 - 45 * 5.");
    assert.equal(restate.steps[0].reason, "wrong-restatement");
    assert.equal(restate.steps[0].check, "12 + 7 = 19, so 19 * 3 - 45 / 5");
    assert.equal(verifyProcess(Q, "First, 7 * 3 = 21, so 12 + 21.").steps[0].check, "7 * 3 is not next");
    assert.equal(verifyProcess("Compute 2 + 3.", "So 2 + 3 = 6.").steps[0].check, "2 + 3 = 5");
    assert.equal(verifyProcess("Compute 2 + 3.", "So 2 + 3 = 5.\nThe answer is 6.").steps[1].check, "answer 5");
    assert.equal(verifyProcess("Compute 2 + 3.", "Hello there.").steps[0].check, "unreadable");
    // The check stating the disagreement (lab train-judge --contrast): wrong steps with a written value or expression only.
    assert.deepEqual(v.steps.map((s) => s.contrast), [undefined, "19 * 3 = 57, not 58", undefined]);
    assert.equal(restate.steps[0].contrast, "12 + 7 = 19, so 19 * 3 - 45 / 5, not 19 * 3 - 45 * 5");
    assert.equal(verifyProcess("Compute 2 + 3.", "So 2 + 3 = 5.\nThe answer is 6.").steps[1].contrast, "answer 5, not 6");
    assert.equal(verifyProcess("Compute 2 + 3.", "So 2 + 3 = (-6).").steps[0].contrast, "2 + 3 = 5, not -6");
    assert.equal(verifyProcess(Q, "First, 7 * 3 = 21, so 12 + 21.").steps[0].contrast, undefined);
    assert.equal(verifyProcess("Compute 2 + 3.", "Hello there.").steps[0].contrast, undefined);
    // The check with the step's own value beside the exact one (lab train-judge --claim): right and wrong lines alike.
    assert.deepEqual(v.steps.map((s) => s.claim), ["12 + 7 = 19 (step: 19), so 19 * 3 - 45 / 5", "19 * 3 = 57 (step: 58)", undefined]);
    assert.equal(restate.steps[0].claim, "12 + 7 = 19 (step: 19), so 19 * 3 - 45 / 5, not 19 * 3 - 45 * 5");
    assert.deepEqual(verifyProcess("Compute 2 + 3.", "So 2 + 3 = 5.\nThe answer is 6.").steps.map((s) => s.claim), ["2 + 3 = 5 (step: 5)", "answer 5 (step: 6)"]);
    assert.equal(verifyProcess("Compute 2 + 3.", "So 2 + 3 = (-6).").steps[0].claim, "2 + 3 = 5 (step: -6)");
    assert.equal(verifyProcess(Q, "First, 7 * 3 = 21, so 12 + 21.").steps[0].claim, undefined);
    assert.equal(verifyProcess("Compute 2 + 3.", "Hello there.").steps[0].claim, undefined);
    // The check rebuilt from the expression before the step (lab train-judge --rebuild): equation lines with a valid operation only.
    assert.deepEqual(v.steps.map((s) => s.rebuild), ["from (12 + 7) * 3 - 45 / 5: 12 + 7 = 19, so 19 * 3 - 45 / 5", "from 19 * 3 - 45 / 5: 19 * 3 = 57, not 58", undefined]);
    assert.equal(restate.steps[0].rebuild, "from (12 + 7) * 3 - 45 / 5: 12 + 7 = 19, so 19 * 3 - 45 / 5, not 19 * 3 - 45 * 5");
    const right = verifyProcess(Q, lines("First, 12 + 7 = 19, so 19 * 3 - 45 / 5.", "Then 19 * 3 = 57, so 57 - 45 / 5.", "Next, 45 / 5 = 9, so 57 - 9.", "So 57 - 9 = 48.", "The answer is 48."));
    assert.deepEqual(right.steps.map((s) => s.rebuild), ["from (12 + 7) * 3 - 45 / 5: 12 + 7 = 19, so 19 * 3 - 45 / 5", "from 19 * 3 - 45 / 5: 19 * 3 = 57, so 57 - 45 / 5", "from 57 - 45 / 5: 45 / 5 = 9, so 57 - 9", "from 57 - 9: 57 - 9 = 48", undefined]);
    assert.equal(verifyProcess(Q, "First, 7 * 3 = 21, so 12 + 21.").steps[0].rebuild, undefined);
    assert.equal(verifyProcess("Compute 2 + 3.", "Hello there.").steps[0].rebuild, undefined);
});

/** The verifier's turn for step texts and their check lines (quote, then check line). */
const turn = (steps: string[], checkLines: string[], box: number) => steps.slice(0, checkLines.length).map((st, i) => `Step ${i}: ${st}\n${checkLines[i]}\n`).join("") + `\\boxed{${box}}`;

test("verification text from the exact truth: each step quoted, then its check and verdict, up to the first wrong one, then the box; verdicts are labTruth's on any split", () => {
    const text = lines("First, 12 + 7 = 19, so 19 * 3 - 45 / 5.", "Then 19 * 3 = 58, so 58 - 45 / 5.", "Next, 45 / 5 = 9, so 58 - 9.");
    // Line breaks: one step per line.
    const nl = ends(text, [40, 73]);
    assert.equal(
        labVerificationText(Q, text, nl),
        turn(["First, 12 + 7 = 19, so 19 * 3 - 45 / 5.", "Then 19 * 3 = 58, so 58 - 45 / 5."], ["12 + 7 = 19, so 19 * 3 - 45 / 5 | right", "19 * 3 = 57, so 57 - 45 / 5 | wrong"], 1),
    );
    // Cuts inside lines, as adaptive steps fall: step 0 ends before "=" of line 0 (it completes nothing: a
    // partial check), step 1 completes line 0 and ends inside "58", step 2 holds the "8" where line 1's error is decided.
    const mid = ends(text, [14, 55]);
    assert.equal(text.slice(52, 56), "= 58");
    assert.equal(
        labVerificationText(Q, text, mid),
        turn(["First, 12 + 7", "= 19, so 19 * 3 - 45 / 5. Then 19 * 3 = 5", "8, so 58 - 45 / 5. Next, 45 / 5 = 9, so 58 - 9."], ["(part) | right", "12 + 7 = 19, so 19 * 3 - 45 / 5 | right", "19 * 3 = 57, so 57 - 45 / 5 | wrong"], 2),
    );
    const cuts = ends(text, [14, 50, 56]);
    for (const e of [nl, cuts, mid, ends(text, [])]) {
        const {first_error} = labStepChecks(Q, text, e);
        const steps = e.map((end, i) => ({text: text.slice(i ? e[i - 1] : 0, end), start: i ? e[i - 1] : 0, end, token_start: 0, token_end: 0}));
        assert.equal(first_error, labTruth({question: Q, text, steps}).first_error);
        const v = labVerificationText(Q, text, e).split("\n");
        assert.equal(v.at(-1), `\\boxed{${first_error}}`);
        assert.equal((v.length - 1) / 2, first_error < 0 ? e.length : first_error + 1);
    }
    // --contrast: only the wrong line's check changes, on any split.
    assert.equal(
        labVerificationText(Q, text, nl, {contrast: true}),
        turn(["First, 12 + 7 = 19, so 19 * 3 - 45 / 5.", "Then 19 * 3 = 58, so 58 - 45 / 5."], ["12 + 7 = 19, so 19 * 3 - 45 / 5 | right", "19 * 3 = 57, not 58 | wrong"], 1),
    );
    assert.deepEqual(labStepChecks(Q, text, mid, {contrast: true}).checks, ["(part)", "12 + 7 = 19, so 19 * 3 - 45 / 5", "19 * 3 = 57, not 58"]);
    // --claim: every line's check copies the step's value; lines without one keep their check.
    assert.deepEqual(labStepChecks(Q, text, mid, {claim: true}).checks, ["(part)", "12 + 7 = 19 (step: 19), so 19 * 3 - 45 / 5", "19 * 3 = 57 (step: 58)"]);
    assert.deepEqual(labStepChecks(Q, "First, 7 * 3 = 21, so 12 + 21.", [30], {claim: true}).checks, ["7 * 3 is not next"]);
    // --rebuild: equation checks from the expression before; over --claim; other lines keep the contrast or check.
    assert.deepEqual(labStepChecks(Q, text, mid, {rebuild: true, claim: true, contrast: true}).checks, ["(part)", "from (12 + 7) * 3 - 45 / 5: 12 + 7 = 19, so 19 * 3 - 45 / 5", "from 19 * 3 - 45 / 5: 19 * 3 = 57, not 58"]);
    assert.deepEqual(labStepChecks(Q, "First, 7 * 3 = 21, so 12 + 21.", [30], {rebuild: true}).checks, ["7 * 3 is not next"]);
    assert.deepEqual(labStepChecks("Compute 2 + 3.", "So 2 + 3 = 5.\nThe answer is 6.", [14, 31], {rebuild: true, contrast: true}).checks, ["from 2 + 3: 2 + 3 = 5", "answer 5, not 6"]);
    // Two lines completed in one step: their checks joined.
    const two = labStepChecks(Q, text, ends(text, [73]));
    assert.deepEqual(two, {checks: ["12 + 7 = 19, so 19 * 3 - 45 / 5; 19 * 3 = 57, so 57 - 45 / 5", "(part)"], first_error: 0});
});

test("verifier training example: the verify prompt, loss on the checks, verdicts, box and EOS, not on the quoted steps", () => {
    const text = lines("First, 12 + 7 = 19, so 19 * 3 - 45 / 5.", "Then 19 * 3 = 58, so 58 - 45 / 5.");
    const e = ends(text, [40]);
    const record = {id: "a#0", question_id: "a", question: Q, text, steps: e.map((end, i) => ({text: text.slice(i ? e[i - 1] : 0, end), start: i ? e[i - 1] : 0, end, token_start: 0, token_end: 0}))};
    const item = judgeItem(record);
    assert.deepEqual(item.checks, ["12 + 7 = 19, so 19 * 3 - 45 / 5", "19 * 3 = 57, so 57 - 45 / 5"]);
    const tok = new CharTokenizer(tinyModel(5).vocab);
    const ex = labJudgeExample(item, tok, "verify");
    const mask = ex.lossMask as number[];
    assert.equal(mask.length, ex.tokens.length);
    assert.ok(mask.every((w) => w === 0 || w === 1), "weight 1 on written tokens by default");
    const first = mask.indexOf(1);
    const head = tok.decode(ex.tokens.slice(0, first));
    assert.equal(head, `Problem: ${Q}\n${VERIFY_INSTRUCTION}\nVerdict:\nStep 0: First, 12 + 7 = 19, so 19 * 3 - 45 / 5.\n`);
    const written = "12 + 7 = 19, so 19 * 3 - 45 / 5 | right\n19 * 3 = 57, so 57 - 45 / 5 | wrong\n\\boxed{1}";
    assert.equal(tok.decode(ex.tokens.filter((_, i) => mask[i] > 0).slice(0, -1)), written);
    // The parts encoded one by one are the whole turn encoded at once (no token spans a part boundary).
    assert.deepEqual(ex.tokens.slice(first - tok.encode(head.slice(head.indexOf("Step 0"))).length, -1), tok.encode(verificationText(item.steps, item.checks!, item.first_error)));
    assert.equal(ex.tokens.at(-1), tinyModel(5).vocab.eosId);
    assert.equal(mask.at(-1), 1);
    // --verdict-weight: the same tokens, and only each verdict's first letter (r of right, w of wrong) weighs more.
    const weighted = labJudgeExample(item, tok, "verify", 8);
    assert.deepEqual(weighted.tokens, ex.tokens);
    const heavy = (weighted.lossMask as number[]).flatMap((w, i) => (w === 8 ? [i] : []));
    assert.deepEqual(heavy.map((i) => tok.decode(ex.tokens.slice(i - 3, i + 1))), [" | r", " | w"]);
    assert.deepEqual((weighted.lossMask as number[]).map((w) => (w === 8 ? 1 : w)), mask);
    assert.throws(() => labJudgeExample(item, tok, "verify", 0), /verdict weight 0: expected a positive number/);
});

function gguf(meta: Record<string, string>): string {
    const m = tinyModel(5);
    const path = join(mkdtempSync(join(tmpdir(), "stepwise-verifier-")), "v.gguf");
    writeLlamaGguf(path, {config: m.config, weights: m.weights, vocab: m.vocab, name: "tiny-verifier", extraMetadata: meta});
    return path;
}

test("the verify template: chosen by a judge GGUF's metadata, steps quoted one at a time, stop at the first wrong, the box given from the step verdicts (not generated), greedy by default", async () => {
    assert.equal(defaultJudgeTemplate(`llama:${gguf({"stepwise.kind": "judge", "stepwise.judge_template": "verify"})}`), "verify");
    assert.equal(defaultJudgeTemplate(`llama:${gguf({"stepwise.kind": "judge"})}`), "compact");
    assert.equal(judgeUserMessage("Compute 1 + 2.", ["First, 1 +\n2 = 3.", "The answer is 3."], "verify"), `Problem: Compute 1 + 2.\n${VERIFY_INSTRUCTION}`);
    // Step 0 right, step 1 wrong: step 2 is never quoted, and the box names step 1 without asking the verifier (a box it wrote might name another step).
    const engine = new ScriptedVerifier(["1 + 2 = 3 | right", "answer 3 | wrong", "\\boxed{0}"], []);
    const steps = ["1 + 2 = 3.", "The answer is 4.", "The answer is 3."];
    const v = await judgeSolution(engine, {id: "x", question: "Compute 1 + 2.", steps}, {engineSpec: "scripted", template: "verify"});
    assert.equal(v.first_error, 1);
    assert.deepEqual([v.protocol?.n, v.protocol?.temperature], [1, 0]);
    const head = `${verifyUserMessage("Compute 1 + 2.")}\nVerdict:\n`;
    assert.deepEqual(engine.prompts, [`${head}Step 0: 1 + 2 = 3.\n`, `${head}Step 0: 1 + 2 = 3.\n1 + 2 = 3 | right\nStep 1: The answer is 4.\n`]);
    assert.equal(v.raw[0], "Step 0: 1 + 2 = 3.\n1 + 2 = 3 | right\nStep 1: The answer is 4.\nanswer 3 | wrong\n\\boxed{1}");
    assert.equal(v.generated_tokens, "1 + 2 = 3 | right".length + "answer 3 | wrong".length);
    // Every step marked right: the box is −1, again given.
    const allRight = new ScriptedVerifier(["1 + 2 = 3 | right", "answer 3 | right", "\\boxed{1}"], []);
    const w = await judgeSolution(allRight, {id: "y", question: "Compute 1 + 2.", steps: steps.slice(0, 2)}, {engineSpec: "scripted", template: "verify"});
    assert.equal(w.first_error, -1);
    assert.equal(allRight.prompts.length, 2);
    assert.ok(w.raw[0].endsWith("answer 3 | right\n\\boxed{-1}"), w.raw[0]);
});

/** A verifier that writes scripted checks and gives scripted verdict probabilities; records what it was asked. */
class ScriptedVerifier extends ScriptedEngineBase {
    readonly info = {kind: "scripted", model: "v", contextSize: 4096};
    readonly capabilities = {tokenIds: true, maxTopLogprobs: 0, promptLogprobs: false, exactProbes: true, pooling: false, chat: false, seeded: true, stopBelowConfidence: "emulated" as const};
    prompts: string[] = [];
    stops: string[][] = [];
    probes: string[] = [];
    constructor(
        private checks: string[],
        private verdicts: Array<[number, number]>,
    ) {
        super();
    }
    override async formatChat(messages: ChatMessage[]): Promise<string> {
        return messages.map((m) => m.content + "\n").join("") + "Verdict:\n";
    }
    async generate(r: GenerateRequest): Promise<Sample[]> {
        this.prompts.push(String(r.prompt));
        assert.equal(r.temperature, 0);
        this.stops.push(r.stop ?? []);
        const text = this.checks[this.prompts.length - 1];
        this.counters.generatedTokens += text.length;
        return [{index: 0, text, tokens: [...text].map((c) => ({text: c, confidence: 1, top: []})), finishReason: "stop"}];
    }
    async probeTokens(r: TokenProbeRequest) {
        const input = r.input as number[];
        this.probes.push(String.fromCharCode(...input));
        assert.deepEqual(r.positions, [input.length - 1]);
        assert.deepEqual(r.candidates, ["r".charCodeAt(0), "w".charCodeAt(0)]);
        const [p, q] = this.verdicts[this.probes.length - 1];
        return {probs: [[p, q]]};
    }
}

test("format=verifier: each step's score is P(r)/(P(r)+P(w)) after the verifier's own check of the quoted step, with \"right\" given before the next quote", async () => {
    const engine = new ScriptedVerifier(["12 + 7 = 19", "19 * 3 = 57"], [[0.6, 0.2], [0.01, 0.03]]);
    const scorer = new VerifierScorer(engine);
    const steps = ["First, 12 + 7 = 19, so 19 * 3.", "So 19 * 3 = 58."];
    const scores = await scorer.scoreSteps("Compute (12 + 7) * 3.", steps);
    assert.deepEqual(scores.map((s) => +s.toFixed(6)), [0.75, 0.25]);
    const head = `${verifyUserMessage("Compute (12 + 7) * 3.")}\nVerdict:\nStep 0: First, 12 + 7 = 19, so 19 * 3.\n`;
    assert.deepEqual(engine.prompts, [head, `${head}12 + 7 = 19 | right\nStep 1: So 19 * 3 = 58.\n`]);
    assert.deepEqual(engine.stops, [[" | ", "\n"], [" | ", "\n"]]);
    assert.deepEqual(engine.probes, [`${head}12 + 7 = 19 | `, `${head}12 + 7 = 19 | right\nStep 1: So 19 * 3 = 58.\n19 * 3 = 57 | `]);
    assert.deepEqual(scorer.cost(), {solutions: 1, steps: 2, prompt_tokens: 0, generated_tokens: 22});
    assert.deepEqual(await scorer.scoreSteps("Q", []), []);
});

test("format=verifier refuses a GGUF that is no verifier, naming the file and its metadata", async () => {
    const compact = gguf({"stepwise.kind": "judge"});
    await assert.rejects(createScorer(`llama:${compact}?format=verifier`), (e: Error) => e.message.includes(compact) && /stepwise\.judge_template = null/.test(e.message) && !e.message.includes("\n"));
    await assert.rejects(createScorer(`llama:${tinyModel(5, 8, "prm").path}?format=verifier`), /stepwise\.kind = "prm"/);
    await assert.rejects(createScorer("openai:http://127.0.0.1:9/v1?model=x&format=verifier"), /format=verifier runs a lab verifier GGUF in-process/);
    // `stepwise score` and `eval processbench --prm` check the file first (checkPrmFile with the spec's format).
    assert.throws(() => checkPrmFile(`llama:${compact}`, "verifier"), /format=verifier needs a verifier GGUF/);
    const verifier = gguf({"stepwise.kind": "judge", "stepwise.judge_template": "verify"});
    assert.deepEqual(checkPrmFile(`llama:${verifier}`, "verifier"), {maxInputTokens: 512});
    assert.throws(() => checkPrmFile(`llama:${verifier}`), /is a stepwise judge model/);
});
