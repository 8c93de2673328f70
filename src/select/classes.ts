/**
 * Answer equivalence classes of one question's candidates, computed once so that every later
 * step (majority votes over thousands of random subsets) works on small integer arrays.
 *
 * A grader's "equal" need not be transitive (`0.33` ≈ `1/3` at some precision, `1/3` ≈ `0.333`,
 * but `0.33` ≠ `0.333`), so classes are the connected components of the "equal" relation
 * (a union-find over answers): two answers share a class when a chain of equal answers links them.
 * Identical answer strings (after trimming) are compared once. A candidate without an answer
 * gets class −1: it never votes.
 *
 * With verdicts (`correct`), classes are then split by correctness, so every candidate of a class
 * has the same verdict even when the grader's chains or precomputed `correct` flags disagree with
 * the components (Best-of-N evaluation). Without them (a decoder, which knows no gold answer),
 * classes are the components. Classes are numbered in candidate order (class 0 holds candidate
 * 0's answer, …), so a vote's "first-seen" tie rule can compare class numbers.
 */

/** The answer structure of one question: per-candidate class and correctness. */
export interface AnswerClasses {
    /** Class of each candidate, 0..count-1, or −1 when the candidate has no answer. */
    classOf: Int32Array;
    /** Whether each class is a correct answer (all 0 when no verdicts were given). */
    classCorrect: Uint8Array;
    /** Number of classes. */
    count: number;
}

/** Disjoint sets over 0..n-1 with path halving and union by size. */
class UnionFind {
    private parent: Int32Array;
    private size: Int32Array;
    constructor(n: number) {
        this.parent = Int32Array.from({length: n}, (_, i) => i);
        this.size = new Int32Array(n).fill(1);
    }
    find(x: number): number {
        const p = this.parent;
        while (p[x] !== x) {
            p[x] = p[p[x]];
            x = p[x];
        }
        return x;
    }
    union(a: number, b: number): void {
        let ra = this.find(a);
        let rb = this.find(b);
        if (ra === rb) return;
        if (this.size[ra] < this.size[rb]) [ra, rb] = [rb, ra];
        this.parent[rb] = ra;
        this.size[ra] += this.size[rb];
    }
}

/**
 * Group answers into equivalence classes.
 *
 * @param answers one extracted answer per candidate (null: no answer).
 * @param correct one verdict per candidate, or null (no verdicts: classes are not split).
 * @param equal the grader's equivalence of two answers (called on distinct trimmed strings only,
 *   at most once per pair, and never on a pair already linked by earlier calls).
 */
export function answerClasses(answers: ReadonlyArray<string | null>, correct: ArrayLike<boolean | number> | null, equal: (a: string, b: string) => boolean): AnswerClasses {
    if (correct !== null && correct.length !== answers.length) throw new RangeError(`answerClasses: ${answers.length} answers but ${correct.length} verdicts`);
    // Distinct answer strings.
    const distinct: string[] = [];
    const indexOf = new Map<string, number>();
    const distinctOf = new Int32Array(answers.length).fill(-1);
    answers.forEach((a, i) => {
        if (a === null) return;
        const key = a.trim();
        let d = indexOf.get(key);
        if (d === undefined) {
            d = distinct.length;
            distinct.push(key);
            indexOf.set(key, d);
        }
        distinctOf[i] = d;
    });
    const uf = new UnionFind(distinct.length);
    for (let i = 1; i < distinct.length; i++)
        for (let j = 0; j < i; j++) if (uf.find(i) !== uf.find(j) && equal(distinct[i], distinct[j])) uf.union(i, j);
    // Number the (component, verdict) pairs in candidate order.
    const classOf = new Int32Array(answers.length).fill(-1);
    const ids = new Map<number, number>();
    const verdicts: number[] = [];
    for (let i = 0; i < answers.length; i++) {
        if (distinctOf[i] < 0) continue;
        const ok = correct !== null && correct[i] ? 1 : 0;
        const key = uf.find(distinctOf[i]) * 2 + ok;
        let c = ids.get(key);
        if (c === undefined) {
            c = verdicts.length;
            verdicts.push(ok);
            ids.set(key, c);
        }
        classOf[i] = c;
    }
    return {classOf, classCorrect: Uint8Array.from(verdicts), count: verdicts.length};
}
