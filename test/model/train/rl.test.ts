// stepwise-test: long (starts first: scripts/test.mjs)
/**
 * `stepwise lab train-rl` (src/apps/lab/policy/rl.ts) on a tiny model: a run paused after one
 * iteration and resumed gives the same log and the same GGUF bytes as an uninterrupted run; the
 * weights move; a resume with other settings is refused naming them.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import {tinyModel} from "../../helpers/tiny-model.ts";
import {trainPolicyRl, type RlLogEntry, type RlOptions} from "../../../src/apps/lab/policy/rl.ts";

test("train-rl: pause after iteration 1 + resume = an uninterrupted run (log and GGUF); other settings refused", async () => {
    const init = tinyModel(1, 8, "policy").path;
    // A token-reward hook (the implicit-PRM hook): digits are rewarded, so advantages are not all 0 with this random model.
    const options = (dir: string): RlOptions => ({
        init,
        out: join(dir, "rl.gguf"),
        dir,
        iterations: 2,
        problems: 2,
        group: 2,
        maxTokens: 16,
        updates: 1,
        lr: 1e-3,
        quiet: true,
        reward: {kind: "outcome", tokenRewards: async (_p, s) => s.tokens.map((t) => (/\d/.test(t.text) ? 1 : 0))},
    });
    const strip = (e: RlLogEntry[]) => e.map(({sample_seconds: _a, train_seconds: _b, ...rest}) => rest);
    const a = mkdtempSync(join(tmpdir(), "rl-a-"));
    const straight = await trainPolicyRl({...options(a), snapshotEvery: 1});
    const b = mkdtempSync(join(tmpdir(), "rl-b-"));
    const first = await trainPolicyRl({...options(b), stopAfter: 1});
    const rest = await trainPolicyRl(options(b));
    assert.equal(straight.length, 2);
    assert.deepEqual([first.length, rest.length], [1, 1]);
    assert.deepEqual(strip([...first, ...rest]), strip(straight));
    assert.ok(straight.some((e) => e.loss !== 0), "the hook's rewards gave a non-zero loss");
    assert.ok(straight[1].kl > 0, "the weights moved away from the starting policy");
    assert.ok(readFileSync(join(a, "rl.gguf")).equals(readFileSync(join(b, "rl.gguf"))), "same GGUF bytes");
    assert.equal(readFileSync(join(b, "rl-log.jsonl"), "utf8").trim().split("\n").length, 2);
    // Snapshots every iteration (not part of the settings): the last one is the output model.
    assert.ok(readFileSync(join(a, "policy-2.gguf")).equals(readFileSync(join(a, "rl.gguf"))), "policy-2.gguf is the model after iteration 2");
    assert.ok(!readFileSync(join(a, "policy-1.gguf")).equals(readFileSync(join(a, "rl.gguf"))), "policy-1.gguf is the model after iteration 1");
    assert.ok(!existsSync(join(b, "policy-1.gguf")), "no snapshots unless asked");
    // The share of right samples reached through a wrong step: null when no sample is right (a random model).
    for (const e of straight) assert.ok(e.right_wrong_step === null || (e.right_wrong_step >= 0 && e.right_wrong_step <= 1));
    await assert.rejects(trainPolicyRl({...options(b), iterations: 3, lr: 2e-3}), /rl-checkpoint\.bin: a training with other settings \(--lr: 0\.001 → 0\.002\)/);
    // Named by the flag the user typed (the stored keys are klCoef, maxTokens).
    await assert.rejects(trainPolicyRl({...options(b), iterations: 3, klCoef: 0, maxTokens: 12}), /other settings \(--kl: 0\.04 → 0; --max-tokens: 16 → 12\)/);
    // Resumed when already done: nothing to run, and --out is still written (it used to be named and never written).
    const again = join(b, "again.gguf");
    assert.deepEqual(await trainPolicyRl({...options(b), out: again}), []);
    assert.ok(readFileSync(again).equals(readFileSync(join(b, "rl.gguf"))), "the checkpoint's model, at its last iteration");
});

test("train-rl outcome+implicit (PRIME) on the lab models: the implicit PRM is updated online and exported; pause + resume = one run; wrong PRMs refused", async () => {
    const {readLlamaGguf} = await import("../../../src/gguf/llama.ts");
    const {checkPrmFile} = await import("../../../src/prm/index.ts");
    const options = (dir: string): RlOptions => ({
        init: "models/lab-policy.gguf",
        out: join(dir, "rl.gguf"),
        dir,
        iterations: 2,
        problems: 6,
        group: 4,
        seed: 3, // both iterations have groups PRIME keeps and groups it leaves out (measured)
        quiet: true,
        reward: {kind: "outcome+implicit", implicitPrm: "models/lab-implicit-prm.gguf"},
    });
    const strip = (e: RlLogEntry[]) => e.map(({sample_seconds: _a, train_seconds: _b, ...rest}) => rest);
    const a = mkdtempSync(join(tmpdir(), "prime-a-"));
    const straight = await trainPolicyRl(options(a));
    for (const e of straight) {
        assert.ok(e.kept_groups! > 0 && e.kept_groups! < 1, `PRIME's accuracy filter keeps some groups, not all (${e.kept_groups})`);
        assert.ok(e.implicit_loss! > 0 && e.implicit_accuracy! >= 0 && e.implicit_accuracy! <= 1);
    }
    const b = mkdtempSync(join(tmpdir(), "prime-b-"));
    const first = await trainPolicyRl({...options(b), stopAfter: 1});
    const rest = await trainPolicyRl(options(b));
    assert.deepEqual(strip([...first, ...rest]), strip(straight));
    for (const f of ["rl.gguf", "implicit-prm.gguf"]) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), `same ${f} bytes after a resume`);
    // The exported PRM moved, and names the starting policy as its reference (a PRM spec of the file alone scores with it).
    const [start, online] = await Promise.all([readLlamaGguf("models/lab-implicit-prm.gguf"), readLlamaGguf(join(a, "implicit-prm.gguf"))]);
    assert.ok(Object.keys(start.weights).some((k) => start.weights[k].some((x, i) => x !== online.weights[k][i])), "the implicit PRM's weights changed");
    assert.equal(checkPrmFile(`llama:${join(a, "implicit-prm.gguf")}`).implicit?.reference, resolve("models/lab-policy.gguf"));
    // Refusals: a tag PRM, and an implicit PRM whose reference is not the starting policy.
    await assert.rejects(trainPolicyRl({...options(mkdtempSync(join(tmpdir(), "prime-c-"))), reward: {kind: "outcome+implicit", implicitPrm: "models/lab-tag-prm.gguf"}}), /lab-tag-prm\.gguf: not an implicit PRM/);
    await assert.rejects(trainPolicyRl({...options(mkdtempSync(join(tmpdir(), "prime-d-"))), init: "models/lab-policy-rl.gguf"}), /its reference model .*lab-policy\.gguf is not the starting policy models\/lab-policy-rl\.gguf/);
});
