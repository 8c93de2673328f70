/** GGUF reading and writing for stepwise's tiny llama models. */
export * from "./writer.ts";
export * from "./reader.ts";
export * from "./llama.ts";
export {randomLlamaWeights, llamaTensorDims, countParameters, type LlamaWeights} from "../model/weights.ts";
