/** Types for the tokenizer packages the real-vocabulary tests use (dev dependencies). */
declare module "mistral-tokenizer-js" {
    const t: {vocabById: string[]; merges: Map<string, number>; encode(text: string, addBos?: boolean, addPrecedingSpace?: boolean): number[]; decode(ids: number[], addBos?: boolean, addPrecedingSpace?: boolean): string};
    export default t;
}
declare module "llama3-tokenizer-js" {
    const t: {vocabById: string[]; merges: Map<string, number>; encode(text: string, options?: {bos?: boolean; eos?: boolean}): number[]; decode(ids: number[]): string};
    export default t;
}
