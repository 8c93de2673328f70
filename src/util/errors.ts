/**
 * One error policy for stepwise.
 *
 * - Every failure a user can cause (bad data, bad flags, a file that cannot be written, a server
 *   that cannot be reached) is a {@link StepwiseError}: a one-line message that names the file,
 *   line, field or address at fault. The CLI prints `stepwise: <message>` and exits 1, never a
 *   stack trace.
 * - Operating-system errors (Node `ErrnoException`s: ENOENT, EROFS, ENOSPC, EADDRINUSE, …) are
 *   turned into the same one-line form by {@link systemErrorMessage}; library code that touches
 *   the file system calls {@link fsError} at the call site so the message names the path and what
 *   was being done. The CLI error boundary ({@link describeError}) maps whatever is left.
 * - {@link ContextOverflowError}: an input that does not fit the model's context. Stages name the
 *   record (file:line, id) and can skip such records and count them (`--skip-too-long`).
 * - {@link locate} prefixes an error with where it happened (`file:line: id "x": …`) once.
 *
 * Anything else reaching the CLI boundary is a bug in stepwise: one line plus a hint to re-run
 * with `STEPWISE_DEBUG=1` for the stack trace.
 */
/** An error with a one-line, user-facing message that names the file/line/field/URL at fault. */
export class StepwiseError extends Error {
    constructor(message: string, options?: {cause?: unknown}) {
        super(message, options);
        this.name = "StepwiseError";
    }
}

/** An input (prompt, PRM input) longer than the model's context. `tokens`/`limit` when known. */
export class ContextOverflowError extends StepwiseError {
    constructor(
        message: string,
        readonly tokens?: number,
        readonly limit?: number,
    ) {
        super(message);
        this.name = "ContextOverflowError";
    }
}

/**
 * A model whose outputs are not numbers (NaN or infinite logits: broken weights). The message
 * names the model file. Never data: a sample, score or logprob computed from such outputs would
 * be meaningless, so engines throw this instead. `stepwise serve` answers it with a 500.
 */
export class ModelOutputError extends StepwiseError {
    constructor(message: string) {
        super(message);
        this.name = "ModelOutputError";
    }
}

/**
 * Whether an error means "the input does not fit the context": a {@link ContextOverflowError}, or
 * the messages engines give for it (the llama engine's "fills the per-sequence context", vLLM's
 * "maximum context length is N tokens", llama.cpp server's "exceeds the available context size").
 */
export function isContextOverflow(e: unknown): boolean {
    if (e instanceof ContextOverflowError) return true;
    const m = e instanceof Error ? e.message : "";
    return /fills the per-sequence context|maximum context length|exceeds the (available )?context|context length exceeded|longer than the (model's |PRM's )?context/i.test(m);
}

type Errno = NodeJS.ErrnoException & {address?: string; port?: number; hostname?: string; dest?: string};

function isErrno(e: unknown): e is Errno {
    return e instanceof Error && typeof (e as Errno).code === "string";
}

/**
 * A one-line description of an operating-system error, naming `subject` (default: the error's
 * own path or address); undefined when `e` is not one.
 */
export function systemErrorMessage(e: unknown, subject?: string): string | undefined {
    if (!isErrno(e)) return undefined;
    const address = e.address !== undefined ? `${e.address}${e.port !== undefined ? `:${e.port}` : ""}` : e.hostname;
    const what = subject ?? e.path ?? address ?? e.syscall ?? "stepwise";
    switch (e.code) {
        case "ENOENT":
            return `${what}: no such file or folder`;
        case "EISDIR":
            return `${what}: is a folder, not a file`;
        case "ENOTDIR":
            return `${what}: a part of this path is a file, not a folder`;
        case "EEXIST":
            return `${what}: already exists${e.syscall === "mkdir" ? " and is not a folder" : ""}`;
        case "EROFS":
            return `${what}: read-only file system (cannot write here; choose another location)`;
        case "EACCES":
        case "EPERM":
            return e.syscall === "listen" || e.syscall === "bind"
                ? `${what}: permission denied (ports below 1024 need privileges; choose another --port)`
                : `${what}: permission denied`;
        case "ENOSPC":
        case "EDQUOT":
            return `${what}: no space left on the device (records already written are kept: free some space and re-run the same command to resume)`;
        case "EMFILE":
        case "ENFILE":
            return `${what}: too many open files`;
        case "ENAMETOOLONG":
            return `${what}: file name too long`;
        case "EADDRINUSE":
            return `${address ?? what}: address already in use (another server is listening there; stop it or choose another --port)`;
        case "EADDRNOTAVAIL":
            return `${address ?? what}: cannot listen on this address: it is not an address of this machine (check --host)`;
        case "ENOTFOUND":
        case "EAI_AGAIN":
        case "EAI_NONAME":
            return `${e.hostname ?? what}: unknown host name`;
        case "ECONNREFUSED":
            return `${address ?? what}: connection refused (is the server running?)`;
        case "EIO":
            return `${what}: input/output error (a failing disk or a network file system)`;
        default:
            return `${what}: ${e.code}${e.syscall ? ` (${e.syscall})` : ""}: ${e.message.split("\n")[0]}`;
    }
}

/**
 * Turn an operating-system error at a call site into a {@link StepwiseError} naming `path`
 * (`action`, e.g. "cannot write", is put in front when given). Other errors pass through.
 */
export function fsError(e: unknown, path: string, action?: string): unknown {
    if (e instanceof StepwiseError) return e;
    const m = systemErrorMessage(e, path);
    if (m === undefined) return e;
    return new StepwiseError(action ? m.replace(`${path}: `, `${path}: ${action}: `) : m, {cause: e});
}

/**
 * Prefix an error's message with where it happened (a record's `file:line`, its id), unless the
 * message already names that place. Returns a StepwiseError of the same class when it can.
 */
export function locate(e: unknown, where: string): unknown {
    const m = e instanceof Error ? e.message : String(e);
    if (m.startsWith(where) || m.includes(`${where}:`)) return e;
    const sys = systemErrorMessage(e);
    const message = `${where}: ${sys ?? m}`;
    if (e instanceof ContextOverflowError || (isContextOverflow(e) && !(e instanceof ContextOverflowError)))
        return new ContextOverflowError(message, (e as ContextOverflowError).tokens, (e as ContextOverflowError).limit);
    if (e instanceof StepwiseError || sys !== undefined) return new StepwiseError(message, {cause: e});
    return e;
}

/**
 * What the CLI prints for an error and whether it is a stepwise bug (`internal`): StepwiseErrors
 * and system errors give their one-line message; anything else is internal.
 */
export function describeError(e: unknown): {message: string; internal: boolean} {
    if (e instanceof StepwiseError) return {message: e.message.split("\n")[0], internal: false};
    const sys = systemErrorMessage(e);
    if (sys !== undefined) return {message: sys, internal: false};
    if (e instanceof Error) return {message: `internal error: ${e.message.split("\n")[0]}`, internal: true};
    return {message: `internal error: ${String(e)}`, internal: true};
}
