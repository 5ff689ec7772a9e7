"""Verdicts on what sharing memory costs and what separate memory buys: race conditions
between threads, and how a crash in a thread or a process reaches the others."""

from __future__ import annotations

from generator import formatting as f
from generator.claims import DEPENDS, FAILS, HOLDS, UNMEASURED, claim, metric_of
from generator.claims.core import free_threaded


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
                        f"unlocked ({f.ratio(f.quotient(lk, unl))}); 2 threads sharing the lock: "
                        f"{f.duration(lk2)}.")
    racy = [m for k, m in lost.items() if m is not None and k not in ("locked", "append")]
    if not racy:
        return UNMEASURED, "The lost-update figures are missing from this result.", evidence
    if max(m.max for m in racy) <= 0:
        return DEPENDS, ("No update was lost in these runs, but nothing guarantees it: the interpreter "
                         "just did not switch between a read and its write."), evidence
    summary = "Holds: unsynchronised read-modify-write loses updates"
    if lost["yield"] is not None and lost["yield"].median > 0:
        # n - 1 of every n lost: the count ended at one thread's increments, as if all read alike every round.
        lockstep = 100 * (1 - 1 / threads.median) if threads is not None and threads.median > 1 else None
        at_ceiling = (f": the count ended where one thread's increments alone would leave it, as if all "
                      f"{f.count(threads)} threads read the same value every round"
                      if lockstep is not None and abs(lost["yield"].median - lockstep) < 1e-6 else "")
        summary += f" ({f.auto(lost['yield'])} with a blocking call between read and write{at_ceiling})"
    if lost["locked"] is not None:
        summary += f", and a lock prevents it ({f.auto(lost['locked'])} lost with one)"
    summary += "."
    plain, prop = lost["plain"], lost["property"]
    if plain is not None and plain.max <= 0:
        summary += (" A bare `+=` on a plain attribute lost nothing here. That holds only while the load, "
                    "the add and the store run no Python code (an exact int in a plain instance attribute: no Python-level "
                    "`__getattribute__`, `__setattr__`, descriptor such as a property, or `__iadd__`/`__add__`), on GIL builds "
                    "of 3.10 and later: they check for a switch only at calls, function entries and "
                    "backward jumps, and none falls between the load and the store. It is an "
                    "implementation detail, not a promise")
        if prop is not None and prop.median > 0:
            summary += f": the same `+=` through a property lost {f.auto(prop)}"
        summary += "; 3.9 and older, and free-threaded builds, lose updates on a bare `+=` too."
    elif plain is not None:
        summary += f" Even a bare `+=` on a plain attribute lost {f.auto(plain)} of its updates"
        summary += (" (this build runs without the GIL, so nothing serialises the load and the store)."
                    if free_threaded(r) else ".")
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
