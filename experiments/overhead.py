"""Start-up cost and memory of a thread, an asyncio task and a process (by start method).

Start cost: the wall time to create, start and join one worker that runs a
no-op, averaged over a batch per repeat.  Threads, tasks and processes of the
default start method are timed back to back in every repeat (so their ratio
is paired); the other start methods are measured after them.  The headline
start-up figures run unpinned, as an ordinary program does; the paired
thread/task/process set is measured a second time pinned to one CPU
(`*.pinned`, see pinned_to_one_cpu for why that figure is steadier):
  thread       threading.Thread(target=noop).start(); .join()
  task         inside a running loop: await loop.create_task(noop())
  process      multiprocessing.get_context(METHOD).Process(target=noop).start(); .join()
               for each start method this platform offers (fork, forkserver,
               spawn).  forkserver's server process is started in the warm-up
               and is not counted.  A fork start copies this process.  A spawn
               start runs a new interpreter, and both spawn and forkserver
               children re-run the main script's imports (as __mp_main__):
               this script imports little at module level (asyncio, json and
               subprocess only inside functions) so the figures are close to
               the minimum; a script with heavy imports pays for them in
               every spawn/forkserver start.

Memory of an idle worker:
  thread, task  measured in a fresh interpreter (sys.executable -I -S) per
                repeat, so no freed thread stack or arena is reused: the growth
                of its resident set (VmRSS in /proc/self/status) while
                `mem_threads` threads block on an Event (or `mem_tasks` tasks
                await a Future), divided by their number.  A thread's stack is
                reserved virtually (threading.stack_size() 0 = the platform
                default, 8 MiB from RLIMIT_STACK on Linux) but only touched
                pages are resident.
  process       for `mem_procs` idle children per start method, read from
                /proc/PID/smaps_rollup: USS (Private_Clean + Private_Dirty,
                memory that only this process uses and that its exit frees),
                PSS (Pss: private memory plus its share of pages it shares,
                e.g. copy-on-write pages after fork) and RSS.  Where
                smaps_rollup is missing, VmRSS from /proc/PID/status is used
                for RSS and USS/PSS are unavailable.  An idle fork child shares
                nearly every page with its parent, which is not what a working
                child costs: each child is then told to run gc.collect() (which
                writes to every tracked object's header) and to read through
                `inherited_items` objects the parent built before forking
                (reference counts are writes too), and its USS is read again.
                For fork, the gc.collect() step is also measured with the
                parent's objects moved to the permanent generation first
                (gc.freeze(), 3.7+), which keeps the collector off them.

Shared memory: a tiny demonstration that a thread's write to a dict is seen
by the parent (same object) while a child process's write is not.

Metrics (METHOD is fork, forkserver or spawn):
  thread.start                  s  create + start + join one no-op thread
  task.start                    s  create + await one no-op asyncio task
  process.METHOD.start          s  create + start + join one no-op process
  process.start                 s  the same for the platform's default start method
  memory.thread                 B  resident memory per idle thread
  memory.task                   B  resident memory per idle asyncio task
  memory.process.METHOD.uss     B  unique memory of one idle child process
  memory.process.METHOD.pss     B  proportional memory of one idle child process
  memory.process.METHOD.rss     B  resident memory of one idle child process
  memory.process.METHOD.uss_gc  B  USS after the child ran gc.collect()
  memory.process.METHOD.uss_worked B USS after gc.collect() and a pass over the inherited objects
  memory.process.fork.uss_gc_frozen B USS after gc.collect() when the parent called gc.freeze() before forking
  memory.process.uss            B  USS for the default start method
  thread.start.pinned           s  thread.start, pinned to one CPU
  task.start.pinned             s  task.start, pinned to one CPU
  process.start.pinned          s  process.start (default method), pinned to one CPU
  process_vs_thread.start.pinned x the ratio, pinned
  process_vs_thread.start       x  process.start / thread.start, paired within each repeat
  process_vs_thread.memory      x  memory.process.uss / memory.thread (ratio of medians)

Facts: `start_pinned_cpu` (the CPU the start-up timings ran on, or null
where affinity cannot be set), `default_start_method`, `start_methods`, `thread_stack_size`
(threading.stack_size()), `rlimit_stack` (bytes or null), `memory_source`
("smaps_rollup" or "status"), `shared.thread_sees_write`,
`shared.process_sees_write`, `shared.thread_same_object`.
Unavailable keys: `process.METHOD.start` / `memory.process.METHOD` for a
start method this platform lacks; `memory.thread` / `memory.task` without
/proc/self/status; `memory.process` without /proc.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time

from _harness import main, thread_stack_facts

METHODS = ("fork", "forkserver", "spawn")

# Runs in a fresh interpreter: prints the RSS growth per idle worker as JSON.
MEMORY_CHILD = r"""
import sys, threading, time, json, gc

def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmRSS")

kind, count = sys.argv[1], int(sys.argv[2])
if kind == "task":
    import asyncio

    async def idle(fut):
        await fut

    async def main():
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        gc.collect()
        before = rss()
        tasks = [loop.create_task(idle(fut)) for _ in range(count)]
        await asyncio.sleep(0)  # every task runs up to its await
        after = rss()
        fut.set_result(None)
        await asyncio.gather(*tasks)
        return before, after

    before, after = asyncio.run(main())
else:
    gate = threading.Event()
    gc.collect()
    before = rss()
    threads = [threading.Thread(target=gate.wait) for _ in range(count)]
    for t in threads:
        t.start()
    after = rss()
    gate.set()
    for t in threads:
        t.join()
print(json.dumps({"per_worker": (after - before) / count}))
"""


def noop():
    pass


async def anoop():
    pass


# Objects a fork child inherits; built in run(), so spawn and forkserver children get none.
INHERITED = []


def idle_child(conn):
    """An idle worker: say ready, then do what it is told (gc, touch) until told to exit."""
    import gc

    conn.send("ready")
    while True:
        order = conn.recv()
        if order == "gc":
            gc.collect()
        elif order == "touch":
            sum(len(x) for x in INHERITED)
        else:
            return
        conn.send("done")


def set_value(box):
    box["value"] = 42


def read_smaps(pid):
    """(uss, pss, rss) in bytes from /proc/PID/smaps_rollup; (None, None, rss) from status."""
    fields = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                key, _, rest = line.partition(":")
                parts = rest.split()
                if len(parts) == 2 and parts[1] == "kB":
                    fields[key] = int(parts[0]) * 1024
        uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
        return uss, fields.get("Pss"), fields.get("Rss"), "smaps_rollup"
    except OSError:
        pass
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return None, None, int(line.split()[1]) * 1024, "status"
    raise OSError("no memory figures for pid %d" % pid)


def run(ctx):
    p = ctx.params
    default = multiprocessing.get_context().get_start_method()
    available = multiprocessing.get_all_start_methods()
    ctx.fact("default_start_method", default)
    ctx.fact("start_methods", available)
    thread_stack_facts(ctx)

    shared_memory_demo(ctx, default)
    INHERITED[:] = [str(i) * 3 for i in range(p["inherited_items"])]
    measure_process_memory(ctx, p, available, default)   # before this process has run threads
    del INHERITED[:]
    measure_paired_start(ctx, p, available, default)
    measure_process_start(ctx, p, available, default)
    with pinned_to_one_cpu(ctx):
        measure_paired_start(ctx, p, available, default, suffix=".pinned")
    measure_worker_memory(ctx, p)

    # Memory figures barely vary between runs: a ratio of medians is enough.
    num, den = "memory.process.uss", "memory.thread"
    if num in ctx.metrics and den in ctx.metrics and ctx.metrics[den]["median"] > 0:
        ctx.record("process_vs_thread.memory",
                   ctx.metrics[num]["median"] / ctx.metrics[den]["median"], "x")
    else:
        ctx.unavailable("process_vs_thread.memory", "needs both %s and %s" % (num, den))


def shared_memory_demo(ctx, default):
    box = {"value": 0}
    t = threading.Thread(target=set_value, args=(box,))
    t.start()
    t.join()
    ctx.fact("shared.thread_sees_write", box["value"] == 42)
    seen = []
    t = threading.Thread(target=lambda: seen.append(id(box)))
    t.start()
    t.join()
    ctx.fact("shared.thread_same_object", seen == [id(box)])
    box = {"value": 0}
    try:
        proc = multiprocessing.get_context(default).Process(target=set_value, args=(box,))
        proc.start()
        proc.join()
        ctx.fact("shared.process_sees_write", box["value"] == 42)
    except (OSError, RuntimeError) as exc:
        ctx.unavailable("shared.process_sees_write", "no process could start: %s" % exc)


def _process_start_batch(mp, count):
    t0 = time.perf_counter()
    for _ in range(count):
        proc = mp.Process(target=noop)
        proc.start()
        proc.join()
    return (time.perf_counter() - t0) / count


def _get_context(ctx, method, available):
    name = "process.%s.start" % method
    if method not in available:
        ctx.unavailable(name, "start method %r is not available on this platform" % method)
        return None
    try:
        return multiprocessing.get_context(method)
    except ValueError as exc:
        ctx.unavailable(name, str(exc))
        return None


@contextlib.contextmanager
def pinned_to_one_cpu(ctx):
    """Run the start-up timings on one CPU, where the platform allows it.

    Unpinned, a thread's start cost here was bimodal (58 or 85 µs from one
    run to the next, 43 µs pinned): the new thread sometimes woke on the
    other core and the figure measured the VM's cross-core wake-up latency
    rather than the cost of a thread.  Children inherit the affinity.  That
    steadier figure is what a pinned program sees; the headline figures are
    taken unpinned, as an ordinary program runs.
    """
    if not hasattr(os, "sched_setaffinity"):
        ctx.fact("start_pinned_cpu", None)
        yield
        return
    before = os.sched_getaffinity(0)
    cpu = min(before)
    os.sched_setaffinity(0, {cpu})
    ctx.fact("start_pinned_cpu", cpu)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def measure_paired_start(ctx, p, available, default, suffix=""):
    """Thread, task and default-method process starts, timed back to back in every repeat.

    Pairing makes process_vs_thread.start a per-repeat ratio: a busy phase of
    a shared machine slows both sides of the ratio alike.
    """
    import asyncio

    loop = asyncio.new_event_loop()
    mp = _get_context(ctx, default, available)
    threads, tasks = p["thread_batch"], p["task_batch"]
    procs = p["%s_batch" % default] if default in METHODS else 1
    default_name = "process.%s.start" % default

    async def task_batch():
        t0 = time.perf_counter()
        for _ in range(tasks):
            await loop.create_task(anoop())
        return (time.perf_counter() - t0) / tasks

    def once():
        t0 = time.perf_counter()
        for _ in range(threads):
            t = threading.Thread(target=noop)
            t.start()
            t.join()
        values = {"thread.start": (time.perf_counter() - t0) / threads,
                  "task.start": loop.run_until_complete(task_batch())}
        if mp is not None:
            values[default_name] = _process_start_batch(mp, procs)
            values["process_vs_thread.start"] = values[default_name] / values["thread.start"]
        if suffix:
            values = {("process.start" if k == default_name else k) + suffix: v for k, v in values.items()}
        return values

    units = {"thread.start": "s", "task.start": "s", default_name: "s", "process_vs_thread.start": "x"}
    if suffix:
        units = {("process.start" if k == default_name else k) + suffix: v for k, v in units.items()}
    try:
        try:
            ctx.measure(once, units, min_repeats=p["repeats"], budget=p["paired_budget"])
        except (OSError, RuntimeError) as exc:
            ctx.unavailable(default_name, "a %s process could not start: %s" % (default, exc))
            mp = None
            ctx.measure(once, units, min_repeats=p["repeats"], budget=p["paired_budget"])
    finally:
        loop.close()
    if suffix:
        return
    if default_name in ctx.metrics:
        ctx.metrics["process.start"] = dict(ctx.metrics[default_name])
    else:
        ctx.unavailable("process.start", "the default start method %r could not start" % default)
        ctx.unavailable("process_vs_thread.start", "no process could start")


def measure_process_start(ctx, p, available, default):
    """The other start methods, each on its own."""
    for method in METHODS:
        if method == default:
            continue
        mp = _get_context(ctx, method, available)
        if mp is None:
            continue
        name = "process.%s.start" % method
        batch = p["%s_batch" % method]
        try:
            ctx.measure(lambda: {name: _process_start_batch(mp, batch)}, {name: "s"},
                        min_repeats=p["repeats"], max_repeats=p["repeats"] * 2,
                        budget=p["%s_budget" % method])
        except (OSError, RuntimeError) as exc:
            ctx.unavailable(name, "a %s process could not start: %s" % (method, exc))


def _child_memory(kind, count):
    import json
    import subprocess

    out = subprocess.run([sys.executable, "-I", "-S", "-c", MEMORY_CHILD, kind, str(count)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.decode("utf-8", "replace").strip().splitlines()[-1:])
    return json.loads(out.stdout.decode())["per_worker"]


def measure_worker_memory(ctx, p):
    import subprocess

    if not os.path.exists("/proc/self/status"):
        for key in ("memory.thread", "memory.task"):
            ctx.unavailable(key, "no /proc/self/status to read the resident set size from")
        return
    for key, kind, count in (("memory.thread", "thread", p["mem_threads"]),
                             ("memory.task", "task", p["mem_tasks"])):
        samples = []
        try:
            for _ in range(p["mem_repeats"]):
                samples.append(_child_memory(kind, count))
        except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as exc:
            ctx.unavailable(key, "the measuring interpreter failed: %s" % (exc,))
            continue
        ctx.record_samples(key, samples, "B")


def _children_memory(mp, count, orders, sources):
    """Start ``count`` idle children; read their memory idle and after each order.

    Returns one {field: [values]} per stage: idle first, then one per order.
    """
    stages = [{"uss": [], "pss": [], "rss": []} for _ in range(len(orders) + 1)]
    children = []
    try:
        for _ in range(count):
            parent_end, child_end = mp.Pipe()
            proc = mp.Process(target=idle_child, args=(child_end,))
            proc.start()
            children.append((proc, parent_end))
        for proc, conn in children:
            conn.recv()  # the child has started and is idle
        for stage, order in enumerate((None,) + tuple(orders)):
            if order is not None:
                for proc, conn in children:
                    conn.send(order)
                for proc, conn in children:
                    conn.recv()
            for proc, conn in children:
                uss, pss, rss, source = read_smaps(proc.pid)
                sources.add(source)
                for field, value in (("uss", uss), ("pss", pss), ("rss", rss)):
                    if value is not None:
                        stages[stage][field].append(value)
    finally:
        for proc, conn in children:
            try:
                conn.send("exit")
            except OSError:
                pass
            proc.join(10)
    return stages


def measure_process_memory(ctx, p, available, default):
    if not os.path.exists("/proc/self/status"):
        ctx.unavailable("memory.process", "no /proc to read a child's memory from")
        return
    sources = set()
    for method in METHODS:
        key = "memory.process.%s" % method
        if method not in available:
            ctx.unavailable(key, "start method %r is not available on this platform" % method)
            continue
        mp = multiprocessing.get_context(method)
        samples = {"uss": [], "pss": [], "rss": [], "uss_gc": [], "uss_worked": []}
        frozen = method == "fork" and hasattr(__import__("gc"), "freeze")
        if frozen:
            samples["uss_gc_frozen"] = []
        try:
            for _ in range(p["mem_proc_repeats"]):
                idle = _children_memory(mp, p["mem_procs"], ("gc", "touch"), sources)
                for field in ("uss", "pss", "rss"):
                    samples[field] += [v for v in idle[0][field] if v is not None]
                samples["uss_gc"] += idle[1]["uss"]
                samples["uss_worked"] += idle[2]["uss"]
                if frozen:
                    import gc
                    gc.freeze()
                    try:
                        samples["uss_gc_frozen"] += _children_memory(mp, p["mem_procs"], ("gc",), sources)[1]["uss"]
                    finally:
                        gc.unfreeze()
        except (OSError, RuntimeError, EOFError) as exc:
            ctx.unavailable(key, "could not measure an idle %s child: %s" % (method, exc))
            continue
        for field, values in samples.items():
            if values:
                ctx.record_samples("%s.%s" % (key, field), values, "B")
            else:
                ctx.unavailable("%s.%s" % (key, field), "/proc/PID/smaps_rollup is not available")
    ctx.fact("memory_source", sorted(sources))
    default_key = "memory.process.%s.uss" % default
    if default_key in ctx.metrics:
        ctx.metrics["memory.process.uss"] = dict(ctx.metrics[default_key])
    else:
        ctx.unavailable("memory.process.uss", "no USS for the default start method %r" % default)


if __name__ == "__main__":
    main(run, __doc__, params={
        "quick": {"repeats": 3, "thread_batch": 20, "task_batch": 200,
                  "fork_batch": 2, "forkserver_batch": 1, "spawn_batch": 1,
                  "fork_budget": 0.05, "forkserver_budget": 0.05, "spawn_budget": 0.05,
                  "paired_budget": 0.15, "mem_threads": 50, "mem_tasks": 1000, "mem_repeats": 1,
                  "mem_procs": 1, "mem_proc_repeats": 1, "inherited_items": 20000},
        "full": {"repeats": 7, "thread_batch": 200, "task_batch": 2000,
                 "fork_batch": 10, "forkserver_batch": 5, "spawn_batch": 2,
                 "fork_budget": 0.6, "forkserver_budget": 0.8, "spawn_budget": 1.5,
                 "paired_budget": 1.2, "mem_threads": 500, "mem_tasks": 10000, "mem_repeats": 5,
                 "mem_procs": 2, "mem_proc_repeats": 3, "inherited_items": 200000},
    }, budget={"quick": 1.5, "full": 12.0})
