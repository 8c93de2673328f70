/**
 * Synthetic wrong restatements of lab solutions: one correct line's remaining expression (the
 * part after `, so `) edited the way the lab policy gets it wrong — a digit changed, doubled or
 * dropped (`111` for `11`), an operator swapped (`+` for `-`), a pair of parentheses dropped —
 * kept only when the exact process verifier ({@link verifyProcess}) then finds that line to be the
 * first wrong one, for the reason `wrong-restatement`.
 *
 * Why: in the policy's own samples a wrong restatement is the first error of about 14 % of the
 * wrong solutions, so a verifier trained on them can copy the step's restatement into its check
 * and be right on nearly every item; the shipped lab verifier caught 3 of 36 wrong restatements on
 * a held-out set (docs/judge.md). Synthetic errors of that kind, added to its training data,
 * make copying the step's restatement a losing strategy (`lab train-judge
 * --synthetic-restatements`). The idea of training a critic on errors made by perturbing correct
 * steps is PRMBench's (arXiv 2501.03124, §3) and Math-Shepherd-free data pipelines'; the edits
 * here are the ones seen in the lab policy's own wrong restatements.
 *
 * Nothing here throws on model text: a solution without a correct restated line, or whose edits
 * all fail the check, gives null.
 */
import type {Rng} from "../../util/rng.ts";
import {RESTATE_SEPARATOR} from "./format.ts";
import {verifyProcess, type LabProblemLike} from "./verify.ts";

/** The edits {@link perturbRestatement} draws from, each equally likely. */
export const RESTATEMENT_EDITS = ["digit", "extra-digit", "dropped-digit", "operator", "parentheses"] as const;
export type RestatementEdit = (typeof RESTATEMENT_EDITS)[number];

/** One replacement in a text: `removed` characters from offset `at` replaced by `inserted`. */
export interface TextEdit {
    at: number;
    removed: number;
    inserted: string;
}

/** A solution with one wrong restatement. */
export interface RestatementPerturbation {
    /** The edited solution. */
    text: string;
    /** The edit, in offsets of the original text. */
    edit: TextEdit;
    /** Index of the edited line among the solution's lines (verifyProcess's step index); the new first wrong line. */
    line: number;
    kind: RestatementEdit;
}

const OPS = ["+", "-", "*", "/"];

/** An edit of `seg` (a restated expression) of the given kind, offsets relative to `seg`; null when `seg` has nothing to edit that way. */
function editOf(kind: RestatementEdit, seg: string, rng: Rng): TextEdit | null {
    const digits = [...seg].flatMap((c, i) => (c >= "0" && c <= "9" ? [i] : []));
    switch (kind) {
        case "digit": {
            if (!digits.length) return null;
            const at = rng.pick(digits);
            const others = "0123456789".split("").filter((d) => d !== seg[at]);
            return {at, removed: 1, inserted: rng.pick(others)};
        }
        case "extra-digit": {
            if (!digits.length) return null;
            const at = rng.pick(digits);
            return {at, removed: 0, inserted: seg[at]};
        }
        case "dropped-digit": {
            // a digit of a number with two or more digits
            const inLong = digits.filter((i) => (i > 0 && /\d/.test(seg[i - 1])) || /\d/.test(seg[i + 1] ?? ""));
            if (!inLong.length) return null;
            return {at: rng.pick(inLong), removed: 1, inserted: ""};
        }
        case "operator": {
            // binary operators are written with a space on each side; a minus sign of a number is not
            const ops = [...seg].flatMap((c, i) => (OPS.includes(c) && seg[i - 1] === " " && seg[i + 1] === " " ? [i] : []));
            if (!ops.length) return null;
            const at = rng.pick(ops);
            return {at, removed: 1, inserted: rng.pick(OPS.filter((o) => o !== seg[at]))};
        }
        case "parentheses": {
            const pairs: Array<[number, number]> = [];
            const open: number[] = [];
            for (let i = 0; i < seg.length; i++) {
                if (seg[i] === "(") open.push(i);
                else if (seg[i] === ")" && open.length) pairs.push([open.pop()!, i]);
            }
            if (!pairs.length) return null;
            const [a, b] = rng.pick(pairs);
            // one edit spanning both parentheses: the text between them kept
            return {at: a, removed: b - a + 1, inserted: seg.slice(a + 1, b)};
        }
    }
}

/**
 * One correct restated line of `text` (before its first wrong line) given a wrong restatement.
 *
 * Draws a line and an edit kind from `rng`, up to `tries` times (default 8), and returns the first
 * edit after which {@link verifyProcess} finds the edited line to be the first wrong one with reason
 * `wrong-restatement` (an edit that leaves an equal expression, e.g. redundant parentheses, or that
 * makes the line unreadable, is drawn again). Null when no line qualifies or every draw failed.
 */
export function perturbRestatement(problem: LabProblemLike | string, text: string, rng: Rng, tries = 8): RestatementPerturbation | null {
    const verdict = verifyProcess(problem, text);
    const lines = verdict.steps.filter((s) => s.correct === true && s.kind === "equation" && s.text.includes(RESTATE_SEPARATOR));
    if (!lines.length) return null;
    for (let t = 0; t < tries; t++) {
        const line = rng.pick(lines);
        const from = line.start + line.text.indexOf(RESTATE_SEPARATOR) + RESTATE_SEPARATOR.length;
        const to = text[line.end - 1] === "." ? line.end - 1 : line.end;
        const kind = rng.pick(RESTATEMENT_EDITS);
        const rel = editOf(kind, text.slice(from, to), rng);
        if (rel === null) continue;
        const edit = {...rel, at: from + rel.at};
        const out = text.slice(0, edit.at) + edit.inserted + text.slice(edit.at + edit.removed);
        const v = verifyProcess(problem, out);
        if (v.firstErrorStep !== line.index || v.steps[line.index]?.reason !== "wrong-restatement") continue;
        return {text: out, edit, line: line.index, kind};
    }
    return null;
}

/**
 * Offsets of a text moved by an edit: an offset at or before `edit.at` stays, one at or after the
 * edited span's end moves by the length change, one strictly inside the span has no image (null).
 */
export function shiftOffset(offset: number, edit: TextEdit): number | null {
    if (offset <= edit.at) return offset;
    if (offset >= edit.at + edit.removed) return offset + edit.inserted.length - edit.removed;
    return null;
}
