"""Verdicts on the core claims of "Multithreading vs Multiprocessing": GIL, parallelism,
scheduling, race conditions and fault isolation."""

from __future__ import annotations

from generator import formatting as f
from generator.claims import (
    CAPACITY_SHARE, DEPENDS, FAILS, HOLDS, UNMEASURED, checked_ratio, claim, metric_of, usable_cpus,
)

# Two threads "do not scale" while they stay within 20 % of one thread: on a shared 2-core VM
# the run-to-run noise of a paired speedup is about 10 %, and the GIL's hand-overs cost a few %.
THREADS_GIL_MAX = 1.2
# Parallelism "shows" when two workers are at least 1.5x faster than one: clearly beyond noise
# and reachable on a 2-core machine whose second core is not busy with something else.  With
# fewer usable CPUs (a cgroup quota of 1.5) the bar is half of what the CPUs allow beyond one.
PARALLEL_MIN = 1.5
# Below this many usable CPUs nothing can run in parallel at all.
ONE_CPU = 1.2
# Below this measured capacity (2 busy processes vs 1) the machine did not offer a second core
# during the run, so nothing can tell the GIL apart from a lack of cores (a lower bar than
# CAPACITY_MIN's "little parallelism": here the question is whether there was any).
NO_SECOND_CORE = 1.3
# More processes than cores "gain" only beyond 10 % (noise) over 2 processes.
BEYOND_CORES_GAIN = 1.10
# Preemption is shown when a never-yielding thread was interrupted more than a handful of times
# (the first entry of each spinner is a start, not a switch, and is already excluded).
PREEMPT_MIN_SWITCHES = 3
# The sleeper "got the GIL back" from a never-yielding thread when its median extra delay stayed
# within 10 switch intervals: the OS may pick the busy thread again a few times in a row, but a
# cooperative scheduler would keep the sleeper waiting for as long as the busy thread ran.
WAKE_BOUND_INTERVALS = 10.0
# A wake-up "waited for the C call" when it was late by at least half the call's own length.
CCALL_HELD_SHARE = 0.5


def _capacity(r, kind="python"):
    """The capacity paired with the repeats if measured, else the separate probe."""
    return metric_of(r, f"{kind}.capacity") or metric_of(r, "capacity.parallel")


def _median(x):
    return getattr(x, "median", x)


def _efficiency(r, kind, model="processes", n=2):
    """Share of the measured capacity that ``n`` workers reached: the paired metric (so a noisy
    one keeps its ⚠ in prose), else the ratio of the two medians."""
    eff = metric_of(r, f"{kind}.{model}.{n}.efficiency")
    if eff is not None:
        return eff
    speed, cap = metric_of(r, f"{kind}.{model}.{n}.speedup"), metric_of(r, "capacity.parallel")
    if speed is None or cap is None or not cap.median:
        return None
    return speed.median / cap.median


# -- the GIL and parallelism ------------------------------------------------------------------------


def parallel_min(r) -> float:
    """The speedup of 2 workers that shows parallelism, given the CPUs this run could use."""
    cpus = usable_cpus(r)
    if cpus is None or cpus >= 2:
        return PARALLEL_MIN
    return 1.0 + (PARALLEL_MIN - 1.0) * (cpus - 1.0)


def one_cpu(r):
    """A verdict for a run that had a single usable CPU, where no claim about parallelism can show."""
    cpus = usable_cpus(r)
    if cpus is not None and cpus < ONE_CPU:
        return (f"Undecided: this run could use only {cpus:g} CPU, so neither threads nor processes "
                f"could run in parallel; re-measure on a machine with at least two free cores.")
    return None


def free_threaded(r) -> bool:
    """The GIL was off while this result was measured (a free-threaded build that kept it off)."""
    return not r.environment.get("gil_enabled", True)


def _thread_scaling(r, kind="python", n=2):
    """N threads against ONE worker thread (paired), else against the main thread."""
    return metric_of(r, f"{kind}.threads.{n}.scaling") or metric_of(r, f"{kind}.threads.{n}.speedup")


def _against_main(r, s, t, p) -> str:
    """Where one worker thread ran at another speed than the main thread (3.13t
    does), the threads' figure ``s`` against the processes' baseline as well."""
    one = metric_of(r, "python.threads.1.speedup")
    if s is None or s is t or one is None or p is None or f.ratio(s) == f.ratio(t):
        return ""
    return (f" (but one worker thread ran the loop {f.ratio(one)} as fast as the main thread; measured against "
            f"the main thread, the processes' baseline, 2 threads reached {f.ratio(s)} and 2 processes {f.ratio(p)}: "
            f"each figure its own median, so they need not multiply out)")


@claim("gil_limits_cpu_threads",
       "The GIL lets only one thread execute Python bytecode at a time, limiting parallelism for "
       "CPU-bound tasks", experiments=("cpu_bound",),
       headline=("python.threads.2.scaling", "python.processes.2.speedup", "python.capacity"))
def gil_limits_cpu_threads(results):
    r = results.get("cpu_bound")
    t = _thread_scaling(r)
    p = metric_of(r, "python.processes.2.speedup")
    ct = _thread_scaling(r, "c")
    cap = _capacity(r, "python")
    if t is None:
        return UNMEASURED, "The pure-Python thread figures are missing from this result.", []
    evidence = [f"Pure-Python loop, 2 threads against 1 worker thread: {f.ratio(t)} ({f.spread(t)})."]
    s = metric_of(r, "python.threads.2.speedup")
    if s is not None and s is not t:
        evidence.append(f"The same 2 threads against the main thread running the loop alone: {f.ratio(s)} ({f.spread(s)}).")
    if p is not None:
        evidence.append(f"The same work on 2 processes against the main thread: {f.ratio(p)} ({f.spread(p)}).")
    if ct is not None:
        evidence.append(f"hashlib.sha256 on 1 MiB buffers (C code that releases the GIL), 2 threads "
                        f"against 1: {f.ratio(ct)} ({f.spread(ct)}).")
    for n in (4, 8):
        tn = _thread_scaling(r, "python", n)
        if tn is not None:
            name = f"python.threads.{n}.scaling"
            evidence.append(f"Pure-Python loop, {n} threads against 1: {checked_ratio(r, name, tn)}.")
    single = one_cpu(r)
    if single:
        return DEPENDS, single, evidence
    need = parallel_min(r)
    if free_threaded(r):
        if t.median >= need:
            return FAILS, (f"Does not hold on this free-threaded build: the GIL is off, and 2 threads ran "
                           f"pure-Python work {f.ratio(t)} as fast as one{_against_main(r, s, t, p)}."), evidence
        return DEPENDS, (f"This build runs without the GIL, yet 2 threads ran pure-Python work only "
                         f"{f.ratio(t)} as fast as one: the machine did not offer a second free core "
                         f"during the run, or the threads contended on shared objects."), evidence
    if cap is not None and cap.median < NO_SECOND_CORE and (p is None or p.median < need):
        return DEPENDS, (f"Undecided: during the run this machine could not run two busy processes in "
                         f"parallel either (capacity {f.ratio(cap)}), so the GIL's limit cannot be told "
                         f"apart from a lack of free cores; 2 threads reached {f.ratio(t)}."), evidence
    if t.median <= THREADS_GIL_MAX and (p is None or p.median >= need):
        contrast = (f", while 2 processes reached {f.ratio(p)} against the main thread"
                    + (f" (2 threads against it: {f.ratio(s)})" if s is not None and s is not t else "")
                    if p is not None else "")
        summary = (f"Holds on GIL builds for Python code: 2 threads ran a pure-Python loop "
                   f"{f.ratio(t)} as fast as one worker thread{contrast}.")
        if ct is not None and ct.median >= need:
            summary += (f" It does not limit C code that releases the GIL: hashing on 2 threads ran "
                        f"{f.ratio(ct)} as fast as on one.")
        elif ct is not None:
            summary += f" Hashing (C code that releases the GIL) gained {f.ratio(ct)} on 2 threads."
        summary += (" It does not hold on free-threaded builds (3.13t and later) while their GIL is off, which is "
                    "their default; `PYTHON_GIL=1`, `-X gil=1` or an extension module that does not declare "
                    "free-threading support turns it back on.")
        return HOLDS, summary, evidence
    if t.median > THREADS_GIL_MAX:
        return FAILS, (f"Two threads ran pure-Python work {f.ratio(t)} as fast as one: more than a GIL "
                       f"allows, on a build that reports its GIL enabled."), evidence
    return DEPENDS, (f"Two threads ran pure-Python work {f.ratio(t)} as fast as one, but processes did "
                     f"not scale clearly either ({f.ratio(p)}), so this run cannot show what the GIL "
                     f"costs."), evidence


@claim("true_parallelism_processes",
       "Multiprocessing allows true parallel execution by leveraging multiple CPU cores",
       experiments=("cpu_bound",), headline=("python.processes.2.speedup", "python.capacity"))
def true_parallelism_processes(results):
    r = results.get("cpu_bound")
    p = metric_of(r, "python.processes.2.speedup")
    if p is None:
        why = next(iter(r.unavailable.values()), "no process figures recorded")
        return UNMEASURED, f"Processes could not be measured here: {why}.", []
    cap = _capacity(r, "python")
    eff = _efficiency(r, "python")
    cores = f"{usable_cpus(r):g}" if usable_cpus(r) else "?"
    evidence = [f"Pure-Python loop on 2 processes: {f.ratio(p)} the speed of one thread ({f.spread(p)})."]
    if cap is not None:
        evidence.append(f"Measured parallel capacity (2 busy processes vs 1, same run): {f.ratio(cap)} "
                        f"({f.spread(cap)}), a noisy estimate of what the machine gave, not a bound; "
                        f"{cores} usable CPUs.")
    if eff is not None:
        evidence.append(f"Processes reached {f.percent(eff)} of that estimate (paired per repeat).")
    pc = metric_of(r, "c.processes.2.speedup")
    if pc is not None:
        evidence.append(f"Hashing (C code) on 2 processes: {f.ratio(pc)}.")
    for n in (4, 8):
        pn = metric_of(r, f"python.processes.{n}.speedup")
        if pn is not None:
            change = f.quotient(pn, p)  # from the two medians shown; ⚠ if either is noisy
            slower = f.Quotient(1 - change.median, change.noisy)
            gain = (f"{f.percent(slower)} slower than 2" if change.median < 1 / BEYOND_CORES_GAIN
                    else f"within 10 % of 2 processes' {f.ratio(p)}" if change.median <= BEYOND_CORES_GAIN
                    else f"{f.ratio(change)} the speed of 2")
            shown = checked_ratio(r, f"python.processes.{n}.speedup", pn)
            evidence.append(f"{n} processes on {cores} usable CPUs: {shown}"
                            + (f" ({gain})." if not shown.startswith("✗") else "."))
    single = one_cpu(r)
    if single:
        return DEPENDS, single, evidence
    need = parallel_min(r)
    if eff is None:
        status = HOLDS if p.median >= need else DEPENDS
        return status, f"Two processes ran pure-Python work {f.ratio(p)} as fast as one thread.", evidence
    if _median(eff) >= CAPACITY_SHARE and p.median >= need:
        return HOLDS, (f"Two processes ran pure-Python work {f.ratio(p)} as fast as one thread, "
                       f"{f.percent(eff)} of the parallel capacity measured alongside "
                       f"({f.ratio(cap)})."), evidence
    if _median(eff) >= CAPACITY_SHARE or (cap is not None and cap.median < need):
        return DEPENDS, (f"Undecided here: the machine offered little parallelism during the run "
                         f"(capacity {f.ratio(cap)}, 2 busy processes vs 1), and two processes were "
                         f"{f.ratio(p)} as fast as one thread ({f.percent(eff)} of that capacity). "
                         f"Re-measure on a machine whose cores are free."), evidence
    return FAILS, (f"Two processes reached only {f.ratio(p)}, {f.percent(eff)} of the measured capacity "
                   f"{f.ratio(cap)}."), evidence


# -- scheduling --------------------------------------------------------------------------------------


@claim("threads_cooperative",
       "Threads are cooperative multitasking (GIL)", experiments=("gil_switching",),
       headline=("wakeup.default.latency",), general=True)
def threads_cooperative(results):
    r = results.get("gil_switching")
    sw = metric_of(r, "preempt.default.switches")
    run = r.facts.get("preempt.default.run") or {}
    default = metric_of(r, "wakeup.default.latency")
    iv = metric_of(r, "interval.default")
    if sw is None and default is None:
        return UNMEASURED, "The switching figures are missing from this result.", []
    evidence = _switching_evidence(r)
    if free_threaded(r):
        return FAILS, ("Threads are preemptively scheduled: this build runs without the GIL, so the "
                       "operating system runs threads in parallel and interrupts them at will; the "
                       "switch interval has no effect."), evidence
    # A cooperative scheduler never takes the CPU from a thread that does not yield: the sleeper
    # would wait until the busy thread ended, which it never did while the sleeper was measured.
    # Both figures below could come out the other way.
    woke = (default is not None and iv is not None
            and default.median <= WAKE_BOUND_INTERVALS * iv.median)
    preempted = bool(run) and run.get("switches", 0) >= PREEMPT_MIN_SWITCHES
    if not preempted and not woke:
        return HOLDS, ("A thread that never yields was not interrupted: the sleeper beside it woke "
                       f"{f.duration(default)} late, and two busy threads swapped the GIL "
                       f"{run.get('switches', 0)} times."), evidence
    summary = ("Threads are preemptively scheduled, not cooperative. A thread that wants the GIL waits "
               f"one switch interval ({f.duration(iv)}), then asks the holder to drop it; the holder "
               "drops it at its next eval-breaker check (a call, a function entry, a backward jump), "
               "and the operating system picks which waiting thread runs next.")
    if woke:
        summary += (f" Beside a thread that never yields, a 1 ms sleep ended {f.duration(default)} "
                    f"late (median).")
    if preempted:
        summary += (f" Two never-yielding threads swapped the GIL {run['switches']} times in one run of "
                    f"{f.duration(run['elapsed'])}.")
    return FAILS, summary, evidence


def _switching_evidence(r) -> list[str]:
    ev = []
    iv = metric_of(r, "interval.default")
    idle = metric_of(r, "wakeup.idle.latency")
    if idle is not None:
        ev.append(f"A thread sleeping 1 ms, no busy thread: {f.duration(idle)} late "
                  f"(median of {idle.n}; 95th percentile {f.duration(metric_of(r, 'wakeup.idle.p95'))}).")
    for cond, who in (("default", "1 busy thread"), ("busy2", "2 busy threads"), ("busy4", "4 busy threads")):
        m = metric_of(r, f"wakeup.{cond}.latency")
        if m is not None:
            ev.append(f"Beside {who} (interval {f.duration(iv)}): {f.duration(m)} late at the median, "
                      f"{f.duration(metric_of(r, f'wakeup.{cond}.p95'))} at the 95th percentile, "
                      f"{f.duration(m.max)} at worst (n = {m.n}).")
    for cond in ("short", "long"):
        m, ivc = metric_of(r, f"wakeup.{cond}.latency"), metric_of(r, f"interval.{cond}")
        if m is not None:
            ev.append(f"Beside 1 busy thread at a {f.duration(ivc)} interval: {f.duration(m)} late "
                      f"(95th percentile {f.duration(metric_of(r, f'wakeup.{cond}.p95'))}).")
    cc, ccs = metric_of(r, "wakeup.ccall.latency"), metric_of(r, "ccall.seconds")
    if cc is not None:
        text = (f"Beside a thread inside one long C call (`sum(range(n))`, {f.duration(ccs)} alone, "
                f"no eval-breaker check inside): {f.duration(cc)} late at the median, "
                f"{f.duration(cc.max)} at worst")
        # Only a wake-up that waited for most of a call shows the call holding the GIL; a sleeper
        # that woke between two calls shows nothing about it.
        if ccs is not None and cc.max >= CCALL_HELD_SHARE * ccs.median:
            text += ": the switch interval cannot cut a C call short."
        else:
            text += (": no wake-up here waited for most of a call (the sleeper got the GIL between calls), "
                     "so this run does not show the C call holding it.")
        ev.append(text)
    for cond in ("default", "short"):
        run = r.facts.get(f"preempt.{cond}.run")
        sl = metric_of(r, f"preempt.{cond}.slice")
        ivc = metric_of(r, f"interval.{cond}")
        if run and run.get("switches"):
            # One run's slice, as noisy as the series of runs it belongs to.
            one = f.Quotient(run["elapsed"] / run["switches"], f.is_noisy(sl))
            ev.append(f"Two never-yielding threads at a {f.duration(ivc)} interval: {run['switches']} "
                      f"hand-overs in one run of {f.duration(run['elapsed'])}, one every "
                      f"{f.duration(one)}"
                      + (f" (median slice over {sl.n} runs: {f.duration(sl)})." if sl else "."))
    return ev
