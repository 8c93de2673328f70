/**
 * Pairing an implicit PRM with a tag PRM (`stepwise pair-prm`): one PRM file read two ways.
 *
 * An implicit PRM trained on branch decisions (`train-prm --objective implicit --branches`) gives
 * token values that rank TVD's candidates, but its step tags were never trained; a tag PRM gives
 * step scores (Best-of-N, beam search, ProcessBench) but barely separates the candidate tokens of a
 * decision (docs/decoding.md). The paired file is the implicit PRM's weights with GGUF metadata
 * `stepwise.prm.objective` = "tag+implicit" and `stepwise.prm.tag_model` = the tag PRM's file
 * (relative to the paired file's folder), so `llama:PAIRED.gguf` scores steps with the tag PRM and
 * TVD's candidates with the implicit PRM ({@link HybridPrmScorer}; `?format=implicit` and
 * `?format=stepwise-lab` read one of them). The shipped `models/lab-prm.gguf` is such a pair
 * (scripts/make-lab-prm.sh).
 */
import {dirname, relative, resolve} from "node:path";
import {checkModelKind} from "../engines/spec.ts";
import {readLlamaGguf, writeLlamaGguf} from "../gguf/llama.ts";
import {gv} from "../gguf/writer.ts";
import {sameFile} from "../io/output.ts";
import {StepwiseError} from "../util/errors.ts";
import {IMPLICIT_META} from "./implicit.ts";
import {checkPrmFile} from "./index.ts";

/** Options of {@link pairPrm}. */
export interface PairPrmOptions {
    /** An implicit PRM GGUF (metadata `stepwise.prm.objective` = "implicit"; its reference must exist), or a pair, whose implicit weights are re-paired. */
    implicit: string;
    /** A tag PRM GGUF (no `stepwise.prm.objective`, or "tag"). */
    tag: string;
    /** The paired GGUF to write (atomically); not one of the inputs. */
    out: string;
}

/** What {@link pairPrm} wrote: the metadata paths as stored (relative to `out`'s folder). */
export interface PairPrmResult {
    out: string;
    reference: string;
    tagModel: string;
    beta: number;
}

/**
 * Writes `out`: the implicit PRM's weights, vocabulary and β, its reference and the tag PRM named
 * relative to `out`'s folder. Errors (StepwiseError naming the flag, nothing written): an input
 * missing or not a PRM, `implicit` neither an implicit PRM nor a pair (whose implicit weights are
 * re-paired), `tag` not a tag PRM, `out` an input (also through a symlink).
 */
export async function pairPrm(o: PairPrmOptions): Promise<PairPrmResult> {
    const out = resolve(o.out);
    // The same file under another name (a symbolic or hard link) counts as the same: writing the pair would replace an input.
    for (const [flag, file] of [["--implicit", o.implicit], ["--tag", o.tag]] as const)
        if (sameFile(file, o.out)) throw new StepwiseError(`pair-prm: --out ${o.out} is the ${flag} file${resolve(file) === out ? "" : ` (${file} leads to it)`}; write the pair to a new file`);
    const kind = (flag: string, file: string) => {
        try {
            return checkModelKind(file, "prm", {example: false});
        } catch (e) {
            throw e instanceof StepwiseError ? new StepwiseError(`pair-prm ${flag}: ${e.message}`) : e;
        }
    };
    const imp = kind("--implicit", o.implicit);
    const objective = imp.strings[IMPLICIT_META.objective];
    // A pair's weights are an implicit PRM's: it can be re-paired with another tag PRM.
    const isPair = objective === "tag+implicit" && imp.strings[IMPLICIT_META.tagModel] !== undefined;
    if (objective !== "implicit" && !isPair)
        throw new StepwiseError(
            `pair-prm --implicit ${o.implicit}: not an implicit PRM (GGUF metadata ${IMPLICIT_META.objective} is ${objective === undefined ? "absent: a tag PRM" : `"${objective}" without ${IMPLICIT_META.tagModel}: one model trained on both objectives, whose own tags would be lost`}); train one with train-prm --objective implicit`,
        );
    const {implicit} = checkPrmFile(`llama:${o.implicit}`, "implicit");
    if (!implicit) throw new StepwiseError(`pair-prm --implicit ${o.implicit}: no implicit reading`); // unreachable: the objective has one
    const tag = kind("--tag", o.tag);
    const tagObjective = tag.strings[IMPLICIT_META.objective];
    if (tagObjective !== undefined && tagObjective !== "tag")
        throw new StepwiseError(`pair-prm --tag ${o.tag}: not a tag PRM (GGUF metadata ${IMPLICIT_META.objective} is "${tagObjective}")`);
    const model = await readLlamaGguf(o.implicit);
    const reference = relative(dirname(out), implicit.reference);
    const tagModel = relative(dirname(out), resolve(o.tag));
    writeLlamaGguf(out, {
        config: model.config,
        weights: model.weights,
        vocab: model.vocab,
        kind: "prm",
        name: String(model.metadata["general.name"] ?? "stepwise-lab-prm"),
        extraMetadata: {
            [IMPLICIT_META.objective]: "tag+implicit",
            [IMPLICIT_META.beta]: gv.f32(implicit.beta),
            [IMPLICIT_META.reference]: reference,
            [IMPLICIT_META.template]: implicit.template,
            [IMPLICIT_META.tagModel]: tagModel,
        },
    });
    return {out: o.out, reference, tagModel, beta: implicit.beta};
}
