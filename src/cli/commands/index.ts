/** The list of CLI commands, in the order `stepwise --help` shows them. */
import type {Command} from "@commander-js/extra-typings";
import {register as demo} from "./demo.ts";
import {register as sample} from "./sample.ts";
import {register as serve} from "./serve.ts";
import {register as label} from "./label.ts";
import {register as score} from "./score.ts";
import {register as trainPrm} from "./train-prm.ts";
import {register as pairPrm} from "./pair-prm.ts";
import {register as labelBranches} from "./label-branches.ts";
import {register as grade} from "./grade.ts";
import {register as evalCmd} from "./eval.ts";
import {register as threshold} from "./threshold.ts";
import {register as split} from "./split.ts";
import {register as stats} from "./stats.ts";
import {register as exportCmd} from "./export.ts";
import {register as view} from "./view.ts";
import {labCommand} from "./lab.ts";
import {register as judge} from "./judge.ts";
import {register as filter} from "./filter.ts";
import {evalPolicyCommand, evalPrmCommand} from "./lab-eval.ts";
import {registerLabTraining} from "./lab-train.ts";
import {trainJudgeCommand, labProcessBenchCommand} from "./lab-judge.ts";

function lab(program: Command): void {
    const group = labCommand();
    registerLabTraining(group);
    group.addCommand(evalPolicyCommand());
    group.addCommand(evalPrmCommand());
    group.addCommand(trainJudgeCommand());
    group.addCommand(labProcessBenchCommand());
    program.addCommand(group);
}

export const commands: Array<(program: Command) => void> = [demo, sample, threshold, split, stats, label, labelBranches, exportCmd, trainPrm, pairPrm, score, evalCmd, grade, serve, view, lab];
import {register as decode} from "./decode.ts";
commands.push(decode);
import {register as code} from "./code.ts";
commands.push(code);
commands.push(judge, filter);
