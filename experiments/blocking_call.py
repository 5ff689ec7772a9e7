"""A blocking call inside an event loop: time.sleep vs asyncio.sleep vs run_in_executor.

`tasks` coroutines (N, 5 in the full profile) run concurrently with
asyncio.gather on one event loop; each waits `wait` seconds (t, 30 ms):

  blocking       time.sleep(t) called directly in the coroutine: it blocks
                 the whole event loop, so the waits run one after another
                 (about N * t) and nothing else on the loop runs meanwhile.
  sleep          await asyncio.sleep(t): the loop runs the others meanwhile (about t).
  executor       await loop.run_in_executor(None, time.sleep, t): the blocking
                 call moves to the loop's default thread pool (about t while
                 N <= the pool size; the pool is warmed up before timing).
  executor_over  the same with `over_factor` * pool size calls: more calls
                 than pool threads queue up (about over_factor * t).

Beside them a heartbeat task asks to wake every `tick` seconds
(asyncio.sleep(tick)) and records how late each wake-up was; the largest
delay is the event-loop lag that any other request on this loop would see.

Every repeat runs all four cases on the same, already running loop;
slowdowns are paired within a repeat.

Debug mode: after timing, the blocking case runs once more with the loop in debug mode
(what PYTHONASYNCIODEBUG=1 or asyncio.run(debug=True) turn on), counting the "Executing ...
took" warnings asyncio logs for callbacks slower than loop.slow_callback_duration: once at
the default threshold, once with the threshold lowered to a third of one wait.

Metrics (CASE is blocking, sleep, executor or executor_over):
  ideal.wall            s  t: one wait, what N perfectly concurrent waits take
  serial.wall           s  N * t: the waits one after another
  pool.size             -  default executor's max_workers (min(32, CPUs + 4))
  tasks                 -  N
  executor_over.tasks   -  number of calls in the executor_over case
  CASE.wall             s  wall time of gathering the case's coroutines
  CASE.lag              s  largest heartbeat delay during the case
  blocking.slowdown     x  blocking.wall / sleep.wall
  executor.slowdown     x  executor.wall / sleep.wall
  debug.logged_default  -  slow-callback warnings in debug mode at the default threshold
  debug.logged_lowered  -  the same with slow_callback_duration lowered to t / 3

Facts: `pool_size_formula`, `slow_callback_duration` (the loop's default, s),
`lowered_threshold` (s).  Unavailable keys: none expected (standard library only).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import time

from _harness import main

CASES = ("blocking", "sleep", "executor", "executor_over")


def default_pool_size():
    """max_workers of the loop's default executor (ThreadPoolExecutor())."""
    probe = concurrent.futures.ThreadPoolExecutor()
    try:
        return probe._max_workers  # the value the default executor would use
    except AttributeError:
        return min(32, (os.cpu_count() or 1) + 4)
    finally:
        probe.shutdown(wait=False)


async def heartbeat(tick, stop, lags):
    loop = asyncio.get_running_loop()
    while not stop:
        t0 = loop.time()
        await asyncio.sleep(tick)
        lags.append(max(0.0, loop.time() - t0 - tick))


async def blocking_wait(t):
    time.sleep(t)  # the pitfall: blocks the event loop


async def async_wait(t):
    await asyncio.sleep(t)


async def executor_wait(t):
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, time.sleep, t)


async def one_case(make, count, t, tick):
    stop, lags = [], []
    beat = asyncio.ensure_future(heartbeat(tick, stop, lags))
    await asyncio.sleep(tick * 2)  # the heartbeat is ticking before the case starts
    t0 = time.perf_counter()
    await asyncio.gather(*[make(t) for _ in range(count)])
    wall = time.perf_counter() - t0
    stop.append(True)
    await beat  # its last tick covers the end of the case
    return wall, max(lags) if lags else 0.0


async def warm_executor(size):
    loop = asyncio.get_running_loop()
    await asyncio.gather(*[loop.run_in_executor(None, time.sleep, 0.01) for _ in range(size)])


class _SlowCallbacks(logging.Handler):
    """Counts asyncio's debug-mode warnings about callbacks that held the loop too long."""

    def __init__(self):
        logging.Handler.__init__(self, logging.WARNING)
        self.count = 0

    def emit(self, record):
        if str(record.msg).startswith("Executing"):
            self.count += 1


def debug_logged(loop, n, t, tick, threshold):
    """How many of the n blocking calls debug mode logs at ``threshold`` (None: the default)."""
    logger = logging.getLogger("asyncio")
    handler = _SlowCallbacks()
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # count them; don't print them into the experiment's output
    default = loop.slow_callback_duration
    try:
        loop.set_debug(True)
        if threshold is not None:
            loop.slow_callback_duration = threshold
        loop.run_until_complete(one_case(blocking_wait, n, t, tick))
    finally:
        loop.set_debug(False)
        loop.slow_callback_duration = default
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate
    return handler.count


def run(ctx):
    p = ctx.params
    n, t, tick = p["tasks"], p["wait"], p["tick"]
    pool = default_pool_size()
    over = p["over_factor"] * pool
    ctx.record("ideal.wall", t, "s")
    ctx.record("serial.wall", n * t, "s")
    ctx.record("pool.size", pool, "")
    ctx.record("tasks", n, "")
    ctx.record("executor_over.tasks", over, "")
    ctx.fact("pool_size_formula", "min(32, os.cpu_count() + 4) (Python 3.8-3.12); "
             "min(32, os.process_cpu_count() + 4) from 3.13")
    if n > pool:
        ctx.fact("note", "tasks (%d) exceed the pool size (%d): the executor case queues" % (n, pool))

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(warm_executor(over))
        cases = (("blocking", blocking_wait, n), ("sleep", async_wait, n),
                 ("executor", executor_wait, n), ("executor_over", executor_wait, over))

        def once():
            values = {}
            for name, make, count in cases:
                wall, lag = loop.run_until_complete(one_case(make, count, t, tick))
                values[name + ".wall"] = wall
                values[name + ".lag"] = lag
            values["blocking.slowdown"] = values["blocking.wall"] / values["sleep.wall"]
            values["executor.slowdown"] = values["executor.wall"] / values["sleep.wall"]
            return values

        units = {c + ".wall": "s" for c in CASES}
        units.update({c + ".lag": "s" for c in CASES})
        units.update({"blocking.slowdown": "x", "executor.slowdown": "x"})
        ctx.measure(once, units, min_repeats=p["repeats"], budget=p["measure_budget"])
        ctx.fact("slow_callback_duration", loop.slow_callback_duration)
        ctx.fact("lowered_threshold", t / 3)
        ctx.record("debug.logged_default", debug_logged(loop, n, t, tick, None), "")
        ctx.record("debug.logged_lowered", debug_logged(loop, n, t, tick, t / 3), "")
    finally:
        try:
            loop.run_until_complete(loop.shutdown_default_executor())
        except AttributeError:  # Python 3.8
            pass
        loop.close()


if __name__ == "__main__":
    main(run, __doc__, params={
        "quick": {"tasks": 3, "wait": 0.01, "tick": 0.002, "over_factor": 2, "repeats": 3,
                  "measure_budget": 0.3},
        "full": {"tasks": 5, "wait": 0.03, "tick": 0.005, "over_factor": 2, "repeats": 7,
                 "measure_budget": 2.0},
    }, budget={"quick": 1.5, "full": 4.0})
