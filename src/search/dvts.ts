/**
 * Diverse Verifier Tree Search (HF search-and-learn `dvts`): N / M independent subtrees (beam
 * width M = 4), each a greedy search over steps: at every iteration a subtree's beam is expanded
 * M times (one generate call, n = M), the PRM scores the M children, and the one with the best
 * last-step score replaces the beam. A subtree stops when its beam ends (EOS, stop string, out of
 * tokens, empty step); the last iteration generates to the end. The answer is the best subtree
 * result by aggregated step scores (config.aggregation), finished ones first. At a context end
 * (the policy's, or a child's PRM input longer than the PRM's context) a subtree ends
 * unfinished as a beam does (./beam.ts); an unscored child is kept only when no child has a score.
 */
import {result, requirePrm} from "./common.ts";
import {Meter} from "./prm.ts";
import {emptyBeam, expandAndScore, lastScore, pickFinal, type Beam} from "./beam.ts";
import {resolveConfig, type DecodeResult, type SearchContext, type SearchProblem, type TraceEvent} from "./types.ts";

export async function dvts(problem: SearchProblem, ctx: SearchContext): Promise<DecodeResult> {
    const config = resolveConfig(ctx.config);
    const prm = requirePrm(ctx, "dvts");
    const meter = new Meter();
    const trace: TraceEvent[] = [];
    const trees = Math.max(1, Math.floor(config.n / config.beamWidth));
    const beams: Beam[] = Array.from({length: trees}, emptyBeam);
    for (let it = 0; it < config.maxSteps; it++) {
        const live = beams.map((b, t) => ({b, t})).filter((x) => !x.b.done);
        if (!live.length) break;
        // All live subtrees expand concurrently; each keeps its own best child.
        await Promise.all(
            live.map(async ({b, t}) => {
                const children = await expandAndScore(problem, ctx, prm, config, meter, [b], config.beamWidth, ["dvts", t, it], it === config.maxSteps - 1);
                let best = 0;
                for (let c = 1; c < children.length; c++) if (lastScore(children[c].beam) > lastScore(children[best].beam)) best = c;
                beams[t] = children[best].beam;
                trace.push({
                    type: "beam",
                    iteration: it,
                    tree: t,
                    candidates: children.map((c, k) => ({parent: 0, step: c.beam.steps.at(-1) ?? "", score: c.beam.unscored ? NaN : lastScore(c.beam), done: c.beam.done, kept: k === best})),
                });
            }),
        );
    }
    trace.sort((a, b) => (a.type === "beam" && b.type === "beam" ? a.iteration - b.iteration || a.tree - b.tree : 0));
    const {beam, finished} = pickFinal(beams, config);
    return result("dvts", beam.text, finished, meter, trace, ctx, beam.contextEnd ? {context_end: beam.contextEnd} : {});
}
