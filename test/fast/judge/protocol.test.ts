// The judge's protocols end to end with a scripted judge (no model is loaded: the GGUFs here hold metadata only).
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {defaultJudgeTemplate, judgeFile, type VerdictRecord} from "../../../src/judge/judge.ts";
import {gv, writeGguf} from "../../../src/gguf/writer.ts";
import {ScriptedJudge} from "../../helpers/scripted-judge.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "stepwise-judge-protocol-"));
const SERVER = "openai:http://127.0.0.1:9/v1?model=Qwen/Qwen2.5-72B-Instruct";

function metadataGguf(dir: string, name: string, kind: string): string {
    const path = join(dir, name);
    writeGguf(path, {"general.architecture": gv.str("llama"), "stepwise.kind": gv.str(kind)}, []);
    return path;
}

function stepsFile(dir: string, stepCounts: number[]): string {
    const file = join(dir, "steps.jsonl");
    writeFileSync(file, stepCounts.map((k, i) => JSON.stringify({id: `s${i}`, problem: `Problem ${i}`, steps: Array.from({length: k}, (_, j) => `step ${j}\nline two`)})).join("\n") + "\n");
    return file;
}

const read = (file: string) => readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as VerdictRecord);

test("default template: compact for a llama: GGUF whose metadata says stepwise.kind = judge, processbench otherwise", () => {
    const dir = tmp();
    assert.equal(defaultJudgeTemplate(`llama:${metadataGguf(dir, "lab-judge.gguf", "judge")}`), "compact");
    assert.equal(defaultJudgeTemplate(`llama:${metadataGguf(dir, "j.gguf", "judge")}?sequences=2`), "compact");
    assert.equal(defaultJudgeTemplate(`llama:${metadataGguf(dir, "policy.gguf", "policy")}`), "processbench");
    assert.equal(defaultJudgeTemplate(SERVER), "processbench");
    assert.equal(defaultJudgeTemplate("scripted"), "processbench");
    assert.throws(() => defaultJudgeTemplate(`llama:${join(dir, "missing.gguf")}`), /missing\.gguf/);
});

test("processbench protocol by default for a server: paragraph prompt, n 8 / T 1 / top-p 0.9 / 8192 tokens, last box, first most common box, recorded", async () => {
    const dir = tmp();
    const input = stepsFile(dir, [3, 3, 3]);
    // Answer i of each solution: s0 ties 1 vs 2 (1 first), s1 has no box but once, s2 boxes "x" most often.
    const answers: Record<number, (i: number) => string> = {
        3: (i) => [`\\boxed{0} no, \\boxed{1}`, "\\boxed{2}", "\\boxed{1}", "\\boxed{2}", "hmm", "hmm", "hmm", "hmm"][i],
    };
    let call = 0;
    const perSolution = [answers[3], (i: number) => (i === 5 ? "\\boxed{-1}" : "no box"), (i: number) => (i < 3 ? "\\boxed{x}" : i < 5 ? "\\boxed{0}" : "\\boxed{2")];
    const engine = new ScriptedJudge((_steps, _u, i) => {
        const f = perSolution[Math.floor(call / 8)];
        call++;
        return f(i);
    });
    const out = join(dir, "v.jsonl");
    const s = await judgeFile({engine, engineSpec: SERVER, input, out, concurrency: 1});
    assert.deepEqual(s.protocol, {template: "processbench", n: 8, temperature: 1, top_p: 0.9, top_k: 0, max_tokens: 8192, ties: "first-seen"});
    assert.match(engine.prompts[0], /\[Math Problem\]\n\nProblem 0\n\n\[Solution\]\n\n<paragraph_0>\nstep 0\nline two\n<\/paragraph_0>\n\n<paragraph_1>/);
    for (const r of engine.requests) assert.deepEqual([r.n, r.temperature, r.topP, r.topK, r.maxTokens], [8, 1, 0.9, 0, 8192]);
    const v = read(out);
    assert.deepEqual(v.map((r) => [r.first_error, r.no_verdict ?? null, r.agreement]), [
        [1, null, 2 / 8],
        [-1, null, 1 / 8],
        [null, "winner-unparsable", 0],
    ]);
    assert.deepEqual(v[0].boxes, ["1", "2", "1", "2", null, null, null, null]);
    assert.deepEqual(v[0].parse_failures, [null, null, null, null, "no-box", "no-box", "no-box", "no-box"]);
    assert.deepEqual(v[2].boxes, ["x", "x", "x", "0", "0", null, null, null]);
    assert.deepEqual(v[2].protocol, s.protocol);
    assert.match(v[0].method, /,template=processbench,n=8,T=1,top_p=0\.9,top_k=0,max=8192,/);
    const settings = JSON.parse(readFileSync(`${out}.settings.json`, "utf8")).settings;
    assert.deepEqual([settings.template, settings.n, settings.temperature, settings.top_p, settings.top_k, settings.max_tokens], ["processbench", 8, 1, 0.9, 0, 8192]);
    // Resuming with the other template (or another top-p) is refused, naming it; nothing is lost.
    await assert.rejects(judgeFile({engine, engineSpec: SERVER, input, out, template: "compact"}), /other settings \(.*template: "processbench" → "compact"/);
    await assert.rejects(judgeFile({engine, engineSpec: SERVER, input, out, topP: 0.8}), /other settings \(top_p: 0\.9 → 0\.8\)/);
    assert.equal(read(out).length, 3);
});

test("compact protocol by default for a lab judge GGUF: Step lines, n 5 / no top-p / 1024 tokens, ties give no verdict", async () => {
    const dir = tmp();
    const spec = `llama:${metadataGguf(dir, "lab-judge.gguf", "judge")}`;
    const input = stepsFile(dir, [3]);
    const engine = new ScriptedJudge((_steps, _u, i) => ["\\boxed{1}", "\\boxed{2}", "\\boxed{1}", "\\boxed{2}", "none"][i]);
    const s = await judgeFile({engine, engineSpec: spec, input, out: join(dir, "v.jsonl")});
    assert.deepEqual(s.protocol, {template: "compact", n: 5, temperature: 1, top_p: 1, top_k: 0, max_tokens: 1024, ties: "none"});
    assert.match(engine.prompts[0], /^<user>Problem: Problem 0\n\nStep 0: step 0 line two\n/);
    assert.deepEqual([engine.requests[0].n, engine.requests[0].topP, engine.requests[0].maxTokens], [5, 1, 1024]);
    const [v] = read(join(dir, "v.jsonl"));
    assert.deepEqual([v.first_error, v.no_verdict, v.boxes], [null, "tie", undefined]);
    // The template can be chosen either way; explicit settings win over the template's defaults.
    const pbEngine = new ScriptedJudge(() => "\\boxed{0}");
    const pb = await judgeFile({engine: pbEngine, engineSpec: spec, input, out: join(dir, "pb.jsonl"), template: "processbench", n: 2, topP: 0.95, topK: 20});
    assert.deepEqual(pb.protocol, {template: "processbench", n: 2, temperature: 1, top_p: 0.95, top_k: 20, max_tokens: 8192, ties: "first-seen"});
    assert.deepEqual([pbEngine.requests[0].n, pbEngine.requests[0].topP, pbEngine.requests[0].topK], [2, 0.95, 20]);
    assert.match(pbEngine.prompts[0], /<paragraph_2>/);
    await assert.rejects(judgeFile({engine, engineSpec: spec, input, out: join(dir, "bad.jsonl"), topP: 0}), /judge: top-p must be in \(0, 1\], got 0/);
});

test("skipTooLong: a solution whose prompt does not fit the judge's context is skipped and listed; without it the run stops naming it and the flag", async () => {
    const dir = tmp();
    const input = stepsFile(dir, [2, 60, 2]); // the 60-step solution's prompt is longer than 1,500 characters
    const judge = () => new ScriptedJudge(() => "\\boxed{-1}", {contextChars: 1500});
    const out = join(dir, "v.jsonl");
    await assert.rejects(judgeFile({engine: judge(), engineSpec: "scripted", input, out, n: 1}), (e: Error) => {
        assert.match(e.message, /steps\.jsonl:2 id "s1".*longer than the model's context.*--skip-too-long skips such records/);
        return true;
    });
    assert.deepEqual(read(out).map((r) => r.id), ["s0"], "the records before it are kept");
    const s = await judgeFile({engine: judge(), engineSpec: "scripted", input, out, n: 1, skipTooLong: true});
    assert.deepEqual([s.written, s.skipped, s.solutions], [1, 1, 2]);
    assert.equal(s.tooLong.length, 1);
    assert.match(s.tooLong[0].where, /steps\.jsonl:2 id "s1"/);
    assert.deepEqual(read(out).map((r) => r.id), ["s0", "s2"]);
});
