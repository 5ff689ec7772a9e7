"""Verdicts on the core claims of "Multithreading vs Multiprocessing": GIL, parallelism,
scheduling, race conditions and fault isolation."""

from __future__ import annotations

from generator import formatting as f
from generator.claims import DEPENDS, FAILS, HOLDS, UNMEASURED, checked_ratio, claim, metric_of, usable_cpus

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
# during the run, so nothing can tell the GIL apart from a lack of cores.
CAPACITY_MIN = 1.3
# Processes deliver "true parallelism" when they reach 80 % of the capacity measured alongside:
# the remaining 20 % covers task dispatch, pickling and noise.
CAPACITY_SHARE = 0.80
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


def _free_threaded(r) -> bool:
    """The GIL was off while this result was measured (a free-threaded build that kept it off)."""
    return not r.environment.get("gil_enabled", True)


def _thread_scaling(r, kind="python", n=2):
    """N threads against ONE worker thread (paired), else against the main thread."""
    return metric_of(r, f"{kind}.threads.{n}.scaling") or metric_of(r, f"{kind}.threads.{n}.speedup")


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
    if _free_threaded(r):
        if t.median >= need:
            return FAILS, (f"Does not hold on this free-threaded build: the GIL is off, and 2 threads ran "
                           f"pure-Python work {f.ratio(t)} as fast as one."), evidence
        return DEPENDS, (f"This build runs without the GIL, yet 2 threads ran pure-Python work only "
                         f"{f.ratio(t)} as fast as one: the machine did not offer a second free core "
                         f"during the run, or the threads contended on shared objects."), evidence
    if cap is not None and cap.median < CAPACITY_MIN and (p is None or p.median < need):
        return DEPENDS, (f"Undecided: during the run this machine could not run two busy processes in "
                         f"parallel either (capacity {f.ratio(cap)}), so the GIL's limit cannot be told "
                         f"apart from a lack of free cores; 2 threads reached {f.ratio(t)}."), evidence
    if t.median <= THREADS_GIL_MAX and (p is None or p.median >= need):
        contrast = f", while 2 processes reached {f.ratio(p)}" if p is not None else ""
        summary = (f"Holds on GIL builds for Python code: 2 threads ran a pure-Python loop "
                   f"{f.ratio(t)} as fast as one{contrast}.")
        if ct is not None and ct.median >= need:
            summary += (f" It does not limit C code that releases the GIL: hashing on 2 threads ran "
                        f"{f.ratio(ct)} as fast as on one.")
        elif ct is not None:
            summary += f" Hashing (C code that releases the GIL) gained {f.ratio(ct)} on 2 threads."
        summary += " It does not hold on free-threaded builds (3.13t and later), which have no GIL."
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
                    else "within 10 % of 2" if change.median <= BEYOND_CORES_GAIN
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
    idle, default = metric_of(r, "wakeup.idle.latency"), metric_of(r, "wakeup.default.latency")
    iv = metric_of(r, "interval.default")
    if sw is None and default is None:
        return UNMEASURED, "The switching figures are missing from this result.", []
    evidence = _switching_evidence(r)
    if _free_threaded(r):
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


# -- shared memory -----------------------------------------------------------------------------------


@claim("race_conditions",
       "Shared memory access can lead to race conditions without proper synchronization",
       experiments=("race_condition",), headline=("yield.lost_pct",))
def race_conditions(results):
    r = results.get("race_condition")
    lost = {v: metric_of(r, f"{v}.lost_pct") for v in
            ("plain", "plain_tiny", "property", "dict_item", "append", "gap", "yield", "locked")}
    plain_n = metric_of(r, "plain.lost")
    threads = metric_of(r, "threads")
    who = f"{f.count(threads)} threads" if threads is not None else "several threads"
    any_lost = r.facts.get("lost_any", {})
    labels = {
        "plain": f"`counter.value += 1` (a plain attribute) on {who}",
        "plain_tiny": "the same with a 1 µs switch interval",
        "property": "`counter.value += 1` where `value` is a property (Python-level getter and setter)",
        "dict_item": '`d["k"] += 1` on a shared dict',
        "append": "`shared_list.append(1)`",
        "gap": "read, call a function, write back (1 µs switch interval)",
        "yield": "read, sleep 10 µs (a blocking call), write back",
        "locked": "the same with a threading.Lock around it",
    }
    evidence = []
    for v, m in lost.items():
        if m is not None:
            seen = any_lost.get(v)
            tail = ("" if seen is None else
                    f"; {'updates lost in at least one' if seen else 'no update lost in any'} of {m.n} runs")
            extra = f", {f.count(plain_n)} lost per run" if v == "plain" and plain_n is not None else ""
            evidence.append(f"{labels[v]}: {f.auto(m)} of updates lost{extra} ({f.spread(m)}{tail}).")
    unl, lk, lk2 = metric_of(r, "cost.unlocked"), metric_of(r, "cost.locked.uncontended"), metric_of(r, "cost.locked.2threads")
    if unl is not None and lk is not None and unl.median:
        evidence.append(f"The lock's price: {f.duration(lk)} per locked increment vs {f.duration(unl)} "
                        f"unlocked ({f.ratio(lk.median / unl.median)}); 2 threads sharing the lock: "
                        f"{f.duration(lk2)}.")
    racy = [m for k, m in lost.items() if m is not None and k not in ("locked", "append")]
    if not racy:
        return UNMEASURED, "The lost-update figures are missing from this result.", evidence
    if max(m.max for m in racy) <= 0:
        return DEPENDS, ("No update was lost in these runs, but nothing guarantees it: the interpreter "
                         "just did not switch between a read and its write."), evidence
    summary = "Holds: unsynchronised read-modify-write loses updates"
    if lost["yield"] is not None and lost["yield"].median > 0:
        summary += f" ({f.auto(lost['yield'])} with a blocking call between read and write)"
    if lost["locked"] is not None:
        summary += f", and a lock prevents it ({f.auto(lost['locked'])} lost with one)"
    summary += "."
    plain, prop = lost["plain"], lost["property"]
    if plain is not None and plain.max <= 0:
        summary += (" A bare `+=` on a plain attribute lost nothing here. That holds only for `+=` on "
                    "built-in objects, on GIL builds of 3.10 and later: they check for a switch only at "
                    "calls, function entries and backward jumps, and none falls between the load and "
                    "the store. It is an implementation detail, not a promise")
        if prop is not None and prop.median > 0:
            summary += f": the same `+=` through a property lost {f.auto(prop)}"
        summary += "; 3.9 and older, and free-threaded builds, lose updates on a bare `+=` too."
    elif plain is not None:
        summary += f" Even a bare `+=` on a plain attribute lost {f.auto(plain)} of its updates"
        summary += (" (this build runs without the GIL, so nothing serialises the load and the store)."
                    if _free_threaded(r) else ".")
    app = lost["append"]
    if app is not None:
        summary += (f" `list.append` lost {f.auto(app)}: one call into C, atomic on every build."
                    if app.max <= 0 else f" Even `list.append` lost {f.auto(app)}.")
    return HOLDS, summary, evidence


# -- fault isolation ---------------------------------------------------------------------------------


@claim("fault_isolation_threads",
       "Threads have poor fault isolation: one thread crash affects all", experiments=("fault_isolation",),
       general=True)
def fault_isolation_threads(results):
    r = results.get("fault_isolation")
    sib, fin = metric_of(r, "thread_exception.siblings"), metric_of(r, "thread_exception.finished")
    csib, abort, segv = (metric_of(r, "thread_crash.siblings"), metric_of(r, "thread_crash.abort.finished"),
                         metric_of(r, "thread_crash.segv.finished"))
    evidence = []
    if fin is not None:
        text = r.facts.get("thread_exception.text", "an exception")
        evidence.append(f"Uncaught exception in one thread ({text}): {f.count(fin)} of {f.count(sib)} "
                        f"sibling threads finished, the process went on.")
    if abort is not None:
        evidence.append(f"os.abort() in one thread: the whole process died "
                        f"({r.facts.get('thread_crash.abort.signal', 'killed')}); {f.count(abort)} of "
                        f"{f.count(csib)} sibling threads finished.")
    if segv is not None:
        evidence.append(f"A segfault in one thread: the whole process died "
                        f"({r.facts.get('thread_crash.segv.signal', 'killed')}); {f.count(segv)} of "
                        f"{f.count(csib)} sibling threads finished.")
    if fin is None and abort is None:
        return UNMEASURED, "The thread fault figures are missing from this result.", evidence
    exc_isolated = fin is not None and sib is not None and fin.median >= sib.median
    hard = [m for m in (abort, segv) if m is not None]
    crash_kills = bool(hard) and all(csib is not None and m.median < csib.median for m in hard)
    if exc_isolated and crash_kills:
        return DEPENDS, (f"It depends on the failure. An exception ends only its own thread: "
                         f"{f.count(fin)} of {f.count(sib)} siblings finished. A hard crash (os.abort(), "
                         f"a segfault in C code) ends the whole process: "
                         f"{f.count(hard[0])} of {f.count(csib)} siblings finished."), evidence
    if not exc_isolated and (crash_kills or not hard):
        return HOLDS, "A failing thread took its siblings down with it.", evidence
    if exc_isolated and hard and not crash_kills:
        return FAILS, "Neither an exception nor a hard crash in one thread stopped its siblings here.", evidence
    return DEPENDS, "An exception in one thread affected its siblings here; see the figures.", evidence


@claim("fault_isolation_processes",
       "Processes have good fault isolation: crashes in one process do not affect others",
       experiments=("fault_isolation",))
def fault_isolation_processes(results):
    r = results.get("fault_isolation")
    sib, fin = metric_of(r, "process_crash.siblings"), metric_of(r, "process_crash.finished")
    tasks, ok, broken = metric_of(r, "pool_crash.tasks"), metric_of(r, "pool_crash.ok"), metric_of(r, "pool_crash.broken")
    mp_lost, mp_ok, mp_tasks = metric_of(r, "mp_pool.lost"), metric_of(r, "mp_pool.ok"), metric_of(r, "mp_pool.tasks")
    if fin is None or sib is None:
        why = r.unavailable.get("process_crash", "no figures recorded")
        return UNMEASURED, f"The process crash could not be measured here: {why}.", []
    codes = r.facts.get("process_crash.exitcodes")
    evidence = [f"os.abort() in one of {f.count(sib.median + 1)} processes "
                f"({r.facts.get('process_crash.signal', 'killed')}): {f.count(fin)} of {f.count(sib)} "
                f"siblings exited normally, the parent went on"
                + (f" (exit codes {codes})." if codes else ".")]
    if broken is not None:
        evidence.append(f"ProcessPoolExecutor with 2 workers, one task crashing: {f.count(broken)} of "
                        f"{f.count(tasks)} futures failed with "
                        f"{r.facts.get('pool_crash.exception', 'BrokenProcessPool')}, {f.count(ok)} returned; "
                        f"submitting afterwards: {r.facts.get('pool_crash.submit_after', 'n/a')}.")
    if mp_lost is not None:
        evidence.append(f"multiprocessing.Pool, one task crashing: {f.count(mp_ok)} of {f.count(mp_tasks)} "
                        f"other tasks returned; the crashed task "
                        + ("was never answered (waiting timed out)." if mp_lost.median >= 1
                           else f"raised {r.facts.get('mp_pool.exception', 'an error')}."))
    stuck = metric_of(r, "lock_crash.stuck")
    if stuck is not None:
        evidence.append("A child killed while holding a multiprocessing.Lock shared with its parent: "
                        + ("nothing released it, and the parent's acquire timed out."
                           if stuck.median >= 1 else "the parent could acquire the lock afterwards."))
    if fin.median < sib.median:
        return FAILS, (f"A crashing process took siblings down: only {f.count(fin)} of {f.count(sib)} "
                       f"finished."), evidence
    summary = (f"Separate processes, yes: one crashed, {f.count(fin)} of {f.count(sib)} siblings "
               f"finished and the parent survived.")
    shared = []
    if broken is not None and broken.median > 0:
        shared.append(f"in a ProcessPoolExecutor one dead worker breaks the whole pool: {f.count(broken)} "
                      f"of {f.count(tasks)} futures failed with BrokenProcessPool"
                      + (", including tasks healthy workers were running" if ok is not None and ok.median == 0
                         else ""))
    if mp_lost is not None and mp_lost.median >= 1:
        shared.append("a multiprocessing.Pool replaces the dead worker but never answers its task, so "
                      "waiting for it hangs (gh-66587, gh-96062)")
    if stuck is not None and stuck.median >= 1:
        shared.append("a lock the dead process held stays locked, so every process sharing it blocks")
    if not shared:
        return HOLDS, summary, evidence
    return DEPENDS, (summary + " What they share, no: " + "; ".join(shared) + "."), evidence
