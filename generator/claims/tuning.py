"""Verdicts on hybrid pipelines, pool tuning and the cost of inter-process communication."""

from __future__ import annotations

import math

from generator import formatting as f
from generator.claims import DEPENDS, FAILS, HOLDS, UNMEASURED, claim, usable_cpus
from generator.claims.core import parallel_min

# A model "wins" only by more than run-to-run noise: on a shared 2-core VM the IQR of a pipeline's
# wall time is typically 5-10 % of its median, so a 10 % margin separates a win from a tie.
WIN_MARGIN = 1.10
# Oversubscription "helps" only if the best speedup beyond the core count beats the speedup at
# the core count by more than the same 10 % noise margin.
OVERSUB_TOLERANCE = 1.10
# chunksize "matters" when the best chunksize is at least 3x cheaper per task than chunksize 1:
# well beyond noise, and large enough to change a design; below 1.5x it is not worth tuning.
CHUNK_MATTERS = 3.0
CHUNK_IRRELEVANT = 1.5
# Processes "scale" when the machine offers real parallelism (capacity of 2 busy processes at
# least 1.5x one) and the pool at the core count reaches 80 % of that capacity.
CAPACITY_MIN = 1.5
CAPACITY_SHARE = 0.80
# Shared memory makes a measurable difference when a large payload costs at least 2x more
# through a Queue than through shared memory.
IPC_RATIO = 2.0
# Keeping per-thread counters "pays" when it is at least 2x faster than one locked counter.
LOCAL_GAIN = 2.0

HYBRID_LABELS = {
    "threads": "threads",
    "processes": "a process pool",
    "asyncio_pool": "asyncio + a process pool",
    "threads_pool": "threads + a process pool",
}
SINGLE = ("threads", "processes")
HYBRID = ("asyncio_pool", "threads_pool")


def _workers(n) -> str:
    return f"{n} worker" if n == 1 else f"{n} workers"


def _faster(x) -> str:
    """A time ratio (old / new) as prose: '2.00× faster' or '1.25× slower'."""
    x = getattr(x, "median", x)
    return f"{f.ratio(x)} faster" if x >= 1 else f"{f.ratio(1 / x)} slower"


def _overlap(a, b) -> bool:
    """Whether the interquartile ranges of two metrics overlap."""
    return a.q1 <= b.q3 and b.q1 <= a.q3


# -- hybrid pipeline -------------------------------------------------------------------------------


@claim("hybrid_wins",
       "Combine both approaches for hybrid workloads (asyncio for I/O and multiprocessing for computation)",
       experiments=("hybrid",))
def hybrid_wins(results):
    r = results.get("hybrid")
    walls = {k: r.metric(f"{k}.wall") for k in HYBRID_LABELS if r.metric(f"{k}.wall") is not None}
    seq = r.metric("sequential.wall")
    if seq is None or not any(k in walls for k in HYBRID) or not any(k in walls for k in SINGLE):
        reason = r.unavailable.get("http") or r.unavailable.get("processes") or "figures missing"
        return UNMEASURED, f"The mixed pipeline could not be compared here: {reason}.", []
    items = r.facts.get("items")
    winner = min(walls, key=lambda k: walls[k].median)
    best_hybrid = min((k for k in HYBRID if k in walls), key=lambda k: walls[k].median)
    best_single = min((k for k in SINGLE if k in walls), key=lambda k: walls[k].median)
    margin = walls[best_single].median / walls[best_hybrid].median
    ideal = r.metric("ideal.wall")
    if margin >= WIN_MARGIN:
        status = HOLDS
        verdict = (f"{HYBRID_LABELS[best_hybrid]} finished {f.ratio(margin)} faster than the best "
                   f"single model, {HYBRID_LABELS[best_single]}")
    elif 1 / margin >= WIN_MARGIN:
        status = FAILS
        verdict = (f"{HYBRID_LABELS[best_single]} alone finished {f.ratio(1 / margin)} faster than the best "
                   f"combination, {HYBRID_LABELS[best_hybrid]}")
    else:
        status = DEPENDS
        verdict = (f"the best combination ({HYBRID_LABELS[best_hybrid]}) and the best single model "
                   f"({HYBRID_LABELS[best_single]}) finished within {f.percent(abs(margin - 1))} of each "
                   f"other, which is a tie at this noise level")
    what = f"{f.count(items)} items" if items else "the items"
    summary = (f"Fetching and then computing {what}: {verdict}. The fastest model, "
               f"{HYBRID_LABELS[winner]}, took {f.duration(walls[winner])} against {f.duration(seq)} "
               f"sequentially ({f.ratio(r.metric(winner + '.speedup'))} speedup)")
    if ideal is not None:
        summary += f"; the critical path allows {f.duration(ideal)}"
    summary += "."
    evidence = [f"sequential: {f.duration(seq)} ({f.spread(seq)})"]
    for k in sorted(walls, key=lambda k: walls[k].median):
        s = r.metric(f"{k}.speedup")
        evidence.append(f"{HYBRID_LABELS[k]}: {f.duration(walls[k])}, {f.ratio(s)} vs sequential "
                        f"({f.spread(walls[k])})")
    if ideal is not None:
        evidence.append(f"ideal (one fetch plus all CPU work spread over {r.facts.get('workers', '?')} "
                        f"cores): {f.duration(ideal)}")
    cap = r.metric("capacity.parallel")
    if cap is not None:
        evidence.append(f"measured parallel capacity in the same run: {f.ratio(cap)}")
    return status, summary, evidence


# -- worker count ----------------------------------------------------------------------------------


def _sweep(r):
    """{workers: speedup metric} and the usable core count."""
    speedups = {}
    for name, m in r.metrics.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "workers" and parts[2] == "speedup" and parts[1].isdigit():
            speedups[int(parts[1])] = m
    known = [c for c in (r.facts.get("usable_cores"), usable_cpus(r)) if c]
    cores = min(known) if known else None  # a cgroup quota (usable_cpus) can be below the affinity
    return speedups, (int(cores) if cores is not None and float(cores).is_integer() else cores)


@claim("oversubscription",
       "Avoid overloading the system: more worker processes than cores do not speed up CPU-bound work",
       experiments=("pool_tuning",))
def oversubscription(results):
    r = results.get("pool_tuning")
    speedups, cores = _sweep(r)
    if not speedups or not cores:
        return UNMEASURED, "The worker-count sweep has no figures here.", []
    at_or_below = [w for w in speedups if w <= cores]
    beyond = [w for w in speedups if w > cores]
    if not at_or_below or not beyond:
        return DEPENDS, (f"No worker count both at and beyond the {cores} usable cores was measured, "
                         "so oversubscription could not be tested."), []
    ref_w = max(at_or_below)
    ref = speedups[ref_w]
    best_w = max(beyond, key=lambda w: speedups[w].median)
    worst_w = min(beyond, key=lambda w: speedups[w].median)
    gain = speedups[best_w].median / ref.median
    if gain <= OVERSUB_TOLERANCE:
        status = HOLDS
        verdict = (f"going from {ref_w} to up to {max(beyond)} workers changed the speedup by at most "
                   f"{f.ratio(gain)}")
    elif _overlap(speedups[best_w], ref):
        status = DEPENDS
        verdict = (f"{best_w} workers looked {f.ratio(gain)} faster than {ref_w}, but their spreads overlap: "
                   "inconclusive on this machine")
    else:
        status = FAILS
        verdict = f"{best_w} workers ran {f.ratio(gain)} faster than {ref_w}"
    summary = (f"With {cores} usable cores, {verdict}. {ref_w} workers reached {f.ratio(ref)}; "
               f"{max(beyond)} workers reached {f.ratio(speedups[max(beyond)])}"
               f" (lowest beyond the cores: {f.ratio(speedups[worst_w])} at {worst_w}).")
    evidence = [f"{_workers(w)}: {f.ratio(speedups[w])} vs 1 worker ({f.spread(speedups[w])})"
                for w in sorted(speedups)]
    cap = r.metric("capacity.parallel")
    if cap is not None:
        evidence.append(f"measured parallel capacity: {f.ratio(cap)}")
    return status, summary, evidence


def _sweep_names(r) -> list[str]:
    return [n for n in r.metrics if n.startswith("workers.") and n.endswith(".speedup")]


@claim("processes_scalable", "Scalable: multiprocessing is efficient for computationally intensive workloads",
       experiments=("pool_tuning",), headline=_sweep_names)
def processes_scalable(results):
    r = results.get("pool_tuning")
    speedups, cores = _sweep(r)
    cap = r.metric("capacity.parallel")
    if not speedups or not cores:
        return UNMEASURED, "The worker-count sweep has no figures here.", []
    # A quota of 1.5 CPUs still lets 2 workers overlap; one CPU (or less) does not.
    room = math.ceil(cores) if cores >= 1.2 else 1
    at_or_below = [w for w in speedups if w <= room and w > 1]
    if not at_or_below:
        return DEPENDS, f"Only {cores:g} usable CPU: processes cannot run in parallel here.", []
    w = max(at_or_below)
    s = speedups[w]
    # The capacity probe races 2 processes: it is a reference for 2 workers only.  For more
    # workers the reference is the worker count itself (each worker a whole CPU).
    ref = cap.median if (cap is not None and w == 2) else float(w)
    ref_text = (f"the machine's measured parallel capacity ({f.ratio(cap)}, a noisy estimate of what "
                f"2 busy processes got)" if (cap is not None and w == 2) else f"the ideal {w}×")
    beyond = [k for k in speedups if k > room]
    tail = ""
    if beyond:
        best_beyond = max(beyond, key=lambda k: speedups[k].median)
        change = speedups[best_beyond].median / s.median
        tail = (f" More workers than CPUs gained nothing: the best beyond {cores:g} CPUs was "
                f"{f.ratio(speedups[best_beyond])} at {best_beyond} workers." if change <= OVERSUB_TOLERANCE
                else f" Beyond the CPUs it kept gaining: {f.ratio(speedups[best_beyond])} at {best_beyond} workers.")
    if cap is not None and w == 2 and cap.median < min(CAPACITY_MIN, parallel_min(r)):
        status = DEPENDS
        summary = (f"This machine offered little real parallelism during the run (two busy processes finished "
                   f"only {f.ratio(cap)} as fast as one), so processes could reach only {f.ratio(s)} with "
                   f"{w} workers: scalability is bounded by the hardware you really get, not by Python.")
    elif s.median >= CAPACITY_SHARE * ref:
        status = HOLDS
        summary = (f"{w} worker processes ran CPU-bound work {f.ratio(s)} as fast as one, "
                   f"{f.percent(s.median / ref)} of {ref_text}, on {cores:g} usable CPUs.")
    elif cap is not None and w == 2 and s.q3 >= CAPACITY_SHARE * cap.q1:
        status = DEPENDS
        summary = (f"{w} worker processes reached {f.ratio(s)}, {f.percent(s.median / ref)} of {ref_text}, "
                   f"but within the spread of both figures: the machine's parallelism changed during the "
                   f"run, so this is inconclusive.")
    else:
        status = FAILS
        summary = f"{w} worker processes reached only {f.ratio(s)}, {f.percent(s.median / ref)} of {ref_text}."
    summary += tail
    evidence = [f"{_workers(k)}: {f.ratio(speedups[k])} vs 1 worker ({f.spread(speedups[k])})"
                for k in sorted(speedups)]
    if cap is not None:
        evidence.append(f"parallel capacity (2 busy processes vs 1): {f.ratio(cap)} ({f.spread(cap)})")
    return status, summary, evidence


# -- chunksize -------------------------------------------------------------------------------------


@claim("chunksize_matters", "For many small tasks, the chunksize of Pool.map decides the cost per task",
       experiments=("pool_tuning",))
def chunksize_matters(results):
    r = results.get("pool_tuning")
    per_task = {}
    for name, m in r.metrics.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "chunksize" and parts[2] == "per_task" and parts[1].isdigit():
            per_task[int(parts[1])] = m
    if 1 not in per_task or len(per_task) < 2:
        return UNMEASURED, "The chunksize sweep has no figures here.", []
    best = min(per_task, key=lambda c: per_task[c].median)
    gain = per_task[1].median / per_task[best].median
    gain_metric = r.metric(f"chunksize.{best}.gain")
    gain_text = f.ratio(gain_metric if gain_metric is not None else gain)
    inline = r.metric("chunksize.inline.per_task")
    tasks = r.facts.get("tiny_tasks")
    if gain >= CHUNK_MATTERS:
        status = HOLDS
    elif gain < CHUNK_IRRELEVANT:
        status = FAILS
    else:
        status = DEPENDS
    if best == 1:
        summary = (f"Mapping {f.count(tasks) if tasks else 'many'} tiny tasks cost {f.duration(per_task[1])} per "
                   f"task with chunksize 1, and no larger chunksize was cheaper.")
    else:
        summary = (f"Mapping {f.count(tasks) if tasks else 'many'} tiny tasks cost {f.duration(per_task[1])} per "
                   f"task with chunksize 1 and {f.duration(per_task[best])} with chunksize {best}: "
                   f"{gain_text} cheaper.")
    if inline is not None:
        summary += (f" Even then, the pool cost {f.ratio(per_task[best].median / inline.median)} "
                    f"the {f.duration(inline)} a task takes without a pool.")
    evidence = [f"chunksize {c}: {f.duration(per_task[c])} per task ({f.spread(per_task[c])})"
                for c in sorted(per_task)]
    if inline is not None:
        evidence.append(f"no pool (plain map): {f.duration(inline)} per task")
    return status, summary, evidence


# -- IPC -------------------------------------------------------------------------------------------


@claim("ipc_cost",
       "Inter-process communication: data sharing between processes requires explicit mechanisms like queues or pipes",
       experiments=("ipc_payload",))
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
    ratio = r.metric(f"shm.{big}.speedup")
    payload = f.size(nbytes) if nbytes else big
    if shm is None:
        reason = r.unavailable.get("shm", "shared memory was not measured")
        return DEPENDS, (f"Handing a {payload} payload to another process through a Queue took {f.duration(q)} "
                         f"({f.size(qt)}/s); shared memory could not be compared: {reason}."), []
    value = ratio.median if ratio is not None else q.median / shm.median
    if value >= IPC_RATIO:
        status = HOLDS
        how = (f"the choice of mechanism is a real cost: a Queue (pickle, copy through a pipe, unpickle) "
               f"was {f.ratio(ratio or value)} slower than shared memory")
    else:
        status = DEPENDS
        how = (f"an explicit mechanism is needed, but at this size a Queue was within {f.ratio(ratio or value)} "
               f"of shared memory")
    summary = (f"Processes share nothing by default; {how}. Handing over {payload} took {f.duration(q)} through "
               f"a Queue ({f.size(qt)}/s) and {f.duration(shm)} through shared memory ({f.size(shm_t)}/s).")
    evidence = []
    for s in labels:
        parts = [f"{m} {f.duration(r.metric(f'{m}.{s}.time'))}" for m in ("queue", "pipe", "shm")
                 if r.metric(f"{m}.{s}.time") is not None]
        sp = r.metric(f"shm.{s}.speedup")
        label = f.size(r.facts.get("size_bytes", {}).get(s)) if r.facts.get("size_bytes", {}).get(s) else s
        evidence.append(f"{label}: " + ", ".join(parts) + (f" (shared memory {f.ratio(sp)} vs Queue)" if sp else ""))
    return status, summary, evidence


# -- lock contention -------------------------------------------------------------------------------


@claim("lock_contention",
       "Share less, lock less: one lock-protected shared counter costs more than per-worker state combined once",
       experiments=("pool_tuning",))
def lock_contention(results):
    r = results.get("pool_tuning")
    shared = r.metric("lock.shared.per_op")
    single = r.metric("lock.uncontended.per_op")
    local = r.metric("lock.local.per_op")
    gain = r.metric("lock.local.speedup")
    cost = r.metric("lock.contention.cost")
    if shared is None or local is None or gain is None:
        return UNMEASURED, "Lock contention was not measured here.", []
    threads = r.facts.get("lock_threads", "several")
    status = HOLDS if gain.median >= LOCAL_GAIN else DEPENDS
    summary = (f"{threads} threads adding to one counter under one Lock spent {f.duration(shared)} per addition; "
               f"with a private counter each and one locked sum at the end, {f.duration(local)}: "
               f"{_faster(gain)}.")
    if cost is not None and single is not None:
        if cost.median >= WIN_MARGIN:
            summary += (f" Contention itself added cost: the same additions under the same Lock in one thread "
                        f"took {f.duration(single)} each, so sharing made each {f.ratio(cost)} dearer.")
        else:
            summary += (f" Contention itself added little: one thread taking the same Lock for every addition "
                        f"spent {f.duration(single)} each (with {threads} threads: {f.ratio(cost)} that), "
                        "so the cost is taking the lock at all, not waiting for it.")
    evidence = [f"shared counter, {threads} threads: {f.duration(shared)} per addition ({f.spread(shared)})"]
    if single is not None:
        evidence.append(f"same Lock, one thread: {f.duration(single)} per addition ({f.spread(single)})")
    evidence.append(f"private counters, one locked sum: {f.duration(local)} per addition ({f.spread(local)})")
    if r.environment.get("gil_enabled", True) and cost is not None and cost.median < WIN_MARGIN:
        evidence.append("the GIL was enabled: only one thread runs Python code at a time, which is why a "
                        "thread seldom finds the Lock taken")
    return status, summary, evidence
