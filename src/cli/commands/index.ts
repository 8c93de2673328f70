/** The list of CLI commands, in the order `stepwise --help` shows them. */
import type {Command} from "commander";
import {register as sample} from "./sample.ts";
import {register as serve} from "./serve.ts";

export const commands: Array<(program: Command) => void> = [sample, serve];
