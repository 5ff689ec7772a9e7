"""Tuning a process pool: worker count, chunksize, pool start-up per start method, lock sharing.

Worker sweep: the same CPU-bound total (pure-Python loop, split into equal tasks) is mapped over
pools of 1 up to far more workers than usable cores.  Every pool is started and warmed before
timing, and all sizes are timed in the same repeat, so speedups are paired.

Chunksize: many tiny tasks (squaring an int) mapped over a pool of one worker per usable core
with several chunksizes; per-task cost includes pickling, the pipe round trip and scheduling.
Each chunksize C maps max(tiny_tasks, C * min_chunks) tasks, so even the largest chunksize
sends enough chunks to be timed.

Pool start-up: creating a 2-worker pool, mapping two trivial tasks over it (not necessarily one
per worker) and closing it, which waits for both workers to exit, for each start method this
platform offers (fork, forkserver, spawn).

Lock sharing: several threads adding 1 to one shared counter under one shared Lock, against
as many threads running the same loop each on a Lock and a counter of its own (summed under the
shared Lock at the end), against each thread counting in a local name and adding it to the total
once.  The first two differ only in what is shared (and each "own" thread's one final addition
under the shared Lock), so their ratio is what sharing costs; they swap order from one repeat to
the next, and thread start and join are in all three.

Metrics:
  capacity.parallel            x   measured parallel capacity (2 busy processes vs 1)
  workers.<W>.wall             s   wall time of the CPU-bound total on a pool of W processes
  workers.<W>.speedup          x   workers.1.wall / workers.<W>.wall, same repeat
  workers.<W>.tasks_per_s          throughput in tasks per second
  chunksize.inline.per_task    s   the same tiny task without a pool (plain map), per task
  chunksize.<C>.per_task       s   Pool.map of the tiny tasks with chunksize C, per task
  chunksize.<C>.gain           x   chunksize.1.per_task / chunksize.<C>.per_task, same repeat
  startmethod.<M>.pool_start   s   create a 2-worker pool with start method M, map two trivial
                                   tasks over it (not necessarily one per worker), close and join it
  lock.shared.per_op           s   per increment: <threads> threads, one shared counter, one shared Lock
  lock.own.per_op              s   per increment: the same threads and loop, each its own Lock and counter
  lock.local.per_op            s   per increment: each thread a local count, one locked sum at end
  lock.sharing.cost            x   lock.shared.per_op / lock.own.per_op, same repeat
  lock.local.speedup           x   lock.shared.per_op / lock.local.per_op, same repeat

W in the parameter `workers`, C in `chunksizes`, M in the platform's start methods.
Facts: usable_cores, workers, chunksizes, tasks (sweep), task_seconds (target CPU per sweep task),
tiny_tasks, chunk_tasks (tasks mapped per chunksize), lock_threads, lock_ops (increments per repeat), start_methods (measured),
section_seconds (wall time each part of this experiment took).
Unavailable keys: workers.<W> (a pool could not start), startmethod.<M> (method missing here or
failed), capacity.parallel (one CPU).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time

from _harness import calibrate_spin, main, spin



def square(x):
    return x * x


def usable_cores():
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# -- worker-count sweep ------------------------------------------------------------------------


def sweep(ctx, p, cores):
    total = p["total_cpu"]
    tasks = p["tasks"]
    iterations = calibrate_spin(total / tasks)
    ctx.fact("tasks", tasks)
    ctx.fact("task_seconds", total / tasks)
    mp = multiprocessing.get_context()
    pools = {}
    try:
        for w in p["workers"]:
            try:
                pools[w] = mp.Pool(w)
            except Exception as exc:  # e.g. a process limit
                ctx.unavailable("workers.%d" % w, "a pool of %d processes could not start: %s" % (w, exc))
        for w, pool in pools.items():  # warm every worker (imports, first task)
            pool.map(spin, [1000] * (2 * w), chunksize=1)
        if 1 not in pools:
            return

        def once():
            values = {}
            walls = {}
            for w, pool in pools.items():
                t0 = time.perf_counter()
                pool.map(spin, [iterations] * tasks, chunksize=1)
                walls[w] = time.perf_counter() - t0
            for w, wall in walls.items():
                values["workers.%d.wall" % w] = wall
                values["workers.%d.speedup" % w] = walls[1] / wall
                values["workers.%d.tasks_per_s" % w] = tasks / wall
            return values

        units = {}
        for w in pools:
            units.update({"workers.%d.wall" % w: "s", "workers.%d.speedup" % w: "x",
                          "workers.%d.tasks_per_s" % w: ""})
        ctx.measure(once, units, warmup=0, min_repeats=p["min_repeats"], max_repeats=p["max_repeats"],
                    budget=p["sweep_budget"])
    finally:
        for pool in pools.values():
            pool.terminate()
        for pool in pools.values():
            pool.join()


# -- chunksize -----------------------------------------------------------------------------------


def chunksizes(ctx, p, cores):
    # Every chunksize maps at least `min_chunks` chunks: with a fixed task count the largest
    # chunksize sent only a handful of chunks, and its timing was mostly noise (IQR > 100 %).
    counts = {c: max(p["tiny_tasks"], c * p["min_chunks"]) for c in p["chunksizes"]}
    ctx.fact("tiny_tasks", p["tiny_tasks"])
    ctx.fact("chunk_tasks", {str(c): n for c, n in counts.items()})
    data = list(range(max(counts.values())))
    mp = multiprocessing.get_context()
    with mp.Pool(cores) as pool:
        pool.map(square, range(4 * cores), chunksize=1)

        def once():
            values = {}
            n = p["tiny_tasks"]
            t0 = time.perf_counter()
            list(map(square, data[:n]))
            values["chunksize.inline.per_task"] = (time.perf_counter() - t0) / n
            for c, n in counts.items():
                t0 = time.perf_counter()
                pool.map(square, data[:n], chunksize=c)
                values["chunksize.%d.per_task" % c] = (time.perf_counter() - t0) / n
            base = values.get("chunksize.1.per_task")
            if base is not None:
                for c in p["chunksizes"]:
                    if c != 1:
                        values["chunksize.%d.gain" % c] = base / values["chunksize.%d.per_task" % c]
            return values

        units = {"chunksize.inline.per_task": "s"}
        for c in p["chunksizes"]:
            units["chunksize.%d.per_task" % c] = "s"
            units["chunksize.%d.gain" % c] = "x"
        ctx.measure(once, units, warmup=0, min_repeats=p["min_repeats"], max_repeats=p["max_repeats"],
                    budget=p["chunk_budget"])


# -- pool start-up per start method ---------------------------------------------------------------


def start_methods(ctx, p):
    measured = []
    contexts = {}
    for method in ("fork", "forkserver", "spawn"):
        try:
            contexts[method] = multiprocessing.get_context(method)
        except ValueError as exc:
            ctx.unavailable("startmethod.%s" % method, "start method %s is not available here: %s"
                            % (method, exc))

    def start(mp):
        t0 = time.perf_counter()
        pool = mp.Pool(2)
        try:
            pool.map(abs, [-1, -2], chunksize=1)
        finally:
            pool.close()
            pool.join()
        return time.perf_counter() - t0

    for method, mp in list(contexts.items()):
        try:
            start(mp)  # warm-up: a forkserver starts its server on first use
        except Exception as exc:
            ctx.unavailable("startmethod.%s" % method, "%s: %s" % (type(exc).__name__, exc))
            del contexts[method]
    if not contexts:
        return

    def once():
        return {"startmethod.%s.pool_start" % m: start(mp) for m, mp in contexts.items()}

    ctx.measure(once, {"startmethod.%s.pool_start" % m: "s" for m in contexts}, warmup=0,
                min_repeats=p["start_repeats"], max_repeats=p["start_repeats"], budget=p["start_budget"])
    measured.extend(contexts)
    ctx.fact("start_methods", measured)


# -- lock contention -------------------------------------------------------------------------------


def add(guard, box, n):
    for _ in range(n):
        with guard:
            box[0] += 1


def locks(ctx, p):
    nthreads, per_thread = p["lock_threads"], p["lock_ops"]
    total = nthreads * per_thread
    ctx.fact("lock_threads", nthreads)
    ctx.fact("lock_ops", total)

    def run_threads(target):
        threads = [threading.Thread(target=target) for _ in range(nthreads)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - t0

    repeats = [0]

    def once():
        lock = threading.Lock()
        counter = [0]
        repeats[0] += 1

        def shared():
            add(lock, counter, per_thread)

        def own():
            mine = [0]
            add(threading.Lock(), mine, per_thread)
            with lock:
                counter[0] += mine[0]

        def local():
            mine = 0
            for _ in range(per_thread):
                mine += 1
            with lock:
                counter[0] += mine

        # Swapped from one repeat to the next, so that neither pays for going first.
        if repeats[0] % 2:
            t_shared, t_own = run_threads(shared), run_threads(own)
        else:
            t_own, t_shared = run_threads(own), run_threads(shared)
        t_local = run_threads(local)
        assert counter[0] == 3 * total, counter[0]
        return {"lock.shared.per_op": t_shared / total, "lock.own.per_op": t_own / total,
                "lock.local.per_op": t_local / total, "lock.sharing.cost": t_shared / t_own,
                "lock.local.speedup": t_shared / t_local}

    ctx.measure(once, {"lock.shared.per_op": "s", "lock.own.per_op": "s", "lock.local.per_op": "s",
                       "lock.sharing.cost": "x", "lock.local.speedup": "x"},
                warmup=1, min_repeats=p["min_repeats"], max_repeats=p["max_repeats"], budget=p["lock_budget"])


def run(ctx):
    p = ctx.params
    cores = usable_cores()
    ctx.fact("usable_cores", cores)
    ctx.fact("workers", list(p["workers"]))
    ctx.fact("chunksizes", list(p["chunksizes"]))
    spent = {}
    for section, fn in (("capacity", lambda: ctx.measure_capacity(seconds=p["capacity_seconds"],
                                                                  repeats=p["capacity_repeats"])),
                        ("workers", lambda: sweep(ctx, p, cores)),
                        ("chunksize", lambda: chunksizes(ctx, p, cores)),
                        ("startmethod", lambda: start_methods(ctx, p)),
                        ("lock", lambda: locks(ctx, p))):
        t0 = time.perf_counter()
        fn()
        spent[section] = round(time.perf_counter() - t0, 3)
    ctx.fact("section_seconds", spent)


if __name__ == "__main__":
    main(run, __doc__,
         params={
             "quick": {"workers": [1, 2, 4], "tasks": 8, "total_cpu": 0.03, "sweep_budget": 0.2,
                       "chunksizes": [1, 10, 100], "tiny_tasks": 600, "min_chunks": 10, "chunk_budget": 0.1,
                       "start_repeats": 1, "start_budget": 0.1,
                       "lock_threads": 4, "lock_ops": 2000, "lock_budget": 0.05,
                       "min_repeats": 2, "max_repeats": 3,
                       "capacity_seconds": 0.01, "capacity_repeats": 3},
             "full": {"workers": [1, 2, 4, 8, 16], "tasks": 32, "total_cpu": 0.16, "sweep_budget": 3.0,
                      "chunksizes": [1, 10, 100, 1000], "tiny_tasks": 10000, "min_chunks": 100,
                      "chunk_budget": 1.5,
                      "start_repeats": 3, "start_budget": 1.0,
                      "lock_threads": 4, "lock_ops": 60000, "lock_budget": 2.0,
                      "min_repeats": 5, "max_repeats": 15,
                      "capacity_seconds": 0.05, "capacity_repeats": 5},
         },
         budget={"quick": 1.5, "full": 12.0})
