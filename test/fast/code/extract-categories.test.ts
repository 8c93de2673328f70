import {test} from "node:test";
import assert from "node:assert/strict";
import {codeBlockSpans, extractCode, insideCode} from "../../../src/domains/code/extract.ts";
import {codeStatementCategories, codeCategoryTable} from "../../../src/domains/code/categories.ts";
import {mutateFlipComparison, mutateOffByOne} from "../../../src/domains/code/mutate.ts";

const ANSWER = "To solve this we sort.\n\n```python\nclass Solution:\n    def f(self, xs):\n        return sorted(xs)\n```\n\nAn example:\n```\nprint(1)\n```\n";

test("extract: the last Python or unnamed fenced block; raw code; none", () => {
    assert.equal(extractCode(ANSWER), "print(1)\n");
    assert.equal(extractCode("Here:\n```python\ndef f():\n    return 1\n```\nand in JS:\n```js\nfunction f() {}\n```\n"), "def f():\n    return 1\n");
    assert.equal(extractCode("```cpp\nint main() {}\n```"), "int main() {}\n");
    assert.equal(extractCode("def f(a):\n    return a\n"), "def f(a):\n    return a\n");
    assert.equal(extractCode("# step 1\nx = 1\n"), "# step 1\nx = 1\n");
    assert.equal(extractCode("The answer is 42."), undefined);
    // A model that stopped inside a block: the block runs to the end of the text.
    assert.equal(extractCode("Sure.\n```python\ndef f():\n    return"), "def f():\n    return");
    // ~~~ fences and a longer closing fence; an inner ``` in a ~~~ block does not close it.
    assert.equal(extractCode("~~~python\nx = '```'\n```\n~~~~\n"), "x = '```'\n```\n");
});

test("extract: code spans and insideCode for decoders", () => {
    const spans = codeBlockSpans(ANSWER);
    assert.equal(spans.length, 2);
    assert.equal(ANSWER.slice(spans[0].start, spans[0].end), "class Solution:\n    def f(self, xs):\n        return sorted(xs)\n");
    assert.equal(spans[0].language, "python");
    assert.ok(spans.every((s) => s.closed));
    assert.equal(insideCode("To solve this"), false);
    assert.equal(insideCode("To solve:\n```python\ndef f("), true);
    assert.equal(insideCode("To solve:\n```python\ndef f(): pass\n```\nDone"), false);
    assert.equal(insideCode("def f(a):\n    # add"), true);
    assert.equal(insideCode("def f(a):\n    # add", {rawCode: false}), false);
    // CommonMark fences only: a ``` inside a prose line is no fence; ~~~; indent ≤ 3; info strings; unclosed
    assert.equal(insideCode("Wrap it in ``` like this: x = "), false);
    assert.equal(insideCode("text ```python\nx = "), false);
    assert.equal(insideCode("```a```\nprose"), false);
    assert.equal(insideCode("Steps:\n~~~\nx = "), true);
    assert.equal(insideCode("Steps:\n~~~\nx = 1\n~~~\nDone"), false);
    assert.equal(insideCode("Steps:\n~~~\nx = '```'\n```\ny"), true);
    assert.equal(insideCode("Steps:\n   ```python\nx"), true);
    assert.equal(insideCode("Steps:\n    ```python\nx"), false);
    assert.equal(insideCode("Steps:\n```python3 title=a.py\nx"), true);
    assert.equal(insideCode("Steps:\n```python"), true);
    assert.equal(insideCode("Steps:\n```python\nx\n  ```\n"), false);
    assert.equal(insideCode("Steps:\n```python\nx\n```js\n"), true, "a fence with an info string does not close");
    assert.equal(insideCode(""), false);
    // the prompt opened the block
    assert.equal(insideCode("", {prompt: "Solve.\n```python\n"}), true);
    assert.equal(insideCode("x = 1\n```\nThat is all", {prompt: "Solve.\n```python\n"}), false);
    assert.equal(insideCode("def f(", {prompt: "Solve.\n~~~\nimport os\n"}), true);
    assert.equal(insideCode("So x = ", {prompt: "Example:\n```\nx\n```\nSolve.\n"}), false);
    assert.equal(insideCode("x = ", {prompt: "Solve: ```python\n"}), false);
});

function charTokens(text: string, size = 3): number[] {
    const offsets = [0];
    while (offsets.at(-1)! < text.length) offsets.push(Math.min(text.length, offsets.at(-1)! + size));
    return offsets;
}

test("categories: statement kinds of code tokens (AdaptiveStep Tables 9-10)", () => {
    const code = 'import os\nfrom math import *\n\n@cache\ndef f(a, b):\n    """Doc."""\n    # add 3 to a\n    v1 = a + 3\n    v1 += g(b,\n            2)\n    if v1 > 0:\n        print(v1)\n    return v1\n';
    const tokens = ["import", " os", "\n", "from", " math", " import", " *", "\n\n", "@", "cache", "\n", "def", " f", "(a, b):", "\n", "    ", '"""Doc."""', "\n", "    ", "# add", " 3 to a", "\n", "    ", "v1", " = a + 3", "\n", "    ", "v1 +=", " g(b,", "\n", "            ", "2)", "\n", "    ", "if", " v1 > 0:", "\n", "        ", "print(v1)", "\n", "    ", "return", " v1", "\n"];
    assert.equal(tokens.join(""), code);
    const offsets = [0];
    for (const t of tokens) offsets.push(offsets.at(-1)! + t.length);
    const cats = codeStatementCategories(code, offsets);
    const by = (t: string) => cats[tokens.indexOf(t)];
    assert.equal(by("import"), "import");
    assert.equal(by(" math"), "import");
    assert.equal(by("@"), "definition");
    assert.equal(by(" f"), "definition");
    assert.equal(by('"""Doc."""'), "comment");
    assert.equal(by("# add"), "comment");
    assert.equal(by(" 3 to a"), "comment");
    assert.equal(by(" = a + 3"), "assignment");
    assert.equal(by("2)"), "assignment", "a continuation line belongs to its statement");
    assert.equal(by(" v1 > 0:"), "control flow");
    assert.equal(by("print(v1)"), "expression");
    assert.equal(by("return"), "return");
    assert.equal(by("\n"), "line break");
    assert.equal(by("    "), "whitespace");
});

test("categories: prose around fenced code is text; the table counts decision tokens", () => {
    const text = "We loop.\n```python\nfor x in xs:\n    t += x\n```\n";
    const offsets = charTokens(text, 1);
    const cats = codeStatementCategories(text, offsets);
    assert.equal(cats[0], "text");
    const forTok = offsets.findIndex((o) => o === text.indexOf("for"));
    assert.equal(cats[forTok], "control flow");
    const tokens = offsets.slice(0, -1).map((o, i) => ({text: text.slice(o, offsets[i + 1]), confidence: o === text.indexOf("for") ? 0.1 : 0.9}));
    const rows = codeCategoryTable([{tokens}], 0.5);
    const control = rows.find((r) => r.category === "control flow")!;
    assert.equal(control.decision, 1);
    assert.equal(control.decision_share, 1);
    assert.ok(Math.abs(rows.reduce((a, r) => a + r.token_share, 0) - 1) < 1e-9);
});

test("mutate: off-by-one and flipped comparison touch code only", () => {
    const src = "def f(n):\n    # 0 < 1\n    s = '<0>'\n    return n - 1 if n <= 0 else n >> 1\n";
    assert.equal(mutateOffByOne(src), "def f(n):\n    # 0 < 1\n    s = '<0>'\n    return n - 2 if n <= 1 else n >> 2\n");
    assert.equal(mutateFlipComparison(src), "def f(n):\n    # 0 < 1\n    s = '<0>'\n    return n - 1 if n >= 0 else n >> 1\n");
    assert.equal(mutateFlipComparison("def f(): return 1\n"), undefined);
});
