"""Free-threaded CPython: what changes without the GIL, and the 3.14 additions.

Runs under any interpreter; what a GIL build cannot do is recorded as
unavailable, so the note compares builds side by side.

  single     single-thread speed: a fixed pure-Python loop (`single_iterations`
             steps, the same work on every interpreter), as steps per second.
             Compared across interpreters of one version, it gives the cost of
             free-threading (no specialisation of some bytecodes in 3.13t,
             atomic reference counts on shared objects).
  shared     a task that reads one large shared list (`shared_items` ints)
             and computes on its slice, on 2 threads and on a pool of 2
             processes (which must receive their slice pickled), each against
             the same work in the main thread.  The process pool is started
             outside the timed region; the 2 threads are started inside it
             (a thread starts in well under a millisecond, see `overhead`).
  gil        how the GIL is switched: `sys._is_gil_enabled()` in a child
             interpreter started with `-X gil=0`, `-X gil=1`, `PYTHON_GIL=0`
             and `PYTHON_GIL=1` (facts; an error text where the build refuses).
  extension  a tiny C extension module that does not declare `Py_mod_gil`,
             compiled here with the interpreter's own headers (needs a C
             compiler) and imported in a child interpreter: does the import
             re-enable the GIL, and what warning does it print?
  lambda     `multiprocessing.Process(target=lambda: None)` under each start
             method: fork runs it; spawn and forkserver must pickle the target
             and fail.  3.14 made forkserver the default on POSIX other than
             macOS, so code that relied on fork's default breaks there.
  interp     concurrent.futures.InterpreterPoolExecutor (3.14+): the shared
             task on 2 sub-interpreters, against the main thread.

Metrics:
  single.rate                    -  loop steps per second of one thread, in millions
  shared.sequential.wall         s  the shared task's work in the main thread
  shared.threads.2.wall          s  the same split over 2 threads
  shared.processes.2.wall        s  the same split over 2 pool processes (slices pickled)
  shared.threads.2.speedup       x  sequential / threads (paired per repeat)
  shared.processes.2.speedup     x  sequential / processes (paired per repeat)
  shared.threads_vs_processes    x  processes wall / threads wall (above 1: threads won)
  shared.interpreters.2.speedup  x  sequential / InterpreterPoolExecutor with 2 workers (3.14+)

Facts: `free_threaded_build`, `gil_enabled`, `python_gil_env` (PYTHON_GIL as
set), `gil.X` for X in `xgil0`, `xgil1`, `env0`, `env1` (the child's
`sys._is_gil_enabled()` or its error), `extension.gil_after_import`,
`extension.warning`, `lambda.METHOD` ("ran" or the exception), `default_start_method`,
`version`.
Unavailable keys: `extension` without a C compiler or headers, `shared.interpreters` before
3.14, `shared.processes` where no pool can start.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time

from _harness import free_threaded_build, gil_enabled, main

GIL_PROBE = "import sys; f = getattr(sys, '_is_gil_enabled', None); print(True if f is None else f())"

# A single-phase extension module: it cannot declare Py_mod_gil, so a free-threaded build must
# assume it needs the GIL.
EXTENSION_C = r"""
#include <Python.h>
static PyObject *hello(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"hello", hello, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "needsgil", NULL, -1, methods};
PyMODINIT_FUNC PyInit_needsgil(void) { return PyModule_Create(&def); }
"""

IMPORT_PROBE = ("import sys, warnings; warnings.simplefilter('always'); "
                "import needsgil; f = getattr(sys, '_is_gil_enabled', None); "
                "print('GIL', True if f is None else f())")


def loop(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def shared_task(data, start, step):
    total = 0
    for x in data[start::step]:
        total += x * x % 7
    return total


def slice_task(part):
    """The process pool's version: the slice arrives pickled."""
    total = 0
    for x in part:
        total += x * x % 7
    return total


def _child(args, env=None, cwd=None, timeout=60):
    proc = subprocess.run([sys.executable] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, cwd=cwd, timeout=timeout)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def _last_line(text):
    """The line of a child's stderr that says what went wrong (CPython's fatal errors come first)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower():
            return line
    return lines[-1] if lines else ""


def gil_switches(ctx):
    base = dict(os.environ)
    base.pop("PYTHON_GIL", None)
    for key, args, extra in (("xgil0", ["-X", "gil=0"], {}), ("xgil1", ["-X", "gil=1"], {}),
                             ("env0", [], {"PYTHON_GIL": "0"}), ("env1", [], {"PYTHON_GIL": "1"})):
        env = dict(base, **extra)
        try:
            code, out, err = _child(args + ["-c", GIL_PROBE], env=env)
        except (OSError, subprocess.SubprocessError) as exc:
            ctx.fact("gil." + key, "could not start: %s" % exc)
            continue
        ctx.fact("gil." + key, ("GIL enabled: %s" % out.strip()) if code == 0 else ("refused: " + _last_line(err)))


def extension(ctx, p):
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    include = sysconfig.get_paths().get("include")
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    if not cc or not include or not os.path.exists(os.path.join(include, "Python.h")) or not suffix:
        ctx.unavailable("extension", "no C compiler or no Python headers for this interpreter")
        return
    folder = tempfile.mkdtemp(prefix="vaultgen-ext-")
    try:
        src = os.path.join(folder, "needsgil.c")
        with open(src, "w") as f:
            f.write(EXTENSION_C)
        target = os.path.join(folder, "needsgil" + suffix)
        flags = ["-shared", "-fPIC", "-O0", "-I", include]
        if free_threaded_build():
            flags.append("-DPy_GIL_DISABLED=1")
        build = subprocess.run([cc] + flags + [src, "-o", target], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=p["compile_timeout"])
        if build.returncode != 0:
            ctx.unavailable("extension", "compiling failed: " + _last_line(build.stderr.decode("utf-8", "replace")))
            return
        env = dict(os.environ)
        env.pop("PYTHON_GIL", None)
        code, out, err = _child(["-c", IMPORT_PROBE], env=env, cwd=folder)
        if code != 0:
            ctx.unavailable("extension", "importing it failed: " + _last_line(err))
            return
        ctx.fact("extension.gil_after_import", out.strip().endswith("True"))
        warning = [line.strip() for line in err.splitlines() if "Warning" in line]
        ctx.fact("extension.warning", warning[0] if warning else "")
    except (OSError, subprocess.SubprocessError) as exc:
        ctx.unavailable("extension", "%s: %s" % (type(exc).__name__, exc))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def lambda_targets(ctx):
    for method in multiprocessing.get_all_start_methods():
        mp = multiprocessing.get_context(method)
        try:
            proc = mp.Process(target=lambda: None)
            proc.start()
            proc.join(30)
            ctx.fact("lambda." + method, "ran" if proc.exitcode == 0 else "exit code %s" % proc.exitcode)
        except Exception as exc:
            ctx.fact("lambda." + method, "%s: %s" % (type(exc).__name__, str(exc).splitlines()[0] if str(exc) else ""))


def run(ctx):
    p = ctx.params
    ctx.fact("free_threaded_build", free_threaded_build())
    ctx.fact("gil_enabled", gil_enabled())
    ctx.fact("python_gil_env", os.environ.get("PYTHON_GIL"))
    ctx.fact("version", "%d.%d.%d" % sys.version_info[:3])
    ctx.fact("default_start_method", multiprocessing.get_start_method())

    gil_switches(ctx)
    extension(ctx, p)
    lambda_targets(ctx)

    n = p["single_iterations"]
    loop(n // 10)  # warm-up

    def single():
        t0 = time.perf_counter()
        loop(n)
        return {"single.rate": n / 1e6 / (time.perf_counter() - t0)}

    ctx.measure(single, {"single.rate": ""}, warmup=1, min_repeats=p["min_repeats"],
                max_repeats=p["max_repeats"], budget=ctx.remaining() * 0.25)

    data = list(range(p["shared_items"]))
    halves = [data[0::2], data[1::2]]
    pool = None
    try:
        pool = multiprocessing.get_context().Pool(2)
        pool.map(slice_task, [[1], [2]], chunksize=1)
    except Exception as exc:
        ctx.unavailable("shared.processes", "no process pool here: %s: %s" % (type(exc).__name__, exc))
    interp = None
    futures = __import__("concurrent.futures").futures
    if hasattr(futures, "InterpreterPoolExecutor"):
        try:
            interp = futures.InterpreterPoolExecutor(max_workers=2)
            list(interp.map(slice_task, [[1], [2]]))
        except Exception as exc:
            ctx.unavailable("shared.interpreters", "%s: %s" % (type(exc).__name__, exc))
            interp = None
    else:
        ctx.unavailable("shared.interpreters", "concurrent.futures.InterpreterPoolExecutor needs Python 3.14 "
                                  "(this is %d.%d)" % sys.version_info[:2])

    def shared():
        out = {}
        t0 = time.perf_counter()
        shared_task(data, 0, 1)
        seq = time.perf_counter() - t0
        out["shared.sequential.wall"] = seq
        threads = [threading.Thread(target=shared_task, args=(data, i, 2)) for i in range(2)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        tw = time.perf_counter() - t0
        out["shared.threads.2.wall"] = tw
        out["shared.threads.2.speedup"] = seq / tw
        if pool is not None:
            t0 = time.perf_counter()
            pool.map(slice_task, halves, chunksize=1)
            pw = time.perf_counter() - t0
            out["shared.processes.2.wall"] = pw
            out["shared.processes.2.speedup"] = seq / pw
            out["shared.threads_vs_processes"] = pw / tw
        if interp is not None:
            t0 = time.perf_counter()
            list(interp.map(slice_task, halves))
            out["shared.interpreters.2.speedup"] = seq / (time.perf_counter() - t0)
        return out

    units = {"shared.sequential.wall": "s", "shared.threads.2.wall": "s", "shared.processes.2.wall": "s",
             "shared.threads.2.speedup": "x", "shared.processes.2.speedup": "x",
             "shared.threads_vs_processes": "x", "shared.interpreters.2.speedup": "x"}
    try:
        ctx.measure(shared, units, warmup=1, min_repeats=p["min_repeats"], max_repeats=p["max_repeats"],
                    budget=ctx.remaining() * 0.8)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        if interp is not None:
            interp.shutdown()


PARAMS = {
    "quick": {"single_iterations": 200000, "shared_items": 100000, "min_repeats": 1, "max_repeats": 2,
              "compile_timeout": 60.0},
    "full": {"single_iterations": 3000000, "shared_items": 1000000, "min_repeats": 7, "max_repeats": 15,
             "compile_timeout": 60.0},
}

if __name__ == "__main__":
    main(run, __doc__, params=PARAMS, budget={"quick": 2.0, "full": 20.0})
