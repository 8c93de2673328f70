/**
 * The question options that `stepwise sample` and `stepwise decode` share (src/cli/options.ts
 * questionOptions, read back by questionInput): one set of flags, in one order, that reach the
 * library as fields, template (escapes read), chat, system and limit.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {Command} from "@commander-js/extra-typings";
import {questionInput, questionOptions} from "../../../src/cli/options.ts";
import {register as registerSample} from "../../../src/cli/commands/sample.ts";
import {register as registerDecode} from "../../../src/cli/commands/decode.ts";

const FLAGS = ["--template", "--chat", "--system", "--question-field", "--id-field", "--answer-field", "--limit"];

test("questionOptions parse into the library's question input; --limit below 1 is refused naming the flag", () => {
    const parse = (...args: string[]) => questionOptions(new Command().exitOverride().configureOutput({writeErr: () => {}}), "model").parse(args, {from: "user"}).opts();
    assert.deepEqual(questionInput(parse()), {fields: {question: undefined, id: undefined, answer: undefined}, template: "{question}\n", chat: undefined, system: undefined, limit: undefined});
    const o = parse("--template", "Q: {question}\\nA:", "--chat", "--system", "Be brief.", "--question-field", "problem", "--id-field", "uid", "--answer-field", "gold", "--limit", "3");
    assert.deepEqual(questionInput(o), {fields: {question: "problem", id: "uid", answer: "gold"}, template: "Q: {question}\nA:", chat: true, system: "Be brief.", limit: 3});
    assert.throws(() => parse("--limit", "0"), /--limit <n>.*expected an integer from 1/);
});

test("sample and decode offer the same question flags, in the same order, after --seed", () => {
    const program = new Command();
    registerSample(program);
    registerDecode(program);
    for (const name of ["sample", "decode"]) {
        const longs = program.commands.find((c) => c.name() === name)!.options.map((o) => o.long!);
        const at = longs.indexOf("--seed");
        assert.deepEqual(longs.slice(at + 1, at + 1 + FLAGS.length), FLAGS, name);
    }
});
