/**
 * The Python harness that runs one candidate against its tests inside the sandbox.
 *
 * Evaluation follows LeetCodeDataset / HumanEval: the preamble (`prompt`), the candidate program
 * and the `test` code run in one namespace, then `check(<entry_point>)` is called. The harness
 * reads its configuration (`{prompt, candidate, test, entry_point, limits, nonce}`) as JSON from
 * stdin, sets its resource limits (soft = hard, so the candidate cannot raise them), and reports
 * exactly one verdict line `<nonce> {"status", "detail"}\n` on fd 3, the result channel whose
 * other end only the host holds (src/domains/code/sandbox.ts), then exits with `os._exit(0)`:
 *   pass   — check returned;
 *   fail   — an AssertionError in the test code: detail is the failing `assert` line, with the
 *            candidate's value (`got ...`) when the line is `assert <call> == <expected>`;
 *   memory — MemoryError;
 *   error  — any other exception (its type and message, and where), including SystemExit.
 * Timeouts, kills and output overflows leave no verdict and are classified by the caller.
 *
 * What the host accepts (src/domains/code/verifier.ts): the channel holds exactly that one line with this
 * run's nonce and the sandbox exited 0. So an exit before the harness reported (`os._exit(0)`,
 * `sys.exit`, a signal, a crash) is never a pass; text printed to stdout/stderr is never read as a
 * verdict; anything else written to fd 3 (a forged line, or bytes before the real verdict) makes
 * the verdict an error. The nonce never touches the file system: it arrives on stdin, which is at
 * its end before the candidate's code runs.
 *
 * What this cannot stop: the candidate runs in the harness's own Python process, so code written
 * to cheat can still forge a pass — find the nonce in the harness's memory (`gc`, stack frames,
 * `sys.modules["__main__"]`) and write a verdict line itself, or patch `check`, `report`,
 * builtins, or return an object whose `__eq__` is always true. The sandbox protects the machine;
 * against a candidate that attacks its own grading, the label is only as good as the candidate.
 */

/** Source of the harness (Python 3.8+, standard library only). */
export const HARNESS_PY = String.raw`
import ast, json, os, resource, signal, sys, traceback

CONFIG = json.loads(sys.stdin.buffer.read())

def _limit(kind, value):
    try:
        resource.setrlimit(kind, (value, value))
    except (ValueError, OSError):
        soft, hard = resource.getrlimit(kind)
        if hard == resource.RLIM_INFINITY or value < hard:
            resource.setrlimit(kind, (min(value, hard if hard != resource.RLIM_INFINITY else value), hard))

L = CONFIG["limits"]
# CPU: SIGXCPU at the soft limit (reported as a timeout below), SIGKILL one second later.
try:
    resource.setrlimit(resource.RLIMIT_CPU, (int(L["cpuSeconds"]), int(L["cpuSeconds"]) + 1))
except (ValueError, OSError):
    pass
_limit(resource.RLIMIT_AS, int(L["memoryBytes"]))
_limit(resource.RLIMIT_NPROC, int(L["processes"]))
_limit(resource.RLIMIT_FSIZE, int(L["fileBytes"]))
_limit(resource.RLIMIT_NOFILE, int(L["openFiles"]))
_limit(resource.RLIMIT_CORE, 0)

MAIN_PID = os.getpid()
CHANNEL = 3
# Not inherited by programs the candidate execs (a fork still has it: only MAIN_PID reports).
os.set_inheritable(CHANNEL, False)

def _reporter(nonce, write=os.write, dumps=json.dumps, getpid=os.getpid, exit=os._exit):
    reported = []
    def report(status, detail=""):
        # Once, and only from the harness process (a forked copy of it must not race it).
        if getpid() == MAIN_PID and not reported:
            reported.append(True)
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except BaseException:
                pass
            line = (nonce + " " + dumps({"status": status, "detail": detail[:2000]}) + "\n").encode()
            while line:
                line = line[write(CHANNEL, line):]
        exit(0)
    return report

report = _reporter(CONFIG.pop("nonce"))

signal.signal(signal.SIGXCPU, lambda *_: report("timeout", "cpu time limit (%s s)" % L["cpuSeconds"]))

def where(tb, names):
    frames = [fr for fr in traceback.extract_tb(tb) if fr.filename in names]
    return " (%s line %d)" % (frames[-1].filename, frames[-1].lineno) if frames else ""

def describe(e, tb, names):
    msg = "".join(traceback.format_exception_only(type(e), e)).strip().splitlines()
    return (msg[-1] if msg else type(e).__name__)[:500] + where(tb, names)

def failing_assert(tb, test_lines):
    frame, line = None, ""
    t = tb
    while t is not None:
        if t.tb_frame.f_code.co_filename == "<test>":
            frame, lineno = t.tb_frame, t.tb_lineno
            line = test_lines[lineno - 1].strip() if 0 < lineno <= len(test_lines) else ""
        t = t.tb_next
    if frame is None:
        return None
    detail = line
    try:
        node = ast.parse(line).body[0]
        if isinstance(node, ast.Assert) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1 and isinstance(node.test.ops[0], ast.Eq):
            signal.alarm(max(1, int(L["cpuSeconds"])))
            got = eval(compile(ast.Expression(node.test.left), "<test>", "eval"), frame.f_globals, frame.f_locals)
            signal.alarm(0)
            detail += " (got %s)" % repr(got)[:300]
    except BaseException:
        signal.alarm(0)
    return detail

def main():
    ns = {"__name__": "__main__"}
    parts = [("<prompt>", CONFIG["prompt"]), ("<candidate>", CONFIG["candidate"]), ("<test>", CONFIG["test"])]
    names = {"<prompt>", "<candidate>", "<test>"}
    for name, src in parts:
        try:
            exec(compile(src, name, "exec"), ns)
        except MemoryError:
            report("memory", "MemoryError while loading " + name)
        except BaseException as e:
            report("error", describe(e, sys.exc_info()[2], names))
    try:
        candidate = eval(CONFIG["entry_point"], ns)
    except BaseException as e:
        report("error", "entry point %s: %s" % (CONFIG["entry_point"], describe(e, sys.exc_info()[2], names)))
    check = ns.get("check")
    if not callable(check):
        report("error", "the test code defines no check(candidate)")
    try:
        check(candidate)
    except AssertionError as e:
        detail = failing_assert(sys.exc_info()[2], CONFIG["test"].splitlines())
        if detail is None:
            report("error", describe(e, sys.exc_info()[2], names))
        report("fail", detail)
    except MemoryError:
        report("memory", "MemoryError" + where(sys.exc_info()[2], names))
    except BaseException as e:
        report("error", describe(e, sys.exc_info()[2], names))
    report("pass")

main()
`;
