/**
 * Progress reporting for long CLI runs: a cli-progress bar on a terminal, and plain periodic
 * lines (every 10% or 30 s) when stderr is not a terminal (CI logs, nohup).
 */
import cliProgress from "cli-progress";

export interface Progress {
    update(done: number, total: number): void;
    stop(): void;
}

export function createProgress(label: string, options: {quiet?: boolean} = {}): Progress {
    if (options.quiet) return {update() {}, stop() {}};
    if (process.stderr.isTTY) {
        const bar = new cliProgress.SingleBar(
            {format: `${label} [{bar}] {value}/{total} {percentage}% | eta {eta_formatted} | {duration_formatted}`, stream: process.stderr, hideCursor: true},
            cliProgress.Presets.shades_classic,
        );
        let started = false;
        return {
            update(done, total) {
                if (!started) {
                    bar.start(total, done);
                    started = true;
                } else {
                    bar.setTotal(total);
                    bar.update(done);
                }
            },
            stop() {
                if (started) bar.stop();
            },
        };
    }
    const t0 = Date.now();
    let lastShown = -1;
    let lastTime = 0;
    return {
        update(done, total) {
            const pct = total ? Math.floor((done / total) * 10) : 0;
            const now = Date.now();
            if (pct !== lastShown || now - lastTime > 30_000 || done === total) {
                if (done === total && lastShown === 10) return;
                lastShown = done === total ? 10 : pct;
                lastTime = now;
                const elapsed = (now - t0) / 1000;
                const eta = done > 0 ? ((total - done) * elapsed) / done : NaN;
                process.stderr.write(`${label}: ${done}/${total} (${total ? ((100 * done) / total).toFixed(0) : 0}%) elapsed ${elapsed.toFixed(0)}s${Number.isFinite(eta) ? ` eta ${eta.toFixed(0)}s` : ""}\n`);
            }
        },
        stop() {},
    };
}

/** Progress of a workflow with named stages (`onProgress(stage, done, total)`): one bar per stage, labelled `<label>: <stage>`. */
export function createStagedProgress(label: string, options: {quiet?: boolean} = {}): {update(stage: string, done: number, total: number): void; stop(): void} {
    let current: {stage: string; progress: Progress} | undefined;
    return {
        update(stage, done, total) {
            if (current?.stage !== stage) {
                current?.progress.stop();
                current = {stage, progress: createProgress(`${label}: ${stage}`, options)};
            }
            current.progress.update(done, total);
        },
        stop() {
            current?.progress.stop();
            current = undefined;
        },
    };
}
