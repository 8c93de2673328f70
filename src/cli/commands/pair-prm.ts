/** `stepwise pair-prm`: an implicit PRM and a tag PRM as one PRM file (src/prm/pair.ts). */
import type {Command} from "@commander-js/extra-typings";

export function register(program: Command): void {
    program
        .command("pair-prm")
        .description("write one PRM file read two ways: step scores from a tag PRM (Best-of-N, beam search, ProcessBench), TVD's token values from an implicit PRM")
        .requiredOption("--implicit <file>", "implicit PRM GGUF (train-prm --objective implicit); its weights, β and reference go into the pair")
        .requiredOption("--tag <file>", "tag PRM GGUF (train-prm): the pair's step scores; named relative to --out's folder, so move the files together (a pair copied without it fails, naming it)")
        .requiredOption("--out <file>", "the paired GGUF (written atomically; not one of the inputs)")
        .option("--json", "print what was written as JSON on stdout")
        .addHelpText(
            "after",
            `
The pair holds the implicit PRM's weights; its GGUF metadata says stepwise.prm.objective =
"tag+implicit" and names the tag PRM (stepwise.prm.tag_model) and the reference policy
(stepwise.prm.reference), both relative to the pair's folder. A spec naming the pair alone
(llama:PAIR.gguf) then scores steps with the tag PRM and TVD's candidates with the implicit PRM;
?format=implicit reads only the token values, ?format=stepwise-lab only the tag PRM.
stepwise serve --prm PAIR.gguf serves the tag PRM (under the pair's name). Settings
fingerprints of resumable outputs (score, decode, eval processbench) include the tag PRM's bytes.

Example (how models/lab-prm.gguf is made: scripts/make-lab-prm.sh):
  stepwise pair-prm --implicit .stepwise-cache/lab-prm-branches/implicit.gguf --tag models/lab-tag-prm.gguf --out models/lab-prm.gguf`,
        )
        .action(async (o) => {
            const {pairPrm} = await import("../../prm/pair.ts");
            const r = await pairPrm({implicit: o.implicit, tag: o.tag, out: o.out});
            console.error(`pair-prm: ${o.out}: token values from ${o.implicit} (β ${r.beta}, reference ${r.reference}), step scores from ${r.tagModel}`);
            if (o.json) console.log(JSON.stringify(r));
        });
}
