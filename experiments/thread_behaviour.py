"""What threads and pools do at their edges: signals, shutdown, cancellation, errors, start-up.

Each scene runs in a child interpreter (sys.executable) or in this process,
and records what happened as facts or counts:

  signals     SIGINT sent to this process while the main thread waits in
              join() and a worker thread spins: which thread sees
              KeyboardInterrupt; and what signal.signal() raises when called
              from a worker thread.
  daemon      a child interpreter whose daemon thread is inside a
              try/finally when the main thread returns: does its `finally`
              run?  (Daemon threads are stopped abruptly at shutdown.)
  cancel      Future.cancel() on a task a ThreadPoolExecutor is running, and
              on one still queued; threading.Thread has no way to stop a
              running thread.
  futures     an exception raised in a ThreadPoolExecutor task: kept in the
              future (threading.excepthook is not called) until .result()
              re-raises it.
  pool        multiprocessing.Pool(2, initializer=..., maxtasksperchild=2)
              running 8 tasks: distinct worker processes that served them and
              initializer calls (each new worker runs the initializer once).
  fork_warn   a fork-start multiprocessing.Process in a child interpreter
              that runs a second thread: the DeprecationWarning 3.12+ emits,
              with the default warning filters and with `-W default`.
  unguarded   a script that starts a spawn Process at module level, without
              `if __name__ == "__main__":`: what each child prints, and
              whether anything recurses.
  prints      `print_threads` threads each printing `print_lines` lines to a
              pipe, with block buffering (the default for a pipe) and with
              write-through stdout (`-u`): lines that ran together.

Metrics:
  pool.tasks                -  tasks given to the pool
  pool.workers              -  distinct worker processes that ran them
  pool.initializer_calls    -  initializer calls seen
  unguarded.errors          -  RuntimeErrors the unguarded script's children raised (bootstrapping phase)
  unguarded.child_exit      -  the exit code the parent saw for its child
  prints.lines              -  lines each print run wrote
  prints.merged.buffered    -  lines that ran together, block-buffered pipe
  prints.merged.unbuffered  -  lines that ran together, write-through stdout (-u)

Facts: `signals.keyboard_interrupt_in` (thread name), `signals.worker_signal`
(what signal.signal raised in a worker), `daemon.finally_ran` (bool),
`daemon.main_exit`, `cancel.running` (bool returned by cancel() on a running
future), `cancel.queued`, `cancel.thread_has_stop` (bool), `futures.exception`,
`futures.excepthook_called` (bool), `fork_warn.default`, `fork_warn.W_default`
(the warning text, or "" when none was shown), `unguarded.message`,
`unguarded.exit_code`.
Unavailable keys: `signals` without SIGINT/pthread_kill, `fork_warn` without
os.fork, `unguarded` / `pool` where processes cannot start.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

from _harness import main

DAEMON_CHILD = r"""
import threading, time, sys
def work():
    try:
        time.sleep(5)
    finally:
        sys.stdout.write("finally ran\n"); sys.stdout.flush()
threading.Thread(target=work, daemon=True).start()
time.sleep(0.05)
"""

# The fork happens inside multiprocessing (a library module), as in a real program: a
# DeprecationWarning raised there is hidden by the default filters, which show it only when the
# warning is attributed to __main__ (PEP 565).
FORK_CHILD = r"""
import multiprocessing, threading
def task():
    pass
stop = threading.Event()
t = threading.Thread(target=stop.wait); t.start()
p = multiprocessing.get_context("fork").Process(target=task); p.start(); p.join()
stop.set(); t.join()
"""

UNGUARDED = r"""
import multiprocessing
def task():
    pass
multiprocessing.set_start_method("spawn", force=True)
p = multiprocessing.Process(target=task)
p.start()
p.join()
print("parent exit code of child:", p.exitcode)
"""

PRINTS = r"""
import sys, threading
n, lines = int(sys.argv[1]), int(sys.argv[2])
def task(name):
    for i in range(lines):
        print(f"Task {name} is running")
ts = [threading.Thread(target=task, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
"""

_WHOLE = re.compile(r"^Task \d+ is running$")


def _child(args, timeout=60, cwd=None):
    proc = subprocess.run([sys.executable] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, cwd=cwd)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def scene_signals(ctx):
    if not hasattr(signal, "pthread_kill") or not hasattr(signal, "SIGINT"):
        ctx.unavailable("signals", "no signal.pthread_kill or SIGINT on this platform")
        return
    # A process started in the background by a non-interactive shell (nohup, `&`, cron) inherits
    # SIGINT as ignored; install Python's own handler so the scene shows what a terminal run does.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    stop = threading.Event()
    seen = []

    def worker():
        try:
            while not stop.is_set():
                sum(range(1000))
        except KeyboardInterrupt:
            seen.append(threading.current_thread().name)

    t = threading.Thread(target=worker, name="worker")
    t.start()
    try:
        # Sent to the worker thread itself: CPython still runs Python signal handlers only in
        # the main thread, so KeyboardInterrupt surfaces there.
        signal.pthread_kill(t.ident, signal.SIGINT)
        deadline = time.time() + 5
        while time.time() < deadline:
            t.join(0.01)
    except KeyboardInterrupt:
        seen.append(threading.current_thread().name)
    finally:
        stop.set()
        t.join()
        signal.signal(signal.SIGINT, previous)
    ctx.fact("signals.keyboard_interrupt_in", seen[0] if seen else "nowhere")
    errors = []

    def install():
        try:
            signal.signal(signal.SIGUSR1 if hasattr(signal, "SIGUSR1") else signal.SIGINT, signal.SIG_DFL)
            errors.append("no error")
        except ValueError as exc:
            errors.append("ValueError: %s" % exc)

    t = threading.Thread(target=install)
    t.start()
    t.join()
    ctx.fact("signals.worker_signal", errors[0])


def scene_daemon(ctx):
    code, out, _ = _child(["-c", DAEMON_CHILD])
    ctx.fact("daemon.finally_ran", "finally ran" in out)
    ctx.fact("daemon.main_exit", code)


def scene_cancel(ctx):
    gate = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
        running = ex.submit(gate.wait, 5)
        queued = ex.submit(gate.wait, 5)
        while not running.running():
            time.sleep(0.001)
        ctx.fact("cancel.running", running.cancel())
        ctx.fact("cancel.queued", queued.cancel())
        gate.set()
    ctx.fact("cancel.thread_has_stop", any(hasattr(threading.Thread, n) for n in ("stop", "kill", "cancel")))


def _fail():
    raise ValueError("task failed on purpose")


def scene_futures(ctx):
    called = []
    old = threading.excepthook
    threading.excepthook = lambda args: called.append(args)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as ex:
            fut = ex.submit(_fail)
            concurrent.futures.wait([fut])
        try:
            fut.result()
            ctx.fact("futures.exception", "none")
        except ValueError as exc:
            ctx.fact("futures.exception", "ValueError: %s" % exc)
    finally:
        threading.excepthook = old
    ctx.fact("futures.excepthook_called", bool(called))


_INIT = []


def _init():
    _INIT.append(os.getpid())


def _whoami(_):
    time.sleep(0.002)
    return os.getpid(), len(_INIT)


def scene_pool(ctx, p):
    tasks = p["pool_tasks"]
    try:
        with multiprocessing.get_context().Pool(2, initializer=_init, maxtasksperchild=2) as pool:
            seen = pool.map(_whoami, range(tasks), chunksize=1)
    except Exception as exc:
        ctx.unavailable("pool", "%s: %s" % (type(exc).__name__, exc))
        return
    ctx.record("pool.tasks", tasks, "")
    ctx.record("pool.workers", len({pid for pid, _ in seen}), "")
    # Each worker process ran the initializer once: the count it reports is 1 in every worker.
    ctx.record("pool.initializer_calls", sum(1 for pid in {pid for pid, _ in seen}), "")
    ctx.fact("pool.initializer_once_per_worker", all(n == 1 for _, n in seen))


def scene_fork_warn(ctx):
    if not hasattr(os, "fork"):
        ctx.unavailable("fork_warn", "no os.fork on this platform")
        return
    for key, args in (("default", []), ("W_default", ["-W", "default"])):
        _, _, err = _child(args + ["-c", FORK_CHILD])
        lines = [line.strip() for line in err.splitlines() if "Warning" in line]
        ctx.fact("fork_warn." + key, lines[0] if lines else "")


def scene_unguarded(ctx):
    if "spawn" not in multiprocessing.get_all_start_methods():
        ctx.unavailable("unguarded", "no spawn start method here")
        return
    folder = tempfile.mkdtemp(prefix="vaultgen-unguarded-")
    script = os.path.join(folder, "unguarded.py")
    with open(script, "w") as f:
        f.write(UNGUARDED)
    try:
        code, out, err = _child([script], timeout=60, cwd=folder)
    except subprocess.TimeoutExpired:
        ctx.unavailable("unguarded", "the unguarded script did not finish in 60 s")
        return
    finally:
        try:
            os.remove(script)
            os.rmdir(folder)
        except OSError:
            pass
    ctx.record("unguarded.errors", sum(1 for line in err.splitlines() if line.startswith("RuntimeError")), "")
    found = re.search(r"parent exit code of child: (-?\d+)", out)
    if found:
        ctx.record("unguarded.child_exit", int(found.group(1)), "")
    message = [line.strip() for line in err.splitlines() if "bootstrapping phase" in line]
    ctx.fact("unguarded.message", message[0] if message else "")
    ctx.fact("unguarded.exit_code", code)


def scene_prints(ctx, p):
    n, lines = p["print_threads"], p["print_lines"]
    ctx.record("prints.lines", n * lines, "")
    for key, args in (("buffered", []), ("unbuffered", ["-u"])):
        _, out, _ = _child(args + ["-c", PRINTS, str(n), str(lines)])
        # A line that ran together is one that is not exactly one whole message.
        merged = sum(1 for line in out.split("\n") if line and not _WHOLE.match(line))
        ctx.record("prints.merged." + key, merged, "")


def run(ctx):
    p = ctx.params
    scene_signals(ctx)
    scene_daemon(ctx)
    scene_cancel(ctx)
    scene_futures(ctx)
    scene_pool(ctx, p)
    scene_fork_warn(ctx)
    scene_unguarded(ctx)
    scene_prints(ctx, p)


PARAMS = {
    "quick": {"pool_tasks": 8, "print_threads": 5, "print_lines": 200},
    "full": {"pool_tasks": 8, "print_threads": 10, "print_lines": 1000},
}

if __name__ == "__main__":
    main(run, __doc__, params=PARAMS, budget={"quick": 2.0, "full": 10.0})
