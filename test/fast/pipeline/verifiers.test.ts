import {test} from "node:test";
import assert from "node:assert/strict";
import {DEFAULT_VERIFIER, checkVerifierArgs, getVerifier, makeVerifier, parseVerifierArgs, registerVerifier, verifierArgsHelp, verifierNames} from "../../../src/pipeline/label/verifiers.ts";
import "../../../src/apps/domains.ts";

test("verifier registry: math is the default, lab is registered by src/apps/domains.ts, unknown names list the known ones", async () => {
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

test("verifier registry: arguments are declared, checked, parsed from KEY=VALUE and listed for --help", async () => {
    const def = {
        name: "modulus-test",
        description: "answers divisible by m are right",
        args: {m: {value: "N", description: "the modulus (default 2)"}},
        create: (args: Readonly<Record<string, string>> = {}) => {
            const m = Number(args.m ?? 2);
            return ({solution}: {solution: string}) => Number(solution) % m === 0;
        },
    };
    registerVerifier(def);
    assert.equal((await makeVerifier("modulus-test"))({question: "", gold: undefined, solution: "4"}), true);
    assert.equal((await makeVerifier("modulus-test", {m: "3"}))({question: "", gold: undefined, solution: "4"}), false);
    await assert.rejects(makeVerifier("modulus-test", {n: "3"}), /verifier "modulus-test" takes no argument "n" \(its arguments: m\)/);
    assert.throws(() => checkVerifierArgs("math", {problems: "x"}), /verifier "math" takes no arguments \(got "problems"\)/);
    assert.throws(() => checkVerifierArgs("modulus-test", {m: ""}), /argument "m" needs a value \(m=N\)/);
    assert.deepEqual(parseVerifierArgs(["m=3", "path=a=b.jsonl"]), {m: "3", path: "a=b.jsonl"});
    assert.throws(() => parseVerifierArgs(["m"]), /expected KEY=VALUE, got "m"/);
    assert.throws(() => parseVerifierArgs(["=3"]), /expected KEY=VALUE/);
    assert.throws(() => parseVerifierArgs(["m=1", "m=2"]), /"m" given twice/);
    assert.throws(() => registerVerifier({...def, name: "bad-arg-test", args: {"Bad Key": {value: "X", description: ""}}}), /argument name "Bad Key"/);
    const help = verifierArgsHelp();
    assert.ok(help.some((l) => /^ {2}modulus-test +m=N +the modulus \(default 2\)$/.test(l)), help.join("\n"));
    assert.ok(help.some((l) => /^ {2}code +problems=FILE +problems JSONL/.test(l)), "the code verifier declares its problems file");
});
