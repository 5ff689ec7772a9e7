"""Verdicts on pool tuning (workers, chunksize), the cost of inter-process communication and of a shared lock."""

from __future__ import annotations

import math

from generator import formatting as f
from generator.claims import CAPACITY_MIN, CAPACITY_SHARE, DEPENDS, FAILS, HOLDS, UNMEASURED, claim, usable_cpus
from generator.claims.compare import MATERIAL, compare_speedups

# chunksize "matters" when the best chunksize is at least 3x cheaper per task than chunksize 1:
# well beyond noise, and large enough to change a design; below 1.5x it is not worth tuning.
CHUNK_MATTERS = 3.0
CHUNK_IRRELEVANT = 1.5
# Processes "scale" when the widest pool that fits the usable CPUs reaches CAPACITY_SHARE of what
# those CPUs allow (min(workers, usable CPUs)); below CAPACITY_MIN, the capacity probe is named
# as the reason rather than Python.
# Shared memory makes a measurable difference when a large payload costs at least 2x more
# through a Queue than through shared memory.
IPC_RATIO = 2.0
# Keeping per-thread counters "pays" when it is at least 2x faster than one locked counter.
LOCAL_GAIN = 2.0

# Headline metrics (the figures a status rests on), for the n >= 5 and impossible-figure guards.
# Names are fixed in the registry, so every worker count and size a profile may sweep is listed;
# the guards look only at the ones a result has.
_SIZES = ("1K", "4K", "16K", "64K", "256K", "1M", "4M", "16M", "64M", "256M", "1G")


def _workers(n) -> str:
    return f"{n} worker" if n == 1 else f"{n} workers"


def _change(x) -> str:
    """A ratio new / old as prose: '12 % less than', '3.0 % more than', 'the same as'."""
    x = getattr(x, "median", x)
    if abs(x - 1) < 0.005:
        return "the same as"
    return f"{f.percent(abs(x - 1), 2)} {'more' if x > 1 else 'less'} than"


def _faster(x) -> str:
    """A time ratio (old / new) as prose: '2.00× faster' or '1.25× slower'."""
    value = getattr(x, "median", x)
    if value >= 1:
        return f"{f.ratio(x)} faster"  # the metric itself, so a noisy one keeps its ⚠
    return f"{f.ratio(1 / value)}{f.NOISY_MARK if f.is_noisy(x) else ''} slower"


# -- worker count ----------------------------------------------------------------------------------


def _sweep(r):
    """{workers: speedup metric} and the CPUs the run could use (a float under a cgroup quota)."""
    return r.sweep("workers", "speedup"), usable_cpus(r)


def _sweep_names(r) -> list[str]:
    """The headline metrics of a sweep: whatever worker counts this result measured."""
    return [f"workers.{n}.speedup" for n in r.sweep("workers", "speedup")]


def _full_use(cpus: float) -> int:
    """The fewest workers that can use every usable CPU: 2 under a quota of 1.5."""
    return max(1, math.ceil(cpus - 1e-9))


@claim("oversubscription",
       "Avoid overloading the system: more worker processes than cores do not speed up CPU-bound work",
       experiments=("pool_tuning",), headline=_sweep_names)
def oversubscription(results):
    r = results.get("pool_tuning")
    speedups, cpus = _sweep(r)
    if not speedups or not cpus:
        return UNMEASURED, "The worker-count sweep has no figures here.", []
    full = _full_use(cpus)
    at_or_below = [w for w in speedups if w <= full]
    beyond = [w for w in speedups if w > full]
    if not at_or_below or not beyond:
        return DEPENDS, (f"No worker count both at and beyond the {f.cpus(cpus)} was measured, "
                         "so oversubscription could not be tested."), []
    ref_w = max(at_or_below)
    ref = speedups[ref_w]
    best_w = max(beyond, key=lambda w: speedups[w].median)
    worst_w = min(beyond, key=lambda w: speedups[w].median)
    gain = speedups[best_w].median / ref.median
    loss = speedups[worst_w].median / ref.median
    # Compared per repeat (every count runs in each repeat); a gain beyond the spread but under
    # MATERIAL is real, but no reason to oversubscribe.
    c = compare_speedups(speedups[best_w], ref, paired=True)
    reached = f"{best_w} workers reached {f.ratio(speedups[best_w])}, {_change(gain)} the {f.ratio(ref)} of {ref_w}"
    if c.outcome == "faster" and c.material:
        status = FAILS
        verdict = f"{reached} ({c.basis})"
    elif c.outcome == "faster":
        status = DEPENDS
        verdict = (f"{reached}: a gain beyond the spread ({c.basis}), but under the {f.percent(MATERIAL - 1)} "
                   f"that would make oversubscribing worth it")
    elif c.outcome == "tie" and gain > 1:
        status = DEPENDS
        verdict = f"{reached}, within the spread ({c.basis}): inconclusive on this machine"
    else:
        status = HOLDS
        verdict = (f"more workers than that did not help: the best count beyond it, {best_w}, reached "
                   f"{f.ratio(speedups[best_w])}")
        # A tie names no direction: the medians of two speedups and of their walls may disagree on it.
        verdict += (f", {_change(gain)} the {f.ratio(ref)} of {ref_w}; {ref_w} workers were {f.ratio(c.factor)} "
                    f"faster ({c.basis})" if c.outcome == "slower"
                    else f" against the {f.ratio(ref)} of {ref_w}: not distinguishable ({c.basis})")
    summary = f"With {f.cpus(cpus)}, {ref_w} workers can keep them all busy; {verdict}."
    if worst_w != best_w:
        summary += (f" The slowest count beyond it, {worst_w}, reached {f.ratio(speedups[worst_w])}: "
                    f"{_change(loss)} at {ref_w}.")
    evidence = [f"{_workers(w)}: {f.ratio(speedups[w])} vs 1 worker ({f.spread(speedups[w])})"
                for w in sorted(speedups)]
    return status, summary, evidence


@claim("processes_scalable", "Scalable: multiprocessing is efficient for computationally intensive workloads",
       experiments=("pool_tuning",), headline=_sweep_names)
def processes_scalable(results):
    r = results.get("pool_tuning")
    speedups, cpus = _sweep(r)
    cap = r.metric("capacity.parallel")
    if not speedups or not cpus:
        return UNMEASURED, "The worker-count sweep has no figures here.", []
    evidence = [f"{_workers(k)}: {f.ratio(speedups[k])} vs 1 worker ({f.spread(speedups[k])})"
                for k in sorted(speedups)]
    if cpus < 1.5:
        return DEPENDS, (f"With {f.cpus(cpus)} processes cannot run in parallel here: more workers only "
                         f"share the same CPU time."), evidence
    full = _full_use(cpus)
    used = [w for w in speedups if 1 < w <= full]
    if not used:
        return DEPENDS, f"No pool of 2 to {full} workers was measured on {f.cpus(cpus)}.", evidence
    w = max(used)
    s = speedups[w]
    # The share of what the CPUs allow: w workers can use at most min(w, cpus) CPUs.
    room = min(float(w), cpus)
    eff = s.median / room
    summary = (f"{w} worker processes ran CPU-bound work {f.ratio(s)} as fast as one on {f.cpus(cpus)}: "
               f"{f.percent(eff)} of the ideal {room:g}× ({w} workers can use at most {room:g} CPUs).")
    # No comparison with the capacity probe where the verdict holds: a note quotes one capacity
    # figure of its own choosing (the seed note's is cpu_bound's), and a comparison with a figure
    # the note does not show cannot be checked by its reader.
    beyond = [k for k in speedups if k > full]
    if beyond:  # said only when a pool larger than the CPUs really ran
        top = max(beyond, key=lambda k: speedups[k].median)
        c = compare_speedups(speedups[top], s, paired=True)
        if c.material and c.outcome == "faster":
            summary += (f" Past the CPUs it kept gaining: {top} workers reached {f.ratio(speedups[top])}, "
                        f"{f.ratio(c.factor)} the speedup of {w} ({c.basis}).")
        elif c.outcome == "faster":
            summary += (f" Past the CPUs it gained a little: {top} workers reached {f.ratio(speedups[top])}, "
                        f"{f.ratio(c.factor)} the speedup of {w} ({c.basis}), under {f.percent(MATERIAL - 1)}.")
        elif c.outcome == "slower":
            summary += (f" More workers than CPUs lost {'a little' if c.small else 'ground'}: the best of them, "
                        f"{top}, reached {f.ratio(speedups[top])}; {w} workers were {f.ratio(c.factor)} faster "
                        f"({c.basis}){f', under {f.percent(MATERIAL - 1)}' if c.small else ''}.")
        else:
            summary += (f" More workers than CPUs gained nothing measurable: the best of them, {top}, reached "
                        f"{f.ratio(speedups[top])}, within the spread of {w} workers' {f.ratio(s)} ({c.basis}).")
    if eff >= CAPACITY_SHARE:
        return HOLDS, summary, evidence
    if cap is not None and cap.median < CAPACITY_MIN:
        # The reason given is a measured figure, so it is quoted with its source.
        return DEPENDS, summary + (f" Two busy processes of the same run got only {f.ratio(cap)} the work of "
                                   f"one done (`pool_tuning`'s capacity probe, {f.spread(cap)}): the machine gave "
                                   "little parallelism while this ran, so the figure does not show a limit of "
                                   "Python."), evidence
    if s.q3 / room >= CAPACITY_SHARE:
        return DEPENDS, summary + " The upper quartile reaches the mark: inconclusive on this machine.", evidence
    return FAILS, summary, evidence


# -- chunksize -------------------------------------------------------------------------------------


@claim("chunksize_matters", "For many small tasks, the chunksize of Pool.map decides the cost per task",
       experiments=("pool_tuning",),
       headline=tuple(f"chunksize.{c}.per_task" for c in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10000)))
def chunksize_matters(results):
    r = results.get("pool_tuning")
    per_task = r.sweep("chunksize", "per_task")
    if 1 not in per_task or len(per_task) < 2:
        return UNMEASURED, "The chunksize sweep has no figures here.", []
    best = min(per_task, key=lambda c: per_task[c].median)
    # The ratio of the two medians shown, so the prose matches the table; the paired ratio
    # (median of per-repeat ratios) can differ and is shown as such in the table.
    gain = f.quotient(per_task[1], per_task[best])
    inline = r.metric("chunksize.inline.per_task")
    mapped = {int(k): v for k, v in (r.facts.get("chunk_tasks") or {}).items()}

    def tasks(c):
        n = mapped.get(c) or r.facts.get("tiny_tasks")
        return f"{f.count(n)} tiny tasks" if n else "tiny tasks"

    if gain.median >= CHUNK_MATTERS:
        status = HOLDS
    elif gain.median < CHUNK_IRRELEVANT:
        status = FAILS
    else:
        status = DEPENDS
    if best == 1:
        summary = (f"Mapping {tasks(1)} cost {f.duration(per_task[1])} per task with chunksize 1, and no larger "
                   f"chunksize was cheaper.")
    else:
        summary = (f"Mapping {tasks(1)} cost {f.duration(per_task[1])} per task with chunksize 1; mapping "
                   f"{tasks(best)} with chunksize {best} cost {f.duration(per_task[best])} per task: "
                   f"{f.ratio(gain)} cheaper (the ratio of these two medians).")
    if inline is not None:
        summary += (f" Even then, the pool cost {f.ratio(f.quotient(per_task[best], inline))} "
                    f"the {f.duration(inline)} a task takes without a pool.")
    evidence = [f"chunksize {c}, {tasks(c)}: {f.duration(per_task[c])} per task ({f.spread(per_task[c])})"
                + (f"; paired ratio to chunksize 1 (median of per-repeat ratios): "
                   f"{f.ratio(r.metric(f'chunksize.{c}.gain'))}" if r.metric(f"chunksize.{c}.gain") is not None else "")
                for c in sorted(per_task)]
    if inline is not None:
        evidence.append(f"no pool (plain map): {f.duration(inline)} per task")
    return status, summary, evidence


# -- IPC -------------------------------------------------------------------------------------------


@claim("ipc_cost",
       "Inter-process communication: data sharing between processes requires explicit mechanisms like queues or pipes",
       experiments=("ipc_payload",),
       headline=tuple(f"{m}.{s}.time" for m in ("queue", "shm") for s in _SIZES))
def ipc_cost(results):
    r = results.get("ipc_payload")
    labels = [s for s in r.facts.get("sizes", []) if r.metric(f"queue.{s}.time") is not None]
    if not labels:
        return UNMEASURED, "No payload transfer was measured here.", []
    big = labels[-1]
    nbytes = r.facts.get("size_bytes", {}).get(big)
    q = r.metric(f"queue.{big}.time")
    qt = r.metric(f"queue.{big}.throughput")
    shm = r.metric(f"shm.{big}.time")
    shm_t = r.metric(f"shm.{big}.throughput")
    payload = f.size(nbytes) if nbytes else big
    if shm is None:
        reason = r.unavailable.get("shm", "shared memory was not measured")
        return DEPENDS, (f"Handing a {payload} payload to another process through a Queue took {f.duration(q)} "
                         f"({f.auto(qt)}); shared memory could not be compared: {reason}."), []
    # The ratio of the two medians quoted next to it; the paired ratio is in the evidence.
    value = f.quotient(q, shm)
    if value.median >= IPC_RATIO:
        status = HOLDS
        how = (f"the choice of mechanism is a real cost: a Queue (pickle, copy through a pipe, unpickle) "
               f"took {f.ratio(value)} the time of shared memory")
    else:
        status = DEPENDS
        how = (f"an explicit mechanism is needed, but at this size a Queue took only {f.ratio(value)} the time "
               f"of shared memory")
    # Whether a child's write reaches its parent is the `overhead` experiment's reading.
    overhead = results.get("overhead")
    sees = overhead.facts.get("shared.process_sees_write") if overhead is not None else None
    if sees is False:
        apart = ("A child process's write to an ordinary object did not reach its parent (the `overhead` "
                 "experiment): only memory shared explicitly is seen by both; ")
    elif sees is True:
        status = DEPENDS
        apart = "A child process's write to an ordinary object reached its parent here (`overhead`), against the rule; "
    else:
        apart = "Whether a child's writes reach its parent was not measured here; "
    summary = (f"{apart}{how}. Handing over {payload} took {f.duration(q)} through a Queue ({f.auto(qt)}) and "
               f"{f.duration(shm)} through shared memory ({f.auto(shm_t)}; the block created once and reused "
               f"for every transfer, its creation not timed, as a program that keeps one block would).")
    evidence = []
    for s in labels:
        parts = [f"{m} {f.duration(r.metric(f'{m}.{s}.time'))}" for m in ("queue", "pipe", "shm")
                 if r.metric(f"{m}.{s}.time") is not None]
        sp = r.metric(f"shm.{s}.speedup")
        label = f.size(r.facts.get("size_bytes", {}).get(s)) if r.facts.get("size_bytes", {}).get(s) else s
        evidence.append(f"{label}: " + ", ".join(parts)
                        + (f" (paired ratio, Queue over shared memory: {f.ratio(sp)})" if sp else ""))
    return status, summary, evidence


# -- lock contention -------------------------------------------------------------------------------


def _cannot_contend(r) -> bool:
    """Whether no thread of ``r`` could find the Lock taken: a GIL build of CPython 3.10 to
    3.13, where taking a ``with`` block's lock and running ``box[0] += 1`` hold no point at
    which the interpreter may switch threads (3.10 checks only at calls and jumps, bpo-29988;
    3.14 calls ``__enter__`` through CALL, gh-120507)."""
    version = str(r.environment.get("python_version", ""))
    return (bool(r.environment.get("gil_enabled", True)) and r.environment.get("implementation") == "CPython"
            and version.startswith(("3.10.", "3.11.", "3.12.", "3.13.")))


@claim("lock_contention",
       "Share less, lock less: one lock-protected shared counter costs more than per-worker state combined once",
       experiments=("pool_tuning",), headline=("lock.shared.per_op", "lock.local.per_op"))
def lock_contention(results):
    r = results.get("pool_tuning")
    shared = r.metric("lock.shared.per_op")
    own = r.metric("lock.own.per_op")
    local = r.metric("lock.local.per_op")
    gain = r.metric("lock.local.speedup")
    cost = r.metric("lock.sharing.cost")
    if shared is None or local is None or gain is None:
        return UNMEASURED, "Lock contention was not measured here.", []
    threads = r.facts.get("lock_threads", "several")
    status = HOLDS if gain.median >= LOCAL_GAIN else DEPENDS
    summary = (f"{threads} threads adding to one counter under one Lock spent {f.duration(shared)} per addition; "
               f"with a private counter each and one locked sum at the end, {f.duration(local)}: "
               f"{_faster(gain)} (the median of the per-repeat ratios, which can differ from the ratio of "
               f"these two medians).")
    if cost is not None and own is not None:
        summary += " " + _sharing(r, cost, own, threads)
    sharing_costs = cost is not None and own is not None and cost.q1 > 1 and not _cannot_contend(r)
    summary += (" The private counters also add to a local name instead of a shared list item, so the gain "
                f"counts that change{' and, on this build, the sharing' if sharing_costs else ''} as well as the "
                "dropped lock.")
    evidence = [f"shared Lock and counter, {threads} threads: {f.duration(shared)} per addition ({f.spread(shared)})"]
    if own is not None:
        evidence.append(f"as many threads, same loop, each its own Lock and counter: {f.duration(own)} per addition "
                        f"({f.spread(own)})")
    evidence.append(f"private counters, one locked sum: {f.duration(local)} per addition ({f.spread(local)})")
    if cost is not None and _cannot_contend(r):
        evidence.append("the GIL was enabled. On GIL builds of 3.10 to 3.13 a running thread is made to give up "
                        "the GIL only at the interpreter's periodic check: after a call instruction's callee returns, "
                        "on entering a Python function, and at backward jumps (in 3.10, at any taken jump). "
                        "`with guard:` takes the Lock in SETUP_WITH or BEFORE_WITH, which calls `__enter__` with no "
                        "check, and taking a free Lock keeps the GIL; `box[0] += 1` has no check; the first check "
                        "after it follows the return of the call to `__exit__`, which has released the Lock. So no "
                        "thread is switched out holding the Lock, and none finds it taken (3.9 and older checked "
                        "before most instructions, inside this block too; 3.14 calls `__enter__` through an ordinary "
                        "CALL, whose check follows `__enter__`'s return with the Lock held)")
    return status, summary, evidence


def _sharing(r, cost, own, threads) -> str:
    """What sharing the Lock and counter cost, against as many threads running the same loop on their own.

    ``lock.sharing.cost`` is paired per repeat: a cost is real when its IQR lies wholly above 1.
    """
    iqr = f"per-repeat IQR {f.ratio(cost.q1)} – {f.ratio(cost.q3)}"
    said = (f"Another {threads} threads running the same loop, each on a Lock and a counter of its own, took "
            f"{f.duration(own)} per addition; sharing the Lock and counter made each addition take {f.ratio(cost)} "
            f"as long")
    if cost.q1 <= 1:
        return (f"{said} ({iqr}, not wholly above 1): these repeats do not show sharing costing more than a Lock "
                f"and counter of one's own, so what the shared counter pays over private ones is locking and "
                f"updating a list item on every addition, not the sharing.")
    small = f"; under {f.percent(MATERIAL - 1)}" if cost.median < MATERIAL else ""
    said += f" ({iqr}, wholly above 1{small})"
    if _cannot_contend(r):
        return f"{said}. No thread could find the Lock taken on this build (see below), so that difference is not threads waiting for it."
    if not r.environment.get("gil_enabled", True):
        return (f"{said}: the price of contention on this build: threads waiting for the Lock (spinning, then "
                f"sleeping until woken), and the Lock, the list and the int in it moving between cores, where "
                f"each reference a thread takes to an object another thread made is an atomic update of a count "
                f"other cores also write (biased reference counting, PEP 703).")
    return (f"{said}: the price of contention: a thread switched out while it holds the Lock leaves the others "
            f"that want it waiting.")
