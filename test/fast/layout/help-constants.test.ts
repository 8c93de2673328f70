/**
 * The constants that the CLI's option help lists live in modules that import nothing, so
 * `stepwise <command> --help` never loads zod or a stage (test/model/cli/help.test.ts checks the loaded
 * packages); their old homes re-export the same values, so there is one definition of each.
 */
import {test} from "node:test";
import assert from "node:assert/strict";
import {readFileSync} from "node:fs";
import {resolve} from "node:path";
import * as constants from "../../../src/core/constants.ts";
import * as schemas from "../../../src/core/schemas.ts";
import * as prompt from "../../../src/judge/prompt.ts";
import * as evalDefaults from "../../../src/eval/defaults.ts";
import * as bonLoad from "../../../src/eval/bon/load.ts";
import * as processBench from "../../../src/eval/processbench/evaluate.ts";
import * as exportFormats from "../../../src/pipeline/export/formats.ts";
import * as exportStage from "../../../src/pipeline/export/index.ts";
import * as splitForms from "../../../src/pipeline/split/forms.ts";
import * as splitStage from "../../../src/pipeline/split/index.ts";
import * as presets from "../../../src/pipeline/threshold-presets.ts";
import * as threshold from "../../../src/pipeline/threshold.ts";

const src = resolve(import.meta.dirname, "../../../src");
const LIGHT = ["core/constants.ts", "eval/defaults.ts", "pipeline/export/formats.ts", "pipeline/split/forms.ts", "pipeline/threshold-presets.ts"];

test("help constants: the modules the CLI help reads import nothing", () => {
    const importing = LIGHT.filter((file) => /^\s*(import|export)\b[^;]*\bfrom\s|^\s*import\s*["'(]|\bimport\s*\(/m.test(readFileSync(resolve(src, file), "utf8")));
    assert.deepEqual(importing, []);
});

test("help constants: the old modules re-export the very same values", () => {
    const pairs: Array<[string, unknown, unknown]> = [
        ["JUDGE_TEMPLATES (core/schemas.ts)", schemas.JUDGE_TEMPLATES, constants.JUDGE_TEMPLATES],
        ["JUDGE_TEMPLATES (judge/prompt.ts)", prompt.JUDGE_TEMPLATES, constants.JUDGE_TEMPLATES],
        ["DEFAULT_CANDIDATE_FIELDS", bonLoad.DEFAULT_CANDIDATE_FIELDS, evalDefaults.DEFAULT_CANDIDATE_FIELDS],
        ["DEFAULT_THRESHOLD", processBench.DEFAULT_THRESHOLD, evalDefaults.DEFAULT_THRESHOLD],
        ["EXPORT_FORMATS", exportStage.EXPORT_FORMATS, exportFormats.EXPORT_FORMATS],
        ["STRATEGY_FORMS", splitStage.STRATEGY_FORMS, splitForms.STRATEGY_FORMS],
        ["DOMAIN_QUANTILES", threshold.DOMAIN_QUANTILES, presets.DOMAIN_QUANTILES],
    ];
    for (const [name, old, light] of pairs) {
        assert.notEqual(light, undefined, name);
        assert.equal(old, light, name);
    }
});
