/**
 * ProcessBench with a judge (LLM-as-a-judge or a generative critic such as the lab judge): the
 * judge's voted first wrong step is the prediction, scored exactly as a PRM's (acc_error,
 * acc_correct, F1 per split). A solution without a verdict (a tie or no parsable answer) is
 * predicted {@link NO_VERDICT}, which never equals a label: it counts as wrong.
 */
import type {Engine} from "../../engines/types.ts";
import type {Lazy} from "../../core/stage.ts";
import {judgeSolutions, type JudgeSettings, type JudgeSummary} from "../../judge/judge.ts";
import type {ProcessSplit} from "./load.ts";
import {sampleKey, type SampleInputs} from "./evaluate.ts";

/** The prediction recorded for a solution the judge gave no verdict on. */
export const NO_VERDICT = -2;

/**
 * Judge every sample of every split; verdicts are cached in `cacheFile` (ids `<split>/<id>`), so
 * an interrupted run resumes (a resumable stage: other settings refused). A lazy `engine` is made
 * after the cache's checks and closed at the end. Returns predictions keyed like `--predictions` input;
 * with `skipTooLong`, samples whose prompt does not fit the judge's context have none and are
 * listed in the summary's `tooLong` (a re-run tries them again).
 */
export async function judgeProcessSplits(
    splits: readonly ProcessSplit[],
    engine: Lazy<Engine>,
    o: JudgeSettings & {engineSpec: string; cacheFile?: string; concurrency?: number; skipTooLong?: boolean; onProgress?: (done: number, total: number) => void},
): Promise<{predictions: SampleInputs<number>; summary: JudgeSummary}> {
    const inputs = splits.flatMap((split) => split.samples.map((s) => ({id: `${split.name}/${s.id}`, question: s.problem, steps: s.steps, split: split.name, sampleId: s.id, where: s.where})));
    const {verdicts, summary} = await judgeSolutions(inputs, {...o, engine, out: o.cacheFile});
    const predictions: SampleInputs<number> = new Map();
    // Matched by id: with skipTooLong, samples too long for the judge have no verdict.
    const byId = new Map(inputs.map((x) => [x.id, x]));
    for (const v of verdicts) {
        const x = byId.get(String(v.id));
        if (x) predictions.set(sampleKey(x.split, x.sampleId), {value: v.first_error ?? NO_VERDICT, where: x.where});
    }
    return {predictions, summary};
}
