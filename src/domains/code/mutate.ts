/**
 * Simple source mutations of Python programs, for checking that a verifier rejects wrong code
 * (mutation testing): an off-by-one and a flipped comparison. Both rewrite code outside string
 * literals and comments, token by token, and return undefined when there is nothing to mutate.
 */

/** Split Python source into code and non-code (strings, comments) pieces. */
function pieces(src: string): Array<{code: boolean; text: string}> {
    const out: Array<{code: boolean; text: string}> = [];
    const re = /#[^\n]*|[rRbBuUfF]{0,2}("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')/g;
    let last = 0;
    for (const m of src.matchAll(re)) {
        if (m.index! > last) out.push({code: true, text: src.slice(last, m.index)});
        out.push({code: false, text: m[0]});
        last = m.index! + m[0].length;
    }
    if (last < src.length) out.push({code: true, text: src.slice(last)});
    return out;
}

function rewrite(src: string, f: (code: string) => string): string | undefined {
    const out = pieces(src).map((p) => (p.code ? f(p.text) : p.text)).join("");
    return out === src ? undefined : out;
}

/** Off-by-one: every standalone integer literal 0 becomes 1 and 1 becomes 2 (not inside names, floats or longer numbers). */
export function mutateOffByOne(src: string): string | undefined {
    return rewrite(src, (code) => code.replace(/(?<![\w.])([01])(?![\w.])/g, (d) => String(Number(d) + 1)));
}

/** Flipped comparison: every `<` becomes `>` and vice versa (`<=` ↔ `>=`); shifts (`<<`, `>>`) and `->` are kept. */
export function mutateFlipComparison(src: string): string | undefined {
    return rewrite(src, (code) => code.replace(/(?<![<>-])(<=|>=|<|>)(?![<>])/g, (op) => ({"<": ">", ">": "<", "<=": ">=", ">=": "<="})[op]!));
}
