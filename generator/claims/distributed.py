"""Verdicts on dask.distributed against a local process pool ("Beyond One Machine").

Every verdict weighs the figures of the ``dask_cluster`` experiment: a ``LocalCluster`` with worker
processes and a ``ProcessPoolExecutor`` with as many workers, on the same work.
"""

from __future__ import annotations

from generator import formatting as f
from generator.claims import (
    CAPACITY_MIN, CAPACITY_SHARE, DEPENDS, FAILS, HOLDS, UNMEASURED, claim, metric_of, unavailable_reason, usable_cpus,
)
from generator.claims.compare import interval_end, overlap

EXPERIMENT = "dask_cluster"
# One engine "wins" only by more than run-to-run noise, about 10 % on a shared 2-core VM.
MARGIN = 1.10
# A local pool is "simply better" for small tasks when dask costs at least twice as much per task:
# far beyond noise, and enough to change a design.
SMALL_TASK_RATIO = 2.0
# The engine's overhead is "paid off" when it is at most this share of the task's own run time.
OVERHEAD_SHARE = 0.10
# Scattering pays when sending the payload with every task costs at least 1.5x scatter-once.
SCATTER_GAIN = 1.5
# An engine "scales" when it reaches CAPACITY_SHARE of the measured capacity (2 workers) or of
# one CPU per worker (more); below CAPACITY_MIN the machine is named as the reason.


def _result(results):
    return results.get(EXPERIMENT)


def _missing(r, *keys) -> tuple[str, str, list] | None:
    """An UNMEASURED answer naming the experiment's own reason, if any of ``keys`` has no figure."""
    absent = [k for k in keys if r.metric(k) is None]
    if not absent:
        return None
    why = unavailable_reason(r, "engine", *absent, default="no figure was recorded")
    return UNMEASURED, f"Not measured here: {why}.", []


def break_even(r) -> float | None:
    """Shortest task (s) for which the cluster's per-task cost is at most OVERHEAD_SHARE of the work.

    The scheduler hands out at most one task per ``tiny.dask.per_task`` seconds however many
    workers wait, so ``workers`` busy workers need tasks of at least ``workers * per_task`` to stay
    busy; at ten times that the overhead is a tenth of the work.
    """
    per_task = metric_of(r, "tiny.dask.per_task")
    workers = r.facts.get("workers") if r is not None else None
    if per_task is None or not workers:
        return None
    return workers * per_task.median / OVERHEAD_SHARE


@claim("pool_better_small_tasks",
       "On one machine, a local process pool is simply better than a distributed engine for many small tasks",
       experiments=(EXPERIMENT,), headline=("tiny.ratio", "roundtrip.ratio"))
def pool_better_small_tasks(results):
    r = _result(results)
    missing = _missing(r, "tiny.dask.per_task", "tiny.pool.per_task", "roundtrip.dask", "roundtrip.pool")
    if missing:
        return missing
    d, p = r.metric("tiny.dask.per_task"), r.metric("tiny.pool.per_task")
    # From the two medians the summary shows (⚠ if either is noisy), not the paired tiny.ratio.
    ratio = f.quotient(d, p)
    rt_d, rt_p = r.metric("roundtrip.dask"), r.metric("roundtrip.pool")
    chunked, batched = r.metric("tiny.pool_chunked.per_task"), r.metric("tiny.dask_batched.per_task")
    n = r.facts.get("tiny_tasks")
    what = f"{f.count(n)} tiny tasks" if n else "many tiny tasks"
    x = ratio.median
    if x >= SMALL_TASK_RATIO:
        status = HOLDS
        verdict = f"dask spent {f.ratio(ratio)} as long per task as the pool"
    elif x <= 1 / MARGIN:
        status = FAILS
        verdict = f"dask was {f.ratio(f.quotient(p, d))} cheaper per task than the pool"
    else:
        status = DEPENDS
        verdict = f"dask and the pool were within {f.ratio(SMALL_TASK_RATIO)} of each other per task ({f.ratio(ratio)})"
    summary = (f"Mapping {what} over {r.facts.get('workers', '?')} workers, {verdict}: "
               f"{f.duration(d)} against {f.duration(p)}. One task waited for alone took {f.duration(rt_d)} "
               f"on dask and {f.duration(rt_p)} on the pool.")
    interval = r.facts.get("client_batch_interval")
    if interval and rt_d.median >= interval:
        summary += (f" Back-to-back round trips cannot be shorter than the client's batching interval of "
                    f"{f.duration(interval)}: after sending a batch to the scheduler, dask's client sends the "
                    f"next one only once that interval has passed.")
    if chunked is not None and batched is not None:
        summary += (f" Batched into chunks, both get cheap: {f.duration(chunked)} per item on the pool "
                    f"(chunksize {r.facts.get('chunksize', '?')}), {f.duration(batched)} per item on dask with one "
                    f"task per chunk.")
    evidence = [f"dask, one task per item: {f.duration(d)} per task ({f.spread(d)})",
                f"pool, chunksize 1: {f.duration(p)} per task ({f.spread(p)})",
                f"no-op round trip: dask {f.duration(rt_d)}, pool {f.duration(rt_p)}"]
    if chunked is not None:
        evidence.append(f"pool, chunksize {r.facts.get('chunksize', '?')}: {f.duration(chunked)} per task")
    if batched is not None:
        evidence.append(f"dask over the same chunks: {f.duration(batched)} per item")
    inline = r.metric("tiny.inline.per_task")
    if inline is not None:
        evidence.append(f"the same work without any engine: {f.duration(inline)} per item")
    return status, summary, evidence


@claim("engine_overhead_pays",
       "A distributed engine's overhead pays off once each task runs long enough: then it matches a local pool",
       experiments=(EXPERIMENT,), headline=("cpu.dask.1.vs_pool", "cpu.dask.2.vs_pool"))
def engine_overhead_pays(results):
    r = _result(results)
    w = r.facts.get("workers") or 1
    missing = _missing(r, f"cpu.dask.{w}.wall", f"cpu.pool.{w}.wall")
    if missing:
        return missing
    d, p = r.metric(f"cpu.dask.{w}.wall"), r.metric(f"cpu.pool.{w}.wall")
    # The paired ratio when measured, else the quotient of the medians; either carries its ⚠.
    vs = r.metric(f"cpu.dask.{w}.vs_pool") or f.quotient(p, d)
    x = vs.median
    tasks, secs = r.facts.get("cpu_tasks"), r.facts.get("task_seconds")
    work = (f"{f.count(tasks)} CPU-bound tasks of about {f.duration(secs)} each" if tasks and secs
            else "the CPU-bound tasks")
    # Apart or not by the spreads: the paired ratio's IQR when measured, else the two walls' IQRs.
    paired = r.metric(f"cpu.dask.{w}.vs_pool") is not None
    apart = (vs.q1 > 1 or vs.q3 < 1) if paired else not overlap(d, p)
    # The factor printed is the ratio of the two medians printed beside it; the paired ratio,
    # which decides, is its basis.
    shown = f.quotient(p, d)
    noise = (f"ratio of the medians; {vs.n} per-repeat ratios: median {f.ratio(vs)}, IQR "
             f"{interval_end(vs.q1)} – {interval_end(vs.q3)}" if paired
             else f"IQRs {f.duration(d.q1)} – {f.duration(d.q3)} and {f.duration(p.q1)} – {f.duration(p.q3)}")
    ran = f"dask finished {work} on {w} workers in {f.duration(d)}, against {f.duration(p)} on the pool"
    # Matches: dask at least as fast, or within the noise and within MARGIN of the pool.
    if x >= 1 or (not apart and x >= 1 / MARGIN):
        status = HOLDS
        verdict = f"{ran} ({f.ratio(shown)} the pool's speed; {noise})"
    elif not apart:
        status = DEPENDS
        verdict = (f"dask took {f.duration(d)} and the pool {f.duration(p)} for {work} on {w} workers, "
                   f"within each other's spread ({noise})")
    elif x >= 1 / MARGIN:
        status = DEPENDS
        verdict = (f"{ran}: {f.ratio(shown)} the pool's speed, slower beyond the noise ({noise}). Dask took "
                   f"{f.percent(1 / x - 1, 2)} longer in the median repeat")
        if paired:
            verdict += (f" and {f.percent(1 / vs.q3 - 1, 2)} – {f.percent(1 / vs.q1 - 1, 2)} longer over the middle "
                        f"half of the repeats: under the {f.percent(MARGIN - 1)} margin at the median only")
        else:
            verdict += f", under the {f.percent(MARGIN - 1)} margin"
    else:
        status = FAILS
        verdict = (f"dask needed {f.duration(d)} for {work} on {w} workers, against {f.duration(p)} "
                   f"on the pool: {f.ratio(f.quotient(d, p))} slower ({noise})")
    summary = verdict + "."
    even = break_even(r)
    if even is not None:
        summary += (f" An estimate from the cost of a tiny task ({w} workers × {f.duration(r.metric('tiny.dask.per_task'))} "
                    f"per task ÷ {f.percent(OVERHEAD_SHARE)}): dask's overhead would fall under "
                    f"{f.percent(OVERHEAD_SHARE)} of the work for tasks of {f.duration(even)} or more.")
        if secs and x < 1:
            # The estimate counts only the scheduler's cost per task; the measured tasks say how far to trust it.
            predicted = even * OVERHEAD_SHARE / secs
            summary += (f" It assumes every task costs the cluster what a tiny task did: for these {f.duration(secs)} tasks it "
                        f"predicts {f.percent(predicted, 2)} and dask took {f.percent(1 / x - 1, 2)} longer in the "
                        f"median repeat, so " + ("read it as a lower bound on the task length, not a guarantee."
                                                 if 1 / x - 1 > predicted * MARGIN else "it held here."))
    start_d, start_p = r.metric("startup.dask"), r.metric("startup.pool")
    if start_d is not None and start_p is not None:
        summary += (f" Starting the cluster cost {f.duration(start_d)} against {f.duration(start_p)} for the pool: "
                    "worth it for jobs that run far longer than that.")
    evidence = []
    for k in sorted({1, w}):
        dk, pk = r.metric(f"cpu.dask.{k}.wall"), r.metric(f"cpu.pool.{k}.wall")
        if dk is not None and pk is not None:
            evidence.append(f"{k} worker{'s' if k > 1 else ''}: dask {f.duration(dk)}, pool {f.duration(pk)} "
                            f"({f.spread(dk)} / {f.spread(pk)})")
    serial = r.metric("cpu.serial.wall")
    if serial is not None:
        evidence.append(f"the same tasks one after another in the parent process: {f.duration(serial)}")
    return status, summary, evidence


@claim("scatter_pays",
       "Send large data to the cluster once (scatter) and pass the future, rather than with every task",
       experiments=(EXPERIMENT,), headline=("data.inline_vs_scatter",))
def scatter_pays(results):
    r = _result(results)
    missing = _missing(r, "data.dask_inline.per_task", "data.scatter.total", "data.scatter.once")
    if missing:
        return missing
    inline, total, once = (r.metric("data.dask_inline.per_task"), r.metric("data.scatter.total"),
                           r.metric("data.scatter.once"))
    k = r.facts.get("payload_tasks") or 1
    # From the medians the summary shows (⚠ if either is noisy), not the paired data.inline_vs_scatter.
    gain = f.Quotient(inline.median * k / total.median, f.is_noisy(inline) or f.is_noisy(total))
    x = gain.median
    size = r.facts.get("payload_bytes")
    what = f"a {f.size(size)} payload" if size else "a large payload"
    if x >= SCATTER_GAIN:
        status = HOLDS
    elif x <= 1 / MARGIN:
        status = FAILS
    else:
        status = DEPENDS
    per_task = r.metric("data.scatter.per_task")
    tasks = f" (the tasks alone {f.duration(per_task.median * k)})" if per_task is not None else ""
    summary = (f"{k} tasks reading {what}: sending it with every task cost {f.duration(inline)} per task "
               f"({f.duration(inline.median * k)} for all {k}); scattering it once took {f.duration(once)}, and "
               f"the scatter plus all {k} tasks on the future {f.duration(total)}{tasks}, so sending it with every "
               f"task cost {f.ratio(gain)} as much.")
    replicas, workers = r.facts.get("scatter_replicas"), r.facts.get("workers")
    if replicas is not None and workers:
        if replicas < workers:
            summary += (f" The scheduler ran the tasks where the data was: afterwards {replicas} of {workers} "
                        "workers held it, so no copy moved between workers.")
        else:
            summary += (f" Afterwards {replicas} of {workers} workers held a copy: the others fetched it from "
                        "the first, worker to worker.")
    evidence = [f"with every task: {f.duration(inline)} per task ({f.spread(inline)})",
                f"scatter once: {f.duration(once)} ({f.spread(once)})",
                f"scatter + all tasks: {f.duration(total)} ({f.spread(total)})"]
    pool = r.metric("data.pool.per_task")
    if pool is not None:
        evidence.append(f"the pool, payload pickled with every task: {f.duration(pool)} per task")
    warning = r.facts.get("inline_warning")
    if warning:
        evidence.append(f"dask itself warned: “{warning.strip()}”")
    return status, summary, evidence


@claim("scheduler_own_process",
       "A scheduler in its own process, as in a real deployment, costs throughput on a machine with few cores",
       experiments=(EXPERIMENT,), headline=("placement.inprocess.per_task", "placement.subprocess.per_task"))
def scheduler_own_process(results):
    r = _result(results)
    missing = _missing(r, "placement.inprocess.per_task", "placement.subprocess.per_task")
    if missing:
        return missing
    a, b = r.metric("placement.inprocess.per_task"), r.metric("placement.subprocess.per_task")
    x = b.median / a.median
    cores = r.facts.get("usable_cores", "?")
    # Decided by the two IQRs (separate clusters, so no per-repeat pairing) and by MARGIN.
    apart = not overlap(a, b)
    if apart and max(x, 1 / x) < MARGIN:
        status = DEPENDS
        verdict = (f"its own process made each tiny task {f.ratio(x)} as expensive: apart beyond both spreads, "
                   f"but by less than {f.percent(MARGIN - 1)}")
    elif x > 1 and apart:
        status = HOLDS
        verdict = f"its own process made each tiny task {f.ratio(x)} as expensive"
    elif x < 1 and apart:
        status = FAILS
        verdict = f"its own process made each tiny task {f.ratio(1 / x)} cheaper"
    else:
        status = DEPENDS
        verdict = f"the two placements were within noise of each other ({f.ratio(x)})"
    summary = (f"On {cores} usable cores, {verdict}: {f.duration(b)} per task against {f.duration(a)} with "
               "the scheduler on the client's event loop.")
    share = r.metric("placement.subprocess.scheduler_cores")
    per = r.metric("placement.subprocess.scheduler_cpu_per_task")
    if share is not None and per is not None:
        summary += (f" During that stream the scheduler process used {f.duration(per)} of CPU per task and kept "
                    f"{f.percent(share)} of one core busy; with the scheduler on the client's event loop the client's "
                    "process does that work instead, on the same cores as the workers.")
    evidence = [f"in-process scheduler: {f.duration(a)} per task ({f.spread(a)})",
                f"scheduler in its own process: {f.duration(b)} per task ({f.spread(b)})"]
    rt = r.metric("placement.subprocess.roundtrip")
    if rt is not None:
        evidence.append(f"no-op round trip, scheduler in its own process: {f.duration(rt)}")
    start = r.metric("placement.subprocess.startup")
    if start is not None:
        evidence.append(f"starting that cluster (a process each for scheduler and workers): {f.duration(start)}")
    return status, summary, evidence


@claim("scalable_beyond_one_machine",
       "Scalable: multiprocessing is efficient for computationally intensive workloads (revisited: one machine, "
       "then more)", experiments=(EXPERIMENT,),
       headline=("cpu.pool.2.speedup", "cpu.dask.2.speedup", "capacity.parallel"))
def scalable_beyond_one_machine(results):
    r = _result(results)
    w = r.facts.get("workers") or 1
    missing = _missing(r, f"cpu.pool.{w}.speedup", f"cpu.dask.{w}.speedup")
    if missing:
        return missing
    if w < 2:
        return DEPENDS, "Only one usable core here: neither engine can run work in parallel.", []
    ps, ds = r.metric(f"cpu.pool.{w}.speedup"), r.metric(f"cpu.dask.{w}.speedup")
    cap = r.metric("capacity.parallel")
    cores = r.facts.get("usable_cores", w)
    head = (f"Against the same tasks run one after another in the parent process, {w} worker processes ran "
            f"them {f.ratio(ps)} as fast in a pool and {f.ratio(ds)} as fast on dask")
    # The capacity probe races 2 processes: a reference for 2 workers only; beyond, what the
    # usable CPUs allow, min(workers, CPUs), as processes_scalable divides by (a cgroup quota counts).
    ref = cap.median if (cap is not None and w == 2) else min(float(w), usable_cpus(r) or float(w))
    if cap is None:
        status = DEPENDS
        summary = head + "; the machine's parallel capacity was not measured."
    elif w == 2 and cap.median < CAPACITY_MIN:
        status = DEPENDS
        summary = (head + f", but the machine offered little parallelism during the run (capacity {f.ratio(cap)}): "
                   "the hardware you really get bounds both.")
    else:
        what = (f"the measured capacity ({f.ratio(cap)})" if w == 2 else f"the ideal {ref:g}× (one CPU per worker)"
                if ref >= w else f"the {ref:g}× that {f.cpus(ref)} allow")
        if ps.median >= CAPACITY_SHARE * ref:
            status = HOLDS
            summary = head + (f": the pool reached {f.percent(ps.median / ref)} of {what}, "
                              f"dask {f.percent(ds.median / ref)}.")
        else:
            status = FAILS
            summary = head + f": the pool reached only {f.percent(ps.median / ref)} of {what}."
    # Only the first half is measured; what a cluster adds is said as not measured here.
    summary += (f" Either way a pool stops at this machine's {cores} cores; the same dask code can reach more cores "
                "by connecting to a cluster (not measured here). There each task's messages cross a real network "
                "instead of this machine's loopback interface and pay its latency and bandwidth, while the client "
                "and the scheduler no longer take CPU from the workers: the costs measured here predict a "
                "cluster's in neither direction.")
    evidence = [f"pool, {w} workers: {f.ratio(ps)} vs serial ({f.spread(ps)})",
                f"dask, {w} workers: {f.ratio(ds)} vs serial ({f.spread(ds)})"]
    if cap is not None:
        evidence.append(f"measured parallel capacity (2 busy processes vs 1): {f.ratio(cap)} ({f.spread(cap)})")
    return status, summary, evidence
