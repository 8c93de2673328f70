/** Small stepwise files of every kind, written to a temporary folder, for the viewer's tests. */
import {mkdtempSync, writeFileSync, rmSync} from "node:fs";
import {join} from "node:path";
import {tmpdir} from "node:os";

export const XSS_TEXT = 'First <script>window.__pwned = 1</script> then <img src=x onerror="window.__pwned = 2">.\nThe answer is 7.';

const tok = (text: string, confidence: number) => ({text, confidence, top: [{text, prob: confidence}]});

export interface Fixture {
    dir: string;
    files: {samples: string; steps: string; labels: string; scores: string; judge: string; decode: string; processbench: string};
    cleanup(): void;
}

export function writeFixture(): Fixture {
    const dir = mkdtempSync(join(tmpdir(), "stepwise-view-"));
    const samples = [
        // q1#0: three low-confidence tokens (0.2, 0.3, 0.6) → steps at τ: 0.25 → 2, 0.5 → 3, 0.7 → 4.
        {id: "q1#0", question_id: "q1", sample_index: 0, question: "Compute 3 + 4.", prompt: "Compute 3 + 4.\n", text: "3 + 4 = 7.\nSo 7.\nThe answer is 7.", tokens: [tok("3 + 4", 0.9), tok(" =", 0.2), tok(" 7.\n", 0.95), tok("So", 0.3), tok(" 7.\n", 0.9), tok("The", 0.6), tok(" answer is 7.", 0.99)], finish_reason: "eos", gold: "7", correct: true, engine: "x", seed: 0, temperature: 1},
        {id: "q1#1", question_id: "q1", sample_index: 1, question: "Compute 3 + 4.", prompt: "Compute 3 + 4.\n", text: "3 + 4 = 8.\nThe answer is 8.", tokens: [tok("3 + 4 = 8.\n", 0.4), tok("The answer is 8.", 0.9)], finish_reason: "eos", gold: "7", correct: false, engine: "x", seed: 0, temperature: 1},
        {id: "q1#2", question_id: "q1", sample_index: 2, question: "Compute 3 + 4.", prompt: "Compute 3 + 4.\n", text: "Let me compute 3 + 4 = 7 and then", tokens: [tok("Let me compute 3 + 4 = 7 and then", 0.9)], finish_reason: "length", gold: "7", correct: false, engine: "x", seed: 0, temperature: 1},
        {id: "q2#0", question_id: "q2", sample_index: 0, question: "Untrusted output test", prompt: "p", text: XSS_TEXT, tokens: [tok(XSS_TEXT, 0.1)], finish_reason: "eos", gold: "7", correct: true, engine: "x", seed: 0, temperature: 1},
    ];
    const step = (text: string, start: number, end: number, ts: number, te: number) => ({text, start, end, token_start: ts, token_end: te});
    const q1Steps = [step("3 + 4 =", 0, 7, 0, 2), step(" 7.\nSo", 7, 13, 2, 4), step(" 7.\nThe answer is 7.", 13, 32, 4, 7)];
    const steps = [
        {id: "q1#0", question_id: "q1", sample_index: 0, question: "Compute 3 + 4.", prompt: "", text: samples[0].text, strategy: "adaptive", tau: 0.5, steps: q1Steps},
        {id: "q1#1", question_id: "q1", sample_index: 1, question: "Compute 3 + 4.", prompt: "", text: samples[1].text, strategy: "adaptive", tau: 0.5, steps: [step("3 + 4 = 8.\n", 0, 11, 0, 1), step("The answer is 8.", 11, 27, 1, 2)]},
    ];
    const labels = [{...steps[0], hard: [1, 1, 1], soft: [0.75, 1, 1], rollouts: [{n: 4, correct: 3}, {n: 4, correct: 4}, {n: 4, correct: 4}], first_negative: -1, cost: {rollouts: 12, generated_tokens: 100, prefix_evaluations: 3}, method: "K=4", truth: {first_error: -1, correct: [true, true, true]}},
        {...steps[1], hard: [0, null], soft: [0, null], rollouts: [{n: 4, correct: 0}, {n: 0, correct: 0}], first_negative: 0, cost: {rollouts: 4, generated_tokens: 30, prefix_evaluations: 1}, method: "K=4", truth: {first_error: 0, correct: [false, null]}}];
    const scores = [{...steps[0], step_scores: [0.9, 0.8, 0.95]}, {...steps[1], step_scores: [0.2, 0.3]}, {id: "q1#2", question_id: "q1", question: "Compute 3 + 4.", text: "Let me compute 3 + 4 = 7 and then", strategy: "adaptive", steps: [step("Let me compute 3 + 4 = 7 and then", 0, 33, 0, 1)], step_scores: [0.99]}];
    const judge = [{id: "q1#0", first_error: -1, votes: {"-1": 5}, raw: ["\\boxed{-1}"]}, {id: "q1#1", first_error: 1, votes: {"1": 3, "0": 2}, raw: ["\\boxed{1}", "<b>bold</b> \\boxed{0}"]}];
    const decode = [{id: "q1", strategy: "tvd", question: "Compute 3 + 4.", text: "3 + 4 = 7. The answer is 7.", answer: "7", correct: true, tokens: 12, prm_calls: 8, requests: 3, trace: [{type: "tvd", position: 3, offset: 9, greedy_prob: 0.5, candidates: [{text: " 8", prob: 0.5, score: 0.1}, {text: " 7", prob: 0.4, score: 0.9}], chosen: 1}, {type: "tvd-skip", position: 5, greedy_prob: 0.4}], response_tokens: [{text: "3", confidence: 0.9}, {text: " +", confidence: 0.9}, {text: " 4 =", confidence: 0.9}, {text: " 7", confidence: 0.4}, {text: ". The answer is 7.", confidence: 0.9}]}];
    const processbench = [{id: "pb-1", generator: "x", problem: "What is 1 + 1?", steps: ["1 + 1 = 3.", "So 3."], final_answer_correct: false, label: 0}];
    const files = {samples: join(dir, "samples.jsonl"), steps: join(dir, "steps.jsonl"), labels: join(dir, "labels.jsonl"), scores: join(dir, "scored.jsonl"), judge: join(dir, "verdicts.jsonl"), decode: join(dir, "decode.jsonl"), processbench: join(dir, "gsm8k.json")};
    const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
    writeFileSync(files.samples, jsonl(samples));
    writeFileSync(files.steps, jsonl(steps));
    writeFileSync(files.labels, jsonl(labels));
    writeFileSync(files.scores, jsonl(scores));
    writeFileSync(files.judge, jsonl(judge));
    writeFileSync(files.decode, jsonl(decode));
    writeFileSync(files.processbench, JSON.stringify(processbench));
    return {dir, files, cleanup: () => rmSync(dir, {recursive: true, force: true})};
}
