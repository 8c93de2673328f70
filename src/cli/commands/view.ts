/** `stepwise view`: the viewer over stepwise files, served locally or exported as static files. */
import type {Command} from "@commander-js/extra-typings";
import {resolve} from "node:path";
import {intOption} from "../options.ts";
import {claimSignals} from "../../io/process-end.ts";
import {plural} from "../../util/plural.ts";

export function register(program: Command): void {
    program
        .command("view")
        .description("look at stepwise files in a browser: tokens coloured by confidence, a τ slider that re-splits, steps with MC labels, PRM scores, judge verdicts, Best-of-N rankings, TVD interventions")
        .argument("<files...>", "JSONL files of any stage (samples, steps, labels, scores, decode, judge), or ProcessBench .json files; records are joined by id; a pipe (<(…), /dev/stdin) is read into memory, up to 512 MiB")
        .option("--port <port>", "port to serve on (0 = any free port)", intOption(0, 65535), 0)
        .option("--host <host>", "address to bind (loopback by default: the page shows your data to whoever can reach it); requests must name this address, localhost, 127.0.0.1 or [::1] with the port in their Host header (bound to 0.0.0.0 or ::, also any IP address or this machine's name); others get 403", "127.0.0.1")
        .option("--tau <p>", "τ to start the slider at (default: the τ recorded by an adaptive split, else 0.5)", parseFloat)
        .option("--export <dir>", "write the page as static files into DIR (open DIR/index.html, no server) instead of serving. DIR must be new, empty, or a previous export (marked by DIR/.stepwise-view-export.json, which lists the files written: only those are replaced), and must not hold an input file")
        .addHelpText(
            "after",
            `
What it shows, per record id (join of all files given):
  tokens coloured by confidence; a τ slider re-splits live (a step ends after each token below τ);
  steps of every split in the files, with MC hard/soft labels, rollouts (click a step), PRM scores,
  the judge's and the true first error; Best-of-N candidates of the question ranked by each
  aggregation (min, max, mean, product, last); TVD interventions with their candidates.
  Filters: wrong answers, low PRM score, MC vs judge disagreement, TVD interventions.
  Long samples show 2,000 tokens (and 300 steps) at a time, with "show more".
  A file rewritten while the viewer runs is indexed again at the next request.

Examples:
  stepwise view samples.jsonl steps.jsonl labels.jsonl scored.jsonl
  stepwise view stepwise-out/demo-*/samples.jsonl stepwise-out/demo-*/labels-adaptive.jsonl --port 8080
  stepwise view samples.jsonl scored.jsonl --export viewer/      # then open viewer/index.html`,
        )
        .action(async (files, o) => {
            const {ViewStore, startViewer, exportViewer, prepareExport} = await import("../../apps/view/index.ts");
            // The export folder is checked before the (possibly long) indexing.
            if (o.export) prepareExport(resolve(o.export), files);
            const tty = process.stderr.isTTY;
            const store = await ViewStore.open(files, {onProgress: (file, n) => tty && process.stderr.write(`view: indexing ${file}: ${plural(n, "record")}\x1b[K\r`)});
            process.stderr.write(`view: ${plural(store.size, "entry", "entries")} from ${plural(files.length, "file")}\n`);
            if (o.export) {
                const page = exportViewer(store, resolve(o.export), {tau: o.tau});
                console.log(page);
                return;
            }
            const viewer = await startViewer(store, {host: o.host, port: o.port, tau: o.tau});
            console.log(viewer.url);
            process.stderr.write("view: serving (Ctrl-C to stop)\n");
            const stop = async () => {
                await viewer.close();
                process.exit(0);
            };
            claimSignals(); // stop() ends the process once the server has shut down
            process.once("SIGINT", stop);
            process.once("SIGTERM", stop);
        });
}
