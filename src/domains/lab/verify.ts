/**
 * Exact verifiers of the lab domain: the final-answer check and the process verifier that gives
 * the index of the first wrong step of any text a model wrote (the lab's ProcessBench gold label).
 *
 * ## Steps
 * A **step** is one non-empty line of the text (lines split on "\n"; a line holding only
 * whitespace is not a step). Step indices count non-empty lines from 0. {@link splitSteps} gives
 * the steps with their character offsets.
 *
 * ## Rules (a step is judged against the expression state left by the steps before it)
 * - **Equation step**: optional leading words/commas (the connective), then `a op b = v`, then
 *   optionally a separator (words or `,`/`:`/`;`, e.g. `, so`) and the **restatement** of the
 *   remaining expression, then optional periods. Whitespace is free; `×`, `÷`, `−` read as
 *   `*`, `/`, `-`; negative numbers may be written `-2` or `(-2)`.
 *   - `a op b` must be one operation on two numbers that matches a **reducible node** of the
 *     state (an operation whose operands are both numbers); `a` and `b` may be swapped for `+`
 *     and `*`. Any reducible node is a valid next reduction, so any valid order is accepted.
 *     Otherwise: `invalid-reduction`.
 *   - `v` must be the node's exact value. Otherwise: `wrong-arithmetic`.
 *   - A restatement, when present, must be exactly the expression after the reduction: the same
 *     tree (redundant parentheses and spacing ignored; rewriting by commutativity or
 *     associativity is not accepted). Otherwise: `wrong-restatement`. Without a restatement the
 *     step is judged by its equation alone.
 *   - Anything that does not fit this shape (no `=`, unreadable sides, no result number, extra
 *     text after the result that is not a restatement): `malformed`.
 * - **Answer line**: a line containing the word "answer" (any case), shaped `... answer [is] [:|=]
 *   <integer> [.]`. Correct iff the integer equals the exact answer (`wrong-answer` otherwise;
 *   `malformed` if no integer can be read). Stopping the reductions early is not an error by
 *   itself: the answer line is judged by its value.
 * - Any non-empty line after the first answer line is wrong (`after-answer`).
 * - Steps after the first wrong step are not judged (`correct: null`, reason `unchecked`).
 *
 * When several reducible nodes match one equation (e.g. `3 * 4 + 3 * 4`), the verifier keeps
 * every resulting state, and later restatements pick among them.
 *
 * ## Result
 * `firstErrorStep` is the index of the first wrong step, or -1. A text with no wrong step and no
 * answer line (e.g. truncated) has `firstErrorStep: -1`, `complete: false` and
 * `finalAnswerCorrect: false`; `correct` is true only for a complete text with no wrong step.
 *
 * ## Where an error is decided (for mapping to other step boundaries)
 * Each wrong step records `decidedAt`, the text offset of the character at which its error
 * becomes certain:
 * - `wrong-arithmetic`, `wrong-answer`: the first character of the written number that differs
 *   from the exact one; if the written digits are a strict prefix of the exact ones (`5` for
 *   `57`), the character that ends the number (the line's last character if the line ends there);
 * - `invalid-reduction`: the first character where the left side departs from every valid next
 *   operation (`a op b` of a reducible node, `b op a` for `+` and `*`; within a number where its
 *   digits depart), at the latest the last character of the left side;
 * - `wrong-restatement`: the first character of the first token that departs from every correct
 *   restatement (within a number, as above); the line's last character if it stops short;
 * - `after-answer`: the line's first character;
 * - `malformed` (an equation line of the wrong shape): the first character of the first token
 *   after which no continuation can make the line an equation step (`N+ 20 = 3`: the `+`; `So 57 minus 9`:
 *   `minus`), else the line's last character (`N.`, a line cut short, extra text after the
 *   result); a malformed answer line: its last character.
 * {@link labelSegments} maps the verdict to arbitrary segments with that anchor (or the end of the
 * first wrong line).
 *
 * Nothing here throws on model text; errors are only raised for a problem that cannot be read.
 */
import {StepwiseError} from "../../util/errors.ts";
import {
    type Expr, type Op, type Token, applyOp, evaluate, exprEquals, formatExpr, formatNumber, isCommutative, isReducible,
    nodeAt, parseTokens, reduceAt, reduciblePaths, tokenNumber, tokenOp, tokenize,
} from "./expr.ts";

/** What the verifier needs of a problem: its question (`Compute <expr>.`) and optionally its answer. */
export interface LabProblemLike {
    question: string;
    answer?: string | number;
}

/** Why a step was judged as it was. */
export type StepReason =
    | "ok"
    | "malformed"
    | "invalid-reduction"
    | "wrong-arithmetic"
    | "wrong-restatement"
    | "wrong-answer"
    | "after-answer"
    | "unchecked";

/** The verdict on one step (one non-empty line). */
export interface StepVerdict {
    /** Index among the steps (non-empty lines), from 0. */
    index: number;
    /** The line without surrounding whitespace. */
    text: string;
    /** Offsets of `text` in the verified text: [start, end). */
    start: number;
    end: number;
    /** What the line is: an equation step, the answer line, or neither. */
    kind: "equation" | "answer" | "other";
    /** true = correct, false = wrong, null = not judged (after the first wrong step). */
    correct: boolean | null;
    reason: StepReason;
    /** Human-readable explanation for wrong steps. */
    detail?: string;
    /** For wrong steps: offset of the character at which the error is decided (see module docs). */
    decidedAt?: number;
    /**
     * The step as an exact checker redoes it (judged steps only): for an equation whose left side
     * is one operation on two numbers, `a op b = v` with the exact value v (`?` when the value is
     * no lab integer) and, when the step restates, `, so <the remaining expression>` (the correct
     * one); ` is not next` instead when the operation is no valid next reduction; `answer <v>` (the
     * exact answer) for an answer line; `after the answer` and `unreadable` for those reasons.
     * What a generative verifier is taught to write (src/apps/lab/judge/verification.ts).
     */
    check?: string;
    /**
     * The check stating the disagreement, for wrong steps whose value or expression differs from
     * the exact one: `19 * 3 = 57, not 58` (wrong-arithmetic: the exact value against the written
     * one, nothing after it), `12 + 7 = 19, so 19 * 3 - 45 / 5, not 19 * 3 - 45 * 5`
     * (wrong-restatement: the written expression normalised when it parses, else as written),
     * `answer 5, not 6` (wrong-answer); absent otherwise. What a verifier trained with
     * `lab train-judge --contrast` writes.
     */
    contrast?: string;
    /**
     * The check with the step's own value copied beside the exact one, for equation and answer
     * lines whose value can be read: `19 * 3 = 57 (step: 58)` (wrong-arithmetic, nothing after
     * it), `12 + 7 = 19 (step: 19), so 19 * 3 - 45 / 5` (right), `12 + 7 = 19 (step: 19), so
     * 19 * 3 - 45 / 5, not 19 * 3 - 45 * 5` (wrong-restatement, the disagreement stated as in
     * `contrast`), `answer 5 (step: 6)`; absent otherwise. The verdict then compares two numbers
     * written next to each other. What a verifier trained with `lab train-judge --claim` writes.
     */
    claim?: string;
    /**
     * The check rebuilt from the expression before the step, for equation lines whose operation is
     * a valid next reduction: `from (12 + 7) * 3 - 45 / 5: 12 + 7 = 19, so 19 * 3 - 45 / 5` (right),
     * `from 19 * 3 - 45 / 5: 19 * 3 = 57, not 58` (wrong-arithmetic), `from (12 + 7) * 3 - 45 / 5:
     * 12 + 7 = 19, so 19 * 3 - 45 / 5, not 19 * 3 - 45 * 5` (wrong-restatement, as in `contrast`).
     * The remaining expression is then an edit of the expression the verifier has just written (the
     * previous line's remaining expression, or the question's), not a copy of the step's own
     * restatement. Absent otherwise. What a verifier trained with `lab train-judge --rebuild` writes.
     */
    rebuild?: string;
}

/** Result of {@link verifyProcess}. */
export interface ProcessVerdict {
    /** Index of the first wrong step, or -1 if no step is wrong. */
    firstErrorStep: number;
    /** Whether the first answer line gives the exact answer. */
    finalAnswerCorrect: boolean;
    /** The integer read from the first answer line (as a string), or null. */
    answer: string | null;
    /** The exact answer. */
    expected: string;
    /** Whether the text has an answer line. */
    complete: boolean;
    /** No wrong step and a correct answer line. */
    correct: boolean;
    steps: StepVerdict[];
}

/** One step's text and offsets. */
export interface StepSpan {
    text: string;
    start: number;
    end: number;
}

/** The steps of a text: its non-empty lines, trimmed, with offsets [start, end). */
export function splitSteps(text: string): StepSpan[] {
    const out: StepSpan[] = [];
    let lineStart = 0;
    while (lineStart <= text.length) {
        let nl = text.indexOf("\n", lineStart);
        if (nl < 0) nl = text.length;
        let s = lineStart;
        let e = nl;
        while (s < e && /\s/.test(text[s])) s++;
        while (e > s && /\s/.test(text[e - 1])) e--;
        if (e > s) out.push({text: text.slice(s, e), start: s, end: e});
        lineStart = nl + 1;
    }
    return out;
}

const isOpTok = (t: Token | undefined, op?: Op): boolean => t?.kind === "op" && (op === undefined || tokenOp(t) === op);

/**
 * Read a signed integer at `tokens[i]`: `n`, `-n`, `(-n)` or `(n)`. Returns its value, the raw
 * token range and the index after it, or null.
 */
function readSigned(tokens: readonly Token[], i: number): {value: number; first: number; last: number; next: number} | null {
    const t = tokens[i];
    if (!t) return null;
    if (t.kind === "num") return {value: tokenNumber(t), first: i, last: i, next: i + 1};
    if (isOpTok(t, "-") && tokens[i + 1]?.kind === "num") {
        const v = -tokenNumber(tokens[i + 1]);
        return {value: v === 0 ? 0 : v, first: i, last: i + 1, next: i + 2};
    }
    if (t.kind === "lparen") {
        const inner = readSigned(tokens, i + 1);
        if (inner && tokens[inner.next]?.kind === "rparen") return {...inner, first: i, last: inner.next, next: inner.next + 1};
    }
    return null;
}

/** Parse the expression of a problem's question. Throws a StepwiseError if it cannot be read. */
export function problemExpr(problem: LabProblemLike | string): Expr {
    const question = typeof problem === "string" ? problem : problem.question;
    const tokens = tokenize(question);
    let i = 0;
    while (i < tokens.length && (tokens[i].kind === "word" || tokens[i].kind === "punct")) i++;
    let j = tokens.length;
    while (j > i && (tokens[j - 1].kind === "punct" || tokens[j - 1].kind === "eq" || tokens[j - 1].text === "?")) j--;
    const e = parseTokens(tokens.slice(i, j));
    if (!e) throw new StepwiseError(`lab: cannot read the expression of the question "${question}"`);
    return e;
}

/** The exact answer of a problem; throws a StepwiseError if it disagrees with a stored answer. */
export function problemAnswer(problem: LabProblemLike | string): number {
    const e = problemExpr(problem);
    const v = evaluate(e);
    const question = typeof problem === "string" ? problem : problem.question;
    if (v === null) throw new StepwiseError(`lab: the question "${question}" has no exact integer value`);
    if (typeof problem !== "string" && problem.answer !== undefined && String(problem.answer).trim() !== String(v))
        throw new StepwiseError(`lab: the stored answer ${problem.answer} of "${question}" is not its value ${v}`);
    return v;
}

/**
 * Offset where a written number departs from the exact one (see module docs): the number spans
 * [from, to) of the text, `span` is its line. Spaces and parentheses inside it are skipped. If
 * the written digits are a strict prefix of the exact number, the error is decided by the
 * character that ends the number (`to`), or the line's last character if the line ends there.
 */
function divergence(span: StepSpan, from: number, to: number, exact: string): number {
    let k = 0;
    for (let at = from; at < to; at++) {
        const c = span.text[at - span.start];
        if (c === undefined || /[\s()]/.test(c)) continue;
        if (k >= exact.length || c !== exact[k]) return at;
        k++;
    }
    return Math.min(to, span.end - 1);
}

type AnswerRead = {ok: true; value: number; numStart: number; numEnd: number} | {ok: false};

/** Whether tokens form an answer line (contain the word "answer"). */
function isAnswerLine(tokens: readonly Token[]): boolean {
    return tokens.some((t) => t.kind === "word" && t.text.toLowerCase() === "answer");
}

/** Read `... answer [words] [:|=] <integer> [.]` from an answer line's tokens. */
function readAnswer(tokens: readonly Token[]): AnswerRead {
    let i = tokens.findIndex((t) => t.kind === "word" && t.text.toLowerCase() === "answer");
    if (i < 0) return {ok: false};
    for (let k = 0; k < i; k++) if (tokens[k].kind !== "word" && tokens[k].kind !== "punct") return {ok: false};
    i++;
    while (i < tokens.length && (tokens[i].kind === "word" || tokens[i].kind === "eq" || (tokens[i].kind === "punct" && tokens[i].text === ":"))) i++;
    const n = readSigned(tokens, i);
    if (!n) return {ok: false};
    for (let k = n.next; k < tokens.length; k++) if (!(tokens[k].kind === "punct" && tokens[k].text === ".")) return {ok: false};
    if (!Number.isSafeInteger(n.value)) return {ok: false};
    return {ok: true, value: n.value, numStart: tokens[n.first].start, numEnd: tokens[n.last].end};
}

/**
 * The final answer a text gives: the integer of its first answer line, or null if it has none or
 * that line is unreadable.
 */
export function extractAnswer(text: string): string | null {
    for (const s of splitSteps(String(text ?? ""))) {
        const tokens = tokenize(s.text).map((t) => ({...t, start: t.start + s.start, end: t.end + s.start}));
        if (!isAnswerLine(tokens)) continue;
        const r = readAnswer(tokens);
        return r.ok ? String(r.value) : null;
    }
    return null;
}

/** Result of {@link checkAnswer}. */
export interface AnswerCheck {
    correct: boolean;
    /** The answer read from the text's first answer line, or null. */
    predicted: string | null;
    expected: string;
}

/** Final-answer check: does the text's first answer line give the exact answer? */
export function checkAnswer(problem: LabProblemLike | string, text: string): AnswerCheck {
    const expected = String(problemAnswer(problem));
    const predicted = extractAnswer(text);
    return {correct: predicted === expected, predicted, expected};
}

/** Canonical text of a state (for de-duplication). */
const key = (e: Expr): string => formatExpr(e, "spaced");

/** A description of the valid next reductions of some states, e.g. "12 + 7, 45 / 5". */
function validReductions(states: readonly Expr[]): string {
    const seen = new Set<string>();
    for (const s of states)
        for (const p of reduciblePaths(s)) {
            const n = nodeAt(s, p);
            if (n && isReducible(n)) seen.add(formatExpr(n));
        }
    return seen.size ? [...seen].join(", ") : "none (the expression is fully reduced)";
}

type StepJudgement = Pick<StepVerdict, "kind" | "correct" | "reason" | "detail" | "decidedAt" | "check" | "contrast" | "claim" | "rebuild">;

/**
 * Where a malformed equation line became impossible: the start offset of the first token after
 * which no text could complete the line into the shape of an equation step (`[words] a op b = v
 * ...`, module docs), or null when every prefix up to the line's end could still be completed
 * (the line is then decided by its end, e.g. `N.` or a line cut after `=`). Only the shape up to
 * the result number is checked; text after it is decided at the line's end as before.
 *
 * Examples: `N+ 20 = 3` → the `+` (an operator cannot follow the connective); `So 57 minus 9`
 * → `minus`; `First, 12 + 7 = so` → `so`. A trailing `.` right after a number may still be a
 * decimal point, so it does not decide. Used so that a junk token in the middle of a line is
 * wrong where it was written, not only at the line's end (label-branches --labels truth).
 */
function malformedAt(tokens: readonly Token[]): number | null {
    type State = "conn" | "operand" | "sign" | "after" | "result" | "rsign" | "rparen" | "rpsign" | "rpnum" | "done";
    let state: State = "conn";
    let depth = 0;
    for (let k = 0; k < tokens.length && state !== "done"; k++) {
        const t = tokens[k];
        const minus = t.kind === "op" && tokenOp(t) === "-";
        let next: State | null = null;
        switch (state) {
            case "conn":
            case "operand":
                if (state === "conn" && (t.kind === "word" || t.kind === "punct")) next = "conn";
                else if (t.kind === "num") next = "after";
                else if (t.kind === "lparen") {
                    depth++;
                    next = "operand";
                } else if (minus) next = "sign";
                break;
            case "sign":
                if (t.kind === "num") next = "after";
                break;
            case "after":
                if (t.kind === "op") next = "operand";
                else if (t.kind === "rparen" && depth > 0) {
                    depth--;
                    next = "after";
                }
                else if (t.kind === "eq" && depth === 0) next = "result";
                else if (t.kind === "punct" && t.text === "." && k === tokens.length - 1 && tokens[k - 1]?.kind === "num" && tokens[k - 1].end === t.start) next = "after";
                break;
            case "result":
                if (t.kind === "num") next = "done";
                else if (minus) next = "rsign";
                else if (t.kind === "lparen") next = "rparen";
                break;
            case "rsign":
                if (t.kind === "num") next = "done";
                break;
            case "rparen":
                if (t.kind === "num") next = "rpnum";
                else if (minus) next = "rpsign";
                break;
            case "rpsign":
                if (t.kind === "num") next = "rpnum";
                break;
            case "rpnum":
                if (t.kind === "rparen") next = "done";
                break;
        }
        if (next === null) return t.start;
        state = next;
    }
    return null;
}

/** Judge one equation line against the current states; returns the new states when correct. */
function judgeEquation(tokens: readonly Token[], span: StepSpan, states: readonly Expr[]): {verdict: StepJudgement; next?: Expr[]} {
    const last = span.end - 1;
    const malformed = (detail: string): {verdict: StepJudgement} => ({verdict: {kind: "other", correct: false, reason: "malformed", detail, decidedAt: malformedAt(tokens) ?? last, check: "unreadable"}});
    let i = 0;
    while (i < tokens.length && (tokens[i].kind === "word" || tokens[i].kind === "punct")) i++;
    const eq = tokens.findIndex((t, k) => k >= i && t.kind === "eq");
    if (eq < 0) return malformed("no equation (a step is `a op b = value`)");
    if (eq === i) return malformed("nothing before `=`");
    const lhs = parseTokens(tokens.slice(i, eq));
    if (!lhs) return malformed("unreadable left side");
    const lhsEnd = tokens[eq - 1].end - 1;
    if (!isReducible(lhs))
        return {verdict: {kind: "equation", correct: false, reason: "invalid-reduction", detail: "the left side must be one operation on two numbers", decidedAt: Math.min(lhsEnd, reductionDivergence(tokens.slice(i, eq), states, span)), check: `${formatExpr(lhs)} is not next`}};
    const result = readSigned(tokens, eq + 1);
    if (!result) return malformed("no result number after `=`");
    let restTokens = tokens.slice(result.next);
    while (restTokens.length && restTokens[restTokens.length - 1].kind === "punct" && restTokens[restTokens.length - 1].text === ".")
        restTokens = restTokens.slice(0, -1);
    let sepEnd = 0;
    while (sepEnd < restTokens.length && (restTokens[sepEnd].kind === "word" || restTokens[sepEnd].kind === "punct")) sepEnd++;
    if (restTokens.length > 0 && sepEnd === 0) return malformed("unexpected text after the result");
    const restatement = restTokens.slice(sepEnd);
    if (restTokens.length > 0 && restatement.length === 0) return malformed("text after the result is not a restatement");

    // Match the operation against the reducible nodes of every state.
    const {op, left: {value: x}, right: {value: y}} = lhs;
    const matches: Array<{state: Expr; path: string}> = [];
    for (const state of states)
        for (const path of reduciblePaths(state)) {
            const n = nodeAt(state, path);
            if (!n || !isReducible(n) || n.op !== op) continue;
            const a = n.left.value;
            const b = n.right.value;
            if ((a === x && b === y) || (isCommutative(op) && a === y && b === x)) matches.push({state, path});
        }
    const eqText = formatExpr(lhs);
    if (matches.length === 0)
        return {verdict: {kind: "equation", correct: false, reason: "invalid-reduction", detail: `${eqText} is not a valid next operation (valid: ${validReductions(states)})`, decidedAt: Math.min(lhsEnd, reductionDivergence(tokens.slice(i, eq), states, span)), check: `${eqText} is not next`}};
    const exact = applyOp(op, x, y);
    const nextByKey = new Map<string, Expr>();
    const prevByKey = new Map<string, Expr>(); // the expression each next one is reduced from (for `rebuild`)
    for (const m of matches) {
        const r = reduceAt(m.state, m.path);
        if (r && !nextByKey.has(key(r.expr))) {
            nextByKey.set(key(r.expr), r.expr);
            prevByKey.set(key(r.expr), m.state);
        }
    }
    let next = [...nextByKey.values()];
    const from = (rest: Expr | undefined): string => {
        const prev = rest ? prevByKey.get(key(rest)) : undefined;
        return prev ? `from ${formatExpr(prev)}: ` : "";
    };
    const exactText = exact === null ? "?" : formatNumber(exact, true);
    // ", so <remaining expression>" when the step restates it; shared by the check and the claim.
    const so = (rest: Expr | undefined): string => (restatement.length > 0 && rest ? `, so ${formatExpr(rest)}` : "");
    const checkOf = (rest: Expr | undefined): string => `${eqText} = ${exactText}${so(rest)}`;
    const numStart = tokens[result.first].start;
    const written = span.text.slice(numStart - span.start, tokens[result.last].end - span.start).replace(/[\s()]/g, "");
    const claimed = `${eqText} = ${exactText} (step: ${written})`;
    const claimOf = (rest: Expr | undefined): string => `${claimed}${so(rest)}`;
    if (exact === null || result.value !== exact) {
        return {
            verdict: {
                kind: "equation", correct: false, reason: "wrong-arithmetic",
                detail: `${eqText} = ${exact ?? "(no integer value)"}, not ${written}`,
                decidedAt: divergence(span, numStart, tokens[result.last].end, String(exact ?? "")),
                check: checkOf(next[0]),
                contrast: `${eqText} = ${exactText}, not ${written}`,
                claim: claimed,
                rebuild: `${from(next[0])}${eqText} = ${exactText}, not ${written}`,
            },
        };
    }
    if (restatement.length > 0) {
        const said = parseTokens(restatement);
        const kept = said ? next.filter((s) => exprEquals(s, said)) : [];
        if (kept.length === 0) {
            return {
                verdict: {
                    kind: "equation", correct: false, reason: "wrong-restatement",
                    detail: `${said ? "the remaining expression is" : "unreadable restatement; the remaining expression is"} ${next.map((s) => formatExpr(s)).join(" or ")}`,
                    decidedAt: restatementDivergence(restatement, next, span),
                    check: checkOf(next[0]),
                    contrast: `${checkOf(next[0])}, not ${said ? formatExpr(said) : restatement.map((t) => t.text).join(" ")}`,
                    claim: `${claimOf(next[0])}, not ${said ? formatExpr(said) : restatement.map((t) => t.text).join(" ")}`,
                    rebuild: `${from(next[0])}${checkOf(next[0])}, not ${said ? formatExpr(said) : restatement.map((t) => t.text).join(" ")}`,
                },
            };
        }
        next = kept;
    }
    return {verdict: {kind: "equation", correct: true, reason: "ok", check: checkOf(next[0]), claim: claimOf(next[0]), rebuild: `${from(next[0])}${checkOf(next[0])}`}, next};
}

/** Where a wrong restatement departs from every correct one (see module docs). */
function restatementDivergence(said: readonly Token[], correct: readonly Expr[], span: StepSpan): number {
    return tokenDivergence(said, correct.map((c) => tokenize(formatExpr(c, "spaced"))), span);
}

/**
 * Where the left side of an invalid reduction departs from every valid next operation (module
 * docs): each reducible node `a op b` of every state, also `b op a` for `+` and `*`, with a
 * negative operand written `-2` or `(-2)`.
 */
function reductionDivergence(said: readonly Token[], states: readonly Expr[], span: StepSpan): number {
    const numForms = (v: number): string[] => (v < 0 ? [String(v), `(${v})`] : [String(v)]);
    const cands: Token[][] = [];
    for (const state of states)
        for (const path of reduciblePaths(state)) {
            const n = nodeAt(state, path);
            if (!n || !isReducible(n)) continue;
            const pairs = isCommutative(n.op) ? [[n.left.value, n.right.value], [n.right.value, n.left.value]] : [[n.left.value, n.right.value]];
            for (const [a, b] of pairs) for (const x of numForms(a)) for (const y of numForms(b)) cands.push(tokenize(`${x} ${n.op} ${y}`));
        }
    return tokenDivergence(said, cands, span);
}

/**
 * Where written tokens depart from every candidate token list: the first character of the first
 * token no candidate has at that place (within a number, where its digits depart, as
 * {@link divergence}); the line's last character if the written tokens match a candidate's start.
 */
function tokenDivergence(said: readonly Token[], cands: readonly Token[][], span: StepSpan): number {
    const norm = (t: Token): string => (t.kind === "op" ? tokenOp(t) : t.text);
    let latest = -1;
    for (const cand of cands) {
        let k = 0;
        while (k < said.length && k < cand.length && norm(said[k]) === norm(cand[k])) k++;
        if (k >= said.length) return span.end - 1; // stops short (or equal text, which cannot happen here)
        const t = said[k];
        const other = cand[k];
        latest = Math.max(latest, t.kind === "num" && other?.kind === "num" ? divergence(span, t.start, t.end, other.text) : t.start);
    }
    return latest < 0 ? span.end - 1 : latest;
}

/**
 * The process verifier: judge every step (non-empty line) of `text` against the problem (see
 * the module docs for the rules). Never throws on model text; throws a StepwiseError only if the
 * problem's question cannot be read.
 */
export function verifyProcess(problem: LabProblemLike | string, text: string): ProcessVerdict {
    const root = problemExpr(problem);
    const expectedValue = problemAnswer(problem);
    const expected = String(expectedValue);
    const body = typeof text === "string" ? text : String(text ?? "");
    let states: Expr[] = [root];
    let firstErrorStep = -1;
    let answered = false;
    const steps: StepVerdict[] = [];
    for (const span of splitSteps(body)) {
        const index = steps.length;
        const base = {index, text: span.text, start: span.start, end: span.end};
        const tokens = tokenize(span.text).map((t) => ({...t, start: t.start + span.start, end: t.end + span.start}));
        const answerLine = isAnswerLine(tokens);
        let v: StepJudgement;
        if (firstErrorStep >= 0) {
            v = {kind: answerLine ? "answer" : tokens.some((t) => t.kind === "eq") ? "equation" : "other", correct: null, reason: "unchecked"};
        } else if (answered) {
            v = {kind: answerLine ? "answer" : "other", correct: false, reason: "after-answer", detail: "text after the answer line", decidedAt: span.start, check: "after the answer"};
        } else if (answerLine) {
            answered = true;
            const r = readAnswer(tokens);
            const check = `answer ${expected}`;
            if (!r.ok) v = {kind: "answer", correct: false, reason: "malformed", detail: "unreadable answer line (`The answer is <integer>.`)", decidedAt: span.end - 1, check};
            else if (r.value === expectedValue) v = {kind: "answer", correct: true, reason: "ok", check, claim: `${check} (step: ${r.value})`};
            else v = {kind: "answer", correct: false, reason: "wrong-answer", detail: `the answer is ${expected}, not ${r.value}`, decidedAt: divergence(span, r.numStart, r.numEnd, expected), check, contrast: `${check}, not ${r.value}`, claim: `${check} (step: ${r.value})`};
        } else {
            const j = judgeEquation(tokens, span, states);
            v = j.verdict;
            if (j.next) states = j.next;
        }
        if (v.correct === false && firstErrorStep < 0) firstErrorStep = index;
        steps.push({...base, ...v});
    }
    const answer = extractAnswer(body);
    const finalAnswerCorrect = answer === expected;
    const complete = steps.some((s) => s.kind === "answer");
    return {firstErrorStep, finalAnswerCorrect, answer, expected, complete, correct: firstErrorStep < 0 && complete && finalAnswerCorrect, steps};
}

// ---------------------------------------------------------------------------------------------
// Mapping line verdicts to other step boundaries.

/**
 * Which character of the first wrong line decides the first wrong segment:
 * - `decided` (default): the step's `decidedAt` (where its error becomes certain);
 * - `line-end`: the last character of the first wrong line.
 */
export type AnchorRule = "decided" | "line-end";

/** Result of {@link labelSegments}. */
export interface SegmentLabels {
    /** Per segment: true = correct, false = the first wrong segment, null = after it (not judged). */
    labels: Array<boolean | null>;
    /** Index of the first wrong segment, or -1. */
    firstErrorSegment: number;
    /** The anchor character offset used, or null when no step is wrong. */
    anchor: number | null;
}

/** Segment end offsets of consecutive segment texts (which concatenate to the verified text). */
export function segmentEndsFromTexts(parts: readonly string[]): number[] {
    const ends: number[] = [];
    let at = 0;
    for (const p of parts) {
        at += p.length;
        ends.push(at);
    }
    return ends;
}

/**
 * Map a line-level verdict to arbitrary segments of the same text (e.g. steps cut by another
 * splitter, anywhere, even mid-line). Segment i covers the characters [ends[i-1] (0 for i = 0),
 * ends[i]).
 *
 * Rule: take the anchor character of the first wrong line (see {@link AnchorRule}); the segment
 * that contains it is the first wrong segment; every segment before it is correct, every segment
 * after it is not judged (null). With no wrong step, or an anchor beyond the last segment (the
 * segments cover only a prefix that is still correct), every segment is correct and the index is
 * -1. Throws a StepwiseError if `ends` is not a non-decreasing list of offsets ≥ 0.
 */
export function labelSegments(verdict: ProcessVerdict, ends: readonly number[], rule: AnchorRule = "decided"): SegmentLabels {
    for (let i = 0; i < ends.length; i++)
        if (!Number.isInteger(ends[i]) || ends[i] < 0 || (i > 0 && ends[i] < ends[i - 1]))
            throw new StepwiseError(`labelSegments: segment ends must be non-decreasing integer offsets ≥ 0 (at ${i}: ${ends[i]})`);
    const labels: Array<boolean | null> = ends.map(() => true);
    if (verdict.firstErrorStep < 0) return {labels, firstErrorSegment: -1, anchor: null};
    const step = verdict.steps[verdict.firstErrorStep];
    const anchor = rule === "line-end" ? step.end - 1 : step.decidedAt ?? step.end - 1;
    const seg = ends.findIndex((e) => anchor < e);
    if (seg < 0) return {labels, firstErrorSegment: -1, anchor};
    for (let i = seg; i < labels.length; i++) labels[i] = i === seg ? false : null;
    return {labels, firstErrorSegment: seg, anchor};
}
