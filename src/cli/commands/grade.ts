/**
 * `stepwise grade`: is a predicted final answer the same as the gold one?
 *
 *   stepwise grade --gold '\frac12' --pred 'so the answer is $0.5$' [--policy strict]
 *   stepwise grade --file pairs.jsonl [--policy strict] [--out results.jsonl] [--json]
 */
import type {Command} from "@commander-js/extra-typings";
import {StepwiseError} from "../../util/errors.ts";
import type {GradedRecord} from "../../grade/file.ts";
import {prepareOutput} from "../../io/output.ts";
import {checkInputFile} from "../../io/text.ts";
import type {GradeOptions, Policy} from "../../grade/policy.ts";
import {floatOption, intOption} from "../options.ts";
import {plural} from "../../util/plural.ts";

export function register(program: Command): void {
    program
        .command("grade")
        .description("extract final answers and decide whether a prediction equals the gold answer (lenient: Math-Verify-like; strict: PRM800K-like)")
        .option("--gold <text>", "gold answer or solution")
        .option("--pred <text>", "predicted answer or whole model output")
        .option("--file <pairs.jsonl>", "grade {gold, pred} records (extra fields are kept); writes one JSONL result per record")
        .option("--out <file>", "with --file: write the results here instead of stdout")
        .option("--policy <name>", "lenient or strict", "lenient")
        .option("--precision <n>", "lenient: decimal places compared when a side has a decimal point (default 6)", intOption(0, 15))
        .option("--tolerance <x>", "relative tolerance of numeric comparisons (default 1e-9)", floatOption(0, 0.5))
        .option("--json", "print JSON (with --file: a final summary object)")
        .addHelpText(
            "after",
            `
Examples:
  stepwise grade --gold '\\frac{1}{2004!}' --pred '\\frac{1}{2006!}'     not equal (exact rationals, not float64)
  stepwise grade --gold 2 --pred 'The value is sqrt(2).'                not equal (sqrt(2) is read as a function)
  stepwise grade --gold 5 --pred 'It is \\boxed{5} or \\boxed{5}.' --policy strict   equal (strict: the last box)
  stepwise grade --gold 19,22 --pred 19.22                              not equal (19,22 is a two-element list)
  stepwise grade --file pairs.jsonl --json > graded.jsonl

A division by zero (12:00 read as 12/0) is never a value; times of day (4:30 p.m.) are compared as times.`,
        )
        .action(async (o) => {
            if (o.policy !== "lenient" && o.policy !== "strict") throw new StepwiseError(`--policy must be lenient or strict, got "${o.policy}"`);
            const options: GradeOptions = {policy: o.policy as Policy};
            if (o.precision !== undefined) options.precision = o.precision;
            if (o.tolerance !== undefined) options.tolerance = o.tolerance;
            if (o.file !== undefined) {
                if (o.gold !== undefined || o.pred !== undefined) throw new StepwiseError("use either --file or --gold/--pred, not both");
                await gradeFile(o.file, o.out, options, o.json ?? false);
                return;
            }
            if (o.gold === undefined || o.pred === undefined) throw new StepwiseError("give --gold and --pred, or --file pairs.jsonl");
            if (o.out !== undefined) throw new StepwiseError("--out only applies with --file");
            const {grade} = await import("../../grade/grade.ts");
            const r = grade(o.gold, o.pred, options);
            if (o.json) {
                console.log(JSON.stringify(r));
                return;
            }
            console.log(r.equal ? "equal" : "not equal");
            console.log(`gold: ${r.gold.answer ?? "(none)"}${r.gold.extractor ? `   [${r.gold.extractor}]` : ""}`);
            console.log(`pred: ${r.pred.answer ?? "(none)"}${r.pred.extractor ? `   [${r.pred.extractor}]` : ""}`);
            if (r.reason) console.log(`reason: ${r.reason}`);
        });
}

async function gradeFile(file: string, out: string | undefined, options: GradeOptions, json: boolean): Promise<void> {
    checkInputFile(file, "--file");
    if (out) prepareOutput(out, {inputs: [file]});
    const {JsonlWriter} = await import("../../io/jsonl.ts");
    const {gradeJsonlFile} = await import("../../grade/file.ts");
    // Atomic: graded records appear at --out only when every record is graded.
    const writer = out ? new JsonlWriter(out, {atomic: true}) : null;
    const emit = (r: GradedRecord) => (writer ? writer.write(r) : console.log(JSON.stringify(r)));
    try {
        const s = await gradeJsonlFile(file, options, emit);
        writer?.commit();
        if (json) console.log(JSON.stringify(s));
        const agreement = s.agreement === null ? "" : `, agreement with expected ${s.agree}/${s.with_expected} (${(100 * s.agreement).toFixed(1)}%)`;
        console.error(`graded ${plural(s.n, "record")} (${s.policy}): ${s.equal} equal, ${s.not_equal} not equal (${s.undecided} undecided)${agreement}`);
    } finally {
        writer?.close();
    }
}
