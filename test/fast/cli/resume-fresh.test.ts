/**
 * Trainings never throw away an earlier run's checkpoint by default: without --resume or --fresh an
 * existing checkpoint is refused and left as it was (found by a fresh-user review: a refused
 * `lab train-rl` used to delete rl-checkpoint.bin before checking its other options). Options of
 * another reward are refused, not ignored.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join, relative, resolve} from "node:path";
import {writeLlamaGguf} from "../../../src/gguf/index.ts";
import {tinyModel} from "../../helpers/tiny-model.ts";
import {trainPolicyCommand, trainRlCommand} from "../../../src/cli/commands/lab-train.ts";
import {resumeOrFresh} from "../../../src/cli/options.ts";

const run = (make: () => ReturnType<typeof trainRlCommand>, args: string[]) => make().exitOverride().configureOutput({writeErr: () => {}}).parseAsync(["node", "x", ...args]);

test("lab train-rl / train-policy: an existing checkpoint is refused without --resume or --fresh, and kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fresh-"));
    const ckpt = join(dir, "rl-checkpoint.bin");
    writeFileSync(ckpt, "an hour of training");
    const base = ["--out", join(dir, "x.gguf"), "--iterations", "1", "--checkpoint-dir", dir];
    await assert.rejects(run(trainRlCommand, base), /rl-checkpoint\.bin holds an earlier run's checkpoint; --resume continues it, --fresh starts over/);
    // Refusals of other options come first too, and leave it (here: a tag PRM as PRIME's implicit PRM, with --resume).
    await assert.rejects(run(trainRlCommand, [...base, "--resume", "--reward", "outcome+implicit", "--implicit-prm", "models/lab-tag-prm.gguf"]), /lab-tag-prm\.gguf: not an implicit PRM/);
    // The shipped pair (stepwise pair-prm) likewise: its step scores are another file's.
    await assert.rejects(run(trainRlCommand, [...base, "--resume", "--reward", "outcome+implicit", "--implicit-prm", "models/lab-prm.gguf"]), /lab-prm\.gguf: a tag\+implicit PRM \(GGUF metadata stepwise\.prm\.objective = "tag\+implicit", paired with the tag PRM .*models\/lab-tag-prm\.gguf by `stepwise pair-prm`\); PRIME trains/);
    // A tag+implicit PRM (train-prm --objective tag+implicit) is refused too: PRIME would export it as "implicit", its tag reading lost.
    const tiny = tinyModel(5, 4, "prm");
    const hybrid = join(dir, "hybrid.gguf");
    writeLlamaGguf(hybrid, {...tiny, name: "tiny-hybrid", kind: "prm", extraMetadata: {"stepwise.prm.objective": "tag+implicit", "stepwise.prm.beta": 1, "stepwise.prm.reference": relative(dir, resolve("models/lab-policy.gguf")), "stepwise.prm.template": "{question}\n"}});
    await assert.rejects(run(trainRlCommand, [...base, "--resume", "--reward", "outcome+implicit", "--implicit-prm", hybrid]), /hybrid\.gguf: a tag\+implicit PRM \(GGUF metadata stepwise\.prm\.objective = "tag\+implicit"\); PRIME trains and exports an implicit PRM only/);
    await assert.rejects(run(trainRlCommand, [...base, "--reward", "outcome", "--prm", "llama:models/lab-prm.gguf"]), /--prm is for --reward outcome\+prm, not outcome/);
    await assert.rejects(run(trainRlCommand, [...base, "--reward", "outcome+prm", "--implicit-lr", "1e-5"]), /--implicit-lr is for --reward outcome\+implicit, not outcome\+prm/);
    await assert.rejects(run(trainRlCommand, [...base, "--reward", "outcome", "--process-weight", "1"]), /--process-weight is for --reward outcome\+prm or outcome\+implicit/);
    await assert.rejects(run(trainRlCommand, [...base, "--resume", "--fresh"]), /--resume and --fresh exclude each other/);
    assert.equal(readFileSync(ckpt, "utf8"), "an hour of training");
    writeFileSync(join(dir, "checkpoint.bin"), "a policy");
    await assert.rejects(run(trainPolicyCommand as never, ["--out", join(dir, "p.gguf"), "--steps", "1", "--checkpoint-dir", dir]), /checkpoint\.bin holds an earlier run's checkpoint/);
    assert.equal(readFileSync(join(dir, "checkpoint.bin"), "utf8"), "a policy");
});

test("resumeOrFresh: --resume keeps, --fresh deletes, nothing there starts fresh; --resume with nothing there is refused", () => {
    const dir = mkdtempSync(join(tmpdir(), "fresh-"));
    const c = join(dir, "checkpoint.bin");
    assert.equal(resumeOrFresh("t", c, {}), false);
    // A mistyped --checkpoint-dir with --resume used to train from scratch and overwrite --out (a new-user trial).
    assert.throws(() => resumeOrFresh("t", c, {resume: true}), /^StepwiseError: t: --resume: no checkpoint at \S*checkpoint\.bin to continue; leave out --resume to start a new run there/);
    writeFileSync(c, "x");
    assert.equal(resumeOrFresh("t", c, {resume: true}), true);
    assert.ok(existsSync(c));
    assert.equal(resumeOrFresh("t", c, {fresh: true}), false);
    assert.ok(!existsSync(c), "--fresh deleted it");
});
