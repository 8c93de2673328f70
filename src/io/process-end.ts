/**
 * Cleanup when this process ends, shared by the lock files (src/io/lock.ts) and the temporary
 * files of atomic writes (src/io/atomic.ts): one exit hook and one SIGINT/SIGTERM hook for the
 * whole process, whatever registers.
 */

const callbacks = new Set<() => void>();
let hooked = false;

function runAll(): void {
    for (const fn of callbacks) {
        try {
            fn();
        } catch {
            /* cleanup must not stop the other cleanups */
        }
    }
}

let claims = 0;

/**
 * A graceful shutdown (`stepwise serve`, `view`) takes over SIGINT/SIGTERM: after the cleanups the
 * process is not signalled again, and the caller ends it (process.exit) when it has shut down.
 * A program that uses the library and has its own SIGINT/SIGTERM handler (to save its state)
 * calls this too; otherwise the first SIGINT/SIGTERM after a stepwise lock or atomic write ends
 * the process once the cleanups have run. Returns the release.
 */
export function claimSignals(): () => void {
    claims++;
    let released = false;
    return () => {
        if (!released) claims--;
        released = true;
    };
}

/**
 * Run `fn` when the process exits, or on SIGINT/SIGTERM; after a signal the process then takes
 * the signal's default action (it terminates) unless a graceful shutdown claimed the signals
 * ({@link claimSignals}). Other libraries' listeners do not keep it alive: a listener that
 * re-sends the signal only when it is alone (npm `signal-exit`, which tsx loads) and this hook,
 * each deferring to the other, once swallowed SIGTERM, and a killed training ran on.
 * Registering the same function twice runs it once. Returns the unregistration (for a callback
 * whose work is over before the process ends, so it is not kept alive).
 */
export function onProcessEnd(fn: () => void): () => void {
    callbacks.add(fn);
    const off = () => void callbacks.delete(fn);
    if (hooked) return off;
    hooked = true;
    process.once("exit", runAll);
    for (const sig of ["SIGINT", "SIGTERM"] as const)
        process.once(sig, () => {
            runAll();
            if (claims === 0) process.kill(process.pid, sig);
        });
    return off;
}

/** Whether a process with this id exists (a process of another user counts as existing). */
export function pidExists(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code !== "ESRCH";
    }
}
