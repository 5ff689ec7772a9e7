"""Fault isolation: what one failing thread or process does to its siblings.

Four scenes, each with one failing worker among healthy siblings that work
for a while (`work_steps` steps of `step` seconds) and then report done:

  thread_exception  an uncaught exception in one thread (in this process):
                    threading.excepthook reports it, that thread ends, the
                    siblings and the process go on.
  thread_crash      a hard crash in one thread (os.abort(), and a segfault by
                    reading address 0 via ctypes), run in a child interpreter
                    (sys.executable) with sibling threads: the whole process
                    dies with the signal, the siblings never finish.
  process_crash     a hard crash (os.abort()) in one multiprocessing.Process
                    among siblings: the siblings finish, the parent survives
                    and reads every exit code.
  pool_crash        a worker of concurrent.futures.ProcessPoolExecutor dies
                    (os.abort()): the executor is marked broken and the
                    pending futures, including ones whose healthy workers
                    were killed with it, fail with BrokenProcessPool; and
                    multiprocessing.Pool: the dead worker is replaced, but its
                    task is lost and waiting for it never ends (a timeout here).
  lock_crash        a child process dies (os.abort()) while holding a
                    multiprocessing.Lock shared with its parent: nothing
                    releases it, and the parent's acquire(timeout) fails.

Every crashing child sets RLIMIT_CORE to 0 first, so no core dump is left.

Metrics:
  thread_exception.siblings     -  healthy sibling threads started
  thread_exception.finished     -  of those, how many finished their work
  thread_exception.survived     -  1 if the process went on after the exception
  thread_crash.abort.finished   -  sibling threads that finished before the process died (os.abort)
  thread_crash.segv.finished    -  the same for a segfault in one thread
  thread_crash.siblings         -  sibling threads started in each crashing child
  process_crash.siblings        -  healthy sibling processes started
  process_crash.finished        -  of those, how many exited with code 0
  process_crash.survived        -  1 if the parent went on after the crash
  pool_crash.tasks              -  tasks submitted to the ProcessPoolExecutor
  pool_crash.ok                 -  of those, how many returned a result
  pool_crash.broken             -  how many raised BrokenProcessPool
  mp_pool.tasks                 -  healthy tasks given to multiprocessing.Pool beside the crashing one
  mp_pool.ok                    -  of those, how many returned a result
  mp_pool.lost                  -  1 if waiting for the crashed task timed out (task lost)
  lock_crash.stuck              -  1 if the lock a crashed child held could not be acquired afterwards

Facts: `thread_exception.type`, `thread_exception.text` (as the excepthook
saw it), `thread_crash.abort.signal` / `thread_crash.segv.signal` (signal
name or exit code of the child interpreter), `thread_crash.abort.returncode`,
`thread_crash.segv.returncode`, `process_crash.exitcodes` (list, crashing
one first), `process_crash.signal`, `pool_crash.exception` (type name),
`pool_crash.submit_after` (what submitting to the broken executor raised),
`mp_pool.exception` (what waiting for the lost task raised), `start_method`.
Unavailable keys: `thread_crash.segv` where ctypes is missing, any scene
whose child could not be started here.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

from _harness import main


def _no_core():
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass


def _signal_name(code):
    if code is not None and code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return "signal %d" % -code
    return "exit code %s" % code


def healthy(steps, step):
    """Sibling work: a few short steps, then report success."""
    for _ in range(steps):
        time.sleep(step)
    return "done"


def crash_after(delay):
    """Die hard after ``delay`` seconds: no exception, no cleanup."""
    _no_core()
    time.sleep(delay)
    os.abort()


# The child interpreter for thread_crash: sibling threads print when they
# finish; one thread crashes the whole process while they still work.
CRASH_IN_THREAD = r"""
import os, sys, threading, time
try:
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
except Exception:
    pass
how, siblings, steps, step, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])

def sibling(i):
    for _ in range(steps):
        time.sleep(step)
    sys.stdout.write("finished %d\n" % i)
    sys.stdout.flush()

def crasher():
    time.sleep(delay)
    if how == "segv":
        import ctypes
        ctypes.string_at(0)
    os.abort()

threads = [threading.Thread(target=sibling, args=(i,)) for i in range(siblings)]
threads.append(threading.Thread(target=crasher))
for t in threads:
    t.start()
for t in threads:
    t.join()
sys.stdout.write("main survived\n")
"""


def scene_thread_exception(ctx, p):
    seen = []
    old_hook = threading.excepthook

    def hook(args):
        seen.append((args.exc_type.__name__, str(args.exc_value), args.thread.name))

    def failing():
        time.sleep(p["crash_delay"])
        raise ValueError("worker 0 failed on purpose")

    results = []
    threading.excepthook = hook
    try:
        threads = [threading.Thread(target=failing, name="failing-worker")]
        threads += [threading.Thread(target=lambda: results.append(healthy(p["work_steps"], p["step"])),
                                     name="sibling-%d" % i) for i in range(p["siblings"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        threading.excepthook = old_hook
    ctx.record("thread_exception.siblings", p["siblings"], "")
    ctx.record("thread_exception.finished", results.count("done"), "")
    ctx.record("thread_exception.survived", 1, "")
    if seen:
        ctx.fact("thread_exception.type", seen[0][0])
        ctx.fact("thread_exception.text", "%s: %s (in thread %s)" % seen[0])


def scene_thread_crash(ctx, p):
    ctx.record("thread_crash.siblings", p["siblings"], "")
    for how in ("abort", "segv"):
        if how == "segv":
            # The crashing child needs ctypes; probe without importing it here.
            if importlib.util.find_spec("ctypes") is None:
                ctx.unavailable("thread_crash.segv", "ctypes is missing from this interpreter")
                continue
        args = [sys.executable, "-c", CRASH_IN_THREAD, how, str(p["siblings"]), str(p["work_steps"]),
                str(p["step"]), str(p["crash_delay"])]
        env = dict(os.environ)
        env.pop("PYTHONFAULTHANDLER", None)
        try:
            proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=p["timeout"], env=env)
        except (OSError, subprocess.SubprocessError) as exc:
            ctx.unavailable("thread_crash." + how, "%s: %s" % (type(exc).__name__, exc))
            continue
        out = proc.stdout.decode("utf-8", "replace")
        ctx.record("thread_crash.%s.finished" % how, out.count("finished "), "")
        ctx.fact("thread_crash.%s.returncode" % how, proc.returncode)
        ctx.fact("thread_crash.%s.signal" % how, _signal_name(proc.returncode))
        ctx.fact("thread_crash.%s.main_survived" % how, "main survived" in out)


def scene_process_crash(ctx, p, mp):
    procs = [mp.Process(target=crash_after, args=(p["crash_delay"],))]
    procs += [mp.Process(target=healthy, args=(p["work_steps"], p["step"]))
              for _ in range(p["siblings"])]
    try:
        for proc in procs:
            proc.start()
    except Exception as exc:
        ctx.unavailable("process_crash", "%s: %s" % (type(exc).__name__, exc))
        for proc in procs:
            if proc.pid is not None:
                proc.join()
        return
    for proc in procs:
        proc.join(p["timeout"])
    codes = [proc.exitcode for proc in procs]
    for proc in procs:  # a child that hung past the timeout must not outlive the experiment
        if proc.is_alive():
            proc.terminate()
            proc.join()
    ctx.record("process_crash.siblings", p["siblings"], "")
    ctx.record("process_crash.finished", sum(1 for c in codes[1:] if c == 0), "")
    ctx.record("process_crash.survived", 1, "")
    ctx.fact("process_crash.exitcodes", codes)
    ctx.fact("process_crash.signal", _signal_name(codes[0]))


def scene_pool_crash(ctx, p, mp):
    tasks = p["siblings"] + 1
    ok = broken = 0
    kinds = set()
    try:
        with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=mp) as ex:
            futures = [ex.submit(crash_after, p["crash_delay"])]
            futures += [ex.submit(healthy, p["work_steps"], p["step"]) for _ in range(p["siblings"])]
            for fut in futures[1:]:
                try:
                    fut.result(timeout=p["timeout"])
                    ok += 1
                except concurrent.futures.process.BrokenProcessPool as exc:
                    broken += 1
                    kinds.add(type(exc).__name__)
                except Exception as exc:  # a timeout would be a finding too
                    kinds.add(type(exc).__name__)
            try:
                futures[0].result(timeout=p["timeout"])
            except Exception as exc:
                kinds.add(type(exc).__name__)
                broken += isinstance(exc, concurrent.futures.process.BrokenProcessPool)
            try:
                ex.submit(healthy, 1, 0.0).result(timeout=p["timeout"])
                ctx.fact("pool_crash.submit_after", "accepted")
            except Exception as exc:
                ctx.fact("pool_crash.submit_after", type(exc).__name__)
    except Exception as exc:
        ctx.unavailable("pool_crash", "%s: %s" % (type(exc).__name__, exc))
        return
    ctx.record("pool_crash.tasks", tasks, "")
    ctx.record("pool_crash.ok", ok, "")
    ctx.record("pool_crash.broken", broken, "")
    ctx.fact("pool_crash.exception", ", ".join(sorted(kinds)) or "none")


def scene_mp_pool(ctx, p, mp):
    try:
        pool = mp.Pool(2)
    except Exception as exc:
        ctx.unavailable("mp_pool", "%s: %s" % (type(exc).__name__, exc))
        return
    try:
        lost = pool.apply_async(crash_after, (p["crash_delay"],))
        others = [pool.apply_async(healthy, (p["work_steps"], p["step"])) for _ in range(p["siblings"])]
        ok = 0
        for res in others:
            try:
                ok += res.get(timeout=p["timeout"]) == "done"
            except Exception:
                pass
        try:
            lost.get(timeout=p["lost_wait"])
            ctx.record("mp_pool.lost", 0, "")
            ctx.fact("mp_pool.exception", "none")
        except multiprocessing.TimeoutError:
            ctx.record("mp_pool.lost", 1, "")
            ctx.fact("mp_pool.exception", "TimeoutError (the task is never answered)")
        except Exception as exc:
            ctx.record("mp_pool.lost", 0, "")
            ctx.fact("mp_pool.exception", type(exc).__name__)
        ctx.record("mp_pool.tasks", len(others), "")
        ctx.record("mp_pool.ok", ok, "")
    finally:
        pool.terminate()
        pool.join()


def hold_and_die(lock, held):
    _no_core()
    lock.acquire()
    held.set()
    os.abort()


def scene_lock_crash(ctx, p, mp):
    try:
        lock, held = mp.Lock(), mp.Event()
        proc = mp.Process(target=hold_and_die, args=(lock, held))
        proc.start()
    except Exception as exc:
        ctx.unavailable("lock_crash", "%s: %s" % (type(exc).__name__, exc))
        return
    held.wait(p["timeout"])
    proc.join(p["timeout"])
    got = lock.acquire(timeout=p["lost_wait"])
    if got:
        lock.release()
    ctx.record("lock_crash.stuck", 0 if got else 1, "")


def run(ctx):
    p = ctx.params
    mp = multiprocessing.get_context(p["start_method"] or None)
    ctx.fact("start_method", mp.get_start_method())
    scene_thread_exception(ctx, p)
    scene_thread_crash(ctx, p)
    scene_process_crash(ctx, p, mp)
    scene_pool_crash(ctx, p, mp)
    scene_mp_pool(ctx, p, mp)
    scene_lock_crash(ctx, p, mp)


PARAMS = {
    "quick": {"start_method": "", "siblings": 3, "work_steps": 4, "step": 0.01, "crash_delay": 0.005,
              "timeout": 10.0, "lost_wait": 0.1},
    "full": {"start_method": "", "siblings": 3, "work_steps": 10, "step": 0.02, "crash_delay": 0.02,
             "timeout": 20.0, "lost_wait": 0.5},
}

if __name__ == "__main__":
    main(run, __doc__, params=PARAMS, budget={"quick": 1.0, "full": 5.0})
