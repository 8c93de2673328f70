/**
 * The model a fine-tune starts from: an existing stepwise GGUF (`init`), or fresh random weights
 * in the lab models' shape (character vocabulary, 512-token context; d=96, 3 layers, 3 heads
 * unless given). Shared by PRM and lab-judge training.
 */
import {existsSync} from "node:fs";
import {StepwiseError} from "../util/errors.ts";
import {readLlamaGguf} from "../gguf/llama.ts";
import {makeLlamaConfig, type LlamaConfig} from "../model/config.ts";
import {buildCharVocab, type CharVocab} from "../model/vocab.ts";
import {randomLlamaWeights, type LlamaWeights} from "../model/weights.ts";

/** @throws StepwiseError when `init` names a missing file. */
export async function startingModel(o: {init?: string; dModel?: number; nLayers?: number; nHeads?: number; seed?: number}): Promise<{config: LlamaConfig; init: LlamaWeights; vocab: CharVocab}> {
    if (o.init) {
        if (!existsSync(o.init)) throw new StepwiseError(`${o.init}: init model not found`);
        const m = await readLlamaGguf(o.init);
        return {config: m.config, init: m.weights, vocab: m.vocab};
    }
    const vocab = buildCharVocab();
    const config = makeLlamaConfig({vocabSize: vocab.tokens.length, dModel: o.dModel ?? 96, nLayers: o.nLayers ?? 3, nHeads: o.nHeads ?? 3, contextLength: 512});
    return {config, init: randomLlamaWeights(config, o.seed ?? 0), vocab};
}
