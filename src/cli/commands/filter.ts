/** `stepwise filter`: consensus filtering of MC labels by judge verdicts, and judge / lab-truth labels. */
import type {Command} from "@commander-js/extra-typings";
import {StepwiseError} from "../../util/errors.ts";
import {collect, refuseEmpty} from "../options.ts";
import type {TruthAgreement} from "../../pipeline/label/truth.ts";
import type {LabelRecord} from "../../core/records.ts";
import {plural} from "../../util/plural.ts";

export function register(program: Command): void {
    program
        .command("filter")
        .description("consensus filtering (keep samples whose MC first negative step equals the judge's first wrong step), or replace MC labels by judge or exact lab labels")
        .option("--consensus", "keep the label records whose first_negative equals the verdict's first_error (needs --labels and --verdicts)")
        .option("--judge-only", "write labels from the verdicts instead: steps before the judge's first wrong step positive, that step negative (samples without a verdict are dropped)")
        .option("--lab-truth", "write the lab's exact step labels instead (lab samples only; no verdicts needed)")
        .option("--labels <file>", "labelled JSONL from `stepwise label` (repeatable)", collect, [])
        .option("--verdicts <file>", "verdicts JSONL from `stepwise judge` (repeatable)", collect, [])
        .requiredOption("--out <file>", "output JSONL of label records, ready for `stepwise train-prm` and `export` (overwritten)")
        .option("--json", "print the summary as one JSON object: {total, kept, kept_share, disagreements_by_kind}")
        .option("--allow-empty", "keep 0 records without failing (by default a filter that keeps nothing removes its empty output and exits 1)")
        .addHelpText(
            "after",
            `
Records are joined by sample id. Disagreement kinds: missing_verdict, no_verdict (tie or nothing
parsed), judge_earlier / judge_later (both found a wrong step), judge_says_correct (MC found a
negative step, the judge none), mc_says_correct (the judge found a wrong step, MC none).

Examples:
  stepwise judge --engine llama:models/lab-judge.gguf --in labels.jsonl --out verdicts.jsonl
  stepwise filter --consensus --labels labels.jsonl --verdicts verdicts.jsonl --out consensus.jsonl --json
  stepwise train-prm --data consensus.jsonl --labels hard --init models/lab-policy.gguf --out prm.gguf --steps 300`,
        )
        .action(async (o) => {
            const modes = [o.consensus, o.judgeOnly, o.labTruth].filter(Boolean).length;
            if (modes !== 1) throw new StepwiseError("give exactly one of --consensus, --judge-only, --lab-truth");
            if (o.labels.length === 0) throw new StepwiseError("--labels is required");
            if ((o.consensus || o.judgeOnly) && o.verdicts.length === 0) throw new StepwiseError("--verdicts is required with --consensus and --judge-only");
            const {JsonlWriter} = await import("../../io/jsonl.ts");
            const {consensusFilter, readLabels, readVerdicts, checkJoin} = await import("../../filter/consensus.ts");
            const {judgeLabels, labTruthLabels} = await import("../../filter/labels.ts");
            const {compareWithTruth} = await import("../../pipeline/label/truth.ts");
            let summary: {total: number; kept: number; kept_share: number; disagreements_by_kind?: Record<string, number>; truth?: unknown};
            if (o.consensus) summary = await consensusFilter({labels: o.labels, verdicts: o.verdicts, out: o.out});
            else {
                const verdicts = o.judgeOnly ? await readVerdicts(o.verdicts) : undefined;
                let total = 0;
                let kept = 0;
                const dropped: Record<string, number> = {missing_verdict: 0, no_verdict: 0};
                const truthful: LabelRecord[] = [];
                // Atomic (the output appears whole or not at all); never over one of the inputs.
                const writer = new JsonlWriter(o.out, {atomic: true, inputs: [...o.labels, ...o.verdicts]});
                try {
                    for await (const {record, where} of readLabels(o.labels)) {
                        total++;
                        if (verdicts) {
                            const v = verdicts.get(record.id);
                            checkJoin(record, v, where);
                            const r = v ? judgeLabels(record, v) : null;
                            if (!v) dropped.missing_verdict++;
                            else if (!r) dropped.no_verdict++;
                            else {
                                writer.write(r);
                                kept++;
                                if ("truth" in r) truthful.push(r);
                            }
                        } else {
                            writer.write(labTruthLabels(record));
                            kept++;
                        }
                    }
                    writer.commit();
                } finally {
                    writer.close();
                }
                // judge labels of records with lab truth (`label --lab-truth`): how the judge's first errors agree with it
                const truth: TruthAgreement | undefined = truthful.length ? compareWithTruth(truthful) : undefined;
                summary = {total, kept, kept_share: total ? kept / total : 0, ...(verdicts ? {disagreements_by_kind: dropped} : {}), ...(truth ? {truth} : {})};
            }
            const dropped = summary.disagreements_by_kind ? `; dropped: ${Object.entries(summary.disagreements_by_kind).map(([k, v]) => `${k} ${v}`).join(", ")}` : "";
            refuseEmpty("filter", {kept: summary.kept, out: o.out, allowEmpty: o.allowEmpty, why: `0 of ${plural(summary.total, "sample")}${dropped}`});
            if (o.json) console.log(JSON.stringify(summary));
            else
                console.error(
                    `filter: kept ${summary.kept} of ${plural(summary.total, "sample")} (${(100 * summary.kept_share).toFixed(1)}%)${summary.disagreements_by_kind ? `; dropped: ${Object.entries(summary.disagreements_by_kind).map(([k, v]) => `${k} ${v}`).join(", ")}` : ""} -> ${o.out}`,
                );
        });
}
