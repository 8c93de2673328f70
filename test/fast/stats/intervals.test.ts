import {test} from "node:test";
import assert from "node:assert/strict";
import {bootstrapInterval, bootstrapMean, differenceSentence, formatInterval, intervalJson, mcnemarExact, normalQuantile, pairedBootstrap, wilsonInterval} from "../../../src/stats/index.ts";

const near = (got: number, want: number, tol = 1e-4) => assert.ok(Math.abs(got - want) <= tol, `${got} vs ${want}`);

test("Wilson 95%: the known values (0/20, 10/20, 20/20), named method, never zero width", () => {
    const z = wilsonInterval(0, 20);
    assert.deepEqual([z.value, z.low, z.n, z.method, z.level], [0, 0, 20, "wilson", 0.95]);
    near(z.high, 0.1611);
    const h = wilsonInterval(10, 20);
    near(h.low, 0.2993);
    near(h.high, 0.7007);
    const f = wilsonInterval(20, 20);
    near(f.low, 0.8389);
    assert.equal(f.high, 1);
    // a fractional count (a mean of per-question fractions · n) is accepted
    near(wilsonInterval(0.5 * 20, 20).low, 0.2993);
    // other levels
    assert.ok(wilsonInterval(10, 20, 0.99).low < h.low);
    assert.throws(() => wilsonInterval(3, 2), RangeError);
    assert.throws(() => wilsonInterval(0, 0), RangeError);
    assert.throws(() => wilsonInterval(1, 2, 1.5), RangeError);
});

test("normalQuantile", () => {
    near(normalQuantile(0.975), 1.959964, 1e-6);
    near(normalQuantile(0.995), 2.575829, 1e-6);
    near(normalQuantile(0.01), -2.326348, 1e-6);
    assert.equal(normalQuantile(0.5), 0);
});

test("bootstrap: seeded percentile intervals (same seed, same interval), any statistic, NaN resamples left out", () => {
    const values = [1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 1];
    const a = bootstrapMean(values);
    assert.deepEqual(bootstrapMean(values), a);
    assert.deepEqual([a.method, a.n, a.resamples, a.seed, a.level], ["bootstrap-percentile", 12, 2000, 0, 0.95]);
    near(a.value, 8 / 12, 1e-12);
    assert.ok(a.low < a.value && a.value < a.high && a.low >= 0 && a.high <= 1, `${a.low} ${a.high}`);
    // the percentile interval of a mean of 0/1 values is close to Wilson's for a moderate n
    const w = wilsonInterval(8, 12);
    assert.ok(Math.abs(a.low - w.low) < 0.12 && Math.abs(a.high - w.high) < 0.12, `${a.low}–${a.high} vs ${w.low}–${w.high}`);
    assert.notDeepEqual(bootstrapMean(values, {seed: 1}), a);
    assert.equal(bootstrapMean(values, {resamples: 50}).resamples, 50);
    // a statistic undefined on some resamples (ROC-AUC-like: needs both classes)
    const labels = [1, 0, 0, 0, 0, 0, 0, 0];
    const r = bootstrapInterval(labels.length, (idx) => (Array.from(idx).some((i) => labels[i] === 1) ? 1 : NaN), {resamples: 500});
    assert.ok(r.resamples! < 500 && r.resamples! > 200, `${r.resamples}`);
    assert.throws(() => bootstrapInterval(3, () => NaN), /NaN on every resample/);
    assert.throws(() => bootstrapMean([]), RangeError);
});

test("paired bootstrap of B − A keeps pairs together", () => {
    const a = [1, 0, 1, 0, 1, 0, 1, 0];
    const same = pairedBootstrap(a, a);
    assert.deepEqual([same.value, same.low, same.high, same.method], [0, 0, 0, "paired-bootstrap-percentile"]); // unpaired resampling would spread
    const b = a.map((x) => 1 - x);
    const d = pairedBootstrap(a, b);
    assert.equal(d.value, 0);
    assert.ok(d.low < 0 && d.high > 0);
    assert.throws(() => pairedBootstrap([1], [1, 0]), /1 outcomes for A but 2/);
});

test("exact McNemar: known p-values", () => {
    const pairs = (aOnly: number, bOnly: number, both = 0) => [
        [...Array(aOnly).fill(1), ...Array(bOnly).fill(0), ...Array(both).fill(1)],
        [...Array(aOnly).fill(0), ...Array(bOnly).fill(1), ...Array(both).fill(1)],
    ];
    const [a, b] = pairs(4, 1, 3);
    assert.deepEqual(mcnemarExact(a, b), {value: 0.375, n: 8, a_only: 4, b_only: 1, method: "mcnemar-exact"});
    assert.equal(mcnemarExact(...(pairs(0, 0, 5) as [number[], number[]])).value, 1);
    assert.equal(mcnemarExact(...(pairs(10, 0) as [number[], number[]])).value, 2 / 1024);
    near(mcnemarExact(...(pairs(30, 10) as [number[], number[]])).value, 0.0022214, 1e-7); // scipy binomtest(10, 40).pvalue
    near(mcnemarExact(...(pairs(600, 500) as [number[], number[]])).value, 0.0028195, 1e-7); // large n, no overflow
});

test("stratified bootstrap: every resample keeps each stratum's size; the identity gives the estimate", () => {
    // items 0..3 in stratum 0 (all 0), items 4..5 in stratum 1 (all 1): any within-stratum resample has mean 2/6.
    const values = [0, 0, 0, 0, 1, 1];
    const strata = [0, 0, 0, 0, 1, 1];
    const iv = bootstrapInterval(6, (idx) => idx.reduce((s, i) => s + values[i], 0) / idx.length, {strata});
    assert.deepEqual([iv.value, iv.low, iv.high], [2 / 6, 2 / 6, 2 / 6]);
    // without strata the same data has a wide interval
    const plain = bootstrapMean(values);
    assert.ok(plain.high - plain.low > 0.3, `${plain.low} ${plain.high}`);
    assert.throws(() => bootstrapInterval(6, () => 0, {strata: [0, 1]}), /2 strata for 6 items/);
});

test("quoting: intervalJson scales and rounds; formatInterval and differenceSentence say n, level and significance", () => {
    const w = wilsonInterval(10, 20);
    assert.deepEqual(intervalJson(w, 100, 2), {value: 50, low: 29.93, high: 70.07, n: 20, method: "wilson", level: 0.95});
    assert.equal(formatInterval(w), "50.0% (95% CI 29.9–70.1, n 20)");
    assert.equal(formatInterval({...w, value: 0.8123, low: 0.7712, high: 0.8501, n: 1204}, {scale: 1, digits: 3, unit: ""}), "0.812 (95% CI 0.771–0.850, n 1,204)");
    const d = {value: 0.025, low: -0.031, high: 0.082, n: 40, method: "paired-bootstrap-percentile" as const, level: 0.95};
    assert.equal(differenceSentence("Best-of-N − maj@N", d), "Best-of-N − maj@N: +2.5 points; the difference is not significant at 95%: interval −3.1 to +8.2 points, n 40");
    assert.equal(differenceSentence("TVD − greedy", {...d, value: 0.05, low: 0.012}), "TVD − greedy: +5.0 points; the difference is significant at 95%: interval +1.2 to +8.2 points, n 40");
    assert.match(differenceSentence("x", {...d, value: -0.00001, low: -0.1, high: -0.02}), /^x: 0\.0 points; the difference is significant at 95%: interval −10\.0 to −2\.0 points/);
});
