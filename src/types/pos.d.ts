/** Types for the `pos` package (fasttag part-of-speech tagger): only what stepwise uses. */
declare module "pos" {
    export class Tagger {
        /** Tag words with Penn Treebank tags: [[word, tag], …]. */
        tag(words: string[]): string[][];
    }
    export class Lexer {
        lex(text: string): string[];
    }
    const pos: {Tagger: typeof Tagger; Lexer: typeof Lexer};
    export default pos;
}
