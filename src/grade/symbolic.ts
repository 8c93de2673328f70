/**
 * The slow symbolic path: answers the fast path could not parse or evaluate are handed to the
 * Cortex Compute Engine (`@cortex-js/compute-engine`), which parses far more LaTeX. Its
 * `isEqual` decides many pairs; when it returns `undefined` (identities such as
 * `x^2+2x+1` vs `(x+1)^2`) both sides are evaluated at a few random points instead.
 *
 * Inputs are bounded in length and the caller passes a deadline, so this path cannot run away.
 */
import type {ComputeEngine} from "@cortex-js/compute-engine";
import {loadPackageSync} from "../util/lazy.ts";
import {SeededRandom} from "./random.ts";

type Boxed = ReturnType<ComputeEngine["parse"]>;

/** Longest answer (characters) the symbolic path accepts. */
export const MAX_SYMBOLIC_LENGTH = 400;

let engine: ComputeEngine | null = null;

/** Run a compute-engine call with console output silenced (it reports some parse errors on stderr). */
function quiet<T>(f: () => T): T {
    const saved = [console.error, console.warn, console.log, console.info];
    const mute = () => {};
    console.error = console.warn = console.log = console.info = mute;
    try {
        return f();
    } finally {
        [console.error, console.warn, console.log, console.info] = saved;
    }
}

/** The engine, loaded on first use: the package takes a few hundred milliseconds to load. */
function ce(): ComputeEngine {
    engine ??= new (loadPackageSync<typeof import("@cortex-js/compute-engine")>("@cortex-js/compute-engine").ComputeEngine)();
    return engine;
}

/** Outcome of {@link symbolicEqual}: a verdict, or undefined when the engine could not decide. */
export interface SymbolicVerdict {
    equal: boolean | undefined;
    reason?: string;
}

/**
 * Compare two normalised LaTeX answers with the compute engine.
 * @param tolerance relative tolerance of the random-point comparison
 * @param deadline `performance.now()` value after which no more work is started
 */
export function symbolicEqual(a: string, b: string, tolerance: number, deadline: number): SymbolicVerdict {
    if (a.length > MAX_SYMBOLIC_LENGTH || b.length > MAX_SYMBOLIC_LENGTH) return {equal: undefined, reason: "answer too long for the symbolic path"};
    // Outside the try: a package that cannot load is an error, not an undecided pair. Loading it
    // on the first call does not count against this comparison's time limit.
    const loadStart = performance.now();
    const engine = ce();
    deadline += performance.now() - loadStart;
    let A: Boxed;
    let B: Boxed;
    try {
        A = quiet(() => engine.parse(a));
        B = quiet(() => engine.parse(b));
    } catch (e) {
        return {equal: undefined, reason: `symbolic parser failed: ${(e as Error).message}`};
    }
    if (!A.isValid || !B.isValid) return {equal: undefined, reason: "symbolic parser could not read the answer"};
    if (performance.now() > deadline) return {equal: undefined, reason: "time limit"};
    try {
        const direct = quiet(() => A.isEqual(B));
        if (direct !== undefined) return {equal: direct};
    } catch {
        // fall through to numeric sampling
    }
    return sampleEqual(A, B, tolerance, deadline);
}

function sampleEqual(A: Boxed, B: Boxed, tolerance: number, deadline: number): SymbolicVerdict {
    const vars = [...new Set([...A.unknowns, ...B.unknowns])];
    if (vars.length > 8) return {equal: undefined, reason: "too many variables"};
    const rng = new SeededRandom(12345);
    let agreed = 0;
    for (let k = 0; k < 6; k++) {
        if (performance.now() > deadline) return {equal: undefined, reason: "time limit"};
        const sub: Record<string, number> = {};
        for (const v of vars) sub[v] = rng.sample();
        let x: number;
        let y: number;
        try {
            x = quiet(() => A.subs(sub).N().re);
            y = quiet(() => B.subs(sub).N().re);
        } catch {
            return {equal: undefined, reason: "symbolic evaluation failed"};
        }
        if (!Number.isFinite(x) || !Number.isFinite(y)) {
            if (Number.isNaN(x) !== Number.isNaN(y)) return {equal: false};
            continue;
        }
        if (Math.abs(x - y) > tolerance * Math.max(1, Math.abs(x), Math.abs(y))) return {equal: false};
        agreed++;
    }
    return agreed >= 2 ? {equal: true} : {equal: undefined, reason: "no point where both sides evaluate"};
}
