/**
 * Diverse Verifier Tree Search, as HF search-and-learn's `dvts` runs it: N / M independent
 * subtrees (beam width M = 4), each a greedy search over steps. At every iteration a subtree's
 * beam is expanded M times (one generate call, n = M), the PRM scores the M children, and the
 * best by config.beamAggregation (default "last"; ties: the first child) replaces the beam. A
 * subtree stops when its beam ends (EOS, stop string, out of tokens, empty step); the last
 * iteration generates to the end.
 *
 * The pool (config.dvtsPool): `"siblings"` (default, search-and-learn) holds all M children of each
 * subtree's last expansion, N candidates; `"best"` holds the child each subtree kept. The answer
 * is the best of the pool by config.beamAggregation, finished candidates first unless
 * config.allowUnfinished (search-and-learn takes the plain argmax, i.e. allowUnfinished). With
 * one aggregation for both choices the two pools give the same argmax; they differ when the
 * best child of a subtree is unfinished and a sibling is finished.
 *
 * Not done here (search-and-learn does it): scoring each child with a one-step greedy lookahead
 * (its `lookahead` 1), and stopping a subtree once its text holds "boxed{".
 *
 * At a context end (the policy's, or a child's PRM input longer than the PRM's context) a subtree
 * ends unfinished as a beam does (./beam.ts); an unscored child is kept only when no child has a score.
 */
import {result, requirePrm} from "./common.ts";
import {Meter} from "./prm.ts";
import {beamScore, emptyBeam, expandAndScore, lastScore, pickFinal, type Beam} from "./beam.ts";
import {resolveConfig, type DecodeResult, type SearchContext, type SearchProblem, type TraceEvent} from "./types.ts";

export async function dvts(problem: SearchProblem, ctx: SearchContext): Promise<DecodeResult> {
    const config = resolveConfig(ctx.config);
    const prm = requirePrm(ctx, "dvts");
    const meter = new Meter();
    const trace: TraceEvent[] = [];
    const trees = Math.max(1, Math.floor(config.n / config.beamWidth));
    const beams: Beam[] = Array.from({length: trees}, emptyBeam);
    // The children of each subtree's last expansion (search-and-learn's output: previous_text + next_texts[i]).
    const siblings: Beam[][] = Array.from({length: trees}, () => []);
    for (let it = 0; it < config.maxSteps; it++) {
        const live = beams.map((b, t) => ({b, t})).filter((x) => !x.b.done);
        if (!live.length) break;
        // All live subtrees expand concurrently; each keeps its own best child.
        await Promise.all(
            live.map(async ({b, t}) => {
                const children = await expandAndScore(problem, ctx, prm, config, meter, [b], config.beamWidth, ["dvts", t, it], it === config.maxSteps - 1);
                let best = 0;
                for (let c = 1; c < children.length; c++) if (beamScore(children[c].beam, config) > beamScore(children[best].beam, config)) best = c;
                beams[t] = children[best].beam;
                siblings[t] = children.map((c) => c.beam);
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
    const pool = config.dvtsPool === "siblings" ? siblings.flat() : beams;
    const {beam, finished} = pickFinal(pool.length ? pool : beams, config);
    return result("dvts", beam.text, finished, meter, trace, ctx, beam.contextEnd ? {context_end: beam.contextEnd} : {});
}
