import {test} from "node:test";
import assert from "node:assert/strict";
import {DEFAULT_VERIFIER, getVerifier, makeVerifier, registerVerifier, verifierNames} from "../../src/pipeline/label/verifiers.ts";
import "../../src/domains.ts";

test("verifier registry: math is the default, lab is registered by src/domains.ts, unknown names list the known ones", async () => {
    assert.equal(DEFAULT_VERIFIER, "math");
    assert.ok(verifierNames().includes("math") && verifierNames().includes("lab"));
    const math = await makeVerifier("math");
    assert.equal(math({question: "?", gold: "1/2", solution: "so the answer is \\boxed{0.5}"}), true);
    assert.equal(math({question: "?", gold: "1/2", solution: "\\boxed{2}"}), false);
    assert.throws(() => math({question: "?", gold: undefined, solution: "\\boxed{2}"}), /no gold answer/);
    assert.throws(() => getVerifier("nope"), /unknown verifier "nope" \(registered: math, lab/);
    assert.equal(typeof getVerifier("lab").truth, "function");
    assert.equal(getVerifier("math").truth, undefined);
});

test("verifier registry: a domain registers its own verifier; names are checked and never silently replaced", async () => {
    const def = {name: "parity-test", description: "even answers are right", create: () => ({solution}: {solution: string}) => Number(solution.trim()) % 2 === 0};
    registerVerifier(def);
    registerVerifier(def); // same definition again: no-op
    const v = await makeVerifier("parity-test");
    assert.equal(v({question: "", gold: undefined, solution: " 4 "}), true);
    assert.equal(v({question: "", gold: undefined, solution: "3"}), false);
    assert.throws(() => registerVerifier({...def}), /already registered/);
    assert.throws(() => registerVerifier({...def, name: "Bad Name"}), /lowercase/);
});
