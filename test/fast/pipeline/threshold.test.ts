import {test} from "node:test";
import assert from "node:assert/strict";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {computeThreshold, ConfidenceSketch, DOMAIN_QUANTILES, readThresholdFile, thresholdFromFile} from "../../../src/pipeline/threshold.ts";
import {Rng} from "../../../src/util/rng.ts";

/** Confidences shaped like a policy's: most near 1, a tail of low ones. */
function policyLike(n: number, seed: number): Float64Array {
    const rng = new Rng(seed);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
        const u = rng.next();
        out[i] = u < 0.8 ? 1 - rng.next() ** 4 * 0.05 : u < 0.97 ? 0.3 + 0.7 * rng.next() : rng.next() ** 3 * 0.3;
    }
    return out;
}

test("τ: exact share below it, within one 0.05% bucket of the exact order statistic", () => {
    const values = policyLike(1_000_000, 1);
    for (const q of [0.001, 0.02, 0.1, 0.5]) {
        const s = computeThreshold(values, {quantile: q});
        let below = 0;
        for (const v of values) if (v < s.tau) below++;
        assert.equal(s.below_tau, below, `q=${q}: reported count below τ is exact`);
        assert.equal(s.share_below_tau, below / values.length);
        const k = Math.ceil(q * values.length);
        assert.ok(below >= k, "at least the quantile's share");
        const sorted = Float64Array.from(values).sort();
        const exact = sorted[k - 1];
        assert.ok(s.tau > exact && s.tau <= exact * (1 + 2 ** -11) * (1 + 1e-12), `q=${q}: τ ${s.tau} just above the order statistic ${exact}`);
        // tokens beyond the quantile's share: only those of τ's own bucket (dense near 1, sparse in the tail)
        assert.ok(below - k < values.length * (q <= 0.1 ? 1e-3 : 5e-3), `q=${q}: ${below - k} extra tokens`);
        assert.ok(Math.abs(s.quantiles["0.5"] - sorted[Math.ceil(0.5 * values.length) - 1]) < 1e-3);
    }
    const s = computeThreshold(values);
    assert.equal(s.quantile, DOMAIN_QUANTILES.math);
    assert.equal(s.tokens, values.length);
    assert.equal(s.histogram.length, 50);
    assert.equal(s.histogram.reduce((a, b) => a + b.count, 0), values.length);
    assert.ok(Math.abs(s.mean - values.reduce((a, b) => a + b, 0) / values.length) < 1e-9);
});

test("edge values: 0, denormal-small, exactly 1, rounding above 1; errors on bad input", () => {
    const sk = new ConfidenceSketch(10);
    for (const v of [0, 1e-300, 2 ** -41, 1, 1 + 1e-9, 0.5, 0.5, 0.25]) sk.add(v);
    const s = sk.summary(0.3);
    assert.equal(s.tokens, 8);
    assert.equal(s.max, 1);
    assert.equal(s.below_tau, 3, "the three values below 2^-40 share the first bucket");
    assert.equal(s.tau, 2 ** -40);
    assert.equal(sk.summary(0.99).below_tau, 8, "τ above 1 when the quantile reaches the top bucket");
    assert.throws(() => sk.add(Number.NaN), /confidence/);
    assert.throws(() => sk.add(-0.1), /confidence/);
    assert.throws(() => computeThreshold([0.5], {quantile: 0}), /quantile must be in \(0, 1\)/);
    assert.throws(() => computeThreshold([], {quantile: 0.02}), /no tokens/);
});

test("thresholdFromFile streams samples; readThresholdFile checks the tau field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "thr-"));
    try {
        const file = join(dir, "s.jsonl");
        const rows = [0, 1, 2].map((i) => ({id: `q#${i}`, text: "ab", tokens: [{text: "a", confidence: 0.1 * (i + 1)}, {text: "b", confidence: 0.9}]}));
        writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
        const s = await thresholdFromFile(file, {quantile: 0.3, domain: "code"});
        assert.equal(s.samples, 3);
        assert.equal(s.tokens, 6);
        assert.equal(s.domain, "code");
        assert.equal(s.below_tau, 2);
        assert.ok(s.tau > 0.2 && s.tau < 0.2001);
        const thr = join(dir, "t.json");
        writeFileSync(thr, JSON.stringify(s));
        assert.equal(readThresholdFile(thr), s.tau);
        writeFileSync(thr, JSON.stringify({tau: "low"}));
        assert.throws(() => readThresholdFile(thr), /t\.json: field "tau"/);
        writeFileSync(file, JSON.stringify(rows[0]) + "\n" + JSON.stringify({id: "x", text: "", tokens: [{text: "", confidence: 7}]}) + "\n");
        await assert.rejects(thresholdFromFile(file), /s\.jsonl:2: field "tokens\[0\]\.confidence"/);
    } finally {
        rmSync(dir, {recursive: true, force: true});
    }
});
