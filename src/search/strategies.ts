/** Every strategy by its CLI name. */
import {greedy} from "./greedy.ts";
import {tvd} from "./tvd.ts";
import {bestOfNDecode} from "./best-of-n.ts";
import {weightedVoteDecode} from "./weighted-vote.ts";
import {beamSearch} from "./beam.ts";
import {dvts} from "./dvts.ts";
import type {Strategy, StrategyName} from "./types.ts";

export const STRATEGY_FUNCTIONS: Readonly<Record<StrategyName, Strategy>> = {
    greedy,
    tvd,
    "best-of-n": bestOfNDecode,
    "weighted-vote": weightedVoteDecode,
    beam: beamSearch,
    dvts,
};
