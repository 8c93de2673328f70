/** `lab eval-prm --json`: step ROC-AUC, lab-ProcessBench and Best-of-N at the largest N each with its interval; Best-of-N paired against maj@N. */
import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {runCli} from "../../helpers/cli.ts";

test("lab eval-prm --json: step_auc_ci (bootstrap over samples), processbench *_ci, bon_at_max_n accuracy_ci and paired", () => {
    const out = join(mkdtempSync(join(tmpdir(), "stepwise-eval-prm-")), "r");
    const r = runCli(["lab", "eval-prm", "--prm", "llama:models/lab-prm.gguf", "--problems", "5", "--k", "4", "--out", out, "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    const auc = j.step_auc_ci;
    assert.deepEqual([auc.n, auc.method, auc.level], [j.samples, "bootstrap-percentile", 0.95]); // n = samples, not steps
    assert.equal(auc.value, Math.round(j.step_auc * 1e4) / 1e4);
    assert.ok(auc.low <= auc.value && auc.value <= auc.high, JSON.stringify(auc));
    const pb = j.processbench.at_half;
    assert.deepEqual([pb.acc_error_ci.n, pb.acc_error_ci.method], [pb.nError, "wilson"]);
    assert.deepEqual([pb.acc_correct_ci.n, pb.f1_ci.n, pb.f1_ci.method], [pb.nCorrect, pb.n, "bootstrap-percentile"]);
    const maj = j.bon_at_max_n.maj;
    assert.deepEqual([maj.accuracy_ci.value, maj.accuracy_ci.n, maj.accuracy_ci.method], [maj.accuracy, j.questions, "wilson"]);
    const paired = j.bon_at_max_n.paired.find((p: {b: string}) => p.b === "bon-min");
    assert.deepEqual([paired.a, paired.size, paired.diff.n, paired.diff.method], ["maj", j.bon_at_max_n.n, j.questions, "paired-bootstrap-percentile"]);
    assert.ok(Math.abs(paired.diff.value - (j.bon_at_max_n["bon-min"].accuracy - maj.accuracy)) < 0.02, JSON.stringify(paired));
    assert.match(paired.sentence, /^PRM BoN \(min\) − maj@N at N = 4: .* points; the difference is (not )?significant at 95%: interval .*, n 5$/);
});
