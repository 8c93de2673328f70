/**
 * Step-level beam search with a PRM (HF search-and-learn `beam_search`, its defaults: N beams,
 * beam width M = 4, at most 40 iterations, temperature 0.8, steps ending at "\n\n" there and at
 * adaptive decision tokens by default here).
 *
 * Every iteration each of the N live beams grows by one sampled step; every beam is scored by
 * the PRM (all its steps, one input each) and ranked by its last step's score (search-and-learn's
 * agg "last": the PRM's value of the prefix). Beams that ended (EOS, a stop string, out of
 * tokens, or an empty step) are set aside as completed; of the others the best N / M survive and
 * each is expanded M times (one generate call with n = M, the prefix evaluated once). The last
 * iteration generates to the end. The answer is the completed beam with the best aggregated step
 * scores (config.aggregation), finished beams first (see Best-of-N).
 *
 * The context ends: a beam whose prompt plus text fills the policy's context ends there
 * (truncated, unfinished; ./step.ts); a child whose PRM input is longer than the PRM's context
 * gets no score for its new step ({@link Beam.unscored}: ranked below every scored child, its
 * trace score null) and ends there, truncated and unfinished, keeping its earlier steps' scores.
 */
import {aggregate} from "../select/aggregate.ts";
import {isFinishedSolution, problemSeed, requirePrm, result} from "./common.ts";
import {Meter, type SearchPrm} from "./prm.ts";
import {generateSteps, isFinal, type Piece} from "./step.ts";
import {selectBestOfN} from "../select/best-of-n.ts";
import {blankRule, splitStepTexts} from "../steps/index.ts";
import {resolveConfig, stepRuleOf, type BeamIteration, type DecodeResult, type SearchConfig, type SearchContext, type SearchProblem, type TraceEvent} from "./types.ts";

/** A partial or complete solution in a search. */
export interface Beam {
    steps: string[];
    text: string;
    tokens: number;
    scores: number[];
    done: boolean;
    /** Ended by the token budget or a context end rather than EOS / a stop string. */
    truncated: boolean;
    /** Its last step has no PRM score: the PRM input was longer than the PRM's context (the beam is done, truncated). */
    unscored?: boolean;
    /** Why it ended early, when a context did it: "policy" (prompt + text filled it) or "prm" ({@link unscored}). */
    contextEnd?: "policy" | "prm";
}

export const emptyBeam = (): Beam => ({steps: [], text: "", tokens: 0, scores: [], done: false, truncated: false});

/**
 * Grow a beam by one generated piece (a beam that gets an empty piece is done). The piece is cut
 * by src/steps with the decoders' rule ({@link stepRuleOf}), as `stepwise split` would cut it: a
 * step piece is one step, a piece generated to the end (the last iteration) is as many steps as
 * it holds, and under a delimiter a blank piece joins the step before it.
 */
export function extend(beam: Beam, piece: Piece, config: SearchConfig): Beam {
    const tokens = beam.tokens + piece.tokens.length;
    const empty = piece.text === "";
    const truncated = piece.end === "length" || (!isFinal(piece.end) && tokens >= config.maxTokens);
    const rule = stepRuleOf(config);
    // A piece cut by a stop string holds the delimiter without its tokens: it is one step as it is.
    const parts = piece.tokens.map((t) => t.text).join("") === piece.text ? splitStepTexts(piece, rule) : [piece.text];
    const steps = [...beam.steps];
    for (const part of parts) {
        if (steps.length && blankRule(rule) === "merge" && part.trim() === "") steps[steps.length - 1] += part;
        else steps.push(part);
    }
    return {
        steps: empty ? beam.steps : steps,
        text: beam.text + piece.text,
        tokens,
        scores: beam.scores,
        done: empty || isFinal(piece.end) || truncated,
        truncated,
        // Cut short of the token budget: the engine stopped it at the policy's context end.
        ...(piece.contextEnd || (piece.end === "length" && tokens < config.maxTokens) ? {contextEnd: "policy" as const} : {}),
    };
}

/** Grow each parent by `width` sampled steps (one generate call per parent) and score every child. */
export async function expandAndScore(
    problem: SearchProblem,
    ctx: SearchContext,
    prm: SearchPrm,
    config: SearchConfig,
    meter: Meter,
    parents: Beam[],
    width: number,
    seedParts: Array<string | number>,
    last: boolean,
): Promise<Array<{parent: number; beam: Beam}>> {
    const grown = await Promise.all(
        parents.map(async (p, pi) => {
            const pieces = await generateSteps(ctx, config, meter, {
                prompt: problem.prompt + p.text,
                n: width,
                temperature: config.temperature,
                seed: problemSeed(config, problem, ...seedParts, pi),
                budget: config.maxTokens - p.tokens,
                toEnd: last,
                response: p.text,
            });
            return pieces.map((piece) => ({parent: pi, beam: extend(p, piece, config)}));
        }),
    );
    const children = grown.flat();
    const scores = await prm.tryScoreMany(
        problem.question,
        children.map((c) => c.beam.steps),
        meter,
    );
    children.forEach((c, i) => {
        const s = scores[i];
        if (s) c.beam.scores = s;
        else c.beam = {...c.beam, scores: parents[c.parent].scores, done: true, truncated: true, unscored: true, contextEnd: "prm"};
    });
    return children;
}

/** Last-step score of a beam (0 when it has no step, −∞ when its last step has no score: {@link Beam.unscored}). */
export const lastScore = (b: Beam): number => (b.unscored ? -Infinity : b.scores.length ? b.scores[b.scores.length - 1] : 0);

/** Pick the final beam among completed ones: finished first (unless allowed), then the best aggregated score. */
export function pickFinal(beams: Beam[], config: SearchConfig): {beam: Beam; finished: boolean} {
    const finished = beams.map((b) => isFinishedSolution(b.text, b.truncated));
    const scores = beams.map((b) => aggregate(b.scores, config.aggregation));
    const best = selectBestOfN(scores, {ties: "first", finished, unfinished: config.allowUnfinished ? "allow" : "fallback"});
    return {beam: beams[best], finished: finished[best]};
}

export async function beamSearch(problem: SearchProblem, ctx: SearchContext): Promise<DecodeResult> {
    const config = resolveConfig(ctx.config);
    const prm = requirePrm(ctx, "beam");
    const meter = new Meter();
    const trace: TraceEvent[] = [];
    const keep = Math.max(1, Math.floor(config.n / config.beamWidth));
    const completed: Beam[] = [];
    // Iteration 0: N independent first steps from the prompt (search-and-learn starts with N beams).
    let parents: Beam[] = [emptyBeam()];
    let width = config.n;
    for (let it = 0; it < config.maxSteps && parents.length; it++) {
        const children = await expandAndScore(problem, ctx, prm, config, meter, parents, width, ["beam", it], it === config.maxSteps - 1);
        const live = children.filter((c) => !c.beam.done);
        for (const c of children) if (c.beam.done) completed.push(c.beam);
        const survivors = new Set([...live].sort((a, b) => lastScore(b.beam) - lastScore(a.beam)).slice(0, keep));
        const event: BeamIteration = {
            type: "beam",
            iteration: it,
            tree: 0,
            candidates: children.map((c) => ({parent: c.parent, step: c.beam.steps.at(-1) ?? "", score: c.beam.unscored ? NaN : lastScore(c.beam), done: c.beam.done, kept: c.beam.done || survivors.has(c)})),
        };
        trace.push(event);
        if (completed.length >= config.n) break;
        parents = [...survivors].map((c) => c.beam);
        width = config.beamWidth;
    }
    const pool = completed.length ? completed : parents;
    const {beam, finished} = pickFinal(pool, config);
    return result("beam", beam.text, finished, meter, trace, ctx, beam.contextEnd ? {context_end: beam.contextEnd} : {});
}
