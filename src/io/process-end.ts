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

/**
 * Run `fn` when the process exits, or on SIGINT/SIGTERM; after a signal the process then takes
 * the signal's default action (it terminates) unless some other listener handles that signal.
 * Registering the same function twice runs it once.
 */
export function onProcessEnd(fn: () => void): void {
    callbacks.add(fn);
    if (hooked) return;
    hooked = true;
    process.once("exit", runAll);
    for (const sig of ["SIGINT", "SIGTERM"] as const)
        process.once(sig, () => {
            runAll();
            if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
        });
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
