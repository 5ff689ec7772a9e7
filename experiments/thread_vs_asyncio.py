"""Threads vs asyncio tasks: 10 to 10,000 concurrent waits (creation time, wall time, memory).

For each concurrency level N (`levels`: 10, 100, 1,000, 10,000) and each model,
a FRESH interpreter (sys.executable -I -S, so memory figures start clean and
no freed thread stack is reused) starts N workers that each wait `wait`
seconds (100 ms in the full profile):

  threads  N threading.Thread objects (default stack size), each
           time.sleep(wait), started one after another, then joined.
  asyncio  N tasks created with loop.create_task, each awaiting
           asyncio.sleep(wait), then gathered; the event loop is created
           before timing starts.

A worker starts waiting as soon as it is started, so when creating N workers
takes longer than one wait, the first ones finish before the last ones start:
`peak_concurrent` (from each worker's recorded start and end times) says how
many really waited at the same moment.  Memory is the growth of the peak
resident set (VmHWM, reset through /proc/self/clear_refs just before the
workers are created; without that, the peak since start-up is used) over the
resident set at that moment; per-worker memory divides it by
`peak_concurrent`.  Virtual memory is the growth of the peak address-space
size (VmPeak): each thread reserves a whole stack (8 MiB by default on Linux)
of which only touched pages become resident.

Each configuration is measured `repeats` times, round-robin over all
configurations, as long as the time budget allows (every one at least once);
one whose run takes more than `big_cost` seconds (10,000 threads: creating
them takes seconds) runs at most `big_repeats` times.
Hitting a thread limit (RuntimeError "can't start new thread", or an
out-of-memory error) is recorded, never fatal.

Metrics (MODEL is threads or asyncio, N a level):
  ideal.wall                   s  one wait: what N perfectly concurrent waits take
  MODEL.N.create               s  time to create and start all N workers
  MODEL.N.wall                 s  from creating the first worker to the last one done
  MODEL.N.over_ideal           x  MODEL.N.wall / ideal.wall
  MODEL.N.peak_concurrent      -  most workers waiting at the same moment
  MODEL.N.memory               B  peak resident memory growth while the workers ran
  MODEL.N.memory_per_worker    B  MODEL.N.memory / MODEL.N.peak_concurrent
  MODEL.N.virtual              B  growth of the peak virtual address space
  threads.limit.started        -  threads started when a thread limit was hit (only then)

Facts: `thread_stack_size` (threading.stack_size(); 0 = platform default),
`rlimit_stack` (bytes or null), `levels`, `peak_reset` (whether VmHWM could be
reset), `threads.limit` ({requested, started, error} when a limit was hit).
Unavailable keys: `MODEL.N` when that configuration could not run (thread
limit, a crashed child); `memory` without /proc/self/status.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from _harness import main, thread_stack_facts

MODELS = ("threads", "asyncio")

CHILD = r"""
import array, gc, json, sys, threading, time

def status():
    out = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM", "VmPeak", "VmSize"):
                    out[key] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return out

def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

model, n, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
starts = array.array("d", bytes(8 * n))
ends = array.array("d", bytes(8 * n))
res = {"error": None}
clock = time.perf_counter

if model == "asyncio":
    import asyncio

    async def worker(i):
        starts[i] = clock()
        await asyncio.sleep(wait)
        ends[i] = clock()

    async def main():
        loop = asyncio.get_running_loop()
        gc.collect()
        res["peak_reset"] = reset_peak()
        res["base"] = status()
        t0 = clock()
        tasks = [loop.create_task(worker(i)) for i in range(n)]
        t1 = clock()
        await asyncio.gather(*tasks)
        t2 = clock()
        res["created"] = n
        res["create"], res["wall"] = t1 - t0, t2 - t0

    asyncio.run(main())
else:
    def worker(i):
        starts[i] = clock()
        time.sleep(wait)
        ends[i] = clock()

    gc.collect()
    res["peak_reset"] = reset_peak()
    res["base"] = status()
    threads = []
    t0 = clock()
    try:
        for i in range(n):
            t = threading.Thread(target=worker, args=(i,))
            t.start()
            threads.append(t)
    except (RuntimeError, MemoryError) as exc:
        res["error"] = "%s: %s" % (type(exc).__name__, exc)
    t1 = clock()
    for t in threads:
        t.join()
    t2 = clock()
    res["created"] = len(threads)
    res["create"], res["wall"] = t1 - t0, t2 - t0

res["peak"] = status()
events = sorted([(starts[i], 1) for i in range(res["created"])] +
                [(ends[i], -1) for i in range(res["created"])])
live = best = 0
for _, step in events:  # an end sorts before a start at the same instant
    live += step
    best = max(best, live)
res["peak_concurrent"] = best
print(json.dumps(res))
"""


def run_child(model, n, wait, timeout):
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", CHILD, model, str(n), repr(wait)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        raise RuntimeError("the measuring interpreter exited with status %d: %s"
                           % (proc.returncode, " ".join(tail)))
    return json.loads(proc.stdout.decode())


def figures(res, wait):
    """Metric values of one child run."""
    out = {"create": res["create"], "wall": res["wall"], "over_ideal": res["wall"] / wait,
           "peak_concurrent": float(res["peak_concurrent"])}
    base, peak = res.get("base") or {}, res.get("peak") or {}
    if "VmHWM" in peak and "VmRSS" in base:
        memory = max(0, peak["VmHWM"] - base["VmRSS"])
        out["memory"] = memory
        out["memory_per_worker"] = memory / max(1, res["peak_concurrent"])
    if "VmPeak" in peak and "VmSize" in base:
        out["virtual"] = max(0, peak["VmPeak"] - base["VmSize"])
    return out


UNITS = {"create": "s", "wall": "s", "over_ideal": "x", "peak_concurrent": "", "memory": "B",
         "memory_per_worker": "B", "virtual": "B"}


def run(ctx):
    p = ctx.params
    levels, wait = [int(x) for x in p["levels"]], float(p["wait"])
    ctx.record("ideal.wall", wait, "s")
    ctx.fact("levels", levels)
    thread_stack_facts(ctx)

    configs = [(model, n) for n in levels for model in MODELS]
    samples = {c: [] for c in configs}
    cost = {}
    dead = set()          # configurations that failed: not retried
    peak_reset = set()
    for round_no in range(p["repeats"]):
        for config in configs:
            model, n = config
            if config in dead:
                continue
            if round_no > 0 and cost.get(config, 0) > ctx.remaining() - p["reserve"]:
                continue  # no time for another repeat of this one
            if round_no >= p["big_repeats"] and cost.get(config, 0) > p["big_cost"]:
                continue  # an expensive configuration (10,000 threads) runs fewer times
            t0 = time.perf_counter()
            try:
                res = run_child(model, n, wait, timeout=max(10.0, 30 * wait + n * 0.01))
            except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as exc:
                ctx.unavailable("%s.%d" % config, str(exc))
                dead.add(config)
                continue
            cost[config] = time.perf_counter() - t0
            peak_reset.add(bool(res.get("peak_reset")))
            if res["error"]:
                ctx.fact("threads.limit", {"requested": n, "started": res["created"],
                                           "error": res["error"]})
                ctx.record("threads.limit.started", res["created"], "")
                ctx.unavailable("%s.%d" % config, "only %d of %d threads could start (%s)"
                                % (res["created"], n, res["error"]))
                # Larger levels would fail too.
                for m, k in configs:
                    if m == model and k > n and (m, k) not in dead:
                        ctx.unavailable("%s.%d" % (m, k), "not tried: the thread limit was hit at %d"
                                        % res["created"])
                    if m == model and k >= n:
                        dead.add((m, k))
                continue
            samples[config].append(figures(res, wait))
    ctx.fact("peak_reset", sorted(peak_reset) == [True])

    for config in configs:
        runs = samples[config]
        if not runs:
            continue
        model, n = config
        for field, unit in UNITS.items():
            values = [r[field] for r in runs if field in r]
            if values:
                ctx.record_samples("%s.%d.%s" % (model, n, field), values, unit)
            elif field in ("memory", "memory_per_worker", "virtual"):
                ctx.unavailable("%s.%d.%s" % (model, n, field), "no /proc/self/status here")


if __name__ == "__main__":
    main(run, __doc__, params={
        "quick": {"levels": [10, 100], "wait": 0.02, "repeats": 1, "reserve": 0.0,
                  "big_repeats": 1, "big_cost": 1.0},
        # Five runs of every configuration, 10,000 threads included: a verdict needs n >= 5.
        "full": {"levels": [10, 100, 1000, 10000], "wait": 0.1, "repeats": 5, "reserve": 0.5,
                 "big_repeats": 5, "big_cost": 1.0},
    }, budget={"quick": 1.5, "full": 60.0})
