import {test, before, after} from "node:test";
import assert from "node:assert/strict";
import {tinyModel, type TinyModel} from "../../helpers/tiny-model.ts";
import {LlamaEngine} from "../../../src/engines/llama/engine.ts";
import {OpenAIEngine} from "../../../src/engines/openai/engine.ts";
import {startServer, type RunningServer} from "../../../src/apps/serve/server.ts";
import {createScorer, PoolingPrmScorer, resolveFormat, TagPrmScorer, plainInput} from "../../../src/prm/index.ts";
import {nextTokenProbs} from "../../../src/model/forward.ts";

let m: TinyModel;
let engine: LlamaEngine;
let server: RunningServer;
const question = "Compute 12 + 7 * 3.";
const steps = ["First, 7 * 3 = 21, so 12 + 21.\n", "Finally, 12 + 21 = 33.\n", "The answer is 33."];

before(async () => {
    m = tinyModel(2, 20);
    engine = await LlamaEngine.load(m.path, {sequences: 2, contextSize: 512});
    server = await startServer({engine, port: 0, modelName: "prm", pooling: {stepTagId: m.vocab.stepTagId, returnedTokenIds: [m.vocab.goodId, m.vocab.badId]}});
});
after(async () => {
    await server.close();
    await engine.close();
});

test("tag PRM on the llama engine: one pass, good/(good+bad) at every tag", async () => {
    const format = resolveFormat("stepwise-lab");
    const scorer = new TagPrmScorer(engine, format);
    const scores = await scorer.scoreSteps(question, steps);
    assert.equal(scores.length, 3);
    const tokens = await engine.tokenize(plainInput(format, question, steps));
    const ref = nextTokenProbs(m.config, m.weights, tokens);
    const tags = tokens.flatMap((t, i) => (t === m.vocab.stepTagId ? [i] : []));
    tags.forEach((pos, j) => {
        const g = ref[pos][m.vocab.goodId];
        const b = ref[pos][m.vocab.badId];
        assert.ok(Math.abs(scores[j] - g / (g + b)) < 1e-5);
    });
    assert.deepEqual(await scorer.scoreSteps(question, []), []);
});

test("the same PRM over HTTP: stepwise serve --prm (vLLM STEP pooling shape) gives the same scores", async () => {
    const local = await new TagPrmScorer(engine, resolveFormat("stepwise-lab")).scoreSteps(question, steps);
    for (const endpoint of ["pooling", "embeddings"] as const) {
        const client = await OpenAIEngine.connect({baseUrls: [server.url + "/v1"], model: "prm"});
        const remote = await new PoolingPrmScorer(client, resolveFormat("stepwise-lab"), {endpoint}).scoreSteps(question, steps);
        remote.forEach((s, j) => assert.ok(Math.abs(s - local[j]) < 1e-6, `${endpoint} step ${j}: ${s} vs ${local[j]}`));
        await client.close();
    }
    const viaSpec = await createScorer(`openai:${server.url}/v1?model=prm&format=stepwise-lab`);
    assert.equal((await viaSpec.scoreSteps(question, steps)).length, 3);
    await viaSpec.close();
});

test("a tag that merges with its neighbours or is not one token fails loudly with the text", async () => {
    // "." is one token, but steps contain "." too: more tags than steps
    const dot = new TagPrmScorer(engine, resolveFormat("stepwise-lab", {stepTag: "."}));
    await assert.rejects(dot.scoreSteps(question, steps), /step tags found for 3 steps.*Input: /s);
    // Math-Shepherd's " ки" is several tokens in a character vocabulary
    const ms = new TagPrmScorer(engine, resolveFormat("math-shepherd"));
    await assert.rejects(ms.scoreSteps(question, steps), /must be exactly one token/);
    // over HTTP the server finds fewer tags than steps when the tag text is not the tag token
    const client = await OpenAIEngine.connect({baseUrls: [server.url + "/v1"], model: "prm"});
    const wrongTag = new PoolingPrmScorer(client, resolveFormat("stepwise-lab", {stepTag: " <step>"}));
    await assert.rejects(wrongTag.scoreSteps(question, steps), /returned 0 step scores for 3 steps/);
    await client.close();
});

test("score file: step_scores for every record, in order, resumable; bad records name file:line", async () => {
    const {mkdtempSync, writeFileSync, readFileSync} = await import("node:fs");
    const {join} = await import("node:path");
    const {tmpdir} = await import("node:os");
    const {scoreFile} = await import("../../../src/pipeline/score.ts");
    const dir = mkdtempSync(join(tmpdir(), "stepwise-score-"));
    const input = join(dir, "steps.jsonl");
    const rows = [
        {id: "a", question, steps: steps.map((text) => ({text}))},
        {id: "b", problem: question, steps: steps.slice(0, 2)},
    ];
    writeFileSync(input, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const scorer = new TagPrmScorer(engine, resolveFormat("stepwise-lab"));
    const out = join(dir, "scored.jsonl");
    await scoreFile({scorer, input, out, limit: 1});
    const r = await scoreFile({scorer, input, out});
    assert.equal(r.skipped, 1);
    const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.id), ["a", "b"]);
    assert.equal(lines[0].step_scores.length, 3);
    assert.equal(lines[1].step_scores.length, 2);
    writeFileSync(input, JSON.stringify({id: "c", question, steps: [1, 2]}) + "\n");
    await assert.rejects(scoreFile({scorer, input, out: join(dir, "x.jsonl")}), /steps\.jsonl:1: field "steps\[0\]": expected a string or an object with a "text" string, got number 1/);
});
