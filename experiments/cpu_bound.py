"""CPU-bound work: sequential vs threads vs processes, pure Python and GIL-releasing C.

A fixed total amount of work is split into N equal tasks (N = 1, 2, 4, 8) and
run sequentially in the main thread, on N threads, and on N processes.  Two
kinds of work:

  python  a pure-Python arithmetic loop: every step holds the GIL.
  c       hashlib.sha256 over 1 MiB buffers: CPython releases the GIL while it
          hashes a buffer larger than 2 KiB, so threads can run in parallel.

This is a THROUGHPUT experiment: one thread pool and one process pool (each
with max(workers) workers) are started and warmed up OUTSIDE the timed
region, so the figures exclude thread/process start-up (measured by the
`overhead` experiment).  With N tasks submitted at once, at most N workers
run at a time.  Each repeat times every variant back to back, and speedups
are computed inside the repeat (paired), so a slow phase of the shared VM
hits numerator and denominator alike.

CPU time is the CPU time of the process tree spent on the timed region: the
parent's time.process_time() delta (all its threads) plus, for processes,
the time.process_time() delta each worker measures around its own task
(pool workers are still alive, so os.times() children fields cannot see them).

Metrics (KIND is `python` or `c`, N is 1, 2, 4 or 8):
  KIND.sequential.wall       s  wall time of the whole work in the main thread
  KIND.sequential.cpu        s  CPU time of it
  KIND.threads.N.wall        s  wall time with the work split over N threads
  KIND.threads.N.cpu         s  CPU time (whole process, all threads)
  KIND.threads.N.speedup     x  sequential wall / threads wall (paired per repeat)
  KIND.threads.N.scaling     x  1 worker thread's wall / N threads' wall (paired per repeat): what
                                adding threads bought, with the pool's dispatch cost on both sides
  KIND.threads.N.cores       x  CPU time / wall time: average number of busy cores
  KIND.processes.N.wall      s  wall time with the work split over N pool processes
  KIND.processes.N.cpu       s  CPU time (parent + workers' task CPU time)
  KIND.processes.N.speedup   x  sequential wall / processes wall (paired per repeat)
  KIND.processes.N.cores     x  CPU time / wall time
  KIND.processes.N.efficiency x processes speedup / KIND.capacity of the same repeat
  KIND.threads.N.efficiency  x  threads speedup / KIND.capacity of the same repeat
  KIND.capacity              x  paired capacity probe inside each repeat: 2 pool processes
                                running the harness spin loop vs 1 (what 2 workers can reach
                                at that moment on this machine)
  capacity.parallel          x  measured parallel capacity: 2 busy processes vs 1
  work.python.iterations     -  loop iterations of the whole pure-Python work
  work.c.bytes               B  bytes hashed by the whole C work
  work.c.chunk               B  size of one hashed buffer

Facts: `gil_enabled` (bool), `free_threaded_build` (bool: built with Py_GIL_DISABLED,
whether or not the GIL was re-enabled at run time), `workers` (list), `start_method` of the pool.
Unavailable keys: `capacity.parallel` on a single-CPU machine; `KIND.processes`
and `KIND.capacity` (covering every `KIND.processes.*` metric and the
threads' efficiency) when no process pool can be started here.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import multiprocessing
import threading
import time

from _harness import calibrate_spin, free_threaded_build, gil_enabled, main, spin

CHUNK = 1 << 20  # 1 MiB per sha256 call: large enough that the GIL is released


def py_work(iterations):
    """Pure-Python CPU work; returns (checksum, CPU seconds of this call)."""
    c0 = time.process_time()
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return total, time.process_time() - c0


def c_work(blocks, chunk=CHUNK):
    """GIL-releasing C work: sha256 of ``blocks`` buffers of ``chunk`` bytes."""
    c0 = time.process_time()
    buf = b"\x5a" * chunk
    digest = b""
    for _ in range(blocks):
        digest = hashlib.sha256(buf).digest()
    return digest, time.process_time() - c0


def _noop(_):
    return None


def _calibrate_blocks(seconds):
    blocks = 4
    while True:
        t0 = time.perf_counter()
        c_work(blocks)
        elapsed = time.perf_counter() - t0
        if elapsed > 0.02:
            return max(1, int(blocks * seconds / elapsed))
        blocks *= 2


def _round_up(n, multiple):
    return max(multiple, (n + multiple - 1) // multiple * multiple)


def run(ctx):
    p = ctx.params
    workers = [int(w) for w in p["workers"]]
    top = max(workers)
    ctx.fact("gil_enabled", gil_enabled())
    ctx.fact("free_threaded_build", free_threaded_build())
    ctx.fact("workers", workers)
    if p["capacity"]:
        try:
            ctx.measure_capacity(seconds=p["capacity_seconds"], repeats=p["capacity_repeats"])
        except Exception as exc:  # no processes here: the figures below say so too
            ctx.unavailable("capacity.parallel", "%s: %s" % (type(exc).__name__, exc))

    # Total work, divisible by every worker count so each task gets an equal share.
    lcm = 1
    for w in workers:
        a, b = lcm, w
        while b:
            a, b = b, a % b
        lcm = lcm * w // a
    # Calibrate (three times in the full profile) and keep the fastest rate: a calibration
    # that ran while the shared machine was busy would shrink the work for the whole run.
    py_total = _round_up(calibrate_spin(p["seconds"]), lcm)  # itself the best of three timings
    c_total = _round_up(max(_calibrate_blocks(p["seconds"]) for _ in range(p["calibrations"])), lcm)
    ctx.record("work.python.iterations", py_total, "")
    ctx.record("work.c.bytes", c_total * CHUNK, "B")
    ctx.record("work.c.chunk", CHUNK, "B")

    # Pre-start both pools outside every timed region; the process pool first, so no fork
    # happens while this process has other threads (forking a multi-threaded process can copy
    # a lock some other thread held, and 3.12+ warns about it with -W default).
    mp = multiprocessing.get_context(p["start_method"] or None)
    ctx.fact("start_method", mp.get_start_method())
    pool = None
    try:
        pool = mp.Pool(top)
        pool.map(_noop, range(top * 2), chunksize=1)
        pool.map(py_work, [1000] * top, chunksize=1)
        pool.map(c_work, [1] * top, chunksize=1)
    except Exception as exc:  # no processes here (sandbox, missing sem_open ...)
        why = "no process pool here: %s: %s" % (type(exc).__name__, exc)
        for kind in ("python", "c"):
            ctx.unavailable(kind + ".processes", why)
            ctx.unavailable(kind + ".capacity", why)
        pool = None
    threads = concurrent.futures.ThreadPoolExecutor(max_workers=top)
    barrier = threading.Barrier(top)
    list(threads.map(lambda _: barrier.wait(), range(top)))  # forces all threads to exist

    def variant(kind, fn, total):
        def once():
            out = {}
            c0 = time.process_time()
            t0 = time.perf_counter()
            fn(total)
            seq = time.perf_counter() - t0
            seq_cpu = time.process_time() - c0
            out[kind + ".sequential.wall"] = seq
            out[kind + ".sequential.cpu"] = seq_cpu
            for n in workers:
                args = [total // n] * n
                c0 = time.process_time()
                t0 = time.perf_counter()
                list(threads.map(fn, args))
                wall = time.perf_counter() - t0
                cpu = time.process_time() - c0
                base = "%s.threads.%d." % (kind, n)
                out[base + "wall"] = wall
                out[base + "cpu"] = cpu
                out[base + "speedup"] = seq / wall
                out[base + "cores"] = cpu / wall
                # Against one *worker* thread, not the main thread: the same dispatch path on
                # both sides, so only the number of threads differs.
                if kind + ".threads.1.wall" in out:
                    out[base + "scaling"] = out[kind + ".threads.1.wall"] / wall
            if pool is not None:
                # A capacity probe paired with this repeat: 2 pool processes vs 1
                # on the harness's spin loop, so a busy phase of the VM affects
                # the probe and the figures it is compared with alike.
                t0 = time.perf_counter()
                pool.map(spin, [probe_iterations], chunksize=1)
                one = time.perf_counter() - t0
                t0 = time.perf_counter()
                pool.map(spin, [probe_iterations] * 2, chunksize=1)
                capacity = 2 * one / (time.perf_counter() - t0)
                out[kind + ".capacity"] = capacity
                for n in workers:
                    args = [total // n] * n
                    c0 = time.process_time()
                    t0 = time.perf_counter()
                    parts = pool.map(fn, args, chunksize=1)
                    wall = time.perf_counter() - t0
                    cpu = time.process_time() - c0 + sum(part[1] for part in parts)
                    base = "%s.processes.%d." % (kind, n)
                    out[base + "wall"] = wall
                    out[base + "cpu"] = cpu
                    out[base + "speedup"] = seq / wall
                    out[base + "cores"] = cpu / wall
                    out[base + "efficiency"] = (seq / wall) / capacity
                for n in workers:
                    base = "%s.threads.%d." % (kind, n)
                    out[base + "efficiency"] = out[base + "speedup"] / capacity
            return out
        return once

    probe_iterations = calibrate_spin(p["probe_seconds"])
    units = {}
    for kind in ("python", "c"):
        units[kind + ".capacity"] = "x"
        units[kind + ".sequential.wall"] = "s"
        units[kind + ".sequential.cpu"] = "s"
        for how in ("threads", "processes"):
            for n in workers:
                base = "%s.%s.%d." % (kind, how, n)
                units.update({base + "wall": "s", base + "cpu": "s", base + "speedup": "x",
                              base + "cores": "x", base + "efficiency": "x"})
        for n in workers:
            units["%s.threads.%d.scaling" % (kind, n)] = "x"
    try:
        kinds = (("python", py_work, py_total), ("c", c_work, c_total))
        for i, (kind, fn, total) in enumerate(kinds):
            # Split what is left of the budget evenly between the two kinds.
            share = ctx.remaining() * p["budget_share"] / (len(kinds) - i)
            ctx.measure(variant(kind, fn, total), units, warmup=0, min_repeats=p["min_repeats"],
                        max_repeats=p["max_repeats"], budget=share)
    finally:
        threads.shutdown(wait=True)
        if pool is not None:
            pool.close()
            pool.join()


PARAMS = {
    "quick": {"start_method": "", "workers": [1, 2, 4, 8], "seconds": 0.008, "probe_seconds": 0.003,
              "calibrations": 1, "min_repeats": 1, "max_repeats": 2, "capacity": True,
              "capacity_seconds": 0.01, "capacity_repeats": 2, "budget_share": 0.6},
    "full": {"start_method": "", "workers": [1, 2, 4, 8], "seconds": 0.08, "probe_seconds": 0.03,
             "calibrations": 3, "min_repeats": 5, "max_repeats": 15, "capacity": True,
             "capacity_seconds": 0.1, "capacity_repeats": 7, "budget_share": 0.6},
}

if __name__ == "__main__":
    main(run, __doc__, params=PARAMS, budget={"quick": 1.0, "full": 20.0})
