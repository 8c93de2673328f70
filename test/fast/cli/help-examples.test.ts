/**
 * Every command's `--help` shows examples (docs/real-models.md says so): a heading "Example:" or
 * "Examples:" (or "Example (what it shows):") in its help text, for every leaf command of the program as the CLI registers it.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {Command} from "@commander-js/extra-typings";
import "../../../src/apps/domains.ts";
import {commands} from "../../../src/cli/commands/index.ts";

function leaves(cmd: Command<unknown[], Record<string, unknown>>, path: string[] = []): Array<{path: string; cmd: Command<unknown[], Record<string, unknown>>}> {
    const subs = cmd.commands as Array<Command<unknown[], Record<string, unknown>>>;
    if (!subs.length) return [{path: path.join(" "), cmd}];
    return subs.filter((c) => c.name() !== "help").flatMap((c) => leaves(c, [...path, c.name()]));
}

test("every command's --help shows an Example(s): block", () => {
    const program = new Command();
    for (const register of commands) register(program);
    const all = leaves(program as unknown as Command<unknown[], Record<string, unknown>>);
    assert.ok(all.length >= 30, `only ${all.length} commands found`);
    const without: string[] = [];
    for (const {path, cmd} of all) {
        let text = "";
        cmd.configureOutput({writeOut: (s) => (text += s), writeErr: (s) => (text += s)});
        cmd.outputHelp();
        if (!/^Examples?( \(.*\))?:$/m.test(text)) without.push(path);
    }
    assert.deepEqual(without, [], `commands whose --help has no Examples: block`);
});
