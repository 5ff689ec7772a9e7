"""dask.distributed against a process pool on one machine: task overhead, speedup, data, start-up.

The one experiment that needs a package beyond the standard library: dask.distributed
(``pip install 'vaultgen[distributed]'``).  Under an interpreter that cannot import it (a
free-threaded build, an old Python, a venv without the extra) it records the key ``engine`` as
unavailable ("install vaultgen[distributed]") and exits normally, so a build never fails for it.
dask is imported inside ``run`` only: the spawned worker processes of both engines re-import this
script, and a module-level ``import dask`` would make the pool's workers pay for it too.  The file
is not called distributed.py on purpose: its folder comes first on sys.path (for the script, its
spawned workers, and dask's ``python -m dask spec`` subprocesses, which start in this folder), so
that name would shadow the ``distributed`` package itself.

Engines, both with ``workers`` worker processes on this machine, only on 127.0.0.1:
  dask  ``LocalCluster(processes=True, threads_per_worker=1, host="127.0.0.1",
        dashboard_address=None)`` and a ``Client``: each worker is a process started by a nanny
        with dask's configured start method (``distributed.worker.multiprocessing-method``,
        spawn by default); the scheduler runs inside this process, on the client's event loop
        thread (checked with ``client.run_on_scheduler(os.getpid)``).  Every task is submitted with
        ``pure=False`` so dask never reuses a result by key.
  pool  ``concurrent.futures.ProcessPoolExecutor`` with the same number of workers and the same
        start method as dask's workers, so start-up costs compare like with like.
Both are started and warmed (a task on every worker) before anything is timed; the cluster is
closed with a timeout in every path, and any worker process still alive afterwards is killed.
The dashboard is off, but the scheduler and each worker still serve a small HTTP endpoint
(health, metrics); like every other socket of the run it listens on 127.0.0.1 only.  Workers'
scratch space and the scheduler file live in one temporary folder, removed at the end.

Work (the same functions for both engines):
  no-op        ``noop(i)`` returns its argument: submit one, wait for its result, repeat
  tiny         ``square(i)`` over ``tiny_tasks`` integers per map, ``tiny_repeats`` maps (the full
               profile: 5 maps of 2,000, 10,000 tasks in all; fewer per map, down to 500, when a
               first map of 500 shows that the maps would take more than ``tiny_budget``; the fact
               ``tiny_tasks`` is the number used): dask ``client.map`` then ``gather``,
               the pool's ``map`` with chunksize 1 and with chunksize ceil(tasks / (4 * workers)),
               and dask over the same batches (one task per batch)
  cpu          ``cpu_tasks`` equal pure-Python loops totalling about ``cpu_total`` seconds, run in
               this process (serial), on 1 worker and on all workers (dask: restricted to one
               worker's address, then unrestricted)
  data         ``payload_tasks`` tasks each reading one byte per 4 KiB page of a ``payload_mib``
               MiB ``bytes`` payload (random, so no compression can shrink it): the payload passed
               with every task (pool: pickled through a pipe; dask: inside the task, client ->
               scheduler -> worker), against ``client.scatter`` once (``hash=False``, to one
               worker) and the future passed to every task
  placement    the same no-op round trip and tiny tasks with dask's experimental
               ``SubprocessCluster``: scheduler and workers each in a process of their own, as in a
               real deployment, here on the same 2 cores

Metrics (ENGINE is dask or pool, W is 1 or the parameter `workers`):
  capacity.parallel                    x  measured parallel capacity (2 busy processes vs 1)
  startup.dask                         s  LocalCluster + Client until every worker ran a task
  startup.pool                         s  ProcessPoolExecutor until every worker ran a task
  startup.ratio                        x  startup.dask / startup.pool (ratio of medians)
  shutdown.dask                        s  client.close() + cluster.close()
  shutdown.pool                        s  executor shutdown(wait=True)
  roundtrip.dask                       s  submit a no-op task and wait for its result
  roundtrip.pool                       s  the same on the pool
  roundtrip.ratio                      x  roundtrip.dask / roundtrip.pool, same repeat
  tiny.inline.per_task                 s  square() called in this process, per task
  tiny.dask.per_task                   s  client.map + gather, per task
  tiny.dask_batched.per_task           s  client.map over the pool's chunks, per original task
  tiny.pool.per_task                   s  executor.map, chunksize 1, per task
  tiny.pool_chunked.per_task           s  executor.map with the chunksize above, per task
  tiny.dask.tasks_per_s                -  tasks per second, dask
  tiny.pool.tasks_per_s                -  tasks per second, pool, chunksize 1
  tiny.ratio                           x  tiny.dask.per_task / tiny.pool.per_task, same repeat
  tiny.dask.client_cpu_per_task        s  CPU time of this process (client, in-process scheduler,
                                          nannies) per dask task
  cpu.serial.wall                      s  the CPU-bound tasks one after another in this process
  cpu.ENGINE.W.wall                    s  the same tasks on W workers
  cpu.ENGINE.W.speedup                 x  cpu.serial.wall / cpu.ENGINE.W.wall, same repeat
  cpu.dask.W.vs_pool                   x  cpu.pool.W.wall / cpu.dask.W.wall (above 1: dask faster)
  data.pool.per_task                   s  payload pickled with every task, per task
  data.dask_inline.per_task            s  payload inside every dask task, per task
  data.scatter.once                    s  client.scatter of the payload
  data.scatter.per_task                s  tasks on the scattered future, per task (after scatter)
  data.scatter.total                   s  scatter + every task on its future
  data.inline_vs_scatter               x  payload_tasks * data.dask_inline.per_task / data.scatter.total
  placement.subprocess.startup         s  SubprocessCluster + Client until every worker ran a task
  placement.subprocess.roundtrip       s  no-op round trip, scheduler in its own process
  placement.inprocess.per_task         s  placement_tasks tiny tasks, in-process scheduler, per task
  placement.subprocess.per_task        s  the same, scheduler in its own process, per task
  placement.subprocess.scheduler_cpu_per_task  s  CPU time of the scheduler process per task
  placement.subprocess.scheduler_cores x  scheduler CPU time / wall time during the tiny tasks
                                          (share of one core it kept busy)

Facts: dask_version, distributed_version, workers, usable_cores, start_method (dask's workers
and the pool's), scheduler_in_process (bool), client_batch_interval (seconds the client waits
between two sends to the scheduler), addresses (scheduler and workers: all tcp://127.0.0.1),
tiny_tasks, chunksize, cpu_tasks, task_seconds, payload_bytes, payload_tasks,
scatter_replicas (workers holding the scattered payload after its tasks ran),
inline_warning (the warning dask gave for the payload in the task, or null),
placement_tasks, section_seconds, leftover_processes (worker processes killed after
close: 0 when every shutdown was clean).
Unavailable keys: engine (dask.distributed cannot be imported here), placement (the
SubprocessCluster could not start, or the profile skips it), roundtrip, tiny,
cpu, data, placement (skipped: the run passed its `deadline` seconds, so that a slow machine still
gives a result within the runner's timeout), capacity.parallel (one CPU), cpu.W (fewer workers).
"""

from __future__ import annotations

import math
import os
import random
import signal
import time
import warnings

from _dask_engines import Engines, package_version, process_cpu
from _harness import calibrate_spin, main, spin

INSTALL_HINT = "install vaultgen[distributed]"
# Parts skipped (and recorded as unavailable) once the run is past its `deadline`, so that a slow,
# busy machine still yields a result before the runner's timeout instead of being killed.
SKIPPABLE = ("roundtrip", "tiny", "cpu", "data", "placement")
PAGE = 4096
MIN_TINY = 500


def noop(x):
    return x


def square(x):
    return x * x


def square_batch(xs):
    return [x * x for x in xs]


def touch(payload):
    """Read one byte of every page, so the whole payload really arrived."""
    return sum(memoryview(payload)[::PAGE])


def usable_cores():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# -- sections -----------------------------------------------------------------------------------


def overhead(ctx, p, client, pool):
    calls = p["noop_calls"]

    def once():
        t0 = time.perf_counter()
        for i in range(calls):
            client.submit(noop, i, pure=False).result()
        dask_rt = (time.perf_counter() - t0) / calls
        t0 = time.perf_counter()
        for i in range(calls):
            pool.submit(noop, i).result()
        pool_rt = (time.perf_counter() - t0) / calls
        return {"roundtrip.dask": dask_rt, "roundtrip.pool": pool_rt, "roundtrip.ratio": dask_rt / pool_rt}

    ctx.measure(once, {"roundtrip.dask": "s", "roundtrip.pool": "s", "roundtrip.ratio": "x"},
                warmup=1, min_repeats=p["min_repeats"], max_repeats=p["max_repeats"], budget=p["section_budget"])


def tiny(ctx, p, client, pool, workers):
    n = p["tiny_tasks"]
    # A slow machine can spend minutes on 10k dask tasks: probe the cost per task first and map
    # fewer per repeat (never under MIN_TINY) when all repeats would take more than the budget.
    if n > MIN_TINY:
        t0 = time.perf_counter()
        client.gather(client.map(square, range(MIN_TINY), pure=False))
        per_task = (time.perf_counter() - t0) / MIN_TINY
        n = max(MIN_TINY, min(n, int(p["tiny_budget"] / p["tiny_repeats"] / per_task)))
    chunk = max(1, int(math.ceil(n / (4.0 * workers))))
    ctx.fact("tiny_tasks", n)
    ctx.fact("chunksize", chunk)
    data = list(range(n))
    batches = [data[i:i + chunk] for i in range(0, n, chunk)]

    def once():
        values = {}
        t0 = time.perf_counter()
        list(map(square, data))
        values["tiny.inline.per_task"] = (time.perf_counter() - t0) / n
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        client.gather(client.map(square, data, pure=False))
        wall = time.perf_counter() - t0
        values["tiny.dask.client_cpu_per_task"] = (time.process_time() - cpu0) / n
        values["tiny.dask.per_task"] = wall / n
        values["tiny.dask.tasks_per_s"] = n / wall
        t0 = time.perf_counter()
        client.gather(client.map(square_batch, batches, pure=False))
        values["tiny.dask_batched.per_task"] = (time.perf_counter() - t0) / n
        t0 = time.perf_counter()
        list(pool.map(square, data))
        wall = time.perf_counter() - t0
        values["tiny.pool.per_task"] = wall / n
        values["tiny.pool.tasks_per_s"] = n / wall
        t0 = time.perf_counter()
        list(pool.map(square, data, chunksize=chunk))
        values["tiny.pool_chunked.per_task"] = (time.perf_counter() - t0) / n
        values["tiny.ratio"] = values["tiny.dask.per_task"] / values["tiny.pool.per_task"]
        return values

    units = {"tiny.dask.tasks_per_s": "", "tiny.pool.tasks_per_s": "", "tiny.ratio": "x"}
    for k in ("inline", "dask", "dask_batched", "pool", "pool_chunked"):
        units["tiny.%s.per_task" % k] = "s"
    units["tiny.dask.client_cpu_per_task"] = "s"
    ctx.measure(once, units, warmup=0, min_repeats=p["tiny_repeats"], max_repeats=p["tiny_repeats"],
                budget=p["tiny_budget"])


def cpu(ctx, p, client, pools, workers):
    tasks = p["cpu_tasks"]
    iterations = calibrate_spin(p["cpu_total"] / tasks)
    ctx.fact("cpu_tasks", tasks)
    ctx.fact("task_seconds", p["cpu_total"] / tasks)
    addresses = Engines.worker_addresses(client)
    sizes = sorted({1, workers})

    def once():
        walls = {}
        t0 = time.perf_counter()
        for _ in range(tasks):
            spin(iterations)
        serial = time.perf_counter() - t0
        for w in sizes:
            t0 = time.perf_counter()
            list(pools[w].map(spin, [iterations] * tasks))
            walls["pool", w] = time.perf_counter() - t0
            restrict = addresses[:1] if w == 1 else None
            t0 = time.perf_counter()
            client.gather(client.map(spin, [iterations] * tasks, pure=False, workers=restrict,
                                     allow_other_workers=False))
            walls["dask", w] = time.perf_counter() - t0
        values = {"cpu.serial.wall": serial}
        for (engine, w), wall in walls.items():
            values["cpu.%s.%d.wall" % (engine, w)] = wall
            values["cpu.%s.%d.speedup" % (engine, w)] = serial / wall
        for w in sizes:
            values["cpu.dask.%d.vs_pool" % w] = walls["pool", w] / walls["dask", w]
        return values

    units = {"cpu.serial.wall": "s"}
    for w in sizes:
        for engine in ("dask", "pool"):
            units["cpu.%s.%d.wall" % (engine, w)] = "s"
            units["cpu.%s.%d.speedup" % (engine, w)] = "x"
        units["cpu.dask.%d.vs_pool" % w] = "x"
    ctx.measure(once, units, warmup=0, min_repeats=p["min_repeats"], max_repeats=p["max_repeats"],
                budget=p["section_budget"])


def make_payload(nbytes):
    rng = random.Random(0)
    if hasattr(rng, "randbytes"):  # 3.9+
        return rng.randbytes(nbytes)
    return os.urandom(nbytes)


def data(ctx, p, client, pool):
    nbytes = int(p["payload_mib"] * 2 ** 20)
    k = p["payload_tasks"]
    payload = make_payload(nbytes)
    expected = touch(payload)
    ctx.fact("payload_bytes", nbytes)
    ctx.fact("payload_tasks", k)
    replicas = []
    caught = []

    def once():
        t0 = time.perf_counter()
        got = [f.result() for f in [pool.submit(touch, payload) for _ in range(k)]]
        pool_t = (time.perf_counter() - t0) / k
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            t0 = time.perf_counter()
            got += client.gather([client.submit(touch, payload, pure=False) for _ in range(k)])
            inline_t = (time.perf_counter() - t0) / k
        caught.extend(str(w.message).splitlines()[0] for w in seen)
        t0 = time.perf_counter()
        future = client.scatter(payload, hash=False)
        once_t = time.perf_counter() - t0
        t0 = time.perf_counter()
        got += client.gather([client.submit(touch, future, pure=False) for _ in range(k)])
        tasks_t = time.perf_counter() - t0
        replicas.append(len(client.who_has(future).get(future.key, ())))
        client.cancel(future)
        del future
        assert got == [expected] * (3 * k), "a task read a different payload"
        total = once_t + tasks_t
        return {"data.pool.per_task": pool_t, "data.dask_inline.per_task": inline_t,
                "data.scatter.once": once_t, "data.scatter.per_task": tasks_t / k,
                "data.scatter.total": total, "data.inline_vs_scatter": inline_t * k / total}

    ctx.measure(once, {"data.pool.per_task": "s", "data.dask_inline.per_task": "s", "data.scatter.once": "s",
                       "data.scatter.per_task": "s", "data.scatter.total": "s", "data.inline_vs_scatter": "x"},
                warmup=p["data_warmup"], min_repeats=p["data_repeats"], max_repeats=p["data_repeats"],
                budget=p["section_budget"])
    ctx.fact("scatter_replicas", max(replicas) if replicas else None)
    ctx.fact("inline_warning", caught[0] if caught else None)


def startup(p, engines, workers, repeats):
    """More start-ups and shutdowns of both engines (the main cluster's own is the first dask sample)."""
    samples = {"startup.dask": [], "shutdown.dask": [], "startup.pool": [], "shutdown.pool": []}
    for _ in range(repeats - 1):
        cluster, client, t = engines.start_local(workers)
        samples["startup.dask"].append(t)
        samples["shutdown.dask"].append(engines.close_cluster(cluster, client))
    for _ in range(repeats):
        pool, t = engines.start_pool(workers)
        samples["startup.pool"].append(t)
        samples["shutdown.pool"].append(engines.close_pool(pool))
    return samples


def placement(ctx, p, engines, client, workers):
    n = p["placement_tasks"]
    calls = p["noop_calls"]
    if not p["placement"]:
        ctx.unavailable("placement", "not measured in the %s profile (it starts a second cluster)" % ctx.profile)
        return
    ctx.fact("placement_tasks", n)
    try:
        sub_cluster, sub_client, started = engines.start_subprocess(workers)
    except Exception as exc:
        ctx.unavailable("placement", "the SubprocessCluster could not start: %s: %s"
                        % (type(exc).__name__, exc))
        return
    try:
        ctx.record_samples("placement.subprocess.startup", [started], "s")
        scheduler_pid = sub_client.run_on_scheduler(os.getpid)
        data = list(range(n))

        def once():
            t0 = time.perf_counter()
            client.gather(client.map(square, data, pure=False))
            inproc = (time.perf_counter() - t0) / n
            cpu0 = process_cpu(scheduler_pid)
            t0 = time.perf_counter()
            sub_client.gather(sub_client.map(square, data, pure=False))
            wall = time.perf_counter() - t0
            cpu1 = process_cpu(scheduler_pid)
            t0 = time.perf_counter()
            for i in range(calls):
                sub_client.submit(noop, i, pure=False).result()
            rt = (time.perf_counter() - t0) / calls
            values = {"placement.inprocess.per_task": inproc, "placement.subprocess.per_task": wall / n,
                      "placement.subprocess.roundtrip": rt}
            if cpu0 is not None and cpu1 is not None:
                values["placement.subprocess.scheduler_cpu_per_task"] = (cpu1 - cpu0) / n
                values["placement.subprocess.scheduler_cores"] = (cpu1 - cpu0) / wall
            return values

        ctx.measure(once, {"placement.inprocess.per_task": "s", "placement.subprocess.per_task": "s",
                           "placement.subprocess.roundtrip": "s",
                           "placement.subprocess.scheduler_cpu_per_task": "s",
                           "placement.subprocess.scheduler_cores": "x"},
                    warmup=1, min_repeats=p["min_repeats"], max_repeats=p["max_repeats"],
                    budget=p["section_budget"])
    finally:
        engines.close_cluster(sub_cluster, sub_client)


def _terminate(signum, frame):
    # SIGTERM's default action skips every finally block, leaving the pools' workers orphaned;
    # as SystemExit it unwinds through them and closes everything.
    raise SystemExit(128 + signum)


def run(ctx):
    p = ctx.params
    try:
        import dask  # noqa: F401  (distributed needs it; its absence is the usual reason)
        import distributed as dd
    except Exception as exc:  # ImportError, or a dask that fails to import on this build
        ctx.unavailable("engine", "%s (this interpreter cannot import dask.distributed: %s: %s)"
                        % (INSTALL_HINT, type(exc).__name__, exc))
        return
    ctx.fact("dask_version", package_version("dask"))
    ctx.fact("distributed_version", package_version("distributed"))
    workers = min(p["workers"], max(1, usable_cores()))
    ctx.fact("workers", workers)
    ctx.fact("usable_cores", usable_cores())
    spent = {}

    def section(name, fn, *args):
        """Run one part, unless the run is already past its deadline (then say so)."""
        if name in SKIPPABLE and time.perf_counter() - ctx.started > p["deadline"]:
            ctx.unavailable(name, "skipped: this run passed its %g s deadline before this part" % p["deadline"])
            return None
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            spent[name] = round(time.perf_counter() - t0, 3)

    # Before any cluster exists: the capacity probe forks, and forking beside dask's threads is unsafe.
    section("capacity", ctx.measure_capacity, 2, p["capacity_seconds"], p["capacity_repeats"])
    engines = Engines(dd, p)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        ctx.fact("start_method", engines.start_method())
        cluster, client, first = section("start", engines.start_local, workers)
        ctx.fact("scheduler_in_process", client.run_on_scheduler(os.getpid) == os.getpid())
        interval = getattr(getattr(client, "scheduler_comm", None), "interval", None)
        ctx.fact("client_batch_interval", interval)
        info = client.scheduler_info()
        ctx.fact("addresses", [info["address"]] + sorted(info["workers"]))
        pools = {}
        for w in sorted({1, workers}):
            pools[w], _ = engines.start_pool(w)
        if workers < 2:
            ctx.unavailable("cpu.2", "only %d usable core: no second worker" % usable_cores())
        section("roundtrip", overhead, ctx, p, client, pools[workers])
        section("tiny", tiny, ctx, p, client, pools[workers], workers)
        section("cpu", cpu, ctx, p, client, pools, workers)
        section("data", data, ctx, p, client, pools[workers])
        section("placement", placement, ctx, p, engines, client, workers)
        for w in list(pools):
            engines.close_pool(pools.pop(w))
        shutdown = engines.close_cluster(cluster, client)
        late = time.perf_counter() - ctx.started > p["deadline"]
        samples = section("startup", startup, p, engines, workers, 1 if late else p["start_repeats"])
        samples["startup.dask"].insert(0, first)
        samples["shutdown.dask"].insert(0, shutdown)
        for name, values in samples.items():
            if values:
                ctx.record_samples(name, values, "s")
        ctx.record("startup.ratio", ctx.metrics["startup.dask"]["median"] / ctx.metrics["startup.pool"]["median"],
                   "x")
    finally:
        signal.signal(signal.SIGTERM, previous)
        ctx.fact("leftover_processes", engines.close_all())
        ctx.fact("section_seconds", spent)


if __name__ == "__main__":
    main(run, __doc__,
         params={
             "quick": {"workers": 2, "noop_calls": 5, "tiny_tasks": 200, "tiny_repeats": 1, "tiny_budget": 0.5,
                       "cpu_tasks": 4, "cpu_total": 0.08, "payload_mib": 4.0, "payload_tasks": 2,
                       "data_warmup": 0, "data_repeats": 1, "placement": False, "placement_tasks": 50,
                       "start_repeats": 1, "min_repeats": 1, "max_repeats": 1, "section_budget": 0.5,
                       "capacity_seconds": 0.01, "capacity_repeats": 3,
                       "start_timeout": 30.0, "close_timeout": 10.0, "deadline": 40.0},
             "full": {"workers": 2, "noop_calls": 50, "tiny_tasks": 2000, "tiny_repeats": 5, "tiny_budget": 15.0,
                      "cpu_tasks": 6, "cpu_total": 0.6, "payload_mib": 64.0, "payload_tasks": 4,
                      "data_warmup": 1, "data_repeats": 5, "placement": True, "placement_tasks": 500,
                      "start_repeats": 5, "min_repeats": 5, "max_repeats": 9, "section_budget": 10.0,
                      "capacity_seconds": 0.05, "capacity_repeats": 5,
                      "start_timeout": 60.0, "close_timeout": 20.0, "deadline": 100.0},
         },
         budget={"quick": 1.5, "full": 110.0})
