"""Verdicts on the core claims of "Multithreading vs Multiprocessing": GIL, parallelism,
scheduling, race conditions and fault isolation."""

from __future__ import annotations

from generator import formatting as f
from generator.claims import DEPENDS, FAILS, HOLDS, UNMEASURED, claim, metric_of

# Two threads "do not scale" while they stay within 20 % of one thread: on a shared 2-core VM
# the run-to-run noise of a paired speedup is about 10 %, and the GIL's hand-overs cost a few %.
THREADS_GIL_MAX = 1.2
# Parallelism "shows" when two workers are at least 1.5x faster than one: clearly beyond noise
# and reachable on a 2-core machine whose second core is not busy with something else.
PARALLEL_MIN = 1.5
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
# The wake-up delay "tracks the switch interval" when the delay beside a busy thread at the
# default interval is at least 5x the delay with no busy thread.
WAKE_RATIO_MIN = 5.0


def _capacity(r, kind="python"):
    """The capacity paired with the repeats if measured, else the separate probe."""
    return metric_of(r, f"{kind}.capacity") or metric_of(r, "capacity.parallel")


def _efficiency(r, kind, model="processes", n=2):
    """Share of the measured capacity that ``n`` workers reached (paired when possible)."""
    eff = metric_of(r, f"{kind}.{model}.{n}.efficiency")
    if eff is not None:
        return eff.median
    speed, cap = metric_of(r, f"{kind}.{model}.{n}.speedup"), metric_of(r, "capacity.parallel")
    if speed is None or cap is None or not cap.median:
        return None
    return speed.median / cap.median


def _gil_note(r) -> str:
    return "" if r.environment.get("gil_enabled", True) else " (this interpreter runs without the GIL)"


# -- the GIL and parallelism ------------------------------------------------------------------------


@claim("gil_limits_cpu_threads",
       "The GIL lets only one thread execute Python bytecode at a time, limiting parallelism for "
       "CPU-bound tasks", experiments=("cpu_bound",))
def gil_limits_cpu_threads(results):
    r = results.get("cpu_bound")
    t, p = metric_of(r, "python.threads.2.speedup"), metric_of(r, "python.processes.2.speedup")
    ct = metric_of(r, "c.threads.2.speedup")
    cap = _capacity(r, "python")
    if t is None:
        return UNMEASURED, "The pure-Python thread figures are missing from this result.", []
    evidence = [
        f"Pure-Python loop, 2 threads: {f.ratio(t)} the speed of one thread ({f.spread(t)}).",
    ]
    if p is not None:
        evidence.append(f"The same work on 2 processes: {f.ratio(p)} ({f.spread(p)}).")
    if ct is not None:
        evidence.append(f"hashlib.sha256 on 1 MiB buffers (C code that releases the GIL), 2 threads: "
                        f"{f.ratio(ct)} ({f.spread(ct)}).")
    if cap is not None:
        evidence.append(f"Parallel capacity of this machine during the run (2 busy processes vs 1): "
                        f"{f.ratio(cap)}.")
    for n in (4, 8):
        tn = metric_of(r, f"python.threads.{n}.speedup")
        if tn is not None:
            evidence.append(f"Pure-Python loop, {n} threads: {f.ratio(tn)}.")
    if not r.environment.get("gil_enabled", True):
        status = FAILS if t.median >= PARALLEL_MIN else DEPENDS
        return status, (f"This interpreter runs without the GIL: 2 threads ran pure-Python work "
                        f"{f.ratio(t)} as fast as one."), evidence
    if cap is not None and cap.median < CAPACITY_MIN and (p is None or p.median < PARALLEL_MIN):
        return DEPENDS, (f"Undecided here: during the run this machine could not run two busy "
                         f"processes in parallel either (capacity {f.ratio(cap)}), so the GIL's limit "
                         f"cannot be told apart from a lack of free cores; 2 threads reached "
                         f"{f.ratio(t)}."), evidence
    if t.median <= THREADS_GIL_MAX and (p is None or p.median >= PARALLEL_MIN):
        contrast = f", while 2 processes reached {f.ratio(p)}" if p is not None else ""
        if ct is not None and ct.median >= PARALLEL_MIN:
            return DEPENDS, (f"It depends on where the work runs. Pure-Python work does not speed up on "
                             f"threads: 2 threads ran it {f.ratio(t)} as fast as one{contrast}. But C code "
                             f"that releases the GIL runs in parallel on threads: hashing on 2 threads "
                             f"was {f.ratio(ct)} as fast."), evidence
        c_text = (f" Even hashing (C code) gained only {f.ratio(ct)} on 2 threads."
                  if ct is not None else "")
        return HOLDS, (f"Two threads ran pure-Python work {f.ratio(t)} as fast as one{contrast}."
                       + c_text), evidence
    if t.median > THREADS_GIL_MAX:
        return FAILS, (f"Two threads ran pure-Python work {f.ratio(t)} as fast as one: more than the "
                       f"GIL should allow{_gil_note(r)}."), evidence
    return DEPENDS, (f"Two threads ran pure-Python work {f.ratio(t)} as fast as one, but processes did "
                     f"not scale clearly either ({f.ratio(p)}), so this run cannot show what the GIL "
                     f"costs."), evidence


@claim("true_parallelism_processes",
       "Multiprocessing allows true parallel execution by leveraging multiple CPU cores",
       experiments=("cpu_bound",))
def true_parallelism_processes(results):
    r = results.get("cpu_bound")
    p = metric_of(r, "python.processes.2.speedup")
    if p is None:
        why = next(iter(r.unavailable.values()), "no process figures recorded")
        return UNMEASURED, f"Processes could not be measured here: {why}.", []
    cap = _capacity(r, "python")
    eff = _efficiency(r, "python")
    cores = r.environment.get("affinity") or r.environment.get("logical_cores")
    evidence = [f"Pure-Python loop on 2 processes: {f.ratio(p)} the speed of one thread ({f.spread(p)})."]
    if cap is not None:
        evidence.append(f"Measured parallel capacity (2 busy processes vs 1, same run): {f.ratio(cap)} "
                        f"({f.spread(cap)}); {cores} logical cores.")
    if eff is not None:
        evidence.append(f"Processes reached {f.percent(eff)} of that capacity.")
    pc = metric_of(r, "c.processes.2.speedup")
    if pc is not None:
        evidence.append(f"Hashing (C code) on 2 processes: {f.ratio(pc)}.")
    for n in (4, 8):
        pn = metric_of(r, f"python.processes.{n}.speedup")
        if pn is not None:
            gain = ("no gain over 2" if pn.median <= p.median * BEYOND_CORES_GAIN
                    else f"{f.ratio(pn.median / p.median)} the speed of 2")
            evidence.append(f"{n} processes on {cores} cores: {f.ratio(pn)} ({gain}).")
    if eff is None:
        status = HOLDS if p.median >= PARALLEL_MIN else DEPENDS
        return status, f"Two processes ran pure-Python work {f.ratio(p)} as fast as one thread.", evidence
    if eff >= CAPACITY_SHARE and p.median >= PARALLEL_MIN:
        return HOLDS, (f"Two processes ran pure-Python work {f.ratio(p)} as fast as one thread: "
                       f"{f.percent(eff)} of the {f.ratio(cap)} this machine could give."), evidence
    if eff >= CAPACITY_SHARE or (cap is not None and cap.median < PARALLEL_MIN):
        return DEPENDS, (f"Undecided here: the machine offered little parallelism during the run "
                         f"(capacity {f.ratio(cap)}, 2 busy processes vs 1), and two processes were "
                         f"{f.ratio(p)} as fast as one thread ({f.percent(eff)} of that capacity). "
                         f"Re-measure on a machine whose cores are free."), evidence
    return FAILS, (f"Two processes reached only {f.ratio(p)}, {f.percent(eff)} of the measured capacity "
                   f"{f.ratio(cap)}."), evidence


# -- scheduling --------------------------------------------------------------------------------------


@claim("threads_cooperative",
       "Threads are cooperative multitasking (GIL)", experiments=("gil_switching",))
def threads_cooperative(results):
    r = results.get("gil_switching")
    sw, sl = metric_of(r, "preempt.default.switches"), metric_of(r, "preempt.default.slice")
    idle, default = metric_of(r, "wakeup.idle.latency"), metric_of(r, "wakeup.default.latency")
    short, long_ = metric_of(r, "wakeup.short.latency"), metric_of(r, "wakeup.long.latency")
    iv, ivs, ivl = metric_of(r, "interval.default"), metric_of(r, "interval.short"), metric_of(r, "interval.long")
    secs = metric_of(r, "preempt.seconds")
    if sw is None and default is None:
        return UNMEASURED, "The switching figures are missing from this result.", []
    evidence = []
    if sw is not None:
        evidence.append(f"Two threads that never yield (pure-Python loops): the GIL moved between them "
                        f"{f.count(sw)} times in {f.duration(secs)}, one time slice every "
                        f"{f.duration(sl)} (switch interval {f.duration(iv)}).")
    shs = metric_of(r, "preempt.short.slice")
    if shs is not None:
        evidence.append(f"With the switch interval set to {f.duration(ivs)}: a slice every {f.duration(shs)}.")
    if idle is not None and default is not None:
        evidence.append(f"A thread sleeping 1 ms woke {f.duration(idle)} late alone, {f.duration(default)} "
                        f"late beside a busy thread (default interval {f.duration(iv)}).")
    if short is not None:
        evidence.append(f"Beside a busy thread at a {f.duration(ivs)} interval: {f.duration(short)} late.")
    if long_ is not None:
        evidence.append(f"Beside a busy thread at a {f.duration(ivl)} interval: {f.duration(long_)} late.")
    preempted = sw is not None and sw.median >= PREEMPT_MIN_SWITCHES
    woke = default is not None  # the sleeper got the GIL back while the busy thread never yielded
    if not preempted and not woke:
        return HOLDS, "A thread that never yields was not interrupted here.", evidence
    if not r.environment.get("gil_enabled", True):
        return FAILS, ("Threads are preemptively scheduled: this interpreter runs without the GIL, so "
                       "the operating system runs them in parallel and interrupts them at will."), evidence
    tracks = (idle is not None and default is not None and idle.median > 0
              and default.median / idle.median >= WAKE_RATIO_MIN)
    summary = ("Threads are preemptively scheduled, not cooperative: CPython forces a busy thread to hand "
               "over the GIL once another thread has waited one switch interval "
               f"({f.duration(iv)} here), and on every blocking call.")
    if sw is not None:
        summary += (f" Two threads that never yield swapped the GIL {f.count(sw)} times in "
                    f"{f.duration(secs)}.")
    if tracks:
        summary += (f" The price is latency: a sleeping thread woke {f.duration(default)} late beside a "
                    f"busy thread instead of {f.duration(idle)}.")
    return FAILS, summary, evidence


# -- shared memory -----------------------------------------------------------------------------------


@claim("race_conditions",
       "Shared memory access can lead to race conditions without proper synchronization",
       experiments=("race_condition",))
def race_conditions(results):
    r = results.get("race_condition")
    plain, gap, yld, locked = (metric_of(r, f"{v}.lost_pct") for v in ("plain", "gap", "yield", "locked"))
    plain_n = metric_of(r, "plain.lost")
    tiny = metric_of(r, "plain_tiny.lost_pct")
    threads = metric_of(r, "threads")
    evidence = []
    who = f"{f.count(threads)} threads" if threads is not None else "several threads"
    if plain is not None:
        any_lost = r.facts.get("plain_lost_any")
        evidence.append(f"`counter += 1` on {who}: {f.count(plain_n)} updates lost per run "
                        f"({plain.median:.3g} %; {'some' if any_lost else 'none'} in any of "
                        f"{plain.n} runs).")
    if tiny is not None:
        evidence.append(f"The same with a 1 µs switch interval: {tiny.median:.3g} % lost.")
    if gap is not None:
        evidence.append(f"Read, call a function, write back (1 µs switch interval): {gap.median:.3g} % lost "
                        f"({f.spread(gap)}).")
    if yld is not None:
        evidence.append(f"Read, sleep 10 µs (a blocking call), write back: {yld.median:.3g} % lost.")
    if locked is not None:
        evidence.append(f"The same with a threading.Lock around it: {locked.median:.3g} % lost.")
    unl, lk, lk2 = metric_of(r, "cost.unlocked"), metric_of(r, "cost.locked.uncontended"), metric_of(r, "cost.locked.2threads")
    if unl is not None and lk is not None:
        evidence.append(f"The lock's price: {f.duration(lk)} per locked increment vs {f.duration(unl)} "
                        f"unlocked ({f.ratio(lk.median / unl.median)}); 2 threads sharing the lock: "
                        f"{f.duration(lk2)}.")
    racy = [m for m in (plain, tiny, gap, yld) if m is not None]
    if not racy:
        return UNMEASURED, "The lost-update figures are missing from this result.", evidence
    worst = max(m.max for m in racy)
    if worst <= 0:
        return DEPENDS, ("No update was lost in these runs, but nothing guarantees it: "
                         "the interpreter just did not switch between a read and its write."), evidence
    summary = "Holds: unsynchronised read-modify-write loses updates"
    if yld is not None and yld.median > 0:
        summary += f" ({yld.median:.3g} % with a blocking call between read and write)"
    if locked is not None:
        summary += f", and a lock prevents it ({locked.median:.3g} % lost with one)"
    summary += "."
    if plain is not None and plain.max <= 0:
        summary += (" A bare `counter += 1` lost nothing here: this CPython only switches threads at "
                    "calls and loop jumps, never inside `+=`, which is an implementation detail, not a "
                    "promise (free-threaded builds and older versions lose updates).")
    elif plain is not None:
        summary += f" Even a bare `counter += 1` lost {plain.median:.3g} % of its updates."
    return HOLDS, summary, evidence


# -- fault isolation ---------------------------------------------------------------------------------


@claim("fault_isolation_threads",
       "Threads have poor fault isolation: one thread crash affects all", experiments=("fault_isolation",))
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
    if fin.median < sib.median:
        return FAILS, (f"A crashing process took siblings down: only {f.count(fin)} of {f.count(sib)} "
                       f"finished."), evidence
    summary = (f"Holds for separate processes: one crashed, {f.count(fin)} of {f.count(sib)} siblings "
               f"finished and the parent survived.")
    if broken is not None and broken.median > 0:
        summary += (f" Caveat for pools: in a ProcessPoolExecutor one dead worker breaks the whole pool, "
                    f"{f.count(broken)} of {f.count(tasks)} futures failed with BrokenProcessPool"
                    + (", including the task a healthy worker was running" if ok is not None and ok.median == 0
                       else "") + ".")
    if mp_lost is not None and mp_lost.median >= 1:
        summary += " A multiprocessing.Pool replaces the dead worker but never answers its task."
    return HOLDS, summary, evidence
