"""Verdicts of the Free-Threaded Python note: when threads beat processes."""

from __future__ import annotations

from generator import formatting as f
from generator.claims import DEPENDS, FAILS, HOLDS, UNMEASURED, claim, metric_of
from generator.claims.compare import MATERIAL, compare_speedups
from generator.claims.core import one_cpu

# Threads "beat" processes when their speedups differ beyond the spread of the per-repeat ratios
# (both run in every repeat) and by at least compare.MATERIAL; a smaller lead is named as such.

@claim("threads_beat_processes",
       "Threads beat processes on CPU-bound work over shared data", experiments=("free_threading",),
       headline=("shared.threads.2.speedup", "shared.processes.2.speedup"))
def threads_beat_processes(results):
    r = results.get("free_threading")
    t, p = metric_of(r, "shared.threads.2.speedup"), metric_of(r, "shared.processes.2.speedup")
    if t is None or p is None:
        return UNMEASURED, "Threads and processes were not both measured on the shared task here.", []
    evidence = [f"A pure-Python pass over one shared list, split in two: 2 threads ran it {f.ratio(t)} "
                f"as fast as the main thread ({f.spread(t)}), a pool of 2 processes {f.ratio(p)} "
                f"({f.spread(p)}), each process receiving its half pickled."]
    ip = metric_of(r, "shared.interpreters.2.speedup")
    if ip is not None:
        evidence.append(f"InterpreterPoolExecutor with 2 sub-interpreters: {f.ratio(ip)}.")
    single = one_cpu(r)
    if single:
        return DEPENDS, single, evidence
    # Named: the note compares builds, and "this build" in its opening callout would name none.
    version = r.environment.get("python_version")
    build = f"CPython {version}" if version else "this build"
    gil = f"{build} with the GIL" if r.environment.get("gil_enabled", True) else f"{build} without the GIL"
    # Both speedups divide the same repeat's sequential run, so their per-repeat ratio is the
    # processes' wall over the threads' in that repeat.
    c = compare_speedups(t, p, paired=True)
    if c.outcome == "slower":
        ratio = f"processes ran it {f.ratio(c.factor)} as fast as threads ({c.basis})"
    else:
        ratio = f"threads ran it {f.ratio(c.factor)} as fast as processes ({c.basis})"
    if c.small:
        ahead = "threads" if c.outcome == "faster" else "processes"
        return DEPENDS, (f"On {gil}, {ahead} were ahead, but by less than {f.percent(MATERIAL - 1)}: "
                         f"threads {f.ratio(t)}, processes {f.ratio(p)}; {ratio}."), evidence
    if c.outcome == "faster":
        return HOLDS, (f"On {gil}, threads won: {f.ratio(t)} against {f.ratio(p)} for "
                       f"processes, whose time includes pickling their input: {ratio}."), evidence
    if c.outcome == "slower":
        return FAILS, (f"On {gil}, processes won: {f.ratio(p)} against {f.ratio(t)} for "
                       f"threads: {ratio}."), evidence
    return DEPENDS, (f"On {gil}, threads ({f.ratio(t)}) and processes ({f.ratio(p)}) "
                     f"could not be told apart: {ratio}."), evidence
